// Test guest (CPU 1, which owns the SCSI controller on the default board): BSDFS
// (guest-bsd/fs/) inside a kernel, over the sym53c8xx driver and the emulated disk at
// SCSI ID 0, every completion arriving later from an interrupt, exactly as the BSD
// kernel will use it. Also the reference for the kernel's adapter: SymFsDevice below.
//
// The host puts a file system on the disk image (/etc/motd and /big hold a pattern,
// byte i = (i * 7 + (i >> 8) + seed) & 255, seeds 1 and 2). The guest mounts it, reads
// and checks both files, writes /out/data (1 MiB, seed 3) in 64 KiB calls, renames it
// to /out/final, unlinks /etc/motd, syncs (waiting until the commit is durable), runs
// fsck, unmounts. Every call may answer FS_WAIT: the guest then waits for the file
// system's wake-up hook (called from the driver's completion upcall) and issues the
// same call again, from its interrupt handler, never from inside the hook.
// Reports through ktest lines (VALUE: times per phase in virtual ns, FS counters).

import { IRQ_SCSI } from "../../common/platform";
import { now } from "../../guest-lib/cpu";
import { kprint } from "../../guest-lib/console";
import { kcheck, kcheckEq, kvalue, kdone } from "../../guest-lib/ktest";
import { symInit, symIntr, symSubmit, symRead, symWrite, symSetDone } from "../../guest-lib/drivers/sym53c8xx";
import { BlkReq, BlockDevice, blkDone, BLK_READ, BLK_WRITE } from "../../guest-bsd/fs/blkio";
import {
  fsInit, fsSetWakeup, fsSetClock, fsOpen, fsRead, fsWrite, fsStat, fsRename, fsUnlink, fsMkdir, fsIput, fsSync,
  fsSyncDone, fsUnmount, fsStats, FS_WAIT,
} from "../../guest-bsd/fs/fs";
import { fsMount } from "../../guest-bsd/fs/mount";
import { fsFsck } from "../../guest-bsd/fs/fsck";
import {
  O_CREAT, O_TRUNC, ST_SIZE, STAT_SIZE, FSS_READS, FSS_WRITES, FSS_COMMITS, FSS_WAITS, FSS_LOGGED, FSSTATS_SIZE,
  SECTORS_PER_BLOCK,
} from "../../common/bsdfs";

const TARGET: u32 = 0;
const BIG: u32 = 2000000; // /big's size (the host makes it)
const OUT: u32 = 1 << 20;

// ---- The block device: FS blocks over the SCSI driver --------------------------------

const NSLOT: u32 = 64; // > the driver's 48 command slots
const slots = new StaticArray<BlkReq | null>(NSLOT);
let queueHead: BlkReq | null = null; // requests waiting for a driver slot
let queueTail: BlkReq | null = null;
let syncCdb: usize = 0;
let scsiErrors: u32 = 0;

class SymFsDevice extends BlockDevice {
  blocks: u32 = 16384; // 64 MiB (the host's image)
  capacity(): u32 { return this.blocks; }
  start(req: BlkReq): void {
    req.next = null;
    if (queueTail) queueTail!.next = req; else queueHead = req;
    queueTail = req;
    pump();
  }
}

/** Hand queued requests to the driver while it has free slots. */
function pump(): void {
  while (queueHead) {
    let req = queueHead!;
    let c: u32 = 0;
    while (c < NSLOT && unchecked(slots[c]) != null) c++;
    if (c == NSLOT) return;
    unchecked(slots[c] = req);
    let lba = <u64>req.block * SECTORS_PER_BLOCK;
    let ok = req.op == BLK_READ ? symRead(TARGET, lba, SECTORS_PER_BLOCK, req.data, c)
      : req.op == BLK_WRITE ? symWrite(TARGET, lba, SECTORS_PER_BLOCK, req.data, c)
      : symSubmit(TARGET, syncCdb, 10, 0, 0, false, c); // SYNCHRONIZE CACHE(10)
    if (!ok) { unchecked(slots[c] = null); return; } // no driver slot: later
    queueHead = req.next;
    if (!queueHead) queueTail = null;
  }
}

function scsiDone(cookie: u32, status: u32, key: u32, asc: u32, ascq: u32, info: u32): void {
  let req = unchecked(slots[cookie]);
  unchecked(slots[cookie] = null);
  if (!req) return;
  if (status != 0) scsiErrors++;
  req.status = status;
  blkDone(req);
  pump();
}

// ---- The "kernel": issue a call, wait for the hook on FS_WAIT, issue it again ---------

let woken: bool = false;
function wake(): void { woken = true; }
function clock(): u64 { return now(); }

let phase: u32 = 0;
let ino: i64 = 0;
let off: u32 = 0;
let seq: i64 = 0;
let buf: usize = 0;
let stat: usize = 0;
let stats: usize = 0;
let bad: u32 = 0;
let phaseStart: u64 = 0;
const names = memory.data<u8>([
  47, 101, 116, 99, 47, 109, 111, 116, 100, // /etc/motd (9)
  47, 98, 105, 103, // /big (4)
  47, 111, 117, 116, // /out (4)
  47, 111, 117, 116, 47, 100, 97, 116, 97, // /out/data (9)
  47, 111, 117, 116, 47, 102, 105, 110, 97, 108, // /out/final (10)
]);
const MOTD = names;
const BIGP = names + 9;
const OUTD = names + 13;
const DATA = names + 17;
const FINAL = names + 26;

@inline function pat(i: u32, seed: u32): u8 { return <u8>(i * 7 + (i >> 8) + seed); }

function mark(name: string): void {
  kvalue(name, now() - phaseStart);
  phaseStart = now();
}

/** Read all of an open file and check its pattern; 1 done, 0 more, FS_WAIT. */
function readAll(size: u32, seed: u32): i32 {
  while (off < size) {
    let n = fsRead(<u32>ino, off, buf, 65536);
    if (n == FS_WAIT) return FS_WAIT;
    if (n <= 0) { kcheck("read returned data", false); return 1; }
    for (let i: u32 = 0; i < <u32>n; i++) if (load<u8>(buf + i) != pat(off + i, seed)) bad++;
    off += <u32>n;
  }
  return 1;
}

/** One step of the test; returns false while it waits. */
function step(): bool {
  let r: i64 = 0;
  if (phase == 0) { r = fsMount(); if (r == FS_WAIT) return false; kcheckEq("mount", r, 0); mark("mountNs"); }
  else if (phase == 1) { r = fsOpen(1, MOTD, 9, 0, 0, 0, 0); if (r == FS_WAIT) return false; kcheck("open /etc/motd", r > 0); ino = r; off = 0; }
  else if (phase == 2) { if (readAll(4000, 1) == FS_WAIT) return false; fsIput(<u32>ino); }
  else if (phase == 3) { r = fsOpen(1, BIGP, 4, 0, 0, 0, 0); if (r == FS_WAIT) return false; kcheck("open /big", r > 0); ino = r; off = 0; }
  else if (phase == 4) { if (readAll(BIG, 2) == FS_WAIT) return false; fsIput(<u32>ino); kcheckEq("both files read back intact", bad, 0); mark("readNs"); }
  else if (phase == 5) { r = fsMkdir(1, OUTD, 4, 0o755, 0, 0); if (r == FS_WAIT) return false; kcheckEq("mkdir /out", r, 0); }
  else if (phase == 6) { r = fsOpen(1, DATA, 9, O_CREAT | O_TRUNC, 0o644, 0, 0); if (r == FS_WAIT) return false; kcheck("create /out/data", r > 0); ino = r; off = 0; }
  else if (phase == 7) {
    while (off < OUT) {
      for (let i: u32 = 0; i < 65536; i++) store<u8>(buf + i, pat(off + i, 3));
      let n = fsWrite(<u32>ino, off, buf, 65536);
      if (n == FS_WAIT) return false;
      if (n != 65536) { kcheckEq("write", n, 65536); break; }
      off += 65536;
    }
    fsIput(<u32>ino);
  }
  else if (phase == 8) { r = fsRename(1, DATA, 9, 1, FINAL, 10); if (r == FS_WAIT) return false; kcheckEq("rename", r, 0); }
  else if (phase == 9) { r = fsUnlink(1, MOTD, 9); if (r == FS_WAIT) return false; kcheckEq("unlink", r, 0); }
  else if (phase == 10) { seq = fsSync(); kcheck("sync", seq > 0); }
  else if (phase == 11) { r = fsSyncDone(<u64>seq); if (r == 0) return false; kcheckEq("durable", r, 1); mark("writeNs"); }
  else if (phase == 12) { r = fsOpen(1, FINAL, 10, 0, 0, 0, 0); if (r == FS_WAIT) return false; ino = r; }
  else if (phase == 13) { r = fsStat(<u32>ino, stat); if (r == FS_WAIT) return false; kcheckEq("size", load<u64>(stat + ST_SIZE), OUT); fsIput(<u32>ino); }
  else if (phase == 14) { r = fsFsck(); if (r == FS_WAIT) return false; kcheckEq("fsck clean", r, 0); mark("fsckNs"); }
  else if (phase == 15) { r = fsUnmount(); if (r == FS_WAIT) return false; kcheckEq("unmount", r, 0); }
  else if (phase == 16) {
    fsStats(stats);
    kvalue("reads", load<u64>(stats + FSS_READS));
    kvalue("writes", load<u64>(stats + FSS_WRITES));
    kvalue("commits", load<u64>(stats + FSS_COMMITS));
    kvalue("logged", load<u64>(stats + FSS_LOGGED));
    kvalue("waits", load<u64>(stats + FSS_WAITS));
    kcheckEq("no SCSI errors", scsiErrors, 0);
    kdone();
  }
  else return false;
  phase++;
  return true;
}

function run(): void {
  woken = false;
  while (step()) {}
}

export function boot(): void {
  buf = heap.alloc(65536);
  stat = heap.alloc(STAT_SIZE);
  stats = heap.alloc(FSSTATS_SIZE);
  syncCdb = heap.alloc(16);
  store<u8>(syncCdb, 0x35); // SYNCHRONIZE CACHE(10): the rest zero (the whole disk)
  fsInit(512, 128, 64, new SymFsDevice());
  fsSetWakeup(wake);
  fsSetClock(clock);
  symSetDone(scsiDone);
  symInit(ready);
}

function ready(): void {
  kprint("bsdfs-test: bus ready");
  phaseStart = now();
  run();
}

export function irq(vector: u32): void {
  if (vector != <u32>IRQ_SCSI) return;
  symIntr();
  if (woken) run();
}
