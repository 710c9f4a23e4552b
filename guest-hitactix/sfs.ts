// Mounting the stream file system (format and checks: common/sfs.ts; the host tool
// writes it). Run to completion, so the mount is a chain of block requests, each
// completion making the next: every disk's capacity (READ CAPACITY), every disk's
// member superblock, disk 0's two commit slots, the directory entries in use, then
// each file's extent table. Every check is common/sfs.ts's, in its order, the same
// code the host tool runs: HiTactix refuses exactly the volumes `hitactix disk ls`
// refuses, says why on the console, and then serves no streams.
//
// Nothing here trusts a number from the disk before the check that bounds it: buffers
// are the directory (SFS_DIR_SECTORS sectors, once) and the extent area in use (at
// most SFS_EXT_SECTORS sectors, grown only when a mount needs more), so a crafted
// volume cannot make the kernel allocate or read past what a valid one could.
//
// Interface:
//   sfsMount(nDisks, done)   done(ok) when mounted or refused (it may be called again)
//   sfsFiles, sfsFile(i)     the directory (StreamFile records the distribution
//                            thread uses), sfsName(i), sfsLookup(name, len), sfsRate(i)
//   sfsError                 why the last mount failed (a common/sfs.ts code, 0 = ok)
//   sfsSectors               each disk's capacity from READ CAPACITY

import { BlkReq, REQ_READ, REQ_CAPACITY, CLASS_NRT } from "./blkdev";
import { diskioSubmit } from "./diskio";
import { StreamFile } from "./distrib";
import { blkPrintError } from "./blkerr";
import { dmaAlloc } from "../guest-lib/dma";
import { cputc, cputs, cputu, kprint } from "../guest-lib/console";
import {
  SFS_SECTOR, SFS_MAX_DISKS, SFS_MAX_FILES, SB_MAGIC, SB_VERSION, SB_DISK, SB_DISKS, SB_VOLUME, SB_SECTORS,
  SB_DATA_START, SB_CHECK, SFS_COMMIT_LBA, CR_MAGIC, CR_VERSION, CR_VOLUME, CR_GENERATION, CR_FILES, CR_EXT_NEXT,
  CR_DISKS, CR_NEXT, CR_CHECK, SFS_DIR_LBA, SFS_DIR_SECTORS, SFS_DIRENT_SIZE, SFS_EXT_LBA, SFS_EXT_SECTORS,
  DE_NAME, DE_NAME_MAX, DE_SIZE, DE_RATE, DE_CHUNK, DE_CHUNKS, DE_EXT_LBA, DE_FLAGS, DE_CHECK, SFS_EXTENT_SIZE,
  EX_DISK, EX_LBA, EX_SECTORS, SFS_OK, SFS_E_COUNT, SFS_E_NO_COMMIT, SFS_E_DUP_NAME, SFS_E_READ, sfsReason,
  sfsCheckCapacity, sfsCheckMember, sfsCheckCount, sfsCheckSameVolume, sfsCheckIndex, sfsCommitValid,
  sfsPickCommit, sfsCheckCommit, sfsCheckNext, sfsCheckDirent, sfsSize, sfsExtSectors, sfsChunkSectors,
  sfsCheckExtent,
} from "../common/sfs";

const PH_CAPACITY: u32 = 0;
const PH_MEMBER: u32 = 1;
const PH_COMMIT: u32 = 2;
const PH_DIR: u32 = 3;
const PH_EXTENTS: u32 = 4;

export let sfsFiles: u32 = 0; // files of the mounted volume (0 when not mounted)
export let sfsError: i32 = SFS_OK;
export let sfsVolumeLo: u32 = 0;
export let sfsVolumeHi: u32 = 0;
/** Capacity of each disk in sectors, from READ CAPACITY. */
export const sfsSectors = new StaticArray<u64>(SFS_MAX_DISKS);

const files = new StaticArray<StreamFile | null>(SFS_MAX_FILES);
const rates = new StaticArray<u64>(SFS_MAX_FILES);
const memberSectors = new StaticArray<u32>(SFS_MAX_DISKS); // capacity at format
const next = new StaticArray<u32>(SFS_MAX_DISKS); // first free LBA (commit record)
let nFiles: u32 = 0; // files the commit record counts
let extNext: u32 = 0;
let dir: usize = 0; // directory entries 0..nFiles-1, one sector each
let sb: usize = 0; // one member superblock
let cr: usize = 0; // both commit slots
let cap: usize = 0; // the READ CAPACITY answer: u64 sectors
let ext: usize = 0; // extent area in use: sector SFS_EXT_LBA + k at ext + k * 512
let extHave: u32 = 0; // sectors ext can hold
let req: BlkReq = new BlkReq();
let disks: u32 = 0;
let phase: u32 = PH_CAPACITY;
let disk: u32 = 0; // disk being looked at (capacity, member phases)
let fileStep: u32 = 0; // file whose extent table is being read
let onDone: (ok: bool) => void = ignore;

function ignore(ok: bool): void {}

export function sfsFile(i: u32): StreamFile {
  return files[i]!;
}

export function sfsRate(i: u32): u64 {
  return rates[i];
}

/** Address of file i's NUL-terminated name in the directory buffer. */
export function sfsName(i: u32): usize {
  return dir + <usize>i * SFS_DIRENT_SIZE + DE_NAME;
}

/** Index of the file whose name equals the `len` bytes at `name`, or -1. */
export function sfsLookup(name: usize, len: u32): i32 {
  if (len > DE_NAME_MAX) return -1;
  for (let i: u32 = 0; i < sfsFiles; i++) {
    let n = sfsName(i);
    if (load<u8>(n + len) != 0) continue;
    if (memory.compare(n, name, len) == 0) return <i32>i;
  }
  return -1;
}

export function sfsMount(nDisks: u32, done: (ok: bool) => void): void {
  disks = nDisks;
  onDone = done;
  if (dir == 0) {
    dir = dmaAlloc(<usize>SFS_DIR_SECTORS * SFS_SECTOR, 512);
    sb = dmaAlloc(SFS_SECTOR, 512);
    cr = dmaAlloc(2 * SFS_SECTOR, 512);
    cap = dmaAlloc(16, 16);
  }
  sfsFiles = 0;
  sfsError = SFS_OK;
  if (disks == 0 || disks > SFS_MAX_DISKS) { fail(SFS_E_COUNT, 0); return; }
  phase = PH_CAPACITY;
  disk = 0;
  askCapacity(0);
}

function askCapacity(d: u32): void {
  store<u64>(cap, 0);
  req.disk = d; req.lba = 0; req.sectors = 0; req.buf = cap;
  req.op = REQ_CAPACITY; req.cls = CLASS_NRT; req.whole = true; req.done = mountStep;
  diskioSubmit(req);
}

function readBlocks(d: u32, lba: u64, sectors: u32, buf: usize): void {
  req.disk = d; req.lba = lba; req.sectors = sectors; req.buf = buf;
  req.op = REQ_READ; req.cls = CLASS_NRT; req.whole = false; req.done = mountStep;
  diskioSubmit(req);
}

function fnv(p: usize, n: u32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: u32 = 0; i < n; i += 4) h = (h ^ load<u32>(p + i)) * 0x01000193;
  return h;
}

/** The checksum word at +508 of the sector at p is right. */
function signed(p: usize): bool {
  return fnv(p, SB_CHECK) == load<u32>(p + SB_CHECK);
}

function putHex32(v: u32): void {
  for (let s: i32 = 28; s >= 0; s -= 4) {
    let d = (v >> <u32>s) & 15;
    cputc(d < 10 ? 48 + d : 87 + d);
  }
}

/** Refuse the mount: the reason, and which disk's data gave it. True if code != 0. */
function fail(code: i32, d: u32): bool {
  if (code == SFS_OK) return false;
  sfsError = code;
  sfsFiles = 0;
  cputs("hitactix: sfs: cannot mount: disk "); cputu(d); cputs(": "); kprint(sfsReason(code));
  onDone(false);
  return true;
}

function failRead(r: BlkReq): void {
  sfsError = SFS_E_READ;
  sfsFiles = 0;
  cputs("hitactix: sfs: cannot mount: disk "); cputu(r.disk);
  if (r.op == REQ_CAPACITY) cputs(": READ CAPACITY failed: ");
  else { cputs(": read of LBA "); cputu(r.lba); cputs(" ("); cputu(r.sectors); cputs(" sectors) failed: "); }
  blkPrintError(r.status);
  kprint("");
  onDone(false);
}

function mountStep(r: BlkReq): void {
  if (r.status != 0) { failRead(r); return; }
  if (phase == PH_CAPACITY) capacityStep();
  else if (phase == PH_MEMBER) memberStep();
  else if (phase == PH_COMMIT) commitStep();
  else if (phase == PH_DIR) dirStep();
  else extentStep();
}

function capacityStep(): void {
  let c = load<u64>(cap);
  sfsSectors[disk] = c;
  if (fail(sfsCheckCapacity(c), disk)) return;
  disk++;
  if (disk < disks) { askCapacity(disk); return; }
  phase = PH_MEMBER;
  disk = 0;
  readBlocks(0, 0, 1, sb);
}

function memberStep(): void {
  let idx = load<u32>(sb + SB_DISK);
  let n = load<u32>(sb + SB_DISKS);
  let lo = load<u32>(sb + SB_VOLUME);
  let hi = load<u32>(sb + SB_VOLUME + 4);
  let sectors = load<u32>(sb + SB_SECTORS);
  if (fail(sfsCheckMember(load<u32>(sb + SB_MAGIC), load<u32>(sb + SB_MAGIC + 4), signed(sb), load<u32>(sb + SB_VERSION),
    idx, n, load<u32>(sb + SB_DATA_START), sectors, sfsSectors[disk]), disk)) return;
  if (disk == 0) {
    sfsVolumeLo = lo; sfsVolumeHi = hi;
    if (fail(sfsCheckCount(n, disks), disk)) return;
  } else if (fail(sfsCheckSameVolume(lo, hi, n, sfsVolumeLo, sfsVolumeHi, disks), disk)) return;
  if (fail(sfsCheckIndex(idx, disk), disk)) return;
  memberSectors[disk] = sectors;
  disk++;
  if (disk < disks) { readBlocks(disk, 0, 1, sb); return; }
  phase = PH_COMMIT;
  readBlocks(0, SFS_COMMIT_LBA, 2, cr);
}

function slotValid(s: usize): bool {
  return sfsCommitValid(load<u32>(s + CR_MAGIC), load<u32>(s + CR_MAGIC + 4), signed(s), load<u32>(s + CR_VERSION),
    load<u32>(s + CR_VOLUME), load<u32>(s + CR_VOLUME + 4), load<u32>(s + CR_DISKS), sfsVolumeLo, sfsVolumeHi, disks);
}

function commitStep(): void {
  let s1 = cr + SFS_SECTOR;
  let k = sfsPickCommit(slotValid(cr), load<u32>(cr + CR_GENERATION), slotValid(s1), load<u32>(s1 + CR_GENERATION));
  if (k < 0) { fail(SFS_E_NO_COMMIT, 0); return; }
  let c = cr + <usize>k * SFS_SECTOR;
  nFiles = load<u32>(c + CR_FILES);
  extNext = load<u32>(c + CR_EXT_NEXT);
  if (fail(sfsCheckCommit(nFiles, extNext), 0)) return;
  for (let i: u32 = 0; i < disks; i++) {
    next[i] = load<u32>(c + CR_NEXT + 4 * i);
    if (fail(sfsCheckNext(next[i], memberSectors[i]), 0)) return;
  }
  if (nFiles == 0) { mounted(); return; }
  phase = PH_DIR;
  readBlocks(0, SFS_DIR_LBA, nFiles, dir);
}

/** Bytes before the NUL of a 48-byte name field (48 if there is none). */
function nameLength(p: usize): u32 {
  let n: u32 = 0;
  while (n <= DE_NAME_MAX && load<u8>(p + n) != 0) n++;
  return n;
}

function dirStep(): void {
  for (let i: u32 = 0; i < nFiles; i++) {
    let d = dir + <usize>i * SFS_DIRENT_SIZE;
    let len = nameLength(d + DE_NAME);
    let chunk = load<u32>(d + DE_CHUNK);
    let chunks = load<u32>(d + DE_CHUNKS);
    if (fail(sfsCheckDirent(signed(d), load<u32>(d + DE_FLAGS), len, load<u32>(d + DE_SIZE), load<u32>(d + DE_SIZE + 4),
      load<u32>(d + DE_RATE), load<u32>(d + DE_RATE + 4), chunk, chunks, load<u32>(d + DE_EXT_LBA), extNext), 0)) return;
    for (let j: u32 = 0; j < i; j++) {
      // both names end with a NUL within 48 bytes: equal iff their first len + 1 bytes are
      if (memory.compare(dir + <usize>j * SFS_DIRENT_SIZE + DE_NAME, d + DE_NAME, <usize>len + 1) == 0) { fail(SFS_E_DUP_NAME, 0); return; }
    }
    let f = files[i];
    if (f == null) { f = new StreamFile(); files[i] = f; }
    f.size = sfsSize(load<u32>(d + DE_SIZE), load<u32>(d + DE_SIZE + 4));
    f.chunk = chunk;
    f.chunks = chunks;
    rates[i] = load<u64>(d + DE_RATE);
  }
  // The extent area in use, bounded by the checked commit record (<= SFS_EXT_SECTORS).
  let need = extNext - SFS_EXT_LBA;
  if (need > extHave) {
    let grow = extHave * 2 < SFS_EXT_SECTORS ? extHave * 2 : SFS_EXT_SECTORS;
    extHave = need > grow ? need : grow;
    ext = dmaAlloc(<usize>extHave * SFS_SECTOR, 512);
  }
  for (let i: u32 = 0; i < nFiles; i++) {
    files[i]!.extents = ext + <usize>(load<u32>(dir + <usize>i * SFS_DIRENT_SIZE + DE_EXT_LBA) - SFS_EXT_LBA) * SFS_SECTOR;
  }
  phase = PH_EXTENTS;
  fileStep = 0;
  readExtentTable();
}

function readExtentTable(): void {
  let lba = load<u32>(dir + <usize>fileStep * SFS_DIRENT_SIZE + DE_EXT_LBA);
  readBlocks(0, lba, sfsExtSectors(files[fileStep]!.chunks), files[fileStep]!.extents);
}

function extentStep(): void {
  let f = files[fileStep]!;
  for (let c: u32 = 0; c < f.chunks; c++) {
    let e = f.extents + <usize>c * SFS_EXTENT_SIZE;
    let d = load<u32>(e + EX_DISK);
    let want = sfsChunkSectors(c, f.chunk, f.size);
    if (fail(sfsCheckExtent(d, load<u32>(e + EX_LBA), load<u32>(e + EX_SECTORS), want, disks, d < disks ? next[d] : 0), 0)) return;
  }
  fileStep++;
  if (fileStep < nFiles) { readExtentTable(); return; }
  mounted();
}

function mounted(): void {
  sfsFiles = nFiles;
  cputs("hitactix: sfs: volume "); putHex32(sfsVolumeHi); putHex32(sfsVolumeLo);
  cputs(" mounted, "); cputu(sfsFiles); kprint(" files");
  onDone(true);
}
