// A test guest for CPU 0 (the board tests of mailboxes, IPIs and load): it was the
// BSD kernel's stand-in before the real one (guest-bsd/), kept for those tests. The
// general-purpose kernel of the foundation: it boots, runs a periodic clock tick (hz
// from the boot parameters) and exercises the mailbox: each tick it sends a burst of
// PINGs to HiTactix and checks that the PONGs come back complete and in order.
//
// Entry points called by the board: boot() once, irq(vector) per interrupt.

import { IRQ_TIMER, IRQ_IPI, BOOT_TICK_NS, BOOT_PING_BURST, BOOT_PING_TOTAL, BOOT_SPIN, BOOT_REPORT_TICKS,
  MSG_PING, MSG_PONG } from "../../common/platform";
import { MBOX_BSD_TO_HTX, MBOX_HTX_TO_BSD } from "../../common/memmap";
import { cpuId, now, setDeadline, sendIpi, bootArg } from "../../guest-lib/cpu";
import { cputs, cputu, cputsec, kprint } from "../../guest-lib/console";
import { mboxInit, mboxSend, mboxRecv, mboxDone, rxType, rxSeq, rxArg } from "../../guest-lib/mailbox";

const HTX_CPU: u32 = 1;

let me: u32 = 0;
let tickNs: u64 = 0;
let epoch: u64 = 0;
let ticks: u64 = 0;
let burst: u32 = 0;
let total: u32 = 0;
let spin: u32 = 0;
let reportEvery: u64 = 0;
let sent: u32 = 0; // PINGs queued so far (seq of the next one)
let received: u32 = 0; // PONGs received (seq of the next expected one)
let errors: u32 = 0; // PONGs out of order or with a wrong value
let fullHits: u32 = 0; // times the ring to HiTactix was full (back-pressure)
let spinSink: u32 = 0;

export function boot(): void {
  me = cpuId();
  tickNs = <u64>bootArg(me, BOOT_TICK_NS);
  burst = bootArg(me, BOOT_PING_BURST);
  total = bootArg(me, BOOT_PING_TOTAL);
  spin = bootArg(me, BOOT_SPIN);
  reportEvery = <u64>bootArg(me, BOOT_REPORT_TICKS);
  mboxInit(MBOX_BSD_TO_HTX);
  cputs("bsd: boot on cpu "); cputu(me); cputs(", hz "); cputu(tickNs != 0 ? 1000000000 / tickNs : 0);
  cputs(", "); cputu(total); kprint(" pings to send");
  epoch = now();
  if (tickNs != 0) setDeadline(epoch + tickNs);
}

export function irq(vector: u32): void {
  if (vector == IRQ_TIMER) tick();
  else if (vector == IRQ_IPI) mailbox();
}

function ping(limit: u32): void {
  let n: u32 = 0;
  while (n < limit && sent < total) {
    if (!mboxSend(MBOX_BSD_TO_HTX, MSG_PING, sent, sent * 7, 0, 0, 0)) { fullHits++; break; } // full: HiTactix wakes us
    sent++;
    n++;
  }
  if (n != 0) sendIpi(HTX_CPU);
}

function tick(): void {
  ticks++;
  setDeadline(epoch + (ticks + 1) * tickNs);
  let x: u32 = <u32>ticks;
  for (let i: u32 = 0; i < spin; i++) x = x * 1103515245 + 12345;
  spinSink = x;
  ping(burst);
  if (reportEvery != 0 && ticks % reportEvery == 0) {
    cputs("bsd: t="); cputsec(now()); cputs(" ticks="); cputu(ticks); cputs(" sent="); cputu(sent);
    cputs(" received="); cputu(received); cputs(" errors="); cputu(errors); cputs("\n");
  }
}

function mailbox(): void {
  while (mboxRecv(MBOX_HTX_TO_BSD)) {
    if (rxType != MSG_PONG || rxSeq != received || rxArg(0) != received * 7 + 1) errors++;
    received++;
    if (received == total) {
      cputs("bsd: all "); cputu(total); cputs(" pongs back at t="); cputsec(now());
      cputs(", errors="); cputu(errors); cputs(", ring full "); cputu(fullHits); cputs(" times\n");
    }
  }
  mboxDone(MBOX_HTX_TO_BSD, HTX_CPU);
  ping(burst); // the ring may have had no room at the last tick
}
