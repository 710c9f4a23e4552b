// Test guest (CPU 1): the distribution thread (cyclic pipeline I/O) over a fake disk
// and a fake NIC. One 18 MB/s stream (chunk = 4,608,000 bytes per 256 ms period) of a
// 12-chunk file striped over 3 disks, looped. The fake disk serves each disk's requests
// in 5 ms + bytes / 27 MB/s and stamps every sector with its LBA; the fake NIC checks
// that each payload fragment points into the stream's ring buffer (zero copy) and that
// the stream header's byte offset matches the data, and counts bytes per 10 ms window.

import { IRQ_TIMER } from "../../common/platform";
import { now } from "../../guest-lib/cpu";
import { kvalue, kdone, kcheck, kcheckEq } from "../../guest-lib/ktest";
import { dmaAlloc } from "../../guest-lib/dma";
import { alarmNew, alarmAt, alarmFire } from "../../guest-hitactix/alarm";
import { FakeDisk } from "./fake-disk";
import { BlkReq, BlockDevice } from "../../guest-hitactix/blkdev";
import { diskioInit, POLICY_CYCLIC } from "../../guest-hitactix/diskio";
import { NetDevice } from "../../guest-hitactix/netdev";
import { threadPeriodic, isoReport } from "../../guest-hitactix/isosched";
import { distribInit, distribStart, distribPeriod, distribSendTick, streams, StreamFile } from "../../guest-hitactix/distrib";
import { PERIOD_NS, SEND_TICK_NS, HDR_BYTES } from "../../guest-hitactix/param";

const CHUNK: u32 = 4608000;
const CHUNKS: u32 = 12;
const WINDOW_NS: u64 = 10000000;
const NWIN: i32 = 400;

let epoch: u64 = 0;
let windows = new StaticArray<u64>(NWIN);
let frames: u64 = 0;
let outsideRing: u32 = 0;
let badOffset: u32 = 0;

class FakeNic extends NetDevice {
  checksumOffload(): bool { return false; }
  txFree(): u32 { return 256; }
  send2(hdr: usize, hdrLen: u32, pay: usize, payLen: u32): bool {
    frames++;
    let s = streams[0];
    if (pay < s.ring || pay + payLen > s.ring + s.ringBytes) outsideRing++;
    // offset in the stream header (big-endian u64 at 42 + 8) vs the data's sector stamp
    let offLo = bswap<u32>(load<u32>(hdr + HDR_BYTES - 4));
    if (offLo % 512 == 0) {
      let chunkNo = offLo / CHUNK;
      let lbaWant = firstLba[chunkNo % 3] + (chunkNo / 3) * (CHUNK / 512) + (offLo % CHUNK) / 512;
      if (load<u32>(pay) != lbaWant) badOffset++;
    }
    let w = <i32>((now() - epoch) / WINDOW_NS);
    if (w >= 0 && w < NWIN) windows[w] += payLen;
    return true;
  }
  flush(): void {}
}

let disks = new StaticArray<FakeDisk>(3);
let firstLba = new StaticArray<u32>(3);
let file = new StreamFile();
let endAlarm: i32 = 0;

function diskDone(d: u32): void { disks[d].finish(); }

class MultiDisk extends BlockDevice {
  submit(r: BlkReq): void { disks[r.disk].submit(r); }
  sectors(disk: u32): u64 { return 35000000; }
}

function onEnd(arg: u32): void {
  let s = streams[0];
  // Steady state: from the second period of sending (t >= 2 periods) to 2.8 s.
  let lo: u64 = u64.MAX_VALUE, hi: u64 = 0;
  for (let w = 60; w < 280; w++) { let b = windows[w]; if (b < lo) lo = b; if (b > hi) hi = b; }
  kvalue("frames", frames);
  kvalue("bytesSent", s.bytesSent);
  kvalue("min10ms", lo);
  kvalue("max10ms", hi);
  kvalue("lateReads", s.lateReads);
  kvalue("readsDone", s.readsDone);
  kcheckEq("every payload fragment points into the ring (zero copy)", outsideRing, 0);
  kcheckEq("every stream header offset matches the data under it", badOffset, 0);
  kcheck("the stream looped past the end of its file", s.readsDone > CHUNKS);
  isoReport();
  kdone();
}

export function boot(): void {
  for (let d: u32 = 0; d < 3; d++) { disks[d] = new FakeDisk(); disks[d].stamp = true; disks[d].alarm = alarmNew(diskDone, d); firstLba[d] = 100000 + d * 7; }
  diskioInit(new MultiDisk(), POLICY_CYCLIC);
  // the file: 12 chunks round-robin over 3 disks, contiguous per disk
  file.size = <u64>CHUNK * CHUNKS;
  file.chunk = CHUNK;
  file.chunks = CHUNKS;
  file.extents = dmaAlloc(CHUNKS * 16, 16);
  for (let c: u32 = 0; c < CHUNKS; c++) {
    let e = file.extents + <usize>c * 16;
    store<u32>(e, c % 3);
    store<u32>(e + 4, firstLba[c % 3] + (c / 3) * (CHUNK / 512));
    store<u32>(e + 8, CHUNK / 512);
  }
  let mac = dmaAlloc(8, 8);
  distribInit(new FakeNic(), mac, 0x0a000001, 4, false);
  epoch = now();
  kcheckEq("stream 0 admitted", <u64>distribStart(file, mac, 0x0a000002, 5000, 6000, true), 0);
  threadPeriodic("distrib", PERIOD_NS, PERIOD_NS / 4, distribPeriod, epoch);
  threadPeriodic("pacer", SEND_TICK_NS, SEND_TICK_NS / 2, distribSendTick, epoch + SEND_TICK_NS);
  endAlarm = alarmNew(onEnd, 0);
  alarmAt(endAlarm, epoch + 3900000000);
}

export function irq(vector: u32): void {
  if (vector == IRQ_TIMER) alarmFire();
}
