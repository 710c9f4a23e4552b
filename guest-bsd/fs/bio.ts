// The buffer cache: FS blocks in kernel memory, found by block number, read through
// the block device, kept in LRU order. Every buffer is allocated once (bioInit).
//
// Restartable reads (the kernel cannot wait inside a call): bread(b) returns the
// buffer when its data is here; when it is not, it starts the read and returns null
// with bioErr = FS_WAIT, and the caller unwinds (the whole operation is re-issued when
// the read is done: bioDone wakes the waiters). A buffer is never taken for another
// block while it is
//   - being read (B_READING),
//   - part of the running transaction (B_INTX: its data is newer than the disk's),
//   - in a commit whose installation has not finished (B_COMMIT: the home copy on the
//     disk is still older),
//   - or touched by the operation now running (epoch == bioEpoch): an operation's
//     blocks stay put until it ends, so pointers into them stay good.
// Such buffers are off the LRU list; the list holds only those that may be taken.
//
// Interface:
//   bioInit(nbuf)                allocate nbuf buffers of BSIZE bytes (4 KiB aligned)
//   bioReset(nblocks)            forget every block (mount); blocks >= nblocks are refused
//   bioNextEpoch()               a new operation begins (releases the last one's buffers)
//   bread(block): Buf | null     the block's data, or null: bioErr = FS_WAIT | -EIO
//   bget(block): Buf | null      the buffer for the block without reading it (the caller
//                                overwrites it whole, or waits if B_READING is set)
//   bfind(block): Buf | null     only if cached
//   bprefetch(block): bool       start a read if needed; true when the data is here
//   bsetFlags(b, f), bclearFlags(b, f)   B_INTX / B_COMMIT (pins and unpins)
//   bioDone(req)                 a read finished (from the device's completion)
//   bioSetWakeup(fn), bioWake()  the kernel's hook, called when waiters may go on
//   bioHits, bioMisses, bioReads, bioWrites   counters

import { BSIZE, FS_WAIT_CODE } from "../../common/bsdfs";
import { BlkReq, BlockDevice, BLK_READ } from "./blkio";
import { fsReason } from "./msg";

export const FS_WAIT: i32 = FS_WAIT_CODE; // common/bsdfs.ts
export const EIO: i32 = 29;

export const B_VALID: u32 = 1;
export const B_READING: u32 = 2;
export const B_ERROR: u32 = 4;
export const B_INTX: u32 = 8;
export const B_COMMIT: u32 = 16;
const B_PINNED: u32 = B_READING | B_INTX | B_COMMIT;

/** Owners of requests (BlkReq.owner), so one completion upcall can dispatch. */
export const REQ_CACHE: u32 = 1;
export const REQ_COMMIT: u32 = 2;
export const REQ_RAW: u32 = 3;

@final
export class Buf {
  block: u32 = 0xffffffff;
  flags: u32 = 0;
  /** The operation that last touched it; pinned while that operation runs. */
  epoch: u32 = 0;
  /** Seq of the commit whose snapshot holds this block (while B_COMMIT). */
  commitSeq: u64 = 0;
  data: usize = 0;
  req: BlkReq = new BlkReq();
  hnext: Buf | null = null;
  prev: Buf | null = null;
  next: Buf | null = null;
  onLru: bool = false;
}

let bufs: StaticArray<Buf> = changetype<StaticArray<Buf>>(0);
let nbufs: u32 = 0;
let heads: StaticArray<Buf | null> = changetype<StaticArray<Buf | null>>(0);
let hashMask: u32 = 0;
/** LRU list: head = most recently used. */
let lruHead: Buf | null = null;
let lruTail: Buf | null = null;
let limitBlocks: u32 = 0;
let device: BlockDevice = changetype<BlockDevice>(0);

function noWake(): void {}
let wakeHook: () => void = noWake;

export let bioEpoch: u32 = 1;
/** Why the last bread / bget (or any call that returns null / 0) failed. */
export let bioErr: i32 = 0;

/** Record e as the reason of a failure; returns e. */
export function fail(e: i32): i32 {
  bioErr = e;
  return e;
}

export let bioHits: u64 = 0;
export let bioMisses: u64 = 0;
export let bioReads: u64 = 0;
export let bioWrites: u64 = 0;
export let bioReadErrors: u64 = 0;

export function bioInit(nbuf: u32, dev: BlockDevice): void {
  device = dev;
  if (nbufs != 0) return;
  nbufs = nbuf;
  bufs = new StaticArray<Buf>(nbuf);
  let hsize: u32 = 1;
  while (hsize < nbuf * 2) hsize <<= 1;
  heads = new StaticArray<Buf | null>(hsize);
  hashMask = hsize - 1;
  let mem = heap.alloc(<usize>nbuf * BSIZE + BSIZE);
  let base = (mem + BSIZE - 1) & ~(<usize>BSIZE - 1);
  for (let i: u32 = 0; i < nbuf; i++) {
    let b = new Buf();
    b.data = base + (<usize>i << 12);
    b.req.owner = REQ_CACHE;
    b.req.index = i;
    unchecked(bufs[i] = b);
  }
  bioReset(0);
}

/** The kernel's hook: something a waiter may need has happened. */
export function bioSetWakeup(fn: () => void): void {
  wakeHook = fn;
}

export function bioWake(): void {
  wakeHook();
}

export function bioSetDevice(dev: BlockDevice): void {
  device = dev;
}

export function bioCount(): u32 {
  return nbufs;
}

export function bioBuf(i: u32): Buf {
  return unchecked(bufs[i]);
}

/** Forget every cached block (at mount: the disk is the truth). */
export function bioReset(nblocks: u32): void {
  limitBlocks = nblocks;
  for (let i: u32 = 0; i <= hashMask; i++) unchecked(heads[i] = null);
  lruHead = null;
  lruTail = null;
  for (let i: u32 = 0; i < nbufs; i++) {
    let b = unchecked(bufs[i]);
    b.block = 0xffffffff;
    b.flags = 0;
    b.epoch = 0;
    b.hnext = null;
    b.onLru = false;
    lruPushTail(b);
  }
}

export function bioNextEpoch(): void {
  bioEpoch++;
}

// ---- LRU and hash -----------------------------------------------------------------

function lruRemove(b: Buf): void {
  if (!b.onLru) return;
  let p = b.prev, n = b.next;
  if (p) p.next = n; else lruHead = n;
  if (n) n.prev = p; else lruTail = p;
  b.prev = null;
  b.next = null;
  b.onLru = false;
}

function lruPushHead(b: Buf): void {
  b.prev = null;
  b.next = lruHead;
  let h = lruHead;
  if (h) h.prev = b; else lruTail = b;
  lruHead = b;
  b.onLru = true;
}

function lruPushTail(b: Buf): void {
  b.next = null;
  b.prev = lruTail;
  let t = lruTail;
  if (t) t.next = b; else lruHead = b;
  lruTail = b;
  b.onLru = true;
}

@inline function hashOf(block: u32): u32 {
  return ((block * <u32>0x9E3779B1) >>> 7) & hashMask;
}

function hashRemove(b: Buf): void {
  if (b.block == 0xffffffff) return;
  let h = hashOf(b.block);
  let p: Buf | null = null;
  let c = unchecked(heads[h]);
  while (c) {
    if (c == b) {
      if (p) p.hnext = c.hnext; else unchecked(heads[h] = c.hnext);
      break;
    }
    p = c;
    c = c.hnext;
  }
  b.hnext = null;
}

export function bfind(block: u32): Buf | null {
  let c = unchecked(heads[hashOf(block)]);
  while (c) {
    if (c.block == block) return c;
    c = c.hnext;
  }
  return null;
}

/** Mark b used by the running operation and most recently used. */
function touch(b: Buf): void {
  b.epoch = bioEpoch;
  if (b.onLru) {
    lruRemove(b);
    lruPushHead(b);
  }
}

export function bsetFlags(b: Buf, f: u32): void {
  b.flags |= f;
  if (b.flags & B_PINNED) lruRemove(b);
}

export function bclearFlags(b: Buf, f: u32): void {
  b.flags &= ~f;
  if (!(b.flags & B_PINNED) && !b.onLru) lruPushHead(b);
}

/** Take the least recently used buffer that no one needs for `block`. */
function claim(block: u32): Buf | null {
  let c = lruTail;
  while (c) {
    if (c.epoch != bioEpoch) {
      hashRemove(c);
      c.block = block;
      c.flags = 0;
      let h = hashOf(block);
      c.hnext = unchecked(heads[h]);
      unchecked(heads[h] = c);
      return c;
    }
    c = c.prev;
  }
  bioErr = -EIO;
  fsReason.reset().str("buffer cache exhausted (every buffer is pinned)").end();
  return null;
}

// ---- Reading ----------------------------------------------------------------------

function checkBlock(block: u32): bool {
  if (block < limitBlocks) return true;
  bioErr = -EIO;
  fsReason.reset().str("block ").num(block).str(" is outside the file system (").num(limitBlocks).str(" blocks)").end();
  return false;
}

function startRead(b: Buf): void {
  bsetFlags(b, B_READING);
  b.flags &= ~(B_VALID | B_ERROR);
  b.req.op = BLK_READ;
  b.req.block = b.block;
  b.req.data = b.data;
  b.req.status = 0;
  bioReads++;
  device.start(b.req);
}

/** The block's buffer, read if needed; null with bioErr = FS_WAIT (read started) or -EIO. */
export function bread(block: u32): Buf | null {
  if (!checkBlock(block)) return null;
  let b = bfind(block);
  if (b) {
    if (b.flags & B_VALID) {
      bioHits++;
      touch(b);
      return b;
    }
    if (b.flags & B_READING) {
      b.epoch = bioEpoch;
      bioErr = FS_WAIT;
      return null;
    }
    if (b.flags & B_ERROR) {
      b.flags &= ~B_ERROR; // the next attempt reads again
      bioErr = -EIO;
      fsReason.reset().str("read error on block ").num(block).end();
      return null;
    }
  } else {
    b = claim(block);
    if (!b) return null;
  }
  bioMisses++;
  touch(b);
  startRead(b);
  if (b.flags & B_VALID) return b; // a synchronous device finished at once
  if (b.flags & B_ERROR) {
    b.flags &= ~B_ERROR;
    bioErr = -EIO;
    fsReason.reset().str("read error on block ").num(block).end();
    return null;
  }
  bioErr = FS_WAIT;
  return null;
}

/** Start reading block if it is not here; true when its data is here now. */
export function bprefetch(block: u32): bool {
  if (block >= limitBlocks) return true; // bread will refuse it with the reason
  let b = bfind(block);
  if (b) {
    if (b.flags & B_VALID) {
      touch(b);
      return true;
    }
    if (b.flags & B_READING) {
      b.epoch = bioEpoch;
      return false;
    }
    if (b.flags & B_ERROR) return true; // let bread report it
  } else {
    b = claim(block);
    if (!b) return true; // bread will report it
  }
  touch(b);
  startRead(b);
  return (b.flags & (B_VALID | B_ERROR)) != 0;
}

/** The buffer for block without reading it; the caller fills it or waits on B_READING. */
export function bget(block: u32): Buf | null {
  if (!checkBlock(block)) return null;
  let b = bfind(block);
  if (!b) b = claim(block);
  if (!b) return null;
  touch(b);
  if (b.flags & B_READING) {
    bioErr = FS_WAIT;
    return null;
  }
  return b;
}

/** Forget a buffer's contents (an aborted operation's fresh block). */
export function binvalidate(b: Buf): void {
  b.flags &= ~(B_VALID | B_ERROR);
}

/** A cache read finished. */
export function bioDone(req: BlkReq): void {
  let b = unchecked(bufs[req.index]);
  if (req.status == 0) {
    b.flags |= B_VALID;
  } else {
    b.flags |= B_ERROR;
    bioReadErrors++;
  }
  bclearFlags(b, B_READING);
  bioWake();
}

export function bioCountWrite(): void {
  bioWrites++;
}
