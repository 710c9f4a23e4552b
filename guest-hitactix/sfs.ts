// Mounting the stream file system (format: common/sfs.ts; the host tool writes it).
// Run to completion, so the mount is a chain of block reads: the superblock of every
// disk, then disk 0's directory, then each file's extent table. Every check the host
// makes is made here too; a foreign or corrupt volume is refused with a reason on the
// console and the kernel serves no streams.
//
// Interface:
//   sfsMount(nDisks, done)   done(ok) when mounted or refused
//   sfsFiles, sfsFile(i)     the directory (StreamFile records the distribution
//                            thread uses), sfsName(i)
//   sfsError                 why a mount failed

import { BlkReq, REQ_READ, CLASS_NRT } from "./blkdev";
import { diskioSubmit } from "./diskio";
import { StreamFile } from "./distrib";
import { dmaAlloc } from "../guest-lib/dma";
import { cputs, cputu, kprint } from "../guest-lib/console";
import {
  SFS_SECTOR, SFS_VERSION, SFS_MAGIC_LO, SFS_MAGIC_HI, SB_MAGIC, SB_VERSION, SB_DISK, SB_DISKS, SB_VOLUME,
  SB_FILES, SB_CHECK, SB_SECTORS, SFS_DIR_LBA, SFS_DIR_SECTORS, SFS_DIRENT_SIZE, SFS_MAX_FILES, SFS_EXTENT_SIZE,
  DE_NAME, DE_SIZE, DE_RATE, DE_CHUNK, DE_CHUNKS, DE_EXT_LBA, DE_FLAGS, SFS_DATA_START,
} from "../common/sfs";

export let sfsFiles: u32 = 0;
export let sfsError: string = "";
export let sfsVolume: u32 = 0;
/** Capacity of each disk in sectors, from its superblock. */
export const sfsSectors = new StaticArray<u64>(8);

const files = new StaticArray<StreamFile | null>(SFS_MAX_FILES);
const rates = new StaticArray<u64>(SFS_MAX_FILES);
let dir: usize = 0; // the directory, read whole
let sb: usize = 0; // one superblock
let req: BlkReq = new BlkReq();
let disks: u32 = 0;
let step: u32 = 0; // superblocks 0..disks-1, then the directory, then extent tables
let fileStep: u32 = 0;
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
    dir = dmaAlloc(SFS_DIR_SECTORS * SFS_SECTOR, 512);
    sb = dmaAlloc(SFS_SECTOR, 512);
  }
  step = 0;
  sfsFiles = 0;
  readBlocks(0, 0, 1, sb);
}

function readBlocks(disk: u32, lba: u64, sectors: u32, buf: usize): void {
  req.disk = disk; req.lba = lba; req.sectors = sectors; req.buf = buf;
  req.op = REQ_READ; req.cls = CLASS_NRT; req.done = mountStep;
  diskioSubmit(req);
}

function fnv(p: usize, n: u32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: u32 = 0; i < n; i += 4) h = (h ^ load<u32>(p + i)) * 0x01000193;
  return h;
}

function fail(why: string): void {
  sfsError = why;
  cputs("hitactix: sfs: cannot mount: "); kprint(why);
  onDone(false);
}

function mountStep(r: BlkReq): void {
  if (r.status != 0) { fail("disk read error"); return; }
  if (step < disks) {
    if (load<u32>(sb + SB_MAGIC) != <u32>SFS_MAGIC_LO || load<u32>(sb + SB_MAGIC + 4) != <u32>SFS_MAGIC_HI) {
      fail("a disk has no stream file system superblock"); return;
    }
    if (fnv(sb, SB_CHECK) != load<u32>(sb + SB_CHECK)) { fail("corrupt superblock (checksum)"); return; }
    if (load<u32>(sb + SB_VERSION) != <u32>SFS_VERSION) { fail("unsupported SFS version"); return; }
    if (load<u32>(sb + SB_DISKS) != disks) { fail("the volume spans another number of disks"); return; }
    if (load<u32>(sb + SB_DISK) != step) { fail("disks are not in volume order"); return; }
    sfsSectors[step] = <u64>load<u32>(sb + SB_SECTORS);
    if (step == 0) { sfsVolume = load<u32>(sb + SB_VOLUME); sfsFiles = load<u32>(sb + SB_FILES); }
    else if (load<u32>(sb + SB_VOLUME) != sfsVolume) { fail("disks of different volumes"); return; }
    if (sfsFiles > <u32>SFS_MAX_FILES) { fail("directory too large"); return; }
    step++;
    if (step < disks) readBlocks(step, 0, 1, sb);
    else readBlocks(0, SFS_DIR_LBA, SFS_DIR_SECTORS, dir);
    return;
  }
  if (step == disks) { // the directory arrived: read each file's extent table
    step++;
    fileStep = 0;
  } else {
    fileStep++;
  }
  if (fileStep > 0) { // validate the extents just read for file fileStep - 1
    let f = files[fileStep - 1]!;
    for (let c: u32 = 0; c < f.chunks; c++) {
      let e = f.extents + <usize>c * SFS_EXTENT_SIZE;
      if (load<u32>(e) >= disks || load<u32>(e + 4) < <u32>SFS_DATA_START) { fail("an extent points outside the volume"); return; }
    }
  }
  while (fileStep < sfsFiles) {
    let d = dir + <usize>fileStep * SFS_DIRENT_SIZE;
    if ((load<u32>(d + DE_FLAGS) & 1) == 0) { fail("directory entry not in use"); return; }
    let f = files[fileStep];
    if (f == null) { f = new StreamFile(); files[fileStep] = f; }
    f.size = load<u64>(d + DE_SIZE);
    f.chunk = load<u32>(d + DE_CHUNK);
    f.chunks = load<u32>(d + DE_CHUNKS);
    rates[fileStep] = load<u64>(d + DE_RATE);
    if (f.chunk == 0 || f.chunk % SFS_SECTOR != 0 || <u64>f.chunks != (f.size + f.chunk - 1) / f.chunk) { fail("corrupt directory entry"); return; }
    let sectors = (f.chunks * SFS_EXTENT_SIZE + SFS_SECTOR - 1) / SFS_SECTOR;
    f.extents = dmaAlloc(<usize>sectors * SFS_SECTOR, 512);
    if (sectors > 0) { readBlocks(0, load<u32>(d + DE_EXT_LBA), sectors, f.extents); return; }
    fileStep++;
  }
  cputs("hitactix: sfs: volume "); cputu(sfsVolume); cputs(" mounted, "); cputu(sfsFiles); kprint(" files");
  onDone(true);
}
