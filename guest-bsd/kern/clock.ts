// The clock: the periodic tick (hz from the boot parameters; the scheduler's round
// robin and the file system's commit interval run on it), timed waits (callouts) at
// their exact deadlines, and the time of day. The one-shot timer of this CPU is armed
// for whichever comes first, the next tick or the earliest callout.
//
// Interface:
//   clockInit(hz, epochSec)    start ticking
//   clockIntr()                from irq(IRQ_TIMER)
//   callAt(slot, deadline)     wake process `slot` at `deadline` (one per process)
//   callCancel(slot)
//   uptimeNs(), realtimeNs(), ticks, hz
//   onTick(fn)                 a subsystem's per-tick work (file system commits)

import { now, setDeadline } from "../../guest-lib/cpu";
import { NPROC } from "./param";
import { procs, P_SLEEPING } from "./proc";
import { schedTick, schedSecond, wakeProc } from "./sched";

export let hz: u32 = 100;
export let ticks: u64 = 0;
let tickNs: u64 = 10000000;
let epoch: u64 = 0; // now() at boot
let realBase: u64 = 0; // realtime ns at boot
let nextTick: u64 = 0;
/** Per process slot: its wake-up deadline, 0 = none. */
const wakeAt = new StaticArray<u64>(NPROC);
let tickHooks = new StaticArray<(t: u64) => void>(4);
let nHooks: i32 = 0;

export function clockInit(h: u32, epochSec: u64): void {
  hz = h;
  tickNs = 1000000000 / <u64>h;
  epoch = now();
  realBase = epochSec * 1000000000;
  nextTick = epoch + tickNs;
  arm();
}

export function onTick(fn: (t: u64) => void): void {
  tickHooks[nHooks++] = fn;
}

/** The timer's time at boot: uptimeNs() + clockEpoch() is a time for setDeadline. */
export function clockEpoch(): u64 {
  return epoch;
}

export function uptimeNs(): u64 {
  return now() - epoch;
}

export function realtimeNs(): u64 {
  return realBase + uptimeNs();
}

export function callAt(slot: i32, deadline: u64): void {
  wakeAt[slot] = deadline == 0 ? 1 : deadline;
  arm();
}

export function callCancel(slot: i32): void {
  wakeAt[slot] = 0;
}

function arm(): void {
  let d = nextTick;
  for (let i: i32 = 0; i < NPROC; i++) {
    let w = unchecked(wakeAt[i]);
    if (w != 0 && w < d) d = w;
  }
  setDeadline(d);
}

export function clockIntr(): void {
  let t = now();
  for (let i: i32 = 0; i < NPROC; i++) {
    let w = wakeAt[i];
    if (w != 0 && w <= t) {
      wakeAt[i] = 0;
      let p = procs[i];
      p.timedOut = true;
      if (p.state == P_SLEEPING) wakeProc(p);
    }
  }
  while (nextTick <= t) {
    ticks++;
    nextTick += tickNs;
    schedTick();
    if (ticks % <u64>hz == 0) schedSecond();
    for (let h: i32 = 0; h < nHooks; h++) tickHooks[h](t);
  }
  arm();
}
