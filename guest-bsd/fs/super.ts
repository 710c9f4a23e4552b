// The superblock: the mounted geometry, the layout rule mkfs and mount share, and the
// checks that refuse a foreign, corrupt or truncated image with the reason.
//
// Interface:
//   geo                          the mounted file system's geometry (fields below)
//   layout(g, nblocks, logBlocks, ninodes): bool   compute the rest of the geometry
//   sbCheck(p, capacity): bool   validate the superblock at p against the device's
//                                capacity; fills geo; false with fsReason set
//   sbFill(p, g, created)        write a superblock for g into the block at p
//   fnvWords(p, words, h)        the format's checksum (common/bsdfs.ts)

import {
  BSIZE, FS_MAGIC_LO, FS_MAGIC_HI, FS_VERSION, FNV_OFFSET, FNV_PRIME, SB_MAGIC, SB_VERSION, SB_BSIZE, SB_NBLOCKS,
  SB_LOGBLOCKS, SB_NINODES, SB_ORPHAN, SB_IMAP_START, SB_IMAP_BLOCKS, SB_INODE_START, SB_INODE_BLOCKS, SB_BMAP_START,
  SB_BMAP_BLOCKS, SB_DATA_START, SB_ROOT, SB_CREATED, SB_CHECK, LOG_START, LOG_MIN_BLOCKS, LOG_MAX_BLOCKS, MIN_BLOCKS,
  INODES_PER_BLOCK, BITS_PER_BLOCK, ROOT_INO,
} from "../../common/bsdfs";
import { fsReason } from "./msg";

@final
export class Geometry {
  nblocks: u32 = 0;
  logBlocks: u32 = 0; // header + log area
  ninodes: u32 = 0;
  orphan: u32 = 0;
  imapStart: u32 = 0;
  imapBlocks: u32 = 0;
  inodeStart: u32 = 0;
  inodeBlocks: u32 = 0;
  bmapStart: u32 = 0;
  bmapBlocks: u32 = 0;
  dataStart: u32 = 0;
  created: u64 = 0;
}

export const geo = new Geometry();

export function fnvWords(p: usize, words: u32, h: u32): u32 {
  for (let i: u32 = 0; i < words; i++) h = (h ^ load<u32>(p + (<usize>i << 2))) * <u32>FNV_PRIME;
  return h;
}

/** The layout for (nblocks, logBlocks, ninodes); false if they cannot make a file system. */
export function layout(g: Geometry, nblocks: u32, logBlocks: u32, ninodes: u32): bool {
  if (ninodes < <u32>INODES_PER_BLOCK || ninodes % <u32>INODES_PER_BLOCK != 0 || logBlocks < <u32>LOG_MIN_BLOCKS ||
      logBlocks > <u32>LOG_MAX_BLOCKS || nblocks < <u32>MIN_BLOCKS) return false;
  g.nblocks = nblocks;
  g.logBlocks = logBlocks;
  g.ninodes = ninodes;
  g.orphan = LOG_START + logBlocks;
  g.imapStart = g.orphan + 1;
  g.imapBlocks = (ninodes + BITS_PER_BLOCK - 1) / BITS_PER_BLOCK;
  g.inodeStart = g.imapStart + g.imapBlocks;
  g.inodeBlocks = ninodes / INODES_PER_BLOCK;
  g.bmapStart = g.inodeStart + g.inodeBlocks;
  g.bmapBlocks = (nblocks + BITS_PER_BLOCK - 1) / BITS_PER_BLOCK;
  g.dataStart = g.bmapStart + g.bmapBlocks;
  // the metadata must leave room for the root directory and some data
  return <u64>g.dataStart + 16 <= <u64>nblocks && g.inodeStart < nblocks && g.bmapStart < nblocks;
}

const expect = new Geometry();

function field(p: usize, off: u32, want: u32, name: string): bool {
  let got = load<u32>(p + off);
  if (got == want) return true;
  fsReason.reset().str("corrupt superblock: ").str(name).str(" is ").num(got).str(", the layout needs ").num(want).end();
  return false;
}

export function sbCheck(p: usize, capacity: u32): bool {
  let lo = load<u32>(p + SB_MAGIC), hi = load<u32>(p + SB_MAGIC + 4);
  if (lo != <u32>FS_MAGIC_LO || hi != <u32>FS_MAGIC_HI) {
    let blank = true;
    for (let i: u32 = 0; i < <u32>BSIZE; i += 4) if (load<u32>(p + i) != 0) { blank = false; break; }
    if (blank) fsReason.reset().str("no file system: block 0 is all zeros (a blank image? run fs mkfs)").end();
    else fsReason.reset().str("not a BSD file system image (bad magic in block 0)").end();
    return false;
  }
  if (fnvWords(p, SB_CHECK / 4, <u32>FNV_OFFSET) != load<u32>(p + SB_CHECK)) {
    fsReason.reset().str("corrupt superblock: checksum mismatch").end();
    return false;
  }
  let version = load<u32>(p + SB_VERSION);
  if (version != <u32>FS_VERSION) {
    fsReason.reset().str("unsupported file system version ").num(version).str(" (this is version ").num(FS_VERSION).str(")").end();
    return false;
  }
  if (!field(p, SB_BSIZE, BSIZE, "the block size")) return false;
  let nblocks = load<u32>(p + SB_NBLOCKS), logBlocks = load<u32>(p + SB_LOGBLOCKS), ninodes = load<u32>(p + SB_NINODES);
  if (!layout(expect, nblocks, logBlocks, ninodes)) {
    fsReason.reset().str("corrupt superblock: impossible geometry (").num(nblocks).str(" blocks, log ").num(logBlocks)
      .str(", ").num(ninodes).str(" inodes)").end();
    return false;
  }
  if (!field(p, SB_ORPHAN, expect.orphan, "the orphan table block")) return false;
  if (!field(p, SB_IMAP_START, expect.imapStart, "the inode bitmap start")) return false;
  if (!field(p, SB_IMAP_BLOCKS, expect.imapBlocks, "the inode bitmap size")) return false;
  if (!field(p, SB_INODE_START, expect.inodeStart, "the inode table start")) return false;
  if (!field(p, SB_INODE_BLOCKS, expect.inodeBlocks, "the inode table size")) return false;
  if (!field(p, SB_BMAP_START, expect.bmapStart, "the block bitmap start")) return false;
  if (!field(p, SB_BMAP_BLOCKS, expect.bmapBlocks, "the block bitmap size")) return false;
  if (!field(p, SB_DATA_START, expect.dataStart, "the data area start")) return false;
  if (!field(p, SB_ROOT, ROOT_INO, "the root inode")) return false;
  if (nblocks > capacity) {
    fsReason.reset().str("truncated image: the file system has ").num(nblocks).str(" blocks of 4 KiB but the device holds only ")
      .num(capacity).end();
    return false;
  }
  layout(geo, nblocks, logBlocks, ninodes);
  geo.created = load<u64>(p + SB_CREATED);
  return true;
}

export function sbFill(p: usize, g: Geometry, created: u64): void {
  memory.fill(p, 0, BSIZE);
  store<u32>(p + SB_MAGIC, FS_MAGIC_LO);
  store<u32>(p + SB_MAGIC + 4, FS_MAGIC_HI);
  store<u32>(p + SB_VERSION, FS_VERSION);
  store<u32>(p + SB_BSIZE, BSIZE);
  store<u32>(p + SB_NBLOCKS, g.nblocks);
  store<u32>(p + SB_LOGBLOCKS, g.logBlocks);
  store<u32>(p + SB_NINODES, g.ninodes);
  store<u32>(p + SB_ORPHAN, g.orphan);
  store<u32>(p + SB_IMAP_START, g.imapStart);
  store<u32>(p + SB_IMAP_BLOCKS, g.imapBlocks);
  store<u32>(p + SB_INODE_START, g.inodeStart);
  store<u32>(p + SB_INODE_BLOCKS, g.inodeBlocks);
  store<u32>(p + SB_BMAP_START, g.bmapStart);
  store<u32>(p + SB_BMAP_BLOCKS, g.bmapBlocks);
  store<u32>(p + SB_DATA_START, g.dataStart);
  store<u32>(p + SB_ROOT, ROOT_INO);
  store<u64>(p + SB_CREATED, created);
  store<u32>(p + SB_CHECK, fnvWords(p, SB_CHECK / 4, <u32>FNV_OFFSET));
}
