// Test guest: a fixed amount of work every period, to check the load accounting.
// Each timer interrupt re-arms the absolute deadline and runs BOOT_SPIN iterations.

import { IRQ_TIMER, BOOT_TICK_NS, BOOT_SPIN } from "../../common/platform";
import { cpuId, now, setDeadline, bootArg } from "../../guest-lib/cpu";

let tickNs: u64 = 0;
let epoch: u64 = 0;
let ticks: u64 = 0;
let spin: u32 = 0;
let sink: u32 = 0;

export function boot(): void {
  let me = cpuId();
  tickNs = <u64>bootArg(me, BOOT_TICK_NS);
  spin = bootArg(me, BOOT_SPIN);
  epoch = now();
  setDeadline(epoch + tickNs);
}

export function irq(vector: u32): void {
  if (vector != IRQ_TIMER) return;
  ticks++;
  setDeadline(epoch + (ticks + 1) * tickNs);
  let x = <u32>ticks;
  for (let i: u32 = 0; i < spin; i++) x = x * 1103515245 + 12345;
  sink = x;
}

/** The same loop alone, so a test can meter it outside the board. */
export function work(n: u32): u32 {
  let x: u32 = 1;
  for (let i: u32 = 0; i < n; i++) x = x * 1103515245 + 12345;
  return x;
}
