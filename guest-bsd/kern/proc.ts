// Processes: the process table, spawn (a new program with argv, environ and a map of
// the caller's descriptors; there is no fork), exit, wait and kill.
//
// A process's address space is a WebAssembly instance the host creates when the
// kernel asks (env.proc_create, after exec.ts read the program image into the exec
// buffer) and drops when the kernel says (env.proc_destroy). Everything else about a
// process is here: its state, parent, exit status, descriptors, argv/environ, the
// memory it holds (accounted against BSD's RAM partition), and where it sleeps.
//
// Interface:
//   procInit()                     tables
//   procAlloc() -> Proc | null     an EMBRYO slot with a fresh pid
//   procByPid(pid), procs[i]       lookup; cur() is the running process (sched.ts)
//   procExit(p, status, signal)    close its files, give back memory, zombie, wake parent
//   procWait(p, pid, options)      reap a zombie child (SYS_WAIT)
//   procKill(pid, sig)             end a process (no signal handlers in WASI)
//   memGrow(p, pages)              account memory growth (SYS_MEMGROW)

import { NPROC, NOFILE, ARG_MAX, PROC_PAGES_MAX } from "./param";
import { E_CHILD, E_SRCH, E_NOMEM, E_INVAL, E_PERM, WNOHANG, SYS_BLOCK, SIGKILL } from "../../common/bsd-abi";
import { fileClose } from "./file";
import { sleep, wakeup, setRunnable, dequeue, unsleep, curSlot, resched, setCurproc } from "./sched";
import { callCancel } from "./clock";
import { execAbandon } from "./exec";
import { cputs, cputu, kprint } from "../../guest-lib/console";
import { BSD_END } from "../../common/memmap";

@external("env", "proc_destroy") declare function proc_destroy(pid: i32): void;

export const P_UNUSED: u8 = 0;
export const P_EMBRYO: u8 = 1; // slot taken, program not yet loaded
export const P_RUNNABLE: u8 = 2;
export const P_RUNNING: u8 = 3;
export const P_SLEEPING: u8 = 4;
export const P_ZOMBIE: u8 = 5;

@final
export class Proc {
  slot: i32 = 0;
  pid: i32 = 0;
  ppid: i32 = 0;
  state: u8 = P_UNUSED;
  /** What it sleeps on (sched.ts channels), 0 when not sleeping. */
  chan: u32 = 0;
  /** Its run queue (-1: not queued) and neighbours there; its sleep queue link. */
  rq: i32 = -1;
  rqNext: i32 = -1;
  rqPrev: i32 = -1;
  sqNext: i32 = -1;
  /** Recent CPU use in clock ticks, decayed every second (4.4BSD's p_estcpu). */
  estcpu: u32 = 0;
  /** Ticks left of its time slice. */
  quantum: u32 = 0;
  /** Exit status (0-255) and the signal that ended it (0: it exited). */
  status: i32 = 0;
  signal: i32 = 0;
  /** A kill() that arrived while it was in a system call: it ends at the next one. */
  killed: i32 = 0;
  /** 64 KiB pages of memory it holds (its instance's memory). */
  pages: u32 = 0;
  /** Descriptor table: index into the file table, -1 free. */
  fds: StaticArray<i32> = new StaticArray<i32>(NOFILE);
  /** argv then environ, NUL-terminated strings, in a per-slot area of ARG_MAX bytes. */
  args: usize = 0;
  argc: u32 = 0;
  argBytes: u32 = 0;
  envc: u32 = 0;
  envBytes: u32 = 0;
  /** Its program's path, for reports (NUL-terminated, at most 63 bytes). */
  name: usize = 0;
  startNs: u64 = 0;
  /** A timed wait (poll_oneoff) that ran out: set by the callout, read by the call. */
  timedOut: bool = false;
  /** poll_oneoff: a restart keeps the first attempt's deadline. */
  pollArmed: bool = false;
  pollDeadline: u64 = 0;
  /** fsync in progress: the commit it waits for (kept across restarts). */
  syncing: bool = false;
  syncSeq: u64 = 0;
  /** SYS_SPAWN in progress (exec.ts): restarts continue where the last one slept. */
  execState: u32 = 0;
  execIno: u32 = 0;
  execOff: u32 = 0;
  execSize: u32 = 0;
  execChild: i32 = 0;
  /** Counters for statistics. */
  syscalls: u64 = 0;
}

export const procs = new StaticArray<Proc>(NPROC);
let nextPid: i32 = 1;
/** Pages every process together may hold: BSD's partition above the kernel's heap. */
export let pagesFree: u32 = 0;
export let procsCreated: u64 = 0;

export function procInit(): void {
  for (let i: i32 = 0; i < NPROC; i++) {
    let p = new Proc();
    p.slot = i;
    for (let f: i32 = 0; f < NOFILE; f++) p.fds[f] = -1;
    p.args = heap.alloc(ARG_MAX);
    p.name = heap.alloc(64);
    procs[i] = p;
  }
  // Slot 0 is the kernel itself (pid 0): it owns boot-time work such as starting init.
  procs[0].state = P_RUNNING;
}

/** After every table is allocated: what is left of the partition is for processes. */
export function procMemoryInit(reserveBytes: u32): void {
  let top = heap.alloc(16);
  let free = <u64>BSD_END - <u64>top;
  free = free > <u64>reserveBytes ? free - <u64>reserveBytes : 0;
  pagesFree = <u32>(free >> 16);
}

export function procByPid(pid: i32): Proc | null {
  if (pid <= 0) return null;
  for (let i: i32 = 1; i < NPROC; i++) {
    let p = procs[i];
    if (p.pid == pid && p.state != P_UNUSED) return p;
  }
  return null;
}

export function procAlloc(): Proc | null {
  for (let i: i32 = 1; i < NPROC; i++) {
    let p = procs[i];
    if (p.state != P_UNUSED) continue;
    p.state = P_EMBRYO;
    p.pid = nextPid++;
    p.ppid = 0; p.chan = 0; p.rq = -1; p.rqNext = -1; p.rqPrev = -1; p.sqNext = -1; p.estcpu = 0; p.quantum = 0; p.status = 0; p.signal = 0; p.killed = 0;
    p.pages = 0; p.argc = 0; p.argBytes = 0; p.envc = 0; p.envBytes = 0; p.timedOut = false;
    p.pollArmed = false; p.syncing = false; p.execState = 0; p.syscalls = 0;
    store<u8>(p.name, 0);
    for (let f: i32 = 0; f < NOFILE; f++) p.fds[f] = -1;
    procsCreated++;
    return p;
  }
  return null;
}

/** Give back a slot that never ran (a failed spawn). */
export function procFree(p: Proc): void {
  for (let f: i32 = 0; f < NOFILE; f++) if (p.fds[f] >= 0) { fileClose(p.fds[f]); p.fds[f] = -1; }
  if (p.pages != 0) { pagesFree += p.pages; p.pages = 0; }
  p.state = P_UNUSED;
  p.pid = 0;
}

/** Account `pages` more (or fewer, if negative) 64 KiB pages for p. 0 or -E_NOMEM. */
export function memGrow(p: Proc, pages: i32): i64 {
  if (pages < 0) {
    let back = <u32>(-pages);
    if (back > p.pages) return -E_INVAL;
    p.pages -= back; pagesFree += back;
    return 0;
  }
  let n = <u32>pages;
  if (n > pagesFree || p.pages + n > PROC_PAGES_MAX) return -E_NOMEM;
  p.pages += n; pagesFree -= n;
  return 0;
}

/** End p: files closed, address space dropped, children to init, parent woken. */
export function procExit(p: Proc, status: i32, signal: i32): void {
  if (p.state == P_ZOMBIE || p.state == P_UNUSED) return;
  for (let f: i32 = 0; f < NOFILE; f++) if (p.fds[f] >= 0) { fileClose(p.fds[f]); p.fds[f] = -1; }
  proc_destroy(p.pid);
  pagesFree += p.pages;
  p.pages = 0;
  callCancel(p.slot);
  execAbandon(p);
  if (p.state == P_RUNNABLE) dequeue(p);
  else if (p.state == P_SLEEPING) unsleep(p);
  if (p.slot == curSlot) setCurproc(-1);
  p.state = P_ZOMBIE;
  p.chan = 0;
  p.status = status & 0xff;
  p.signal = signal;
  if (p.pid == 1) { initDied(p); return; }
  // Orphans go to init (pid 1), which reaps them.
  let reparented = false;
  for (let i: i32 = 1; i < NPROC; i++) {
    let c = procs[i];
    if (c.state != P_UNUSED && c.ppid == p.pid) { c.ppid = 1; if (c.state == P_ZOMBIE) reparented = true; }
  }
  if (reparented) wakeup(waitChan(1));
  wakeup(waitChan(p.ppid));
  if (p.ppid == 0 || procByPid(p.ppid) == null) procReap(p); // nobody will wait for it
  resched();
}

/** Init never ends (it powers the board off instead): if it does, nobody reaps orphans
 *  and nothing is left to run. As BSD's "panic: init died", the kernel says so and
 *  stops the board, with status INIT_DIED_STATUS (no file system sync: a panic). */
const INIT_DIED_STATUS: u32 = 125;
let panicHook: (status: u32) => void = (s: u32): void => {};
export function setPanicPowerOff(fn: (status: u32) => void): void { panicHook = fn; }

function initDied(p: Proc): void {
  cputs("bsd: panic: init died (");
  if (p.signal != 0) { cputs("signal "); cputu(p.signal); } else { cputs("status "); cputu(p.status); }
  kprint(")");
  resched();
  panicHook(INIT_DIED_STATUS);
}

function procReap(p: Proc): void {
  p.state = P_UNUSED;
  p.pid = 0;
}

/** The channel a parent sleeps on in wait(). */
export function waitChan(pid: i32): u32 {
  return 0x10000000 | <u32>pid;
}

/** SYS_WAIT for process p: a zombie child's pid (status into `out`), 0 with WNOHANG
 *  when none has ended, -E_CHILD when there is no such child, or SYS_BLOCK. */
export function procWait(p: Proc, pid: i32, options: u32, out: usize): i64 {
  let any = false;
  for (let i: i32 = 1; i < NPROC; i++) {
    let c = procs[i];
    if (c.state == P_UNUSED || c.ppid != p.pid || (pid > 0 && c.pid != pid)) continue;
    any = true;
    if (c.state == P_ZOMBIE) {
      store<i32>(out, c.status);
      store<i32>(out + 4, c.signal);
      let r = c.pid;
      procReap(c);
      return r;
    }
  }
  if (!any) return -E_CHILD;
  if ((options & WNOHANG) != 0) return 0;
  sleep(waitChan(p.pid));
  return SYS_BLOCK;
}

/** kill(pid, sig): every signal ends the process (WASI programs have no handlers). */
export function procKill(pid: i32, sig: i32): i64 {
  let p = procByPid(pid);
  if (p == null || p.state == P_ZOMBIE) return -E_SRCH;
  if (sig == 0) return 0;
  if (pid == 1) return -E_PERM; // init takes no signals (as in BSD: its death is a panic)
  cputs("bsd: pid "); cputu(p.pid); cputs(" killed by signal "); cputu(sig); kprint("");
  procExit(p, 128 + sig, sig);
  return 0;
}

/** A fault in p (the host's trap upcall): report and end it as SIGKILL would. */
export function procFault(p: Proc, signal: i32): void {
  procExit(p, 128 + signal, signal);
}

export { SIGKILL };
