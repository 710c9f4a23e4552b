// Alarms: many absolute-deadline callbacks multiplexed on the CPU's one one-shot
// timer (tickless). Threads and the disk scheduler ask to be called at a time; the
// timer interrupt calls every alarm that is due and re-arms the hardware for the
// earliest one left. Deadlines are absolute, so periodic work never drifts.
//
// Interface: alarmNew(fn, arg) -> id; alarmAt(id, time); alarmCancel(id);
//            alarmFire() from the timer interrupt.

import { now, setDeadline, cancelDeadline } from "../guest-lib/cpu";

const NALARM: i32 = 64;
const NEVER: u64 = u64.MAX_VALUE;

let fns = new StaticArray<(arg: u32) => void>(NALARM);
let args = new StaticArray<u32>(NALARM);
let when = new StaticArray<u64>(NALARM);
let used: i32 = 0;
let armed: u64 = NEVER; // what the hardware timer is set to

function nothing(arg: u32): void {}

export function alarmNew(fn: (arg: u32) => void, arg: u32): i32 {
  if (used == 0) for (let i = 0; i < NALARM; i++) { fns[i] = nothing; when[i] = NEVER; }
  assert(used < NALARM, "out of alarms");
  fns[used] = fn;
  args[used] = arg;
  when[used] = NEVER;
  return used++;
}

export function alarmAt(id: i32, t: u64): void {
  when[id] = t;
  if (t < armed) { armed = t; setDeadline(t); }
}

export function alarmCancel(id: i32): void {
  when[id] = NEVER;
}

/** The timer interrupt: run what is due (a callback may set new alarms), re-arm. */
export function alarmFire(): void {
  armed = NEVER;
  for (let pass = 0; pass < 4; pass++) {
    let t = now();
    let ran = false;
    for (let i = 0; i < used; i++) {
      if (when[i] <= t) {
        when[i] = NEVER;
        fns[i](args[i]);
        ran = true;
      }
    }
    if (!ran) break;
  }
  let next = NEVER;
  for (let i = 0; i < used; i++) if (when[i] < next) next = when[i];
  if (next != NEVER) { armed = next; setDeadline(next); } else cancelDeadline();
}
