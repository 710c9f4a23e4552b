// Calibration of the disks' real-time costs at mount, for admission control
// (admission.ts). Per disk: (1) a one-sector read at the last LBA right after one at
// LBA 0 — a full-stroke seek plus rotation plus overhead, the worst positioning; then
// (2) at each of NPOINT places from the outer to the inner edge, a 64 KiB read that
// brings the head there and then a timed 1 MiB read that continues it: the media
// rate of that zone, with no positioning in it. The kernel measures the disks it has
// instead of trusting a data sheet.
//
// Interface: calibrate(nDisks, capacity(disk), done)

import { BlkReq, REQ_READ, CLASS_NRT } from "./blkdev";
import { diskioSubmit } from "./diskio";
import { admitSetDisk, admitSetRate, NPOINT } from "./admission";
import { dmaAlloc } from "../guest-lib/dma";
import { cputs, cputu, kprint } from "../guest-lib/console";

const BIG_SECTORS: u32 = 2048; // 1 MiB
let buf: usize = 0;
let req = new BlkReq();
let disks: u32 = 0;
let disk: u32 = 0;
let step: u32 = 0; // 0 park, 1 full stroke, 2.. rate points
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
  req.op = REQ_READ; req.cls = CLASS_NRT; req.whole = true; req.done = stepDone;
  diskioSubmit(req);
}

/** LBA of rate point p: evenly from the outer edge to the last 1 MiB. */
export function pointLba(cap: u64, p: u32): u64 {
  // from 4 MiB in (clear of the sectors the positioning reads left in the cache)
  return 8192 + ((cap - 8192 - BIG_SECTORS - 128) * <u64>p) / <u64>(NPOINT - 1);
}

const LEAD: u32 = 128; // 64 KiB that positions the head before the timed read

function next(): void {
  let cap = caps[disk];
  if (step == 0) read(0, 1);
  else if (step == 1) read(cap - 1, 1);
  else {
    let p = (step - 2) >> 1;
    let base = pointLba(cap, p);
    if (((step - 2) & 1) == 0) read(base, LEAD);
    else read(base + LEAD, BIG_SECTORS);
  }
}

function stepDone(r: BlkReq): void {
  let took = r.doneAt - r.issuedAt;
  if (step == 1) {
    admitSetDisk(disk, took, caps[disk]);
    cputs("hitactix: disk "); cputu(disk); cputs(": worst positioning "); cputu(took / 1000); kprint(" us");
  }
  if (step >= 2 && ((step - 2) & 1) == 1) {
    let ps = took * 1000 / (<u64>BIG_SECTORS * 512);
    admitSetRate(disk, (step - 2) >> 1, ps);
    cputs("hitactix: disk "); cputu(disk); cputs(": media rate at point "); cputu((step - 2) >> 1);
    cputs(": "); cputu(1000000000 / ps); kprint(" kB/s");
  }
  step++;
  if (step == 2 + 2 * NPOINT) {
    disk++;
    step = 0;
    if (disk == disks) { onDone(); return; }
  }
  next();
}
