// HiTactix kernel entry (CPU 1): boot calls each subsystem's init in order (xv6's
// main.c), then everything is driven by interrupts:
//   timer -> alarms (isochronous threads, disk schedule boundaries, device timeouts)
//   IPI   -> the mailbox service (requests from BSD)
//   SCSI  -> the sym driver -> the disk I/O control thread
//   NIC   -> the AceNIC driver -> the distribution thread's transmit space
// Bring-up is a chain of completions: SCSI ready -> mount the stream file system ->
// calibrate the disks (admission control) -> accept streams; the NIC comes up beside.

import { IRQ_TIMER, IRQ_IPI, IRQ_SCSI, IRQ_NIC, BOOT_HTX_POLICY, BOOT_HTX_IP, BOOT_REPORT_TICKS, BOOT_HTX_NSTREAM, BOOT_HTX_TX_PATH, HTX_TX_2002 } from "../common/platform";
import { cpuId, now, bootArg } from "../guest-lib/cpu";
import { cputs, cputu, kprint } from "../guest-lib/console";
import { alarmNew, alarmAt, alarmFire } from "./alarm";
import { threadPeriodic, isoReport } from "./isosched";
import { diskioInit, POLICY_FIFO, POLICY_CYCLIC, diskioPolicy, diskioOutstanding } from "./diskio";
import { sym } from "../guest-lib/drivers/sym53c8xx";
import { SymBlock } from "./blkdev-sym";
import { AceNicNet } from "./netdev-acenic";
import { setTxSpace } from "./netdev";
import { distribInit, distribPeriod, distribSendTick, activeStreams, totalReadErrors, totalLateReads, totalSkipped } from "./distrib";
import { statsInit, statsHeapFree } from "./stats";
import { dmaFree } from "../guest-lib/dma";
import { sfsMount, sfsSectors } from "./sfs";
import { calibrate } from "./calibrate";
import { serviceInit, serviceIntr, setMounted } from "./service";
import { NDISK, PERIOD_NS, SEND_TICK_NS, NSTREAM_DEFAULT, NSTREAM_MAX } from "./param";
import { symInit, symIntr } from "../guest-lib/drivers/sym53c8xx";
import { nicInit, nicIntr, nic } from "../guest-lib/drivers/acenic";

let me: u32 = 0;
let epoch: u64 = 0;
let reportMs: u64 = 0;
let reportAlarm: i32 = -1;
let reports: u64 = 0;
let policy: u32 = POLICY_CYCLIC;
let tableSize: u32 = NSTREAM_DEFAULT;
let tx2002: bool = false;

export function boot(): void {
  me = cpuId();
  policy = bootArg(me, BOOT_HTX_POLICY) == 1 ? POLICY_FIFO : POLICY_CYCLIC;
  reportMs = <u64>bootArg(me, BOOT_REPORT_TICKS);
  let asked = bootArg(me, BOOT_HTX_NSTREAM);
  tableSize = asked == 0 ? NSTREAM_DEFAULT : min<u32>(asked, NSTREAM_MAX); // the host checks the range
  tx2002 = bootArg(me, BOOT_HTX_TX_PATH) == HTX_TX_2002;
  cputs("hitactix: boot on cpu "); cputu(me); cputs(", period "); cputu(PERIOD_NS / 1000000);
  cputs(" ms, disk policy "); kprint(policy == POLICY_FIFO ? "fifo" : "cyclic");
  if (tableSize != NSTREAM_DEFAULT || tx2002) {
    cputs("hitactix: "); cputu(tableSize); cputs(" stream slots, transmit path "); kprint(tx2002 ? "2002" : "fast");
  }
  epoch = now();
  statsInit(tableSize);
  serviceInit();
  diskioInit(new SymBlock(), policy);
  symInit(scsiReady);
  nicInit(nicReady);
  setTxSpace(distribSendTick);
  if (reportMs != 0) {
    reportAlarm = alarmNew(report, 0);
    alarmAt(reportAlarm, epoch + reportMs * 1000000);
  }
}

function scsiReady(): void {
  kprint("hitactix: scsi ready");
  sfsMount(NDISK, mounted);
}

function mounted(ok: bool): void {
  if (!ok) { setMounted(false); return; } // the reason is on the console; starts are refused (not mounted)
  calibrate(NDISK, sfsSectors, calibrated);
}

function calibrated(): void {
  statsHeapFree(dmaFree());
  setMounted(true);
  kprint("hitactix: ready for streams");
}

function nicReady(): void {
  kprint("hitactix: link up");
  distribInit(new AceNicNet(!tx2002), nic.mac, bootArg(me, BOOT_HTX_IP), tableSize, tx2002);
  statsHeapFree(dmaFree());
  // The distribution thread's period grid starts at the next whole period.
  let t = now();
  let first = epoch + ((t - epoch) / PERIOD_NS + 1) * PERIOD_NS;
  threadPeriodic("distrib", PERIOD_NS, PERIOD_NS / 4, distribPeriod, first);
  threadPeriodic("pacer", SEND_TICK_NS, SEND_TICK_NS / 2, distribSendTick, first + SEND_TICK_NS);
}

function report(arg: u32): void {
  reports++;
  cputs("hitactix: t="); cputu((now() - epoch) / 1000000); cputs(" ms streams="); cputu(activeStreams);
  let pol = diskioPolicy(0);
  for (let i: u32 = 0; i < pol.counters(); i++) { cputs(" "); cputs(pol.counterName(i)); cputs("="); cputu(pol.counter(i)); }
  cputs(" outstanding="); cputu(diskioOutstanding(0)); cputs("/"); cputu(diskioOutstanding(1)); cputs("/"); cputu(diskioOutstanding(2));
  cputs(" symBusy="); cputu(sym.busy);
  cputs(" readErrors="); cputu(totalReadErrors); cputs(" lateReads="); cputu(totalLateReads);
  cputs(" skippedPeriods="); cputu(totalSkipped);
  kprint("");
  isoReport();
  alarmAt(reportAlarm, epoch + (reports + 1) * reportMs * 1000000);
}

export function irq(vector: u32): void {
  if (vector == IRQ_TIMER) alarmFire();
  else if (vector == IRQ_IPI) serviceIntr();
  else if (vector == IRQ_SCSI) symIntr();
  else if (vector == IRQ_NIC) nicIntr();
}
