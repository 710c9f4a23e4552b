// Mount (check the superblock, replay the log, count free space) and mkfs.
//
// Mount is a state machine like the commit: each fsMount() call goes as far as the
// device lets it and returns FS_WAIT while requests are out (the wake-up hook runs when
// they finish; call fsMount again). With a device that completes at once, one call
// does it all. An image is refused (a negative errno, the reason in fsReason) when:
// block 0 is blank or foreign, the superblock's checksum, version or layout is wrong,
// the image is shorter than the file system (truncated), the log header is corrupt
// (bad magic, impossible count, a home block outside the journaled area), the logged
// data does not match the header's checksum, or the root is not a directory. A header
// whose own checksum fails is a torn commit point: dropped, with a note.
//
// Replay (the commit's steps 4 and 5, see common/bsdfs.ts): read the logged blocks and
// check them against the header, write them home, flush, write an empty header, flush.
//
// Interface:
//   mountInit(dev, nlog)         requests and a scratch area (once)
//   fsMount(): i32               0 mounted, FS_WAIT, < 0 refused
//   isMounted(), mountDone()     state (fs.ts's fsUnmount calls mountDone)
//   mountIoDone(req)             completion of mount's own requests
//   fsMkfs(nblocks, ninodes, logBlocks, created, zeroed): i32
//                                write a new file system (a synchronous device only;
//                                zeroed = the device reads zeros already: skip those)
//   fsNotesPtr(), fsNotesLen()   what mount did (a replay, a dropped commit, orphans)

import {
  BSIZE, LOG_START, LOG_MAGIC_LO, LOG_MAGIC_HI, LH_MAGIC, LH_SEQ, LH_COUNT, LH_DATA_CHECK, LH_CHECK, LH_HOME,
  LH_MAX_COUNT, FNV_OFFSET, BITS_PER_BLOCK, ROOT_INO, INODE_SIZE, I_TYPE, I_NLINK, I_MODE, I_SIZE, I_ATIME, I_MTIME,
  I_CTIME, I_BLOCKS, I_GEN, I_DIRECT, T_DIR, DIRENT_SIZE, ORPHAN_SLOTS, BYTES_PER_INODE, LOG_MIN_BLOCKS, LOG_MAX_BLOCKS,
  INODES_PER_BLOCK,
} from "../../common/bsdfs";
import { BlkReq, BlockDevice, BLK_READ, BLK_WRITE, BLK_FLUSH } from "./blkio";
import { FS_WAIT, EIO, REQ_RAW, bioReset, bprefetch, bread, bioErr, bioWake, bioNextEpoch } from "./bio";
import { logMount, headerCheck, fillHeader, dataCheck, logSnapArea } from "./log";
import { geo, Geometry, layout, sbCheck, sbFill, fnvWords } from "./super";
import { itabReset, setFreeCounts, iread, setReclaimWanted } from "./inode";
import { dirInit } from "./dir";
import { fsReason, fsNotes } from "./msg";

const EINVAL: i32 = 28;

const M_IDLE: u32 = 0;
const M_SB: u32 = 1;
const M_HDR: u32 = 2;
const M_VERIFY_READ: u32 = 3;
const M_VERIFY_SUM: u32 = 4;
const M_INSTALL_READ: u32 = 5;
const M_INSTALL_WRITE: u32 = 6;
const M_INSTALL_NEXT: u32 = 7;
const M_CLEAR: u32 = 8;
const M_CLEAR_FLUSH: u32 = 9;
const M_CACHE: u32 = 10;
const M_COUNT: u32 = 11;
const M_MOUNTED: u32 = 12;

let device: BlockDevice = changetype<BlockDevice>(0);
let reqs: StaticArray<BlkReq> = changetype<StaticArray<BlkReq>>(0);
let nreq: u32 = 0;
let area: usize = 0; // the log's snapshot area: free while nothing is mounted
let mstate: u32 = M_IDLE;
let pending: u32 = 0;
let ioError: bool = false;

// the log header being replayed
let homes = new StaticArray<u32>(LH_MAX_COUNT);
let count: u32 = 0;
let seq: u64 = 0;
let wantCheck: u32 = 0;
let sum: u32 = 0;
let done: u32 = 0;
let batch: u32 = 0;
// counting free space
let cursor: u32 = 0;
let freeB: u64 = 0;
let freeI: u64 = 0;

export function mountInit(dev: BlockDevice, nlog: u32): void {
  device = dev;
  if (nreq != 0) return;
  nreq = nlog;
  reqs = new StaticArray<BlkReq>(nlog);
  for (let i: u32 = 0; i < nlog; i++) {
    let r = new BlkReq();
    r.owner = REQ_RAW;
    r.index = i;
    unchecked(reqs[i] = r);
  }
  area = logSnapArea();
  for (let i: u32 = 0; i < nlog; i++) unchecked(reqs[i]).data = area + (<usize>i << 12);
}

export function isMounted(): bool { return mstate == M_MOUNTED; }
export function mountDone(): void { mstate = M_IDLE; }
export function fsNotesPtr(): usize { return fsNotes.ptr; }
export function fsNotesLen(): u32 { return fsNotes.len; }

export function mountIoDone(r: BlkReq): void {
  if (r.status != 0) ioError = true;
  pending--;
  if (pending == 0) bioWake();
}

function io(i: u32, op: u32, block: u32): void {
  let r = unchecked(reqs[i]);
  r.op = op;
  r.block = block;
  r.status = 0;
  device.start(r);
}

/** Issue n requests as one stage (a completion during the loop cannot end it early). */
function stageBegin(): void { pending = 1; }
function stageAdd(i: u32, op: u32, block: u32): void { pending++; io(i, op, block); }
function stageEnd(): void { pending--; }

function refuse(): i32 {
  mstate = M_IDLE;
  fsReason.end();
  return -EIO;
}

export function fsMount(): i32 {
  if (mstate == M_MOUNTED) return 0;
  while (true) {
    if (pending > 0) return FS_WAIT;
    if (ioError) {
      ioError = false;
      fsReason.reset().str("the device failed a request while mounting (state ").num(mstate).str(")");
      return refuse();
    }
    if (mstate == M_IDLE) {
      fsNotes.reset();
      if (device.capacity() < 1) {
        fsReason.reset().str("the device is empty (smaller than one 4 KiB block)");
        return refuse();
      }
      stageBegin(); stageAdd(0, BLK_READ, 0); stageEnd();
      mstate = M_SB;
    } else if (mstate == M_SB) {
      if (!sbCheck(area, device.capacity())) return refuse();
      stageBegin(); stageAdd(0, BLK_READ, LOG_START); stageEnd();
      mstate = M_HDR;
    } else if (mstate == M_HDR) {
      let r = readHeader();
      if (r < 0) return refuse();
      if (r == 2) mstate = M_CLEAR; // a torn header: make it clean
      else if (count == 0) mstate = M_CACHE;
      else {
        done = 0;
        sum = <u32>FNV_OFFSET;
        mstate = M_VERIFY_READ;
      }
    } else if (mstate == M_VERIFY_READ) {
      batch = count - done < nreq ? count - done : nreq;
      stageBegin();
      for (let i: u32 = 0; i < batch; i++) stageAdd(i, BLK_READ, LOG_START + 1 + done + i);
      stageEnd();
      mstate = M_VERIFY_SUM;
    } else if (mstate == M_VERIFY_SUM) {
      sum = fnvWords(area, batch * (BSIZE / 4), sum);
      done += batch;
      if (done < count) { mstate = M_VERIFY_READ; continue; }
      if (sum != wantCheck) {
        fsReason.reset().str("corrupt log: committed transaction ").num(seq).str(" (").num(count)
          .str(" blocks) does not match its checksum; not replayed");
        return refuse();
      }
      fsNotes.str("replayed committed transaction ").num(seq).str(" (").num(count).str(" blocks)").line();
      done = 0;
      mstate = count <= nreq ? M_INSTALL_WRITE : M_INSTALL_READ; // all still in the area
    } else if (mstate == M_INSTALL_READ) {
      batch = count - done < nreq ? count - done : nreq;
      stageBegin();
      for (let i: u32 = 0; i < batch; i++) stageAdd(i, BLK_READ, LOG_START + 1 + done + i);
      stageEnd();
      mstate = M_INSTALL_WRITE;
    } else if (mstate == M_INSTALL_WRITE) {
      batch = count - done < nreq ? count - done : nreq;
      stageBegin();
      for (let i: u32 = 0; i < batch; i++) stageAdd(i, BLK_WRITE, unchecked(homes[done + i]));
      stageEnd();
      mstate = M_INSTALL_NEXT;
    } else if (mstate == M_INSTALL_NEXT) {
      done += batch;
      if (done < count) { mstate = M_INSTALL_READ; continue; }
      stageBegin(); stageAdd(0, BLK_FLUSH, 0); stageEnd();
      mstate = M_CLEAR;
    } else if (mstate == M_CLEAR) {
      fillHeader(area, seq, 0, homes, dataCheck(area, 0));
      stageBegin(); stageAdd(0, BLK_WRITE, LOG_START); stageEnd();
      mstate = M_CLEAR_FLUSH;
    } else if (mstate == M_CLEAR_FLUSH) {
      stageBegin(); stageAdd(0, BLK_FLUSH, 0); stageEnd();
      mstate = M_CACHE;
    } else if (mstate == M_CACHE) {
      bioReset(geo.nblocks);
      itabReset();
      if (!logMount(LOG_START, geo.logBlocks, seq)) return refuse();
      cursor = 0;
      freeB = 0;
      freeI = 0;
      mstate = M_COUNT;
    } else if (mstate == M_COUNT) {
      return countFree();
    } else {
      return 0;
    }
  }
}

/** 0 clean or replay needed (count set), 2 torn (drop it), -1 refused. */
function readHeader(): i32 {
  let p = area;
  let lo = load<u32>(p + LH_MAGIC), hi = load<u32>(p + LH_MAGIC + 4);
  count = 0;
  seq = 0;
  if (lo == 0 && hi == 0) {
    for (let i: u32 = 0; i < <u32>BSIZE; i += 4) {
      if (load<u32>(p + i) != 0) {
        fsReason.reset().str("corrupt log header (no magic, not blank)");
        return -1;
      }
    }
    return 0; // never written: an empty log
  }
  if (lo != <u32>LOG_MAGIC_LO || hi != <u32>LOG_MAGIC_HI) {
    fsReason.reset().str("corrupt log header (bad magic)");
    return -1;
  }
  seq = load<u64>(p + LH_SEQ);
  if (headerCheck(p) != load<u32>(p + LH_CHECK)) {
    fsNotes.str("dropped a torn log header (seq ").num(seq).str("): its commit had not completed").line();
    return 2;
  }
  let n = load<u32>(p + LH_COUNT);
  if (n > geo.logBlocks - 1 || n > <u32>LH_MAX_COUNT) {
    fsReason.reset().str("corrupt log header: ").num(n).str(" logged blocks, the log holds ").num(geo.logBlocks - 1);
    return -1;
  }
  for (let i: u32 = 0; i < n; i++) {
    let h = load<u32>(p + LH_HOME + (<usize>i << 2));
    if (h < geo.orphan || h >= geo.nblocks) {
      fsReason.reset().str("corrupt log header: logged block ").num(i).str(" belongs at block ").num(h)
        .str(", outside the journaled blocks [").num(geo.orphan).str(", ").num(geo.nblocks).str(")");
      return -1;
    }
    unchecked(homes[i] = h);
  }
  count = n;
  wantCheck = load<u32>(p + LH_DATA_CHECK);
  return 0;
}

function popFree(p: usize, from: u32, limit: u32): u32 {
  // zero bits among bits [from, limit) of the block's 32768, word by word
  let free: u32 = 0;
  for (let w: u32 = 0; w < <u32>BSIZE / 4; w++) {
    let base = from + w * 32;
    if (base >= limit) break;
    let v = ~load<u32>(p + (<usize>w << 2));
    if (limit - base < 32) v &= (1 << (limit - base)) - 1;
    free += popcnt<u32>(v);
  }
  return free;
}

/** Count free blocks and inodes through the cache, then check the root. */
function countFree(): i32 {
  bioNextEpoch();
  let total = geo.bmapBlocks + geo.imapBlocks;
  while (cursor < total) {
    let ahead = cursor;
    let missing = false;
    for (let k: u32 = 0; k < 16 && ahead + k < total; k++) {
      let blk = ahead + k < geo.bmapBlocks ? geo.bmapStart + ahead + k : geo.imapStart + (ahead + k - geo.bmapBlocks);
      if (!bprefetch(blk)) missing = true;
    }
    if (missing) return FS_WAIT;
    for (let k: u32 = 0; k < 16 && cursor < total; k++, cursor++) {
      let isB = cursor < geo.bmapBlocks;
      let idx = isB ? cursor : cursor - geo.bmapBlocks;
      let b = bread(isB ? geo.bmapStart + idx : geo.imapStart + idx);
      if (!b) return bioErr == FS_WAIT ? FS_WAIT : refuse();
      if (isB) freeB += popFree(b.data, idx * BITS_PER_BLOCK, geo.nblocks);
      else freeI += popFree(b.data, idx * BITS_PER_BLOCK, geo.ninodes);
    }
  }
  let rp = iread(ROOT_INO);
  if (rp == 0) return bioErr == FS_WAIT ? FS_WAIT : refuse();
  if (<u32>load<u16>(rp + I_TYPE) != T_DIR || load<u16>(rp + I_NLINK) < 2) {
    fsReason.reset().str("corrupt file system: the root inode is not a directory");
    return refuse();
  }
  let ob = bread(geo.orphan);
  if (!ob) return bioErr == FS_WAIT ? FS_WAIT : refuse();
  let orphans: u32 = 0;
  for (let i: u32 = 0; i < <u32>ORPHAN_SLOTS; i++) if (load<u32>(ob.data + (<usize>i << 2)) != 0) orphans++;
  if (orphans > 0) fsNotes.str("").num(orphans).str(" unlinked inodes to reclaim").line();
  setReclaimWanted(orphans > 0);
  setFreeCounts(freeB, freeI);
  mstate = M_MOUNTED;
  return 0;
}

// ---- mkfs ------------------------------------------------------------------------------

const mk = new Geometry();

/** Write one block from `area` synchronously; false if the device did not finish it. */
function put(block: u32): bool {
  stageBegin(); stageAdd(0, BLK_WRITE, block); stageEnd();
  if (pending != 0 || ioError) {
    fsReason.reset().str(ioError ? "write error on block " : "mkfs needs a synchronous device (block ").num(block).end();
    ioError = false;
    pending = 0;
    return false;
  }
  return true;
}

function zero(): void { memory.fill(area, 0, BSIZE); }

function setBits(p: usize, from: u32, to: u32): void {
  for (let i = from; i < to; i++) store<u8>(p + (i >> 3), <u8>(<u32>load<u8>(p + (i >> 3)) | (1 << (i & 7))));
}

/** A bitmap of `blocks` blocks from `start`: bits < used and bits >= limit set. */
function putBitmap(start: u32, blocks: u32, used: u32, limit: u32, zeroed: bool): bool {
  for (let k: u32 = 0; k < blocks; k++) {
    let lo = k * BITS_PER_BLOCK, hi = lo + BITS_PER_BLOCK;
    zero();
    let setAny = false;
    if (used > lo) { setBits(area, 0, (used < hi ? used : hi) - lo); setAny = true; }
    if (limit < hi) { setBits(area, limit > lo ? limit - lo : 0, BITS_PER_BLOCK); setAny = true; }
    if ((setAny || !zeroed) && !put(start + k)) return false;
  }
  return true;
}

export function fsMkfs(nblocks: u32, ninodes: u32, logBlocks: u32, created: u64, zeroed: bool): i32 {
  if (mstate != M_IDLE) {
    fsReason.reset().str("mkfs on a mounted file system").end();
    return -EINVAL;
  }
  let cap = device.capacity();
  if (nblocks == 0) nblocks = cap;
  if (nblocks > cap) {
    fsReason.reset().str("the device holds ").num(cap).str(" blocks, fewer than ").num(nblocks).end();
    return -EINVAL;
  }
  if (ninodes == 0) {
    ninodes = <u32>((<u64>nblocks * BSIZE / BYTES_PER_INODE + INODES_PER_BLOCK - 1) / INODES_PER_BLOCK * INODES_PER_BLOCK);
    if (ninodes < 64) ninodes = 64;
  }
  if (logBlocks == 0) {
    logBlocks = nblocks / 32;
    if (logBlocks < <u32>LOG_MIN_BLOCKS) logBlocks = LOG_MIN_BLOCKS;
    if (logBlocks > <u32>LOG_MAX_BLOCKS) logBlocks = LOG_MAX_BLOCKS;
  }
  if (!layout(mk, nblocks, logBlocks, ninodes)) {
    fsReason.reset().str("cannot lay out a file system of ").num(nblocks).str(" blocks with ").num(ninodes)
      .str(" inodes and a log of ").num(logBlocks).str(" blocks (at least 128 blocks, 512 KiB)").end();
    return -EINVAL;
  }
  let root = mk.dataStart; // the root directory's block
  // the log header (empty), the orphan table, the inode table
  zero();
  fillHeader(area, 0, 0, homes, dataCheck(area, 0));
  if (!put(LOG_START)) return -EIO;
  zero();
  if (!zeroed) {
    if (!put(mk.orphan)) return -EIO;
    for (let k: u32 = 1; k < mk.inodeBlocks; k++) if (!put(mk.inodeStart + k)) return -EIO;
  }
  let ip = area + ROOT_INO * INODE_SIZE;
  store<u16>(ip + I_TYPE, <u16>T_DIR);
  store<u16>(ip + I_NLINK, 2);
  store<u32>(ip + I_MODE, 0o755);
  store<u64>(ip + I_SIZE, 2 * DIRENT_SIZE);
  store<u64>(ip + I_ATIME, created);
  store<u64>(ip + I_MTIME, created);
  store<u64>(ip + I_CTIME, created);
  store<u32>(ip + I_BLOCKS, 1);
  store<u32>(ip + I_GEN, 1);
  store<u32>(ip + I_DIRECT, root);
  if (!put(mk.inodeStart)) return -EIO;
  if (!putBitmap(mk.imapStart, mk.imapBlocks, ROOT_INO + 1, ninodes, zeroed)) return -EIO;
  if (!putBitmap(mk.bmapStart, mk.bmapBlocks, root + 1, nblocks, zeroed)) return -EIO;
  dirInit(area, ROOT_INO, ROOT_INO);
  if (!put(root)) return -EIO;
  // the superblock last: until it is written, this is not a file system
  sbFill(area, mk, created);
  if (!put(0)) return -EIO;
  stageBegin(); stageAdd(0, BLK_FLUSH, 0); stageEnd();
  return 0;
}

export { EINVAL };
