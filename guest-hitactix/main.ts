// HiTactix kernel entry (CPU 1). At this stage of the project it is the minimal
// real-time kernel of the foundation: it boots, runs a periodic tick keyed to
// absolute deadlines (no drift), and serves the mailbox from BSD: every PING gets a
// PONG with the argument plus one, in order, with back-pressure both ways.
//
// Entry points called by the board: boot() once, irq(vector) per interrupt; each runs
// to completion and returns (the CPU then halts until the next interrupt).

import { IRQ_TIMER, IRQ_IPI, BOOT_TICK_NS, BOOT_SPIN, BOOT_REPORT_TICKS, MSG_PING, MSG_PONG } from "../common/platform";
import { MBOX_BSD_TO_HTX, MBOX_HTX_TO_BSD } from "../common/memmap";
import { cpuId, now, setDeadline, sendIpi, bootArg } from "../guest-lib/cpu";
import { cputs, cputu, cputsec, kprint } from "../guest-lib/console";
import { mboxInit, mboxSend, mboxRecv, mboxDone, rxType, rxSeq, rxArg } from "../guest-lib/mailbox";

const BSD_CPU: u32 = 0;

let me: u32 = 0;
let tickNs: u64 = 0; // period of the tick (boot parameter)
let epoch: u64 = 0; // time of tick 0: deadlines are epoch + n * tickNs
let ticks: u64 = 0;
let spin: u32 = 0; // extra work per tick (load demonstration)
let reportEvery: u64 = 0;
let pings: u32 = 0;
let pongs: u32 = 0;
let heldType: u32 = 0; // a message taken from the ring but not yet answered
let heldSeq: u32 = 0;
let heldArg: u32 = 0;
let spinSink: u32 = 0;

export function boot(): void {
  me = cpuId();
  tickNs = <u64>bootArg(me, BOOT_TICK_NS);
  spin = bootArg(me, BOOT_SPIN);
  reportEvery = <u64>bootArg(me, BOOT_REPORT_TICKS);
  mboxInit(MBOX_HTX_TO_BSD);
  cputs("hitactix: boot on cpu "); cputu(me); cputs(", tick "); cputu(tickNs / 1000); kprint(" us");
  epoch = now();
  if (tickNs != 0) setDeadline(epoch + tickNs);
}

export function irq(vector: u32): void {
  if (vector == IRQ_TIMER) tick();
  else if (vector == IRQ_IPI) serveMailbox();
}

function tick(): void {
  ticks++;
  setDeadline(epoch + (ticks + 1) * tickNs);
  let x: u32 = <u32>ticks;
  for (let i: u32 = 0; i < spin; i++) x = x * 1103515245 + 12345;
  spinSink = x;
  if (reportEvery != 0 && ticks % reportEvery == 0) {
    cputs("hitactix: t="); cputsec(now()); cputs(" ticks="); cputu(ticks);
    cputs(" pings="); cputu(pings); cputs(" pongs="); cputu(pongs); cputs("\n");
  }
}

/** Answer every PING we can; stop (leaving the rest queued) when our reply ring is full. */
function serveMailbox(): void {
  let sent = false;
  for (;;) {
    if (heldType == 0) {
      if (!mboxRecv(MBOX_BSD_TO_HTX)) break;
      heldType = rxType; heldSeq = rxSeq; heldArg = rxArg(0);
      if (heldType == MSG_PING) pings++;
    }
    if (heldType == MSG_PING) {
      if (!mboxSend(MBOX_HTX_TO_BSD, MSG_PONG, heldSeq, heldArg + 1, 0, 0, 0)) break; // full: BSD will wake us
      pongs++;
      sent = true;
    }
    heldType = 0;
  }
  mboxDone(MBOX_BSD_TO_HTX, BSD_CPU);
  if (sent) sendIpi(BSD_CPU);
}
