// Test guest (CPU 1): the disk I/O control thread over a fake disk, the paper's rate
// guarantee scenario in miniature. Every period (256 ms) one real-time read of one
// period of an 18 MB/s stream; from 1 s on, an uploader keeps one 10 MB write queued.
// The fake disk serves one request at a time in arrival order, in
// 5 ms + bytes / 27 MB/s. Boot argument BOOT_SPIN picks the policy (0 cyclic, 1 fifo).
// Reports, through ktest VALUE lines: worst read latency and deadline misses after the
// writer started, bytes written, and the policy's counters.

import { IRQ_TIMER, BOOT_SPIN } from "../../common/platform";
import { cpuId, now, bootArg } from "../../guest-lib/cpu";
import { kvalue, kdone, kcheck } from "../../guest-lib/ktest";
import { alarmNew, alarmAt, alarmFire } from "../../guest-hitactix/alarm";
import { FakeDisk } from "./fake-disk";
import { BlkReq, REQ_READ, REQ_WRITE, CLASS_RT, CLASS_NRT } from "../../guest-hitactix/blkdev";
import { diskioInit, diskioSubmit, diskioPolicy, bytesWritten } from "../../guest-hitactix/diskio";
import { PERIOD_NS } from "../../guest-hitactix/param";
import { cputs, kprint } from "../../guest-lib/console";

const READ_BYTES: u32 = 4608000; // 18 MB/s * 0.256 s
const WRITE_BYTES: u32 = 10000000;
const WRITER_START: u64 = 1000000000;
const END: u64 = 6000000000;

let disk: FakeDisk = new FakeDisk();
let epoch: u64 = 0;
let period: u64 = 0;
let periodAlarm: i32 = 0;
let endAlarm: i32 = 0;
let readReq: BlkReq = new BlkReq();
let writeReq: BlkReq = new BlkReq();
let worstLatency: u64 = 0;
let misses: u32 = 0;
let reads: u32 = 0;
let writerOn: bool = false;
let readBusy: bool = false;

function diskDone(arg: u32): void { disk.finish(); }

function readDone(r: BlkReq): void {
  readBusy = false;
  reads++;
  let lat = r.doneAt - r.enqueuedAt;
  if (writerOn && lat > worstLatency) worstLatency = lat;
  if (writerOn && lat > PERIOD_NS) misses++;
}

function writeDone(r: BlkReq): void {
  diskioSubmit(r); // keep one 10 MB write queued, always
}

function onPeriod(arg: u32): void {
  let t = epoch + period * PERIOD_NS; // this period's start
  period++;
  if (t >= epoch + WRITER_START && !writerOn) {
    writerOn = true;
    writeReq.disk = 0; writeReq.lba = 10000000; writeReq.sectors = WRITE_BYTES / 512;
    writeReq.buf = 0x08000000; writeReq.op = REQ_WRITE; writeReq.cls = CLASS_NRT; writeReq.done = writeDone;
    diskioSubmit(writeReq);
  }
  if (readBusy) { if (writerOn) misses++; } // the previous period's read is not done yet
  else {
    readBusy = true;
    readReq.disk = 0; readReq.lba = <u64>period * 9000; readReq.sectors = READ_BYTES / 512;
    readReq.buf = 0x07000000; readReq.op = REQ_READ; readReq.cls = CLASS_RT; readReq.done = readDone;
    diskioSubmit(readReq);
  }
  alarmAt(periodAlarm, epoch + period * PERIOD_NS);
}

function onEnd(arg: u32): void {
  let pol = diskioPolicy(0);
  kprint(pol.name());
  kvalue("reads", reads);
  kvalue("worstReadLatencyNs", worstLatency);
  kvalue("deadlineMisses", misses);
  kvalue("bytesWritten", bytesWritten);
  for (let i: u32 = 0; i < pol.counters(); i++) { cputs("counter "); kvalue(pol.counterName(i), pol.counter(i)); }
  kcheck("served every request it was given", disk.served > 0);
  kdone();
}

export function boot(): void {
  let policy = bootArg(cpuId(), BOOT_SPIN);
  disk.alarm = alarmNew(diskDone, 0);
  periodAlarm = alarmNew(onPeriod, 0);
  endAlarm = alarmNew(onEnd, 0);
  diskioInit(disk, policy);
  epoch = now();
  onPeriod(0);
  alarmAt(endAlarm, epoch + END);
}

export function irq(vector: u32): void {
  if (vector == IRQ_TIMER) alarmFire();
}
