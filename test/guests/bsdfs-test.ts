// Test guest (CPU 1, which owns the SCSI controller on the default board): BSDFS
// (guest-bsd/fs/) inside a kernel, over the sym53c8xx driver and the emulated disk at
// SCSI ID 0, every completion arriving later from an interrupt, exactly as the BSD
// kernel uses it, through the kernel's own block device (guest-bsd/dev/sd.ts).
//
// The host puts a file system on the disk image (/etc/motd and /big hold a pattern,
// byte i = (i * 7 + (i >> 8) + seed) & 255, seeds 1 and 2). The guest mounts it, reads
// and checks both files, writes /out/data (1 MiB, seed 3) in 64 KiB calls, renames it
// to /out/final, unlinks /etc/motd, syncs (waiting until the commit is durable), runs
// fsck, unmounts. Every call may answer FS_WAIT: the guest then waits for the file
// system's wake-up hook (called from the driver's completion upcall) and issues the
// same call again, from its interrupt handler, never from inside the hook.
// Reports through ktest lines (VALUE: times per phase in virtual ns, FS counters).

import { IRQ_SCSI, SCSI_BASE } from "../../common/platform";
import { now } from "../../guest-lib/cpu";
import { kprint } from "../../guest-lib/console";
import { kcheck, kcheckEq, kvalue, kdone } from "../../guest-lib/ktest";
import { sd, sdInit, sdIntr, sdErrors } from "../../guest-bsd/dev/sd";
import {
  fsInit, fsSetWakeup, fsSetClock, fsOpen, fsRead, fsWrite, fsStat, fsRename, fsUnlink, fsMkdir, fsIput, fsSync,
  fsSyncDone, fsUnmount, fsStats, FS_WAIT,
} from "../../guest-bsd/fs/fs";
import { fsMount } from "../../guest-bsd/fs/mount";
import { fsFsck } from "../../guest-bsd/fs/fsck";
import {
  O_CREAT, O_TRUNC, ST_SIZE, STAT_SIZE, FSS_READS, FSS_WRITES, FSS_COMMITS, FSS_WAITS, FSS_LOGGED, FSSTATS_SIZE,
} from "../../common/bsdfs";

const BIG: u32 = 2000000; // /big's size (the host makes it)
const OUT: u32 = 1 << 20;

// The block device is the BSD kernel's own (guest-bsd/dev/sd.ts), here over the
// first controller.

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
    kcheckEq("no SCSI errors", sdErrors, 0);
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
  sdInit(SCSI_BASE, ready);
}

function ready(ok: bool): void {
  kcheck("the disk's capacity", ok);
  fsInit(512, 128, 64, sd);
  fsSetWakeup(wake);
  fsSetClock(clock);
  kprint("bsdfs-test: disk ready");
  phaseStart = now();
  run();
}

export function irq(vector: u32): void {
  if (vector != <u32>IRQ_SCSI) return;
  sdIntr();
  if (woken) run();
}
