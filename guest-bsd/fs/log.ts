// Transactions and the write-ahead log (format and commit steps: common/bsdfs.ts).
//
// An operation is atomic and restartable:
//   opBegin()        checks the running transaction has room for the largest operation
//                    (OP_MAX_BLOCKS); if not, starts a commit (the running transaction
//                    is snapshotted, so a new one begins at once) or, when a commit is
//                    already in flight, returns FS_WAIT.
//   logModify(b)     before the operation changes a cached block: the block's old
//                    contents go to the undo area, the block joins the transaction.
//   logFresh(b)      the same for a buffer the operation fills whole (no read, no copy).
//   opEnd()          the operation's changes stay (in the cache, in the transaction).
//   opAbort()        puts every block back as it was: an operation that met a missing
//                    block (FS_WAIT) or an error half-way leaves nothing behind, and is
//                    re-issued from the start.
// So operations are written as straight-line code; the first missing block unwinds.
//
// Commits run as a state machine driven by the device's completions (the kernel never
// waits): snapshot -> log writes -> flush -> header -> flush (durable) -> install ->
// flush -> empty header -> flush (so the next commit's log writes cannot reach the
// media before the empty header, even on a disk that reorders cached writes). A device that completes at once runs it to the end inside
// commitStart(). One commit is in flight at a time (one log area); operations go on in
// the next transaction meanwhile. After a write error the file system is read-only.
//
// Interface:
//   logInit(nlog, dev)           snapshot buffers for transactions of up to nlog blocks
//   logMount(hdr, logBlocks, seq)   geometry and the last commit's sequence number
//   opBegin(), logModify(b), logFresh(b), opEnd(), opAbort(), opRoom()
//   commitStart()                commit the running transaction if it has blocks
//   logSync(): u64               a commit that makes everything so far durable
//   logDurable(seq): i32         1 durable, 0 not yet, -EIO never (write error)
//   logIdle(): bool              nothing running, nothing in flight
//   logTick(now, interval)       commit when the running transaction is that old
//   logIoDone(req)               completion of a commit's request
//   counters: logCommits, logBlocksLogged, logJournalWaits

import {
  BSIZE, LOG_MAGIC_LO, LOG_MAGIC_HI, LH_MAGIC, LH_SEQ, LH_COUNT, LH_DATA_CHECK, LH_CHECK, LH_HOME, LH_MAX_COUNT,
  FNV_OFFSET, FNV_PRIME,
} from "../../common/bsdfs";
import { BlkReq, BlockDevice, BLK_WRITE, BLK_FLUSH } from "./blkio";
import { Buf, B_VALID, B_INTX, B_COMMIT, FS_WAIT, EIO, REQ_COMMIT, bsetFlags, bclearFlags, binvalidate, bfind, bioCount,
  bioWake, bioCountWrite } from "./bio";
import { fsReason } from "./msg";
import { fnvWords } from "./super";

/** The most distinct blocks one operation may change (a 64 KiB write: 16 data blocks,
 *  the inode, 4 indirect, 2 bitmap blocks; a rename: ~12). */
export const OP_MAX_BLOCKS: u32 = 32;

const C_IDLE: u32 = 0;
const C_LOG: u32 = 1;
const C_FLUSH_LOG: u32 = 2;
const C_HEADER: u32 = 3;
const C_FLUSH_HEADER: u32 = 4;
const C_INSTALL: u32 = 5;
const C_FLUSH_INSTALL: u32 = 6;
const C_CLEAR: u32 = 7;
const C_FLUSH_CLEAR: u32 = 8;
const C_FAILED: u32 = 9;

let device: BlockDevice = changetype<BlockDevice>(0);
let nsnap: u32 = 0;

// The running transaction
let txBufs: StaticArray<Buf | null> = changetype<StaticArray<Buf | null>>(0);
let txCount: u32 = 0;
let txLimit: u32 = 0;
let txStartNs: u64 = 0;

// The running operation's undo records
let undoBufs = new StaticArray<Buf | null>(OP_MAX_BLOCKS);
let undoFresh = new StaticArray<bool>(OP_MAX_BLOCKS);
let undoWasInTx = new StaticArray<bool>(OP_MAX_BLOCKS);
let undoData: usize = 0;
let undoCount: u32 = 0;
let inOp: bool = false;
let commitPending: bool = false;

// The commit in flight
let snapData: usize = 0;
let snapReqs: StaticArray<BlkReq> = changetype<StaticArray<BlkReq>>(0);
let snapHome: StaticArray<u32> = changetype<StaticArray<u32>>(0);
let hdrData: usize = 0;
let hdrReq = new BlkReq();
let flushReq = new BlkReq();
let hdrBlock: u32 = 0;
let state: u32 = C_IDLE;
let pending: u32 = 0;
let commitN: u32 = 0;
/** Seq of the commit in flight (or the last one). */
let commitSeq: u64 = 0;
let durableSeq: u64 = 0;
/** A sync asked for this seq to be committed. */
let wantSeq: u64 = 0;
let now: () => u64 = zeroClock;

export let logCommits: u64 = 0;
export let logBlocksLogged: u64 = 0;
export let logJournalWaits: u64 = 0;

function zeroClock(): u64 { return 0; }

export function logInit(nlog: u32, dev: BlockDevice, clock: () => u64): void {
  device = dev;
  now = clock;
  if (nsnap != 0) return;
  nsnap = nlog;
  txBufs = new StaticArray<Buf | null>(nlog);
  snapReqs = new StaticArray<BlkReq>(nlog);
  snapHome = new StaticArray<u32>(nlog);
  let mem = heap.alloc(<usize>(nlog + 1 + OP_MAX_BLOCKS) * BSIZE + BSIZE);
  let base = (mem + BSIZE - 1) & ~(<usize>BSIZE - 1);
  snapData = base;
  hdrData = base + (<usize>nlog << 12);
  undoData = hdrData + BSIZE;
  for (let i: u32 = 0; i < nlog; i++) {
    let r = new BlkReq();
    r.owner = REQ_COMMIT;
    r.index = i;
    r.data = snapData + (<usize>i << 12);
    unchecked(snapReqs[i] = r);
  }
  hdrReq.owner = REQ_COMMIT;
  hdrReq.data = hdrData;
  flushReq.owner = REQ_COMMIT;
  flushReq.op = BLK_FLUSH;
}

export function logSetDevice(dev: BlockDevice, clock: () => u64): void {
  device = dev;
  now = clock;
}

/** The snapshot area, free while no commit runs (mount's replay borrows it). */
export function logSnapArea(): usize { return snapData; }
export function logSnapCount(): u32 { return nsnap; }

/** Set up for a mounted file system; false (with the reason) if the cache is too small. */
export function logMount(header: u32, logBlocks: u32, seq: u64): bool {
  hdrBlock = header;
  let limit = logBlocks - 1;
  if (limit > nsnap) limit = nsnap;
  if (limit > <u32>LH_MAX_COUNT) limit = LH_MAX_COUNT;
  let byCache = (bioCount() - 2 * OP_MAX_BLOCKS - 32) / 2; // running + committing + an operation
  if (bioCount() < 2 * OP_MAX_BLOCKS + 32 + 2 * OP_MAX_BLOCKS) byCache = 0;
  if (limit > byCache) limit = byCache;
  if (limit < OP_MAX_BLOCKS) {
    fsReason.reset().str("the buffer cache (").num(bioCount()).str(" blocks) or the snapshot area (").num(nsnap)
      .str(") is too small for one transaction of ").num(OP_MAX_BLOCKS).str(" blocks").end();
    return false;
  }
  txLimit = limit;
  txCount = 0;
  state = C_IDLE;
  pending = 0;
  commitSeq = seq;
  durableSeq = seq;
  wantSeq = 0;
  inOp = false;
  commitPending = false;
  return true;
}

export function logTxLimit(): u32 { return txLimit; }
export function logFailed(): bool { return state == C_FAILED; }

// ---- Operations ---------------------------------------------------------------------

export function opBegin(): i32 {
  if (state == C_FAILED) {
    fsReason.reset().str("a write to the disk failed: the file system is read-only").end();
    return -EIO;
  }
  if (txCount + OP_MAX_BLOCKS > txLimit) {
    if (state == C_IDLE) commitStart();
    if (txCount + OP_MAX_BLOCKS > txLimit) { // a commit is in flight: wait for the log
      wantSeq = commitSeq + 1;
      logJournalWaits++;
      return FS_WAIT;
    }
  }
  inOp = true;
  undoCount = 0;
  return 0;
}

/** Distinct blocks the running operation may still change. */
export function opRoom(): u32 {
  return OP_MAX_BLOCKS - undoCount;
}

function addToTx(b: Buf): void {
  if (txCount == 0) txStartNs = now();
  unchecked(txBufs[txCount] = b);
  txCount++;
  bsetFlags(b, B_INTX);
}

function undoSlot(b: Buf): i32 {
  for (let i: u32 = 0; i < undoCount; i++) if (unchecked(undoBufs[i]) == b) return -1;
  if (undoCount == OP_MAX_BLOCKS) {
    fsReason.reset().str("an operation changed more than ").num(OP_MAX_BLOCKS).str(" blocks").end();
    return -EIO;
  }
  let i = undoCount++;
  unchecked(undoBufs[i] = b);
  unchecked(undoWasInTx[i] = (b.flags & B_INTX) != 0);
  return <i32>i;
}

/** b (valid) is about to change: keep its old contents, put it in the transaction. */
export function logModify(b: Buf): i32 {
  let i = undoSlot(b);
  if (i == -1) return 0;
  if (i < 0) return i;
  unchecked(undoFresh[i] = false);
  memory.copy(undoData + (<usize>i << 12), b.data, BSIZE);
  if (!(b.flags & B_INTX)) addToTx(b);
  return 0;
}

/** b will be filled whole by the operation (its old contents do not matter). */
export function logFresh(b: Buf): i32 {
  if (b.flags & B_VALID) return logModify(b);
  let i = undoSlot(b);
  if (i == -1) return 0;
  if (i < 0) return i;
  unchecked(undoFresh[i] = true);
  b.flags |= B_VALID;
  if (!(b.flags & B_INTX)) addToTx(b);
  return 0;
}

export function opEnd(): void {
  inOp = false;
  undoCount = 0;
  if (state == C_IDLE && (commitPending || txCount >= txLimit / 2)) commitStart();
}

export function opAbort(): void {
  let i = undoCount;
  while (i > 0) {
    i--;
    let b = unchecked(undoBufs[i])!;
    if (unchecked(undoFresh[i])) binvalidate(b);
    else memory.copy(b.data, undoData + (<usize>i << 12), BSIZE);
    if (!unchecked(undoWasInTx[i])) {
      txCount--; // added by this operation: it is the transaction's last block
      unchecked(txBufs[txCount] = null);
      bclearFlags(b, B_INTX);
    }
  }
  undoCount = 0;
  inOp = false;
  if (state == C_IDLE && commitPending) commitStart();
}

// ---- Commit -------------------------------------------------------------------------

const fnv = fnvWords;

/** The checksum of a log header block (its check field taken as 0). */
export function headerCheck(p: usize): u32 {
  let h = fnv(p, LH_CHECK / 4, <u32>FNV_OFFSET);
  h = (h ^ 0) * <u32>FNV_PRIME;
  return fnv(p + LH_CHECK + 4, (BSIZE - LH_CHECK - 4) / 4, h);
}

export function dataCheck(p: usize, blocks: u32): u32 {
  return fnv(p, blocks * (BSIZE / 4), <u32>FNV_OFFSET);
}

export function fillHeader(p: usize, seq: u64, count: u32, homes: StaticArray<u32>, check: u32): void {
  memory.fill(p, 0, BSIZE);
  store<u32>(p + LH_MAGIC, LOG_MAGIC_LO);
  store<u32>(p + LH_MAGIC + 4, LOG_MAGIC_HI);
  store<u64>(p + LH_SEQ, seq);
  store<u32>(p + LH_COUNT, count);
  store<u32>(p + LH_DATA_CHECK, check);
  for (let i: u32 = 0; i < count; i++) store<u32>(p + LH_HOME + (<usize>i << 2), unchecked(homes[i]));
  store<u32>(p + LH_CHECK, headerCheck(p));
}

export function commitStart(): void {
  if (state != C_IDLE || txCount == 0) return;
  if (inOp) { commitPending = true; return; }
  commitPending = false;
  commitSeq++;
  commitN = txCount;
  for (let i: u32 = 0; i < commitN; i++) {
    let b = unchecked(txBufs[i])!;
    unchecked(txBufs[i] = null);
    memory.copy(snapData + (<usize>i << 12), b.data, BSIZE);
    unchecked(snapHome[i] = b.block);
    b.commitSeq = commitSeq;
    b.flags |= B_COMMIT;
    bclearFlags(b, B_INTX);
  }
  txCount = 0;
  logBlocksLogged += commitN;
  state = C_LOG;
  pending = commitN + 1; // +1 so completions during the loop cannot finish the stage
  for (let i: u32 = 0; i < commitN; i++) {
    let r = unchecked(snapReqs[i]);
    r.op = BLK_WRITE;
    r.block = hdrBlock + 1 + i;
    issue(r);
  }
  stageIssued();
}

function issue(r: BlkReq): void {
  r.status = 0;
  if (r.op == BLK_WRITE) bioCountWrite();
  device.start(r);
}

function stageIssued(): void {
  pending--;
  if (pending == 0) advance();
}

export function logIoDone(r: BlkReq): void {
  if (r.status != 0 && state != C_FAILED) {
    state = C_FAILED;
    fsReason.reset().str("the disk failed a write of block ").num(r.block).str(" during commit ").num(commitSeq)
      .str(": the file system is read-only").end();
    bioWake();
  }
  if (state == C_FAILED) return;
  pending--;
  if (pending == 0) advance();
}

function issueOne(r: BlkReq): void {
  pending = 2;
  issue(r);
  stageIssued();
}

function advance(): void {
  if (state == C_LOG) {
    state = C_FLUSH_LOG;
    issueOne(flushReq);
  } else if (state == C_FLUSH_LOG) {
    state = C_HEADER;
    fillHeader(hdrData, commitSeq, commitN, snapHome, dataCheck(snapData, commitN));
    hdrReq.op = BLK_WRITE;
    hdrReq.block = hdrBlock;
    issueOne(hdrReq);
  } else if (state == C_HEADER) {
    state = C_FLUSH_HEADER;
    issueOne(flushReq);
  } else if (state == C_FLUSH_HEADER) {
    durableSeq = commitSeq; // the commit point is on the media
    state = C_INSTALL;
    pending = commitN + 1;
    for (let i: u32 = 0; i < commitN; i++) {
      let r = unchecked(snapReqs[i]);
      r.block = unchecked(snapHome[i]);
      issue(r);
    }
    stageIssued();
    bioWake(); // syncers waiting for durableSeq
  } else if (state == C_INSTALL) {
    state = C_FLUSH_INSTALL;
    issueOne(flushReq);
  } else if (state == C_FLUSH_INSTALL) {
    for (let i: u32 = 0; i < commitN; i++) { // home copies are current: the cache may let go
      let b = bfind(unchecked(snapHome[i]));
      if (b && (b.flags & B_COMMIT) && b.commitSeq == commitSeq) bclearFlags(b, B_COMMIT);
    }
    state = C_CLEAR;
    fillHeader(hdrData, commitSeq, 0, snapHome, dataCheck(snapData, 0));
    issueOne(hdrReq);
  } else if (state == C_CLEAR) {
    state = C_FLUSH_CLEAR; // the next commit's log writes must not pass the empty header
    issueOne(flushReq);
  } else if (state == C_FLUSH_CLEAR) {
    state = C_IDLE;
    logCommits++;
    bioWake();
    if (!inOp && (commitPending || wantSeq > commitSeq || txCount + OP_MAX_BLOCKS > txLimit)) commitStart();
  }
}

// ---- Durability ---------------------------------------------------------------------

/** Ask for everything done so far to become durable; returns the commit to wait for. */
export function logSync(): u64 {
  if (txCount > 0) {
    let seq = commitSeq + 1; // the running transaction commits after the one in flight
    if (state == C_IDLE) commitStart();
    else if (wantSeq < seq) wantSeq = seq;
    return seq;
  }
  return state == C_IDLE || state == C_FAILED ? durableSeq : commitSeq;
}

export function logDurable(seq: u64): i32 {
  if (seq <= durableSeq) return 1;
  return state == C_FAILED ? -EIO : 0;
}

export function logIdle(): bool {
  return txCount == 0 && (state == C_IDLE || state == C_FAILED);
}

export function logTick(t: u64, interval: u64): void {
  if (state == C_IDLE && txCount > 0 && t - txStartNs >= interval) commitStart();
}

export function logTxCount(): u32 { return txCount; }
export function logDurableSeq(): u64 { return durableSeq; }
