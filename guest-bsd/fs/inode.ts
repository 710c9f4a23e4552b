// Inodes, block maps and the two allocators (inode and block bitmaps), the in-memory
// reference counts, and the orphan table. An inode lives in its inode-table block in
// the buffer cache; there is no second in-memory copy (an aborted operation's undo then
// covers inodes too). Every block pointer read from the disk is checked before use.
//
// Interface:
//   itabInit(n), iget(ino): bool, iput(ino): u32 refs left, irefs(ino)
//   iread(ino): usize            pointer to the inode (in a cached block), 0: bioErr
//   imodify(ino): usize          the same, the block joining the transaction
//   bmap(ino, ip, fb, alloc): i64   disk block of file block fb (0 = hole), < 0 error;
//                                 alloc = true allocates it (and indirect blocks)
//   balloc(): i64, bfree(block): i32, bnew(block, zero): Buf | null
//   ialloc(type, mode, uid, gid, t): i64 inode number, ifree(ino): i32
//   truncStep(ino, len, t): i32  free blocks past len from the end while the operation
//                                 has room; 0 done, 1 more to do, < 0 error
//   orphanAdd(ino), orphanRemove(ino), orphanAt(i)
//   freeBlocks, freeInodes; allocDeltaApply() / allocDeltaReset() at op end / abort

import {
  BSIZE, INODE_SIZE, INODES_PER_BLOCK, I_TYPE, I_NLINK, I_MODE, I_UID, I_GID, I_SIZE, I_ATIME, I_MTIME, I_CTIME, I_BLOCKS,
  I_GEN, I_DIRECT, I_INDIRECT, I_DINDIRECT, NDIRECT, NINDIRECT, T_FREE, T_FILE, T_DIR, T_LINK, BITS_PER_BLOCK, ORPHAN_SLOTS,
  MAX_FILE_BLOCKS,
} from "../../common/bsdfs";
import { Buf, bread, bget, bioErr, fail, EIO } from "./bio";
import { logModify, logFresh, opRoom } from "./log";
import { geo } from "./super";
import { fsReason } from "./msg";

export const ENOSPC: i32 = 51;
export const ENFILE: i32 = 41;
export const EFBIG: i32 = 22;

// ---- In-memory references (open files, working directories) -------------------------

let itabIno: StaticArray<u32> = changetype<StaticArray<u32>>(0);
let itabRef: StaticArray<u32> = changetype<StaticArray<u32>>(0);
let itabN: u32 = 0;

export function itabInit(n: u32): void {
  if (itabN != 0) return;
  itabN = n;
  itabIno = new StaticArray<u32>(n);
  itabRef = new StaticArray<u32>(n);
}

export function itabReset(): void {
  for (let i: u32 = 0; i < itabN; i++) { unchecked(itabIno[i] = 0); unchecked(itabRef[i] = 0); }
}

export function irefs(ino: u32): u32 {
  for (let i: u32 = 0; i < itabN; i++) if (unchecked(itabIno[i]) == ino && unchecked(itabRef[i]) != 0) return unchecked(itabRef[i]);
  return 0;
}

/** Can iget succeed (a slot for ino exists or is free)? */
export function iroom(ino: u32): bool {
  for (let i: u32 = 0; i < itabN; i++) if (unchecked(itabRef[i]) == 0 || unchecked(itabIno[i]) == ino) return true;
  return false;
}

export function iget(ino: u32): bool {
  let free: i32 = -1;
  for (let i: u32 = 0; i < itabN; i++) {
    if (unchecked(itabRef[i]) != 0 && unchecked(itabIno[i]) == ino) {
      unchecked(itabRef[i] = itabRef[i] + 1);
      return true;
    }
    if (free < 0 && unchecked(itabRef[i]) == 0) free = i;
  }
  if (free < 0) return false;
  unchecked(itabIno[free] = ino);
  unchecked(itabRef[free] = 1);
  return true;
}

export function iput(ino: u32): u32 {
  for (let i: u32 = 0; i < itabN; i++) {
    if (unchecked(itabRef[i]) != 0 && unchecked(itabIno[i]) == ino) {
      let n = unchecked(itabRef[i]) - 1;
      unchecked(itabRef[i] = n);
      if (n == 0) reclaimWanted = true; // it may have been unlinked while open
      return n;
    }
  }
  return 0;
}

// ---- Inodes in the cache ------------------------------------------------------------

export let lastInodeBuf: Buf | null = null;

function checkIno(ino: u32): bool {
  if (ino >= 1 && ino < geo.ninodes) return true;
  fsReason.reset().str("inode number ").num(ino).str(" is outside the inode table (").num(geo.ninodes).str(")").end();
  return false;
}

/** Pointer to inode ino's 128 bytes in the cache, or 0 (bioErr says why). */
export function iread(ino: u32): usize {
  if (!checkIno(ino)) { fail(-EIO); return 0; }
  let b = bread(geo.inodeStart + ino / INODES_PER_BLOCK);
  if (!b) return 0;
  lastInodeBuf = b;
  let p = b.data + <usize>(ino % INODES_PER_BLOCK) * INODE_SIZE;
  let t = <u32>load<u16>(p + I_TYPE);
  if (t != T_FREE && t != T_FILE && t != T_DIR && t != T_LINK) {
    fsReason.reset().str("inode ").num(ino).str(" has an unknown type ").num(t).end();
    fail(-EIO);
    return 0;
  }
  return p;
}

/** Inode ino, about to change (its block joins the transaction). */
export function imodify(ino: u32): usize {
  let p = iread(ino);
  if (p == 0) return 0;
  let r = logModify(lastInodeBuf!);
  if (r < 0) { fail(r); return 0; }
  return p;
}

function badPointer(ino: u32, ptr: u32): i64 {
  fsReason.reset().str("inode ").num(ino).str(": block pointer ").num(ptr).str(" is outside the data area [")
    .num(geo.dataStart).str(", ").num(geo.nblocks).str(")").end();
  return -EIO;
}

@inline function okPointer(ptr: u32): bool {
  return ptr == 0 || (ptr >= geo.dataStart && ptr < geo.nblocks);
}

// ---- Block allocation ---------------------------------------------------------------

export let freeBlocks: u64 = 0;
export let freeInodes: u64 = 0;
let opBlocks: i64 = 0; // blocks allocated (+) / freed (-) by the running operation
let opInodes: i64 = 0;
let bmapHint: u32 = 0;
let imapHint: u32 = 0;

export function setFreeCounts(blocks: u64, inodes: u64): void {
  freeBlocks = blocks;
  freeInodes = inodes;
  bmapHint = 0;
  imapHint = 0;
}

export function allocDeltaApply(): void {
  freeBlocks = <u64>(<i64>freeBlocks - opBlocks);
  freeInodes = <u64>(<i64>freeInodes - opInodes);
  opBlocks = 0;
  opInodes = 0;
}

export function allocDeltaReset(): void {
  opBlocks = 0;
  opInodes = 0;
}

/** Find and set a clear bit in a bitmap of `blocks` blocks from `start`; the bit number or < 0. */
function bitAlloc(start: u32, blocks: u32, hint: u32, limit: u32, min: u32): i64 {
  for (let n: u32 = 0; n < blocks; n++) {
    let k = (hint / BITS_PER_BLOCK + n) % blocks;
    let b = bread(start + k);
    if (!b) return bioErr;
    for (let w: u32 = 0; w < <u32>BSIZE / 4; w++) {
      let v = load<u32>(b.data + (<usize>w << 2));
      if (v == 0xffffffff) continue;
      let bit = ctz<u32>(~v);
      let num = k * BITS_PER_BLOCK + w * 32 + bit;
      if (num >= limit || num < min) {
        fsReason.reset().str("bitmap at block ").num(start).str(" marks ").num(num).str(" free, which cannot be allocated").end();
        return -EIO;
      }
      let r = logModify(b);
      if (r < 0) return r;
      store<u32>(b.data + (<usize>w << 2), v | (1 << bit));
      return num;
    }
  }
  return -ENOSPC;
}

function bitClear(start: u32, num: u32, what: string): i32 {
  let b = bread(start + num / BITS_PER_BLOCK);
  if (!b) return bioErr;
  let p = b.data + <usize>((num % BITS_PER_BLOCK) / 32) * 4;
  let bit: u32 = 1 << (num % 32);
  let v = load<u32>(p);
  if (!(v & bit)) {
    fsReason.reset().str("freeing ").str(what).str(" ").num(num).str(" that is already free").end();
    return -EIO;
  }
  let r = logModify(b);
  if (r < 0) return r;
  store<u32>(p, v & ~bit);
  return 0;
}

export function balloc(): i64 {
  if (<i64>freeBlocks - opBlocks <= 0) {
    fsReason.reset().str("no free blocks").end();
    return -ENOSPC;
  }
  let r = bitAlloc(geo.bmapStart, geo.bmapBlocks, bmapHint, geo.nblocks, geo.dataStart);
  if (r >= 0) { opBlocks++; bmapHint = <u32>r; }
  return r;
}

export function bfree(block: u32): i32 {
  let r = bitClear(geo.bmapStart, block, "block");
  if (r == 0) opBlocks--;
  return r;
}

/** The buffer for a newly allocated block, in the transaction (zeroed when asked). */
export function bnew(block: u32, zero: bool): Buf | null {
  let b = bget(block);
  if (!b) return null;
  let r = logFresh(b);
  if (r < 0) { fail(r); return null; }
  if (zero) memory.fill(b.data, 0, BSIZE);
  return b;
}

export function ialloc(type: u32, mode: u32, uid: u32, gid: u32, t: u64): i64 {
  if (<i64>freeInodes - opInodes <= 0) {
    fsReason.reset().str("no free inodes").end();
    return -ENOSPC;
  }
  let r = bitAlloc(geo.imapStart, geo.imapBlocks, imapHint, geo.ninodes, 2);
  if (r < 0) return r;
  let ino = <u32>r;
  let p = imodify(ino);
  if (p == 0) return bioErr;
  if (load<u16>(p + I_TYPE) != T_FREE) {
    fsReason.reset().str("inode ").num(ino).str(" is free in the inode bitmap but in use").end();
    return -EIO;
  }
  let gen = load<u32>(p + I_GEN) + 1;
  memory.fill(p, 0, INODE_SIZE);
  store<u16>(p + I_TYPE, <u16>type);
  store<u32>(p + I_MODE, mode);
  store<u32>(p + I_UID, uid);
  store<u32>(p + I_GID, gid);
  store<u64>(p + I_ATIME, t);
  store<u64>(p + I_MTIME, t);
  store<u64>(p + I_CTIME, t);
  store<u32>(p + I_GEN, gen);
  opInodes++;
  imapHint = ino;
  return ino;
}

/** Free an inode that holds no blocks any more. */
export function ifree(ino: u32): i32 {
  let p = imodify(ino);
  if (p == 0) return bioErr;
  let gen = load<u32>(p + I_GEN);
  memory.fill(p, 0, INODE_SIZE);
  store<u32>(p + I_GEN, gen);
  let r = bitClear(geo.imapStart, ino, "inode");
  if (r == 0) opInodes--;
  return r;
}

// ---- Block maps ---------------------------------------------------------------------

/** Read (or with alloc, create) entry i of the indirect block `blk`; the pointer or < 0. */
function indirect(ino: u32, ip: usize, blk: u32, i: u32, alloc: bool): i64 {
  let b = bread(blk);
  if (!b) return bioErr;
  let p = b.data + (<usize>i << 2);
  let v = load<u32>(p);
  if (!okPointer(v)) return badPointer(ino, v);
  if (v != 0 || !alloc) return v;
  return newPointer(ino, ip, b, p);
}

/** Allocate a zeroed block, store its number at slot p of buffer holder (or the inode). */
function newPointer(ino: u32, ip: usize, holder: Buf | null, p: usize): i64 {
  let nb = balloc();
  if (nb < 0) return nb;
  if (!bnew(<u32>nb, true)) return bioErr;
  if (holder) {
    let r = logModify(holder);
    if (r < 0) return r;
  }
  store<u32>(p, <u32>nb);
  store<u32>(ip + I_BLOCKS, load<u32>(ip + I_BLOCKS) + 1);
  return nb;
}

/** Disk block holding file block fb of inode ino (ip = its pointer; with alloc the
 *  inode block must already be in the transaction). 0 = a hole. */
export function bmap(ino: u32, ip: usize, fb: u32, alloc: bool): i64 {
  if (fb >= <u32>MAX_FILE_BLOCKS) return -EFBIG;
  if (fb < <u32>NDIRECT) {
    let p = ip + I_DIRECT + (<usize>fb << 2);
    let v = load<u32>(p);
    if (!okPointer(v)) return badPointer(ino, v);
    if (v != 0 || !alloc) return v;
    return newPointer(ino, ip, null, p);
  }
  fb -= NDIRECT;
  if (fb < <u32>NINDIRECT) {
    let p = ip + I_INDIRECT;
    let l1 = <i64>load<u32>(p);
    if (!okPointer(<u32>l1)) return badPointer(ino, <u32>l1);
    if (l1 == 0) {
      if (!alloc) return 0;
      l1 = newPointer(ino, ip, null, p);
      if (l1 < 0) return l1;
    }
    return indirect(ino, ip, <u32>l1, fb, alloc);
  }
  fb -= NINDIRECT;
  let p = ip + I_DINDIRECT;
  let l0 = <i64>load<u32>(p);
  if (!okPointer(<u32>l0)) return badPointer(ino, <u32>l0);
  if (l0 == 0) {
    if (!alloc) return 0;
    l0 = newPointer(ino, ip, null, p);
    if (l0 < 0) return l0;
  }
  let l1 = indirect(ino, ip, <u32>l0, fb / NINDIRECT, alloc);
  if (l1 <= 0) return l1;
  return indirect(ino, ip, <u32>l1, fb % NINDIRECT, alloc);
}

// ---- Truncation ---------------------------------------------------------------------

/** Clear the pointer to file block fb (freeing it), and free an indirect block whose
 *  first entry this was. Returns 0 or < 0. */
function freeFileBlock(ino: u32, ip: usize, fb: u32): i32 {
  if (fb < <u32>NDIRECT) {
    let p = ip + I_DIRECT + (<usize>fb << 2);
    return clearSlot(ino, ip, null, p);
  }
  let x = fb - NDIRECT;
  if (x < <u32>NINDIRECT) {
    let l1 = load<u32>(ip + I_INDIRECT);
    if (l1 == 0) return 0;
    let r = clearIn(ino, ip, l1, x);
    if (r < 0) return r;
    if (x == 0) return clearSlot(ino, ip, null, ip + I_INDIRECT);
    return 0;
  }
  x -= NINDIRECT;
  let l0 = load<u32>(ip + I_DINDIRECT);
  if (l0 == 0) return 0;
  let b0 = bread(l0);
  if (!b0) return bioErr;
  let p1 = b0.data + (<usize>(x / NINDIRECT) << 2);
  let l1 = load<u32>(p1);
  if (!okPointer(l1)) return <i32>badPointer(ino, l1);
  if (l1 != 0) {
    let r = clearIn(ino, ip, l1, x % NINDIRECT);
    if (r < 0) return r;
    if (x % NINDIRECT == 0) {
      r = clearSlot(ino, ip, b0, p1);
      if (r < 0) return r;
    }
  }
  if (x == 0) return clearSlot(ino, ip, null, ip + I_DINDIRECT);
  return 0;
}

function clearIn(ino: u32, ip: usize, blk: u32, i: u32): i32 {
  if (!okPointer(blk)) return <i32>badPointer(ino, blk);
  let b = bread(blk);
  if (!b) return bioErr;
  return clearSlot(ino, ip, b, b.data + (<usize>i << 2));
}

function clearSlot(ino: u32, ip: usize, holder: Buf | null, p: usize): i32 {
  let v = load<u32>(p);
  if (v == 0) return 0;
  if (!okPointer(v)) return <i32>badPointer(ino, v);
  let r = bfree(v);
  if (r < 0) return r;
  if (holder) {
    r = logModify(holder);
    if (r < 0) return r;
  }
  store<u32>(p, 0);
  let n = load<u32>(ip + I_BLOCKS);
  store<u32>(ip + I_BLOCKS, n > 0 ? n - 1 : 0);
  return 0;
}

/** First file block of the hole-free stretch that ends at fb (skips whole empty
 *  indirect ranges, so truncating a huge sparse file is quick). */
function skipHoles(ip: usize, fb: u32): u32 {
  if (fb >= <u32>NDIRECT && fb < <u32>(NDIRECT + NINDIRECT) && load<u32>(ip + I_INDIRECT) == 0) return NDIRECT;
  if (fb >= <u32>(NDIRECT + NINDIRECT) && load<u32>(ip + I_DINDIRECT) == 0) return NDIRECT + NINDIRECT;
  return fb;
}

/** One bounded step of truncating inode ino to len bytes (ip must be in the
 *  transaction: imodify). 0 = done, 1 = call again in a new operation, < 0 error. */
export function truncStep(ino: u32, ip: usize, len: u64): i32 {
  let size = load<u64>(ip + I_SIZE);
  let max = <u64>MAX_FILE_BLOCKS << 12;
  if (size > max) size = max; // a corrupt size: no block lies beyond the largest file
  if (len >= size) {
    store<u64>(ip + I_SIZE, len);
    return 0;
  }
  // zero the tail of the block that will hold the new end (reads past it must see zeros)
  let off = <u32>(len & (BSIZE - 1));
  if (off != 0) {
    let blk = bmap(ino, ip, <u32>(len >> 12), false);
    if (blk < 0) return <i32>blk;
    if (blk > 0) {
      let b = bread(<u32>blk);
      if (!b) return bioErr;
      let r = logModify(b);
      if (r < 0) return r;
      memory.fill(b.data + off, 0, BSIZE - off);
    }
  }
  let keep = <u32>((len + BSIZE - 1) >> 12);
  let fb = <u32>((size + BSIZE - 1) >> 12); // blocks [keep, fb) go
  while (fb > keep) {
    if (opRoom() < 8) { // up to 3 bitmap blocks, 2 indirect blocks, the dindirect
      let cut = <u64>fb << 12;
      if (cut < size) store<u64>(ip + I_SIZE, cut);
      return 1;
    }
    let at = skipHoles(ip, fb - 1);
    if (at < fb - 1) {
      fb = at > keep ? at : keep;
      continue;
    }
    let r = freeFileBlock(ino, ip, fb - 1);
    if (r < 0) return r;
    fb--;
  }
  store<u64>(ip + I_SIZE, len);
  return 0;
}

// ---- Orphans --------------------------------------------------------------------------

/** Some orphan may be reclaimable: set when one is added, when a reference is dropped
 *  and at mount; cleared when a scan finds none (so an idle tick costs nothing). */
export let reclaimWanted: bool = false;
export function setReclaimWanted(v: bool): void { reclaimWanted = v; }

/** Inode number in orphan slot i (0 = empty), or < 0 (bioErr). */
export function orphanAt(i: u32): i64 {
  let b = bread(geo.orphan);
  if (!b) return bioErr;
  return load<u32>(b.data + (<usize>i << 2));
}

export function orphanAdd(ino: u32): i32 {
  let b = bread(geo.orphan);
  if (!b) return bioErr;
  for (let i: u32 = 0; i < <u32>ORPHAN_SLOTS; i++) {
    let p = b.data + (<usize>i << 2);
    if (load<u32>(p) == 0) {
      let r = logModify(b);
      if (r < 0) return r;
      store<u32>(p, ino);
      reclaimWanted = true;
      return 0;
    }
  }
  fsReason.reset().str("the orphan table is full (").num(ORPHAN_SLOTS).str(" unlinked files still open)").end();
  return -ENOSPC;
}

export function orphanRemove(ino: u32): i32 {
  let b = bread(geo.orphan);
  if (!b) return bioErr;
  for (let i: u32 = 0; i < <u32>ORPHAN_SLOTS; i++) {
    let p = b.data + (<usize>i << 2);
    if (load<u32>(p) == ino) {
      let r = logModify(b);
      if (r < 0) return r;
      store<u32>(p, 0);
      return 0;
    }
  }
  return 0;
}

