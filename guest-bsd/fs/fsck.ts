// fsck: the full check of a mounted file system (the journal was replayed by mount, so
// what is checked is the state after the last committed transaction; inside the
// kernel, run it when nothing else changes the file system). Problems are listed in
// fsReport, one line each; nothing is repaired.
//
// Checked: every inode (type, mode bits, the inode bitmap agrees), every block pointer
// (inside the data area, used once, none past the size, the inode's block count),
// directories (size in whole entries, no holes, "." names itself, ".." its parent,
// entry names and inode numbers valid, the entry's type is the inode's), link counts
// against the entries that name each inode, reachability from the root, the block
// bitmap against the set of referenced blocks (and the metadata area marked), the
// orphan table, and the free counts mount computed.
//
// Restartable like everything else: one inode at a time, its blocks gathered before it
// is checked; FS_WAIT keeps the cursor and the next call goes on from there. Its tables
// (a bit per block, 13 bytes per inode: 55 KiB for the 64 MiB system disk) are
// allocated at its first run, and again only if a larger file system is mounted later.
//
// Interface:
//   fsFsck(): i32                problems found (0 = clean), or FS_WAIT
//   fsReportPtr(), fsReportLen(), fsReportDropped()   the problem lines
//   fsckFiles, fsckDirs, fsckBlocks   what a clean check counted

import {
  BSIZE, INODES_PER_BLOCK, INODE_SIZE, I_TYPE, I_NLINK, I_MODE, I_SIZE, I_BLOCKS, I_DIRECT, I_INDIRECT, I_DINDIRECT,
  NDIRECT, NINDIRECT, T_FREE, T_FILE, T_DIR, T_LINK, LINK_MAX, ROOT_INO, MODE_MASK, DIRENT_SIZE, DE_INUM, DE_TYPE, DE_NAMELEN, DE_NAME,
  NAME_MAX, ORPHAN_SLOTS, BITS_PER_BLOCK, MAX_FILE_BLOCKS,
} from "../../common/bsdfs";
import { Buf, FS_WAIT, bread, bprefetch, bioNextEpoch, bioErr } from "./bio";
import { geo } from "./super";
import { freeBlocks, freeInodes } from "./inode";
import { fsReport } from "./msg";
import { isMounted } from "./mount";

const F_IDLE: u32 = 0;
const F_INODES: u32 = 1;

let phase: u32 = F_IDLE;
let cursor: u32 = 0;
let problems: u32 = 0;
let capBlocks: u32 = 0;
let capInodes: u32 = 0;
let seen: usize = 0; // a bit per block: referenced by some inode
let refs: usize = 0; // u32 per inode: directory entries naming it
let parentOf: usize = 0; // u32 per inode: the directory whose entry (not . or ..) names it
let dotdot: usize = 0; // u32 per directory: its ".." entry
let info: usize = 0; // u8 per inode: F_* bits
const IN_USE: u8 = 1;
const IS_DIR: u8 = 2;
const TWO_PARENTS: u8 = 4;
const ORPHAN: u8 = 8;
const ETYPE_SHIFT: u8 = 4; // type byte of the first entry naming it, in bits 4..5
const IS_LINK: u8 = 64;

export let fsckFiles: u32 = 0;
export let fsckDirs: u32 = 0;
export let fsckBlocks: u32 = 0;

export function fsReportPtr(): usize { return fsReport.ptr; }
export function fsReportLen(): u32 { return fsReport.len; }
export function fsReportDropped(): u32 { return fsReport.dropped; }

function problem(): void {
  problems++;
}

/** A block the check needs: FS_WAIT keeps the cursor; a read error is a problem. */
let unreadable: bool = false; // the last need() failed for good (not FS_WAIT)
let readErrors: u32 = 0;
function need(block: u32): Buf | null {
  let b = bread(block);
  unreadable = !b && bioErr != FS_WAIT;
  if (unreadable && readErrors++ < 5) {
    fsReport.str("block ").num(block).str(": cannot be read").line();
    problem();
  }
  return b;
}

function bit(p: usize, i: u32): bool { return (<u32>load<u8>(p + (i >> 3)) & (1 << (i & 7))) != 0; }
function setBit(p: usize, i: u32): void { store<u8>(p + (i >> 3), <u8>(<u32>load<u8>(p + (i >> 3)) | (1 << (i & 7)))); }
@inline function u32At(p: usize, i: u32): usize { return p + (<usize>i << 2); }

function start(): void {
  if (geo.nblocks > capBlocks || geo.ninodes > capInodes) { // the bump allocator keeps the old ones
    capBlocks = geo.nblocks;
    capInodes = geo.ninodes;
    seen = heap.alloc((capBlocks + 7) / 8);
    refs = heap.alloc(<usize>capInodes * 4);
    parentOf = heap.alloc(<usize>capInodes * 4);
    dotdot = heap.alloc(<usize>capInodes * 4);
    info = heap.alloc(capInodes);
  }
  memory.fill(seen, 0, (geo.nblocks + 7) / 8);
  memory.fill(refs, 0, <usize>geo.ninodes * 4);
  memory.fill(parentOf, 0, <usize>geo.ninodes * 4);
  memory.fill(dotdot, 0, <usize>geo.ninodes * 4);
  memory.fill(info, 0, geo.ninodes);
  fsReport.reset();
  problems = 0;
  unreadable = false;
  readErrors = 0;
  orphansDone = false;
  fsckFiles = 0;
  fsckDirs = 0;
  fsckBlocks = 0;
  cursor = 1;
  phase = F_INODES;
}

export function fsFsck(): i32 {
  if (!isMounted()) {
    fsReport.reset().str("not mounted").line();
    return 1;
  }
  if (phase == F_IDLE) start();
  bioNextEpoch();
  let r = orphans();
  if (r < 0) return r;
  while (cursor < geo.ninodes) {
    r = checkInode(cursor);
    if (r == FS_WAIT) return FS_WAIT;
    cursor++;
    bioNextEpoch();
  }
  r = finalChecks();
  if (r == FS_WAIT) return FS_WAIT;
  phase = F_IDLE;
  return <i32>problems;
}

// ---- Orphan table (read first: an orphan is allowed to have no links) ---------------------

let orphansDone: bool = false;

function orphans(): i32 {
  if (cursor != 1 || orphansDone) return 0;
  let b = need(geo.orphan);
  if (!b) return unreadable ? 0 : FS_WAIT;
  for (let i: u32 = 0; i < <u32>ORPHAN_SLOTS; i++) {
    let ino = load<u32>(b.data + (<usize>i << 2));
    if (ino == 0) continue;
    if (ino >= geo.ninodes) {
      fsReport.str("orphan table: slot ").num(i).str(" names inode ").num(ino).str(", outside the inode table").line();
      problem();
    } else if (load<u8>(info + ino) & ORPHAN) {
      fsReport.str("orphan table: inode ").num(ino).str(" is listed twice").line();
      problem();
    } else store<u8>(info + ino, load<u8>(info + ino) | ORPHAN);
  }
  orphansDone = true;
  return 0;
}

// ---- One inode ----------------------------------------------------------------------------

@inline function okData(p: u32): bool { return p >= geo.dataStart && p < geo.nblocks; }

/** Start reading the blocks inode ino's check needs; true when all are here. */
function gather(ip: usize, isDir: bool, size: u64): bool {
  let all = true;
  let ind = load<u32>(ip + I_INDIRECT), dind = load<u32>(ip + I_DINDIRECT);
  if (ind != 0 && okData(ind) && !bprefetch(ind)) all = false;
  if (dind != 0 && okData(dind)) {
    let b = bprefetch(dind) ? bread(dind) : null;
    if (!b) all = false;
    else {
      for (let j: u32 = 0; j < <u32>NINDIRECT; j++) {
        let l2 = load<u32>(b.data + (<usize>j << 2));
        if (l2 != 0 && okData(l2) && !bprefetch(l2)) all = false;
      }
    }
  }
  if (!all || !isDir || size > (<u64>geo.nblocks << 12)) return all;
  let nb = <u32>((size + BSIZE - 1) >> 12);
  for (let fb: u32 = 0; fb < nb; fb++) {
    let p = ptrOf(ip, fb);
    if (p != 0 && !bprefetch(p)) all = false;
  }
  return all;
}

/** Data block of file block fb through cached indirect blocks; 0 if a hole or invalid. */
function ptrOf(ip: usize, fb: u32): u32 {
  if (fb < <u32>NDIRECT) {
    let p = load<u32>(ip + I_DIRECT + (<usize>fb << 2));
    return okData(p) ? p : 0;
  }
  fb -= NDIRECT;
  if (fb < <u32>NINDIRECT) {
    let ind = load<u32>(ip + I_INDIRECT);
    if (!okData(ind)) return 0;
    let b = bread(ind);
    if (!b) return 0;
    let p = load<u32>(b.data + (<usize>fb << 2));
    return okData(p) ? p : 0;
  }
  fb -= NINDIRECT;
  let dind = load<u32>(ip + I_DINDIRECT);
  if (!okData(dind)) return 0;
  let b = bread(dind);
  if (!b) return 0;
  let l2 = load<u32>(b.data + (<usize>(fb / NINDIRECT) << 2));
  if (!okData(l2)) return 0;
  let c = bread(l2);
  if (!c) return 0;
  let p = load<u32>(c.data + (<usize>(fb % NINDIRECT) << 2));
  return okData(p) ? p : 0;
}

let held: u32 = 0; // blocks counted for the inode being checked
let beyond: u32 = 0; // data blocks past its size
let bad: u32 = 0; // pointers outside the data area or used twice

function mark(ino: u32, p: u32): bool {
  if (p == 0) return false;
  held++;
  if (!okData(p)) {
    if (bad++ < 3) { fsReport.str("inode ").num(ino).str(": block pointer ").num(p).str(" is outside the data area").line(); problem(); }
    return false;
  }
  if (bit(seen, p)) {
    if (bad++ < 3) { fsReport.str("inode ").num(ino).str(": block ").num(p).str(" is also used by another inode").line(); problem(); }
    return false;
  }
  setBit(seen, p);
  fsckBlocks++;
  return true;
}

function markData(ino: u32, fb: u32, p: u32, nb: u32): void {
  if (p == 0) return;
  mark(ino, p);
  if (fb >= nb) beyond++;
}

function walkBlocks(ino: u32, ip: usize, nb: u32): void {
  for (let i: u32 = 0; i < <u32>NDIRECT; i++) markData(ino, i, load<u32>(ip + I_DIRECT + (<usize>i << 2)), nb);
  let ind = load<u32>(ip + I_INDIRECT);
  if (mark(ino, ind)) {
    let b = need(ind);
    if (b) for (let j: u32 = 0; j < <u32>NINDIRECT; j++) markData(ino, NDIRECT + j, load<u32>(b.data + (<usize>j << 2)), nb);
  }
  let dind = load<u32>(ip + I_DINDIRECT);
  if (mark(ino, dind)) {
    let b = need(dind);
    if (!b) return;
    for (let j: u32 = 0; j < <u32>NINDIRECT; j++) {
      let l2 = load<u32>(b.data + (<usize>j << 2));
      if (!mark(ino, l2)) continue;
      let c = need(l2);
      if (!c) continue;
      for (let k: u32 = 0; k < <u32>NINDIRECT; k++) {
        markData(ino, NDIRECT + NINDIRECT + j * NINDIRECT + k, load<u32>(c.data + (<usize>k << 2)), nb);
      }
    }
  }
}

function checkInode(ino: u32): i32 {
  let b = need(geo.inodeStart + ino / INODES_PER_BLOCK);
  if (!b) return unreadable ? 0 : FS_WAIT;
  let m = need(geo.imapStart + ino / BITS_PER_BLOCK);
  if (!m) return unreadable ? 0 : FS_WAIT;
  let ip = b.data + <usize>(ino % INODES_PER_BLOCK) * INODE_SIZE;
  let type = <u32>load<u16>(ip + I_TYPE);
  let marked = bit(m.data, ino % BITS_PER_BLOCK);
  if (type == T_FREE) {
    if (marked) { fsReport.str("inode ").num(ino).str(": free, but marked in use in the inode bitmap").line(); problem(); }
    return 0;
  }
  if (type != T_FILE && type != T_DIR && type != T_LINK) {
    fsReport.str("inode ").num(ino).str(": unknown type ").num(type).line();
    problem();
    return 0;
  }
  let size = load<u64>(ip + I_SIZE);
  let isDir = type == T_DIR;
  if (!gather(ip, isDir, size)) {
    if (bioErr == FS_WAIT) return FS_WAIT;
    // the cache cannot hold this inode's blocks at once (or a read failed): check what can be
  }
  let isLink = type == T_LINK;
  store<u8>(info + ino, load<u8>(info + ino) | IN_USE | (isDir ? IS_DIR : 0) | (isLink ? IS_LINK : 0));
  if (isLink && (size == 0 || size > <u64>LINK_MAX || load<u32>(ip + I_DIRECT) == 0)) {
    fsReport.str("symbolic link ").num(ino).str(": target length ").num(size).str(" (1 to ").num(LINK_MAX).str(" in its first block)").line();
    problem();
  }
  if (!marked) { fsReport.str("inode ").num(ino).str(": in use, but free in the inode bitmap").line(); problem(); }
  if (load<u32>(ip + I_MODE) & ~MODE_MASK) { fsReport.str("inode ").num(ino).str(": mode has bits beyond 07777").line(); problem(); }
  if (size > (<u64>MAX_FILE_BLOCKS << 12)) { fsReport.str("inode ").num(ino).str(": size ").num(size).str(" is beyond the largest file").line(); problem(); }
  let nb = <u32>(((size < (<u64>MAX_FILE_BLOCKS << 12) ? size : 0) + BSIZE - 1) >> 12);
  held = 0; beyond = 0; bad = 0;
  walkBlocks(ino, ip, nb);
  if (beyond > 0) { fsReport.str("inode ").num(ino).str(": ").num(beyond).str(" blocks past its size ").num(size).line(); problem(); }
  let count = load<u32>(ip + I_BLOCKS);
  if (count != held) { fsReport.str("inode ").num(ino).str(": holds ").num(held).str(" blocks, its count says ").num(count).line(); problem(); }
  if (isDir) fsckDirs++; else fsckFiles++;
  if (isDir && load<u16>(ip + I_NLINK) != 0) checkDir(ino, ip, size, nb);
  return 0;
}

function checkDir(ino: u32, ip: usize, size: u64, nb: u32): void {
  if (size % DIRENT_SIZE != 0 || size < <u64>(2 * DIRENT_SIZE) || size > (<u64>geo.nblocks << 12)) {
    fsReport.str("directory ").num(ino).str(": size ").num(size).str(" is impossible (whole entries, at least 2, within the disk)").line();
    problem();
    return;
  }
  let n = <u32>(size / DIRENT_SIZE);
  let badEntries: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    let fb = i / (BSIZE / DIRENT_SIZE);
    let p = ptrOf(ip, fb);
    if (p == 0) {
      fsReport.str("directory ").num(ino).str(": block ").num(fb).str(" is a hole").line();
      problem();
      return;
    }
    let db = need(p);
    if (!db) return;
    let e = db.data + (i % (BSIZE / DIRENT_SIZE)) * DIRENT_SIZE;
    let child = load<u32>(e + DE_INUM);
    let nl = <u32>load<u8>(e + DE_NAMELEN);
    let isDot = nl == 1 && load<u8>(e + DE_NAME) == 46;
    let isDotDot = nl == 2 && load<u8>(e + DE_NAME) == 46 && load<u8>(e + DE_NAME + 1) == 46;
    if (i == 0 && (!isDot || child != ino)) {
      fsReport.str("directory ").num(ino).str(": entry 0 is not \".\" naming itself").line();
      problem();
    }
    if (i == 1) {
      if (!isDotDot || child == 0) { fsReport.str("directory ").num(ino).str(": entry 1 is not \"..\"").line(); problem(); }
      else store<u32>(u32At(dotdot, ino), child);
    }
    if (child == 0) continue;
    if (child >= geo.ninodes || nl == 0 || nl > <u32>NAME_MAX || (i > 1 && (isDot || isDotDot))) {
      if (badEntries++ < 3) {
        fsReport.str("directory ").num(ino).str(": entry ").num(i).str(" is invalid (inode ").num(child).str(")").line();
        problem();
      }
      continue;
    }
    for (let k: u32 = 0; k < nl; k++) {
      let c = load<u8>(e + DE_NAME + k);
      if (c == 0 || c == 47) {
        fsReport.str("directory ").num(ino).str(": entry ").num(i).str(" has a '/' or NUL in its name").line();
        problem();
        break;
      }
    }
    store<u32>(u32At(refs, child), load<u32>(u32At(refs, child)) + 1);
    if (i > 1) {
      let f = load<u8>(info + child);
      if (load<u32>(u32At(parentOf, child)) == 0) {
        store<u32>(u32At(parentOf, child), ino);
        store<u8>(info + child, f | (<u8>(load<u8>(e + DE_TYPE) & 3) << ETYPE_SHIFT));
      } else store<u8>(info + child, f | TWO_PARENTS);
    }
  }
}

// ---- After all inodes ----------------------------------------------------------------------

function finalChecks(): i32 {
  // links and reachability
  for (let ino: u32 = 1; ino < geo.ninodes; ino++) {
    let f = load<u8>(info + ino);
    let r = load<u32>(u32At(refs, ino));
    if (!(f & IN_USE)) {
      if (r > 0) { fsReport.str("inode ").num(ino).str(": free, but ").num(r).str(" directory entries name it").line(); problem(); }
      if (f & ORPHAN) { fsReport.str("orphan table: inode ").num(ino).str(" is free").line(); problem(); }
      continue;
    }
    let b = need(geo.inodeStart + ino / INODES_PER_BLOCK);
    if (!b) { if (unreadable) continue; return FS_WAIT; }
    let ip = b.data + <usize>(ino % INODES_PER_BLOCK) * INODE_SIZE;
    let nlink = <u32>load<u16>(ip + I_NLINK);
    if (f & ORPHAN) {
      if (nlink != 0 || r != 0) {
        fsReport.str("inode ").num(ino).str(": in the orphan table, but has ").num(nlink).str(" links and ").num(r).str(" entries").line();
        problem();
      }
      continue;
    }
    if (nlink == 0) { fsReport.str("inode ").num(ino).str(": no links and not in the orphan table (lost)").line(); problem(); continue; }
    if (nlink != r) {
      fsReport.str("inode ").num(ino).str(": link count ").num(nlink).str(", but ").num(r).str(" directory entries name it").line();
      problem();
    }
    let isDir = (f & IS_DIR) != 0;
    let et = <u32>(f >> ETYPE_SHIFT) & 3;
    if (ino != ROOT_INO && et != 0 && et != (isDir ? T_DIR : (f & IS_LINK) != 0 ? T_LINK : T_FILE)) {
      fsReport.str("inode ").num(ino).str(": its directory entry gives the wrong type").line();
      problem();
    }
    if (isDir) checkReach(ino, f);
  }
  // the block bitmap against the referenced set
  let wrongUsed: u32 = 0, wrongFree: u32 = 0, free: u64 = 0;
  for (let k: u32 = 0; k < geo.bmapBlocks; k++) {
    let m = need(geo.bmapStart + k);
    if (!m) { if (unreadable) continue; return FS_WAIT; }
    let lo = k * BITS_PER_BLOCK;
    for (let i: u32 = 0; i < <u32>BITS_PER_BLOCK && lo + i < geo.nblocks; i++) {
      let blk = lo + i;
      let inUse = bit(m.data, i);
      let want = blk < geo.dataStart || bit(seen, blk);
      if (!inUse) free++;
      if (inUse == want) continue;
      if (inUse) {
        if (wrongUsed++ < 5) { fsReport.str("block ").num(blk).str(": marked in use, but nothing refers to it").line(); }
      } else if (wrongFree++ < 5) {
        fsReport.str("block ").num(blk).str(blk < geo.dataStart ? ": metadata, but marked free" : ": in use, but marked free").line();
      }
    }
  }
  if (wrongUsed > 0) { problem(); if (wrongUsed > 5) { fsReport.str("... ").num(wrongUsed).str(" blocks marked in use with nothing referring to them").line(); } }
  if (wrongFree > 0) { problem(); if (wrongFree > 5) { fsReport.str("... ").num(wrongFree).str(" blocks in use but marked free").line(); } }
  if (wrongUsed == 0 && wrongFree == 0 && free != freeBlocks) {
    fsReport.str("free block count: the bitmap has ").num(free).str(", the mounted count is ").num(freeBlocks).line();
    problem();
  }
  let usedInodes: u64 = 0;
  for (let ino: u32 = 1; ino < geo.ninodes; ino++) if (load<u8>(info + ino) & IN_USE) usedInodes++;
  let freeI = <u64>geo.ninodes - 1 - usedInodes; // inode 0 is never used
  if (problems == 0 && freeI != freeInodes) {
    fsReport.str("free inode count: the table has ").num(freeI).str(", the mounted count is ").num(freeInodes).line();
    problem();
  }
  orphansDone = false;
  return 0;
}

function checkReach(ino: u32, f: u8): void {
  let dd = load<u32>(u32At(dotdot, ino));
  if (ino == ROOT_INO) {
    if (dd != ROOT_INO) { fsReport.str("the root's \"..\" is not the root").line(); problem(); }
    return;
  }
  if (f & TWO_PARENTS) { fsReport.str("directory ").num(ino).str(": named by entries in two directories").line(); problem(); }
  let parent = load<u32>(u32At(parentOf, ino));
  if (parent != dd) {
    fsReport.str("directory ").num(ino).str(": \"..\" names ").num(dd).str(" but it sits in ").num(parent).line();
    problem();
  }
  let x = ino;
  for (let steps: u32 = 0; steps <= geo.ninodes; steps++) {
    if (x == ROOT_INO) return;
    x = load<u32>(u32At(parentOf, x));
    if (x == 0 || x >= geo.ninodes) break;
  }
  fsReport.str("directory ").num(ino).str(": not reachable from the root").line();
  problem();
}
