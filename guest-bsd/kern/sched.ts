// The scheduler: who runs on the CPU. 4.4BSD's decay-usage scheduling, simplified:
// a process's priority worsens with the CPU it has used recently (p_estcpu, one count
// per clock tick it runs, decayed by a third every second), so a process that sleeps
// most of the time (cron, a shell, a daemon waiting for requests) runs ahead of one
// that computes. A wakeup of a better-priority process preempts the running one at
// once (4.4BSD's need_resched at the return from the interrupt or system call); among
// equals, round robin every QUANTUM_TICKS (4.4BSD's roundrobin, hz/10).
//
// The host's process engine (host/proc/engine.ts) runs whatever `curproc` names when
// a kernel entry returns: this variable IS the scheduling decision (0 = idle). The
// kernel never waits inside a call: sleep() records the channel and picks another
// process, and the system call returns SYS_BLOCK so the host suspends the caller; the
// call is re-issued when wakeup() makes it runnable and it is picked again.
//
// Interface:
//   curproc (exported to the host), curSlot, cur()
//   setRunnable(p), dequeue(p), sleep(chan), wakeup(chan), wakeProc(p), resched(),
//   yieldCpu(), schedTick() and schedSecond() from the clock, setCurproc(slot)
//   switches, preemptions, ticksIdle, ticksBusy (statistics)

import { procs, Proc, P_RUNNABLE, P_RUNNING, P_SLEEPING } from "./proc";
import { NPROC, QUANTUM_TICKS } from "./param";

/** Pid the CPU runs in user mode when this kernel entry returns; 0: idle. */
export let curproc: i32 = 0;
/** Its slot in the process table, -1 when idle. */
export let curSlot: i32 = -1;
export let switches: u64 = 0;
export let preemptions: u64 = 0;
export let ticksIdle: u64 = 0;
export let ticksBusy: u64 = 0;
/** poll_oneoff sleeps here; every wakeup() also wakes it (it then looks again). */
export const POLL_CHAN: u32 = 0x60000001;
/** Run queue order: each runnable process gets a sequence number when queued. */
let queueSeq: u64 = 0;
const PUSER: u32 = 50;
const ESTCPU_MAX: u32 = 255;

/** 4.4BSD's user priority: worse (larger) with recent CPU use. */
function priority(p: Proc): u32 {
  return PUSER + p.estcpu / 4;
}

export function cur(): Proc {
  return procs[curSlot];
}

export function setCurproc(slot: i32): void {
  curSlot = slot;
  curproc = slot < 0 ? 0 : procs[slot].pid;
}

export function setRunnable(p: Proc): void {
  p.state = P_RUNNABLE;
  p.chan = 0;
  p.queued = queueSeq++;
}

export function dequeue(p: Proc): void {
  // The run queue is the set of P_RUNNABLE slots; nothing to unlink.
}

/** The best runnable process: lowest priority value, then longest waiting. */
function best(): i32 {
  let b: i32 = -1;
  let bp: u32 = 0;
  for (let i: i32 = 1; i < NPROC; i++) {
    let p = procs[i];
    if (p.state != P_RUNNABLE) continue;
    let pr = priority(p);
    if (b < 0 || pr < bp || (pr == bp && p.queued < procs[b].queued)) { b = i; bp = pr; }
  }
  return b;
}

function run(slot: i32): void {
  let p = procs[slot];
  p.state = P_RUNNING;
  p.quantum = QUANTUM_TICKS;
  setCurproc(slot);
  switches++;
}

/** If nothing runs, run the best runnable process; if one runs and a better one is
 *  runnable, preempt it (it goes back to the queue). */
export function resched(): void {
  let b = best();
  if (b < 0) return;
  if (curSlot < 0) { run(b); return; }
  let c = cur();
  if (priority(procs[b]) < priority(c)) {
    preemptions++;
    setCurproc(-1);
    setRunnable(c);
    run(b);
  }
}

/** Kernel work that is not a system call (starting init at boot) must not sleep:
 *  it sets this while it runs, and sleep() then leaves the running process alone. */
export let kernelJob: bool = false;
export function setKernelJob(on: bool): void { kernelJob = on; }

/** The running process sleeps on `chan`; another runs. */
export function sleep(chan: u32): void {
  if (kernelJob || curSlot < 0) return;
  let p = cur();
  p.state = P_SLEEPING;
  p.chan = chan;
  setCurproc(-1);
  resched();
}

export function wakeup(chan: u32): void {
  for (let i: i32 = 1; i < NPROC; i++) {
    let p = procs[i];
    if (p.state == P_SLEEPING && (p.chan == chan || p.chan == POLL_CHAN)) setRunnable(p);
  }
  resched();
}

/** Wake one process whatever it sleeps on (a timed wait ran out). */
export function wakeProc(p: Proc): void {
  if (p.state == P_SLEEPING) { setRunnable(p); resched(); }
}

/** The running process goes to the back of the queue (of its priority). */
export function yieldCpu(): void {
  if (curSlot < 0) return;
  let p = cur();
  setCurproc(-1);
  setRunnable(p);
  let b = best();
  if (b >= 0) run(b);
}

/** Every clock tick: charge the running process, round robin among equals. */
export function schedTick(): void {
  if (curSlot < 0) { ticksIdle++; return; }
  ticksBusy++;
  let p = cur();
  if (p.estcpu < ESTCPU_MAX) p.estcpu++;
  if (p.quantum > 0) p.quantum--;
  if (p.quantum == 0) {
    let b = best();
    if (b >= 0 && priority(procs[b]) <= priority(p)) yieldCpu();
    else p.quantum = QUANTUM_TICKS;
  } else resched(); // its priority may have fallen below a waiting process's
}

/** Every second: decay every process's recent CPU use (4.4BSD's schedcpu, with the
 *  load-dependent filter fixed at 2/3). */
export function schedSecond(): void {
  for (let i: i32 = 1; i < NPROC; i++) {
    let p = procs[i];
    p.estcpu = p.estcpu * 2 / 3;
  }
}

/** Runnable processes waiting for the CPU. */
export function runQueueLength(): u32 {
  let n: u32 = 0;
  for (let i: i32 = 1; i < NPROC; i++) if (procs[i].state == P_RUNNABLE) n++;
  return n;
}

export { P_SLEEPING };
