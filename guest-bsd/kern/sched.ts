// The scheduler: who runs on the CPU. 4.4BSD's decay-usage scheduling, simplified:
// a process's priority worsens with the CPU it has used recently (p_estcpu, one count
// per clock tick it runs, decayed by a third every second), so a process that sleeps
// most of the time (cron, a shell, a daemon waiting for requests) runs ahead of one
// that computes. A wakeup of a better-priority process preempts the running one at
// once (4.4BSD's need_resched at the return from the interrupt or system call); among
// equals, round robin every QUANTUM_TICKS (4.4BSD's roundrobin, hz/10).
//
// Data structures as 4.4BSD keeps them, so that a switch costs what it should: NQS run
// queues, one per band of priorities, FIFO each, with a bitmap of the non-empty ones
// (the best runnable process is the head of the lowest set bit's queue); and sleep
// queues hashed by channel (wakeup walks one bucket, not the process table).
//
// The host's process engine (host/proc/engine.ts) runs whatever `curproc` names when
// a kernel entry returns: this variable IS the scheduling decision (0 = idle). The
// kernel never waits inside a call: sleep() records the channel and picks another
// process, and the system call returns SYS_BLOCK so the host suspends the caller; the
// call is re-issued when wakeup() makes it runnable and it is picked again.
//
// Interface:
//   curproc (exported to the host), curSlot, cur()
//   setRunnable(p), dequeue(p), sleep(chan), wakeup(chan), wakeProc(p), unsleep(p),
//   resched(), yieldCpu(), schedTick() and schedSecond() from the clock,
//   setCurproc(slot), runQueueLength()
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

const PUSER: u32 = 50;
const ESTCPU_MAX: u32 = 255;
/** Run queues: 32, each for 2 priority values (4.4BSD: 32 queues of 4). */
const NQS: i32 = 32;
const NSLEEPQ: u32 = 64;
const qHead = new StaticArray<i32>(NQS);
const qTail = new StaticArray<i32>(NQS);
let qBits: u32 = 0;
let runnable: u32 = 0;
const sqHead = new StaticArray<i32>(NSLEEPQ);
let pollHead: i32 = -1;

export function schedInit(): void {
  for (let i: i32 = 0; i < NQS; i++) { qHead[i] = -1; qTail[i] = -1; }
  for (let i: u32 = 0; i < NSLEEPQ; i++) sqHead[i] = -1;
}

/** 4.4BSD's user priority: worse (larger) with recent CPU use. */
@inline function priority(p: Proc): u32 {
  return PUSER + p.estcpu / 4;
}

@inline function queueOf(pri: u32): i32 {
  let q = <i32>((pri - PUSER) >> 1);
  return q < NQS ? q : NQS - 1;
}

export function cur(): Proc {
  return unchecked(procs[curSlot]);
}

export function setCurproc(slot: i32): void {
  curSlot = slot;
  curproc = slot < 0 ? 0 : unchecked(procs[slot]).pid;
}

/** Put p at the tail of its run queue. */
export function setRunnable(p: Proc): void {
  p.state = P_RUNNABLE;
  p.chan = 0;
  let q = queueOf(priority(p));
  p.rq = q;
  p.rqNext = -1;
  p.rqPrev = unchecked(qTail[q]);
  if (p.rqPrev >= 0) unchecked(procs[p.rqPrev]).rqNext = p.slot; else unchecked(qHead[q] = p.slot);
  unchecked(qTail[q] = p.slot);
  qBits |= 1 << <u32>q;
  runnable++;
}

/** Take a runnable p out of its run queue. */
export function dequeue(p: Proc): void {
  if (p.rq < 0) return;
  let q = p.rq;
  if (p.rqPrev >= 0) unchecked(procs[p.rqPrev]).rqNext = p.rqNext; else unchecked(qHead[q] = p.rqNext);
  if (p.rqNext >= 0) unchecked(procs[p.rqNext]).rqPrev = p.rqPrev; else unchecked(qTail[q] = p.rqPrev);
  if (unchecked(qHead[q]) < 0) qBits &= ~(1 << <u32>q);
  p.rq = -1;
  runnable--;
}

/** The best runnable process's slot, or -1. */
@inline function best(): i32 {
  return qBits == 0 ? -1 : unchecked(qHead[<i32>ctz(qBits)]);
}

function run(slot: i32): void {
  let p = unchecked(procs[slot]);
  dequeue(p);
  p.state = P_RUNNING;
  p.quantum = QUANTUM_TICKS;
  setCurproc(slot);
  switches++;
}

/** If nothing runs, run the best runnable process; if one runs and a better one is
 *  runnable, preempt it (it goes back to its queue). */
export function resched(): void {
  let b = best();
  if (b < 0) return;
  if (curSlot < 0) { run(b); return; }
  let c = cur();
  if (queueOf(priority(unchecked(procs[b]))) < queueOf(priority(c))) {
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

@inline function bucket(chan: u32): u32 {
  return (chan ^ (chan >> 7) ^ (chan >> 16)) & (NSLEEPQ - 1);
}

/** The running process sleeps on `chan`; another runs. */
export function sleep(chan: u32): void {
  if (kernelJob || curSlot < 0) return;
  let p = cur();
  p.state = P_SLEEPING;
  p.chan = chan;
  if (chan == POLL_CHAN) { p.sqNext = pollHead; pollHead = p.slot; }
  else { let b = bucket(chan); p.sqNext = unchecked(sqHead[b]); unchecked(sqHead[b] = p.slot); }
  setCurproc(-1);
  resched();
}

/** Take a sleeping p off its sleep queue (it is woken, killed or timed out). */
export function unsleep(p: Proc): void {
  if (p.state != P_SLEEPING) return;
  let isPoll = p.chan == POLL_CHAN;
  let prev: i32 = -1;
  let s = isPoll ? pollHead : unchecked(sqHead[bucket(p.chan)]);
  while (s >= 0 && s != p.slot) { prev = s; s = unchecked(procs[s]).sqNext; }
  if (s < 0) return;
  if (prev >= 0) unchecked(procs[prev]).sqNext = p.sqNext;
  else if (isPoll) pollHead = p.sqNext;
  else unchecked(sqHead[bucket(p.chan)] = p.sqNext);
  p.sqNext = -1;
}

/** Wake every process sleeping on `chan` (and every poller: it looks again). */
export function wakeup(chan: u32): void {
  let b = bucket(chan);
  let prev: i32 = -1;
  let s = unchecked(sqHead[b]);
  while (s >= 0) {
    let p = unchecked(procs[s]);
    let next = p.sqNext;
    if (p.chan == chan) {
      if (prev >= 0) unchecked(procs[prev]).sqNext = next; else unchecked(sqHead[b] = next);
      p.sqNext = -1;
      setRunnable(p);
    } else prev = s;
    s = next;
  }
  while (pollHead >= 0) {
    let p = unchecked(procs[pollHead]);
    pollHead = p.sqNext;
    p.sqNext = -1;
    setRunnable(p);
  }
  resched();
}

/** Wake one process whatever it sleeps on (a timed wait ran out). */
export function wakeProc(p: Proc): void {
  if (p.state != P_SLEEPING) return;
  unsleep(p);
  setRunnable(p);
  resched();
}

/** The running process goes to the back of its queue. */
export function yieldCpu(): void {
  if (curSlot < 0) return;
  let p = cur();
  setCurproc(-1);
  setRunnable(p);
  run(best());
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
    if (b >= 0 && queueOf(priority(unchecked(procs[b]))) <= queueOf(priority(p))) yieldCpu();
    else p.quantum = QUANTUM_TICKS;
  } else resched(); // its priority may have fallen below a waiting process's
}

/** Every second: decay every process's recent CPU use (4.4BSD's schedcpu, with the
 *  load-dependent filter fixed at 2/3); a runnable one moves to its new queue. */
export function schedSecond(): void {
  for (let i: i32 = 1; i < NPROC; i++) {
    let p = unchecked(procs[i]);
    if (p.estcpu == 0) continue;
    let queued = p.state == P_RUNNABLE;
    if (queued) dequeue(p);
    p.estcpu = p.estcpu * 2 / 3;
    if (queued) setRunnable(p);
  }
}

/** Runnable processes waiting for the CPU. */
export function runQueueLength(): u32 {
  return runnable;
}

export { P_SLEEPING };
