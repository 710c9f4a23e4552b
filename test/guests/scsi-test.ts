// Test guest (CPU 1): the SCSI driver (guest-lib/drivers/sym53c8xx.ts) on the board's
// LSI53C895 and its three disks (SCSI IDs 0, 1, 2; the host test puts a read medium
// error on disk 1 at boot argument ST_BAD_LBA). A table of stages, each issuing its
// commands and checking the previous stage's results when they have all completed
// (the done upcall drives it: nothing waits).
//   - every disk: INQUIRY (vendor/product bytes; 96 bytes asked, 36 given: a short
//     DATA IN, so the residual is checked too), READ CAPACITY (VALUE lastLba<d>);
//   - mode ST_FUNC: a pattern written to 5 places on every disk (LBA 0, an odd LBA,
//     the middle, 64 blocks just before the last 8, the last 8 blocks), all 15 writes
//     outstanding at once (tagged, 5 per target), then read back the same way and
//     compared; errors with their sense: unknown opcode (ILLEGAL REQUEST 20h), bad
//     field in the CDB (24h), LBA out of range (21h), the injected medium error
//     (MEDIUM ERROR 11h, INFORMATION = the first bad LBA, the good blocks before it
//     delivered and nothing after them, residual = the rest); an absent target
//     (SCSI ID 5): a selection timeout, and commands go on after it; TEST UNIT READY
//     and SYNCHRONIZE CACHE on every disk;
//   - mode ST_SEQ: disk 0 read sequentially from LBA 0 (ST_SEQ_MIB MiB in 128 KiB
//     READ(10)s, ST_DEPTH outstanding) -> VALUE seqNs, seqBytes;
//   - mode ST_RANDOM: the latency of a 4 KiB cache hit (ST_HITS of them, one at a
//     time, after one read that brings the blocks in) -> VALUE hitNs (mean); then
//     ST_RANDOM_N 4 KiB reads at uniform 4 KiB-aligned LBAs of disk 0 (xorshift64,
//     fixed seed), one outstanding -> VALUE randomNs, randomN;
//   - mode ST_THREE: the three disks each read ST_SEQ_MIB MiB sequentially at once ->
//     VALUE threeNs, threeBytes (all), threeEndNs<d> (each disk's last completion),
//     and threeOverlapNs/threeOverlapBytes (up to the first disk's end, while all three
//     share the bus). The lines "scsi-test: <phase> start/end" let the host take the
//     controller's bus statistics around each timed phase.
// With ST_BASE the guest drives the controller whose window is there (symInitAt: a
// second controller, as BSD's system disk will be). All times are virtual ns from
// now(). Reports through ktest lines; DONE at the end.

import { IRQ_SCSI } from "../../common/platform";
import { STATUS_GOOD, STATUS_CHECK_CONDITION } from "../../common/scsi-defs";
import { cpuId, now, bootArg } from "../../guest-lib/cpu";
import { dmaAlloc } from "../../guest-lib/dma";
import { kprint } from "../../guest-lib/console";
import { kcheck, kcheckEq, kvalue, kdone } from "../../guest-lib/ktest";
import { sym, symInit, symInitAt, symIntr, symSubmit, symRead, symWrite, symSetDone, SYM_ST_SELECTION_TIMEOUT } from "../../guest-lib/drivers/sym53c8xx";

/** Boot arguments (offsets in the BOOTINFO block; test/scsi.test.ts). */
const ST_MODE: u32 = 0x40; // bit mask of the parts below; 0 = all
const ST_SEQ_MIB: u32 = 0x44; // MiB per disk of the sequential reads (default 64)
const ST_RANDOM_N: u32 = 0x48; // random reads (default 2000)
const ST_DEPTH: u32 = 0x4c; // commands outstanding per disk in the sequential reads (default 4)
const ST_BAD_LBA: u32 = 0x50; // disk 1's first unreadable LBA (16 of them)
const ST_HITS: u32 = 0x54; // cache-hit reads timed (default 16)
const ST_BASE: u32 = 0x58; // the controller's register window (0: SCSI_BASE)
const ST_FUNC: u32 = 1;
const ST_SEQ: u32 = 2;
const ST_RANDOM: u32 = 4;
const ST_THREE: u32 = 8;

const NDISK: u32 = 3;
const ABSENT_ID: u32 = 5;
const SEQ_BLOCKS: u32 = 256; // 128 KiB per READ(10)
const MAX_DEPTH: u32 = 8;
const NREGION: u32 = 5; // pattern regions per disk
const REGION_MAX: u32 = 64; // blocks
const HIT_LBA: u64 = 1000000;

// Configuration (boot arguments)
let mode: u32 = 0;
let seqBlocks: u32 = 0; // per disk
let randomN: u32 = 0;
let depth: u32 = 0;
let badLba: u32 = 0;
let hits: u32 = 0;

// Buffers (from the heap at boot; a pointer is the bus address)
let cdb: usize = 0; // 16-byte CDB scratch (symSubmit copies it)
let small: usize = 0; // NDISK x 128 bytes: INQUIRY and READ CAPACITY data
let wbufs: usize = 0; // NDISK x NREGION x 32 KiB written
let rbufs: usize = 0; // the same, read back
let ebuf: usize = 0; // 32 KiB for the medium-error read
let sbufs: usize = 0; // NDISK x MAX_DEPTH x 128 KiB for the sequential reads
let rnd: usize = 0; // 4 KiB for the random reads
const VENDOR = memory.data<u8>([0x51, 0x55, 0x41, 0x4e, 0x54, 0x55, 0x4d, 0x20]); // "QUANTUM "
const PRODUCT = memory.data<u8>([0x41, 0x54, 0x4c, 0x41, 0x53, 0x20, 0x31, 0x30, 0x4b, 0x20, 0x31, 0x38, 0x57, 0x4c, 0x53, 0x20]); // "ATLAS 10K 18WLS "

// The stage machine
let stage: i32 = 0;
let pending: u32 = 0; // commands of the current stage not yet completed
const NRES: u32 = 32;
const resStatus = new StaticArray<u32>(NRES);
const resKey = new StaticArray<u32>(NRES);
const resAsc = new StaticArray<u32>(NRES);
const resAscq = new StaticArray<u32>(NRES);
const resInfo = new StaticArray<u32>(NRES);
const resResid = new StaticArray<u32>(NRES);
const capacity = new StaticArray<u32>(NDISK); // blocks

// Cookies: < NRES a stage's result slot; STREAM | disk << 4 | buffer; RANDOM
const STREAM: u32 = 0x100;
const RANDOM: u32 = 0x200;

export function boot(): void {
  let me = cpuId();
  mode = bootArg(me, ST_MODE);
  if (mode == 0) mode = ST_FUNC | ST_SEQ | ST_RANDOM | ST_THREE;
  let mib = bootArg(me, ST_SEQ_MIB);
  seqBlocks = (mib == 0 ? 64 : mib) << 11;
  randomN = bootArg(me, ST_RANDOM_N);
  if (randomN == 0) randomN = 2000;
  depth = bootArg(me, ST_DEPTH);
  if (depth == 0 || depth > MAX_DEPTH) depth = 4;
  badLba = bootArg(me, ST_BAD_LBA);
  if (badLba == 0) badLba = 1000000;
  hits = bootArg(me, ST_HITS);
  if (hits == 0) hits = 16;
  cdb = dmaAlloc(16, 16);
  small = dmaAlloc(<usize>NDISK * 128, 64);
  wbufs = dmaAlloc(<usize>(NDISK * NREGION) << 15, 64);
  rbufs = dmaAlloc(<usize>(NDISK * NREGION) << 15, 64);
  ebuf = dmaAlloc(32768, 64);
  sbufs = dmaAlloc(<usize>(NDISK * MAX_DEPTH) << 17, 64);
  rnd = dmaAlloc(4096, 64);
  symSetDone(done);
  let base = bootArg(me, ST_BASE);
  if (base != 0) symInitAt(base, advance);
  else symInit(advance);
}

export function irq(vector: u32): void {
  if (vector == <u32>IRQ_SCSI) symIntr();
}

function done(cookie: u32, status: u32, key: u32, asc: u32, ascq: u32, info: u32): void {
  if ((cookie & STREAM) != 0) streamDone(cookie, status);
  else if ((cookie & RANDOM) != 0) randomDone(status);
  else if (cookie < NRES) {
    unchecked(resStatus[cookie] = status);
    unchecked(resKey[cookie] = key);
    unchecked(resAsc[cookie] = asc);
    unchecked(resAscq[cookie] = ascq);
    unchecked(resInfo[cookie] = info);
    unchecked(resResid[cookie] = sym.resid);
    pending--;
  }
  if (pending == 0) advance();
}

/** Run stages until one has commands in flight (or the table ends). */
function advance(): void {
  while (pending == 0) {
    if (!step(stage++)) { finish(); return; }
  }
}

function step(s: i32): bool {
  let f = (mode & ST_FUNC) != 0;
  switch (s) {
    case 0: for (let d: u32 = 0; d < NDISK; d++) inquiry(d); return true;
    case 1: checkInquiry(); for (let d: u32 = 0; d < NDISK; d++) readCapacity(d); return true;
    case 2: checkCapacity(); if (f) writeRegions(); return true;
    case 3: if (f) { checkAllGood("pattern writes (15 outstanding, 5 per disk)", NDISK * NREGION); readRegions(); } return true;
    case 4: if (f) { checkRegions(); errUnknownOpcode(); } return true;
    case 5: if (f) { checkSense("unknown opcode: ILLEGAL REQUEST, ASC 20h", 0x05, 0x20); errBadField(); } return true;
    case 6: if (f) { checkSense("bad field in CDB: ILLEGAL REQUEST, ASC 24h", 0x05, 0x24); errLbaRange(); } return true;
    case 7: if (f) { checkSense("LBA out of range: ILLEGAL REQUEST, ASC 21h", 0x05, 0x21); writeBadArea(); } return true;
    case 8: if (f) { checkAllGood("write over the unreadable blocks (read errors only)", 1); readBadArea(); } return true;
    case 9: if (f) { checkMediumError(); absentTarget(); } return true;
    case 10: if (f) { checkAbsent(); afterChecks(); } return true;
    case 11: if (f) checkAllGood("TEST UNIT READY + SYNCHRONIZE CACHE on every disk after the errors", 2 * NDISK); return true;
    case 12: if ((mode & ST_SEQ) != 0) { kprint("scsi-test: seq start"); streamStart(1); } return true;
    case 13: if ((mode & ST_SEQ) != 0) streamReport("seq", 1); return true;
    case 14: if ((mode & ST_RANDOM) != 0) hitStart(); return true;
    case 15: if ((mode & ST_RANDOM) != 0) { hitReport(); kprint("scsi-test: random start"); randomStart(); } return true;
    case 16: if ((mode & ST_RANDOM) != 0) randomReport(); return true;
    case 17: if ((mode & ST_THREE) != 0) { kprint("scsi-test: three start"); streamStart(NDISK); } return true;
    case 18: if ((mode & ST_THREE) != 0) streamReport("three", NDISK); return true;
  }
  return false;
}

function finish(): void {
  kcheckEq("no controller resets or fatal errors", sym.busResets + sym.fatal, 0);
  kcheckEq("no submit refused", sym.refused, 0);
  kvalue("symHcb", <u64>sym.hcb);
  kvalue("symCommands", sym.commands);
  kvalue("symInterrupts", sym.interrupts);
  kvalue("symSpurious", sym.spurious);
  kvalue("symPhaseMismatches", sym.phaseMismatches);
  kvalue("symCheckConditions", sym.checkConditions);
  kvalue("symSelectionTimeouts", sym.selectionTimeouts);
  kdone();
}

// ---------------------------------------------------------------------------------
// Commands

/** Submit the CDB in `cdb` (len bytes) with result slot `cookie`. */
function issue(cookie: u32, target: u32, len: u32, data: usize, dataLen: u32, write: bool): void {
  if (symSubmit(target, cdb, len, data, dataLen, write, cookie)) pending++;
  else kcheck("submit accepted", false);
}

function cdbClear(op: u32): void {
  store<u64>(cdb, <u64>op);
  store<u64>(cdb, 0, 8);
}

function inquiry(d: u32): void {
  cdbClear(0x12);
  store<u8>(cdb, 96, 4); // allocation length 96: the disk has 36 bytes (a short DATA IN)
  issue(d, d, 6, small + (<usize>d << 7), 96, false);
}

function checkInquiry(): void {
  for (let d: u32 = 0; d < NDISK; d++) {
    let p = small + (<usize>d << 7);
    let ok = unchecked(resStatus[d]) == STATUS_GOOD && (load<u8>(p) & 0x1f) == 0;
    ok = ok && load<u64>(p + 8) == load<u64>(VENDOR);
    ok = ok && load<u64>(p + 16) == load<u64>(PRODUCT) && load<u64>(p + 24) == load<u64>(PRODUCT + 8);
    kcheck(d == 0 ? "disk 0 INQUIRY: QUANTUM ATLAS 10K 18WLS" : d == 1 ? "disk 1 INQUIRY: QUANTUM ATLAS 10K 18WLS" : "disk 2 INQUIRY: QUANTUM ATLAS 10K 18WLS", ok);
    kcheckEq(d == 0 ? "disk 0 INQUIRY residual 96 - 36" : d == 1 ? "disk 1 INQUIRY residual 96 - 36" : "disk 2 INQUIRY residual 96 - 36", unchecked(resResid[d]), 60);
  }
}

function readCapacity(d: u32): void {
  cdbClear(0x25);
  issue(d, d, 10, small + (<usize>d << 7), 8, false);
}

function checkCapacity(): void {
  for (let d: u32 = 0; d < NDISK; d++) {
    let p = small + (<usize>d << 7);
    let last = bswap<u32>(load<u32>(p));
    let bl = bswap<u32>(load<u32>(p + 4));
    kcheck(d == 0 ? "disk 0 READ CAPACITY, 512-byte blocks" : d == 1 ? "disk 1 READ CAPACITY, 512-byte blocks" : "disk 2 READ CAPACITY, 512-byte blocks",
      unchecked(resStatus[d]) == STATUS_GOOD && bl == 512 && last > 0);
    kvalue(d == 0 ? "lastLba0" : d == 1 ? "lastLba1" : "lastLba2", last);
    unchecked(capacity[d] = last + 1);
  }
}

// ---------------------------------------------------------------------------------
// Pattern write / read back

/** Word k of block `lba` of disk d: every block of every disk differs. */
// @ts-ignore: decorator
@inline function pat(d: u32, lba: u32, k: u32): u32 {
  return (lba * 0x9e3779b1) ^ (k * 0x85ebca6b) ^ (d << 28) ^ 0x5bd1e995;
}

function fill(buf: usize, d: u32, lba: u32, n: u32): void {
  for (let b: u32 = 0; b < n; b++) {
    let p = buf + (<usize>b << 9);
    for (let k: u32 = 0; k < 128; k++) store<u32>(p + (<usize>k << 2), pat(d, lba + b, k));
  }
}

/** Blocks of buf equal to the pattern of [lba, lba + n). */
function matches(buf: usize, d: u32, lba: u32, n: u32): bool {
  for (let b: u32 = 0; b < n; b++) {
    let p = buf + (<usize>b << 9);
    for (let k: u32 = 0; k < 128; k++) if (load<u32>(p + (<usize>k << 2)) != pat(d, lba + b, k)) return false;
  }
  return true;
}

function regionLba(d: u32, r: u32): u32 {
  let cap = unchecked(capacity[d]);
  if (r == 0) return 0;
  if (r == 1) return 777;
  if (r == 2) return cap >> 1;
  if (r == 3) return cap - 72;
  return cap - 8;
}

// @ts-ignore: decorator
@inline function regionBlocks(r: u32): u32 { return r == 3 ? REGION_MAX : 8; }

function writeRegions(): void {
  for (let d: u32 = 0; d < NDISK; d++) {
    for (let r: u32 = 0; r < NREGION; r++) {
      let i = d * NREGION + r;
      let buf = wbufs + (<usize>i << 15);
      fill(buf, d, regionLba(d, r), regionBlocks(r));
      if (symWrite(d, regionLba(d, r), regionBlocks(r), buf, i)) pending++;
    }
  }
  kcheckEq("15 commands outstanding at once", sym.busy, NDISK * NREGION);
}

function readRegions(): void {
  for (let d: u32 = 0; d < NDISK; d++) {
    for (let r: u32 = 0; r < NREGION; r++) {
      let i = d * NREGION + r;
      if (symRead(d, regionLba(d, r), regionBlocks(r), rbufs + (<usize>i << 15), i)) pending++;
    }
  }
}

function checkRegions(): void {
  let good: u32 = 0;
  for (let d: u32 = 0; d < NDISK; d++) {
    for (let r: u32 = 0; r < NREGION; r++) {
      let i = d * NREGION + r;
      if (unchecked(resStatus[i]) == STATUS_GOOD && matches(rbufs + (<usize>i << 15), d, regionLba(d, r), regionBlocks(r))) good++;
    }
  }
  kcheckEq("pattern read back on every disk (LBA 0, 777, middle, end - 72, last 8 blocks)", good, NDISK * NREGION);
}

function checkAllGood(name: string, n: u32): void {
  let good: u32 = 0;
  for (let i: u32 = 0; i < n; i++) if (unchecked(resStatus[i]) == STATUS_GOOD) good++;
  kcheckEq(name, good, n);
}

// ---------------------------------------------------------------------------------
// Errors

function errUnknownOpcode(): void {
  cdbClear(0x02); // group 0 (6 bytes), not a command the disk has
  issue(0, 0, 6, 0, 0, false);
}

function errBadField(): void {
  cdbClear(0x12);
  store<u8>(cdb, 1, 2); // INQUIRY page code 1 without EVPD
  store<u8>(cdb, 36, 4);
  issue(0, 0, 6, small, 36, false);
}

function errLbaRange(): void {
  if (symRead(2, <u64>unchecked(capacity[2]), 8, rnd, 0)) pending++; // the first block past the end
}

function checkSense(name: string, key: u32, asc: u32): void {
  let ok = unchecked(resStatus[0]) == STATUS_CHECK_CONDITION && unchecked(resKey[0]) == key && unchecked(resAsc[0]) == asc && unchecked(resAscq[0]) == 0;
  kcheck(name, ok);
  if (!ok) { kvalue("status", unchecked(resStatus[0])); kvalue("key", unchecked(resKey[0])); kvalue("asc", unchecked(resAsc[0])); }
}

/** 64 blocks from badLba - 10 on disk 1: the injected range starts 10 blocks in. */
function writeBadArea(): void {
  fill(wbufs, 1, badLba - 10, 64);
  if (symWrite(1, badLba - 10, 64, wbufs, 0)) pending++;
}

function readBadArea(): void {
  memory.fill(ebuf, 0xee, 32768);
  if (symRead(1, badLba - 10, 64, ebuf, 0)) pending++;
}

function checkMediumError(): void {
  checkSense("medium error: MEDIUM ERROR, ASC 11h", 0x03, 0x11);
  kcheckEq("medium error: INFORMATION = the first bad LBA", unchecked(resInfo[0]), badLba);
  kcheckEq("medium error: residual = the blocks from the bad one on", unchecked(resResid[0]), 54 * 512);
  kcheck("medium error: the 10 good blocks before it arrived", matches(ebuf, 1, badLba - 10, 10));
  kcheck("medium error: nothing written past them", load<u64>(ebuf + 5120) == 0xeeeeeeeeeeeeeeee && load<u64>(ebuf + 32760) == 0xeeeeeeeeeeeeeeee);
}

function absentTarget(): void {
  cdbClear(0x00); // TEST UNIT READY
  issue(0, ABSENT_ID, 6, 0, 0, false);
}

function checkAbsent(): void {
  kcheckEq("absent target (ID 5): selection timeout reported", unchecked(resStatus[0]), SYM_ST_SELECTION_TIMEOUT);
}

function afterChecks(): void {
  for (let d: u32 = 0; d < NDISK; d++) {
    cdbClear(0x00);
    issue(d, d, 6, 0, 0, false);
    cdbClear(0x35); // SYNCHRONIZE CACHE(10), whole disk
    issue(NDISK + d, d, 10, 0, 0, false);
  }
}

// ---------------------------------------------------------------------------------
// Sequential streams: `depth` 128 KiB reads outstanding per disk, each buffer reused

let streamDisks: u32 = 0;
let streamT0: u64 = 0;
let streamErrors: u32 = 0;
let streamBytes: u64 = 0; // completed, all disks
let overlapNs: u64 = 0; // at the first disk's end
let overlapBytes: u64 = 0;
const streamNext = new StaticArray<u32>(NDISK); // next LBA to read
const streamLeft = new StaticArray<u32>(NDISK); // commands in flight
const streamEnd = new StaticArray<u64>(NDISK);

function streamStart(n: u32): void {
  streamDisks = n;
  streamErrors = 0;
  streamBytes = 0;
  overlapNs = 0;
  streamT0 = now();
  for (let d: u32 = 0; d < n; d++) {
    unchecked(streamNext[d] = 0);
    unchecked(streamLeft[d] = 0);
    unchecked(streamEnd[d] = 0);
  }
  for (let k: u32 = 0; k < depth; k++) for (let d: u32 = 0; d < n; d++) streamIssue(d, k);
}

function streamIssue(d: u32, k: u32): void {
  let lba = unchecked(streamNext[d]);
  if (lba >= seqBlocks) return;
  let buf = sbufs + (<usize>(d * MAX_DEPTH + k) << 17);
  if (!symRead(d, lba, SEQ_BLOCKS, buf, STREAM | (d << 4) | k)) { streamErrors++; return; }
  unchecked(streamNext[d] = lba + SEQ_BLOCKS);
  unchecked(streamLeft[d] = unchecked(streamLeft[d]) + 1);
  pending++;
}

function streamDone(cookie: u32, status: u32): void {
  let d = (cookie >> 4) & 15;
  pending--;
  unchecked(streamLeft[d] = unchecked(streamLeft[d]) - 1);
  if (status != STATUS_GOOD || sym.resid != 0) streamErrors++;
  streamBytes += <u64>SEQ_BLOCKS << 9;
  streamIssue(d, cookie & 15);
  if (unchecked(streamLeft[d]) == 0) {
    let t = now() - streamT0;
    unchecked(streamEnd[d] = t);
    if (overlapNs == 0) { overlapNs = t; overlapBytes = streamBytes; }
  }
}

function streamReport(name: string, n: u32): void {
  let t: u64 = 0;
  for (let d: u32 = 0; d < n; d++) if (unchecked(streamEnd[d]) > t) t = unchecked(streamEnd[d]);
  kprint(n == 1 ? "scsi-test: seq end" : "scsi-test: three end");
  kcheckEq(n == 1 ? "sequential reads all GOOD" : "three-disk reads all GOOD", streamErrors, 0);
  if (n == 1) {
    kvalue("seqNs", t);
    kvalue("seqBytes", streamBytes);
  } else {
    kvalue("threeNs", t);
    kvalue("threeBytes", streamBytes);
    kvalue("threeEndNs0", unchecked(streamEnd[0]));
    kvalue("threeEndNs1", unchecked(streamEnd[1]));
    kvalue("threeEndNs2", unchecked(streamEnd[2]));
    kvalue("threeOverlapNs", overlapNs);
    kvalue("threeOverlapBytes", overlapBytes);
  }
}

// ---------------------------------------------------------------------------------
// Cache-hit latency, then random 4 KiB reads, one outstanding

let hitLeft: u32 = 0;
let hitT0: u64 = 0;
let randLeft: u32 = 0;
let randT0: u64 = 0;
let randErrors: u32 = 0;
let xs: u64 = 0x2545f4914f6cdd1d;

function xorshift(): u64 {
  let x = xs;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  xs = x;
  return x;
}

function hitStart(): void {
  hitLeft = hits + 1; // the first read brings the blocks into the disk's cache
  randErrors = 0;
  randomIssue(<u32>HIT_LBA);
}

function randomIssue(lba: u32): void {
  if (symRead(0, lba, 8, rnd, RANDOM)) pending++;
  else randErrors++;
}

function randomDone(status: u32): void {
  pending--;
  if (status != STATUS_GOOD) randErrors++;
  if (hitLeft > 0) {
    hitLeft--;
    if (hitLeft == hits) hitT0 = now(); // the priming read is done: time the hits
    if (hitLeft > 0) randomIssue(<u32>HIT_LBA);
    return;
  }
  randLeft--;
  if (randLeft > 0) randomIssue(randomLba());
}

function hitReport(): void {
  kvalue("hitNs", (now() - hitT0) / <u64>hits);
}

function randomLba(): u32 {
  let units = <u64>(unchecked(capacity[0]) >> 3);
  return <u32>(xorshift() % units) << 3;
}

function randomStart(): void {
  randLeft = randomN;
  randT0 = now();
  randomIssue(randomLba());
}

function randomReport(): void {
  let t = now() - randT0;
  kprint("scsi-test: random end");
  kcheckEq("cache-hit and random reads all GOOD", randErrors, 0);
  kvalue("randomNs", t);
  kvalue("randomN", randomN);
}
