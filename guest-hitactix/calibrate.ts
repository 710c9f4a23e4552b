// Calibration of the disks' real-time costs at mount, for admission control
// (admission.ts): per disk, time (1) a one-sector read at the innermost LBA right
// after a read at LBA 0 (a full-stroke seek + rotation + overhead: the worst
// positioning), and (2) a 1 MiB read in the innermost zone (the slowest transfer).
// The kernel measures the disks it has instead of trusting a data sheet.
//
// Interface: calibrate(nDisks, capacity(disk), done)

import { BlkReq, REQ_READ, CLASS_NRT } from "./blkdev";
import { diskioSubmit } from "./diskio";
import { admitSetDisk } from "./admission";
import { dmaAlloc } from "../guest-lib/dma";
import { cputs, cputu, kprint } from "../guest-lib/console";

const BIG_SECTORS: u32 = 2048; // 1 MiB
let buf: usize = 0;
let req = new BlkReq();
let disks: u32 = 0;
let disk: u32 = 0;
let step: u32 = 0;
let posNs: u64 = 0;
let caps = new StaticArray<u64>(8);
let onDone: () => void = nothing;

function nothing(): void {}

export function calibrate(n: u32, capacity: StaticArray<u64>, done: () => void): void {
  disks = n;
  for (let i: u32 = 0; i < n; i++) caps[i] = capacity[i];
  onDone = done;
  if (buf == 0) buf = dmaAlloc(<usize>BIG_SECTORS * 512, 4096);
  disk = 0;
  step = 0;
  next();
}

function read(lba: u64, sectors: u32): void {
  req.disk = disk; req.lba = lba; req.sectors = sectors; req.buf = buf;
  req.op = REQ_READ; req.cls = CLASS_NRT; req.done = stepDone;
  diskioSubmit(req);
}

function next(): void {
  let last = caps[disk] - 1;
  if (step == 0) read(0, 1); // park the arm at the outer edge
  else if (step == 1) read(last, 1); // full stroke
  else read(last + 1 - BIG_SECTORS * 2, BIG_SECTORS); // inner zone, not cached
}

function stepDone(r: BlkReq): void {
  let took = r.doneAt - r.issuedAt;
  if (step == 1) posNs = took;
  if (step == 2) {
    let ps = took * 1000 / (<u64>BIG_SECTORS * 512); // short seek included: conservative
    admitSetDisk(disk, posNs, ps);
    cputs("hitactix: disk "); cputu(disk); cputs(": worst positioning "); cputu(posNs / 1000);
    cputs(" us, inner-zone transfer "); cputu(1000000000000 / ps / 1000); kprint(" kB/s");
    disk++;
    step = 0;
    if (disk == disks) { onDone(); return; }
    next();
    return;
  }
  step++;
  next();
}
