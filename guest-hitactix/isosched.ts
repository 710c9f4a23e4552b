// The isochronous scheduler: periodic threads with a period and a budget, released at
// absolute times (release_k = start + k * period, never "sleep(period)" drift), run to
// completion in deadline order (earliest release + period first), with per-thread
// accounting of the CPU time they use. Event-driven threads (the disk I/O control
// thread runs on completions) are accounted through threadRun().
//
// A thread that uses more than its budget in one release counts an overrun; one
// released again before its previous run ended cannot happen (run to completion), but
// a release that comes late (the CPU was busy) is counted as lateness.
//
// Interface:
//   threadPeriodic(name, periodNs, budgetNs, fn, firstRelease) -> Thread
//   threadEvent(name) -> Thread               an event-driven thread (accounting only)
//   threadRun(t, fn)                          run fn as thread t, accounted
//   threadStop(t)
//   isoReport()                               per-thread usage on the console
//   threads / nthreads                        for reports over the mailbox

import { now } from "../guest-lib/cpu";
import { alarmNew, alarmAt, alarmCancel } from "./alarm";
import { cputs, cputu, kprint } from "../guest-lib/console";

const NTHREAD: i32 = 16;

@final
export class Thread {
  name: string = "";
  period: u64 = 0; // 0 = event-driven
  budget: u64 = 0;
  release: u64 = 0; // the current (or next) release time
  fn: () => void = idle;
  alarm: i32 = -1;
  running: bool = false;
  stopped: bool = false;
  // accounting
  busyNs: u64 = 0;
  runs: u64 = 0;
  overruns: u64 = 0;
  worstNs: u64 = 0;
  worstLatenessNs: u64 = 0;
}

function idle(): void {}

export const threads = new StaticArray<Thread | null>(NTHREAD);
export let nthreads: i32 = 0;

function add(t: Thread): Thread {
  assert(nthreads < NTHREAD, "isosched: too many threads");
  threads[nthreads++] = t;
  return t;
}

export function threadEvent(name: string): Thread {
  let t = new Thread();
  t.name = name;
  return add(t);
}

export function threadPeriodic(name: string, periodNs: u64, budgetNs: u64, fn: () => void, firstRelease: u64): Thread {
  let t = new Thread();
  t.name = name;
  t.period = periodNs;
  t.budget = budgetNs;
  t.fn = fn;
  t.release = firstRelease;
  add(t);
  t.alarm = alarmNew(release, <u32>(nthreads - 1));
  alarmAt(t.alarm, firstRelease);
  return t;
}

export function threadStop(t: Thread): void {
  t.stopped = true;
  if (t.alarm >= 0) alarmCancel(t.alarm);
}

/** Run `fn` as thread `t`, charging it the time it takes. */
export function threadRun(t: Thread, fn: () => void): void {
  let start = now();
  t.running = true;
  fn();
  t.running = false;
  let used = now() - start;
  t.busyNs += used;
  t.runs++;
  if (used > t.worstNs) t.worstNs = used;
  if (t.budget != 0 && used > t.budget) t.overruns++;
}

/** A periodic thread's alarm: run it, then set its next absolute release. */
function release(index: u32): void {
  let t = threads[index]!;
  if (t.stopped) return;
  let late = now() - t.release;
  if (late > t.worstLatenessNs) t.worstLatenessNs = late;
  threadRun(t, t.fn);
  t.release += t.period;
  alarmAt(t.alarm, t.release);
}

export function isoReport(): void {
  for (let i = 0; i < nthreads; i++) {
    let t = threads[i]!;
    cputs("hitactix: thread "); cputs(t.name); cputs(" runs "); cputu(t.runs);
    cputs(" busy "); cputu(t.busyNs / 1000); cputs(" us, worst "); cputu(t.worstNs / 1000);
    cputs(" us, overruns "); cputu(t.overruns); cputs(", worst lateness "); cputu(t.worstLatenessNs / 1000); kprint(" us");
  }
}
