// Test guest: misbehaves on purpose, to show containment. Boot argument 0x10 (BOOT_SPIN
// slot reused as "mode") picks the fault, raised at the third timer tick:
//   1 trap (integer divide by zero), 2 allocate until the partition is exhausted,
//   3 loop forever, 4 abort() through an assertion, 5 misaligned MMIO access.
// Until then it ticks every BOOT_TICK_NS and prints, so a test can see it was alive.

import { IRQ_TIMER, BOOT_TICK_NS, BOOT_SPIN } from "../../common/platform";
import { cpuId, now, setDeadline, bootArg } from "../../guest-lib/cpu";
import { cputs, cputu, kprint } from "../../guest-lib/console";
import { mmio_read } from "../../guest-lib/hw";

let mode: u32 = 0;
let tickNs: u64 = 0;
let ticks: u32 = 0;
let keep: usize = 0;
let divisor: i32 = 0;

export function boot(): void {
  let me = cpuId();
  mode = bootArg(me, BOOT_SPIN);
  tickNs = <u64>bootArg(me, BOOT_TICK_NS);
  cputs("faulty: mode "); cputu(mode); kprint("");
  setDeadline(now() + tickNs);
}

export function irq(vector: u32): void {
  if (vector != IRQ_TIMER) return;
  ticks++;
  cputs("faulty: tick "); cputu(ticks); kprint("");
  setDeadline(now() + tickNs);
  if (ticks == 3) misbehave();
}

function misbehave(): void {
  if (mode == 1) {
    cputu(<u64>(100 / divisor));
  } else if (mode == 2) {
    for (;;) {
      let b = new ArrayBuffer(1 << 20);
      keep += changetype<usize>(b);
    }
  } else if (mode == 3) {
    let x: u32 = 1;
    while (x != 0) x = x * 3 + 1;
    keep = x;
  } else if (mode == 4) {
    assert(ticks == 0, "ticks must be zero");
  } else if (mode == 5) {
    keep = mmio_read(0xfe000001, 4);
  }
}
