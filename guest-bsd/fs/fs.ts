// BSDFS: the system disk's file system, as the BSD kernel (and build/fstool.wasm) calls
// it. Format and crash consistency: common/bsdfs.ts. Buffer cache: bio.ts; journal and
// restartable operations: log.ts (framing: op.ts); inodes and allocation: inode.ts;
// directories and paths: dir.ts; mkdir/unlink/rmdir/link/rename: names.ts; mount and
// mkfs: mount.ts; fsck: fsck.ts; the block device: blkio.ts.
//
// Every call is restartable. A call returns FS_WAIT (-1000) when a block it needs is
// not in the cache yet (its read is started) or the journal has no room (a commit is
// started): nothing has changed; the caller sleeps until the wake-up hook runs and
// issues the same call again. Errors are negative WASI errno values (ENOENT -44,
// EEXIST -20, ENOTDIR -54, EISDIR -31, ENOSPC -51, ENOTEMPTY -55, EINVAL -28,
// ENAMETOOLONG -37, EIO -29, EFBIG -22, ENFILE -41, EPERM -63, EBUSY -10, EMLINK -34,
// ELOOP -32, ENOTCAPABLE -76);
// after EIO, fsReasonPtr/Len say what was wrong. Paths and names are byte ranges in
// kernel memory; a path starting with '/' starts at the root, otherwise at `dir`.
// Symbolic links are followed as Linux follows them (dir.ts); sparse-file seeking and
// extended attributes are not provided.
//
// In the kernel (test/guests/bsdfs-test.ts does all of it over the SCSI driver):
//   boot:     fsInit(1024, 256, 256, adapter) (~5.3 MiB), fsSetWakeup, fsSetClock,
//             then fsMount() until it answers 0 (re-issued after each wake-up)
//   a call:   r = fsX(...); r == FS_WAIT: sleep the process on the file system, issue
//             the same call again when the hook has run (from the kernel, not the hook)
//   fsync:    seq = fsSync(); sleep until fsSyncDone(seq) != 0
//   clock:    fsTick(now) each tick (cheap when there is nothing to do)
//   close:    fsIput(ino); an unlinked file is reclaimed by fsTick afterwards
//
// Interface:
//   fsInit(nbuf, nlog, ninode, dev)   allocate everything (never again): nbuf cache
//                              blocks, transactions of up to nlog blocks, ninode
//                              in-memory inode references
//   fsSetWakeup(fn)            fn() runs when a waiter may go on (a read done, a commit
//                              durable or finished); it runs inside the file system's
//                              completion path (the device's interrupt): it must only
//                              mark sleepers runnable, never call the file system
//   fsSetClock(fn: () => u64 ns), fsSetCommitInterval(ns) (5 s by default)
//   fsMount(): i32             0 mounted, FS_WAIT, < 0 refused (fsReason says why)
//   fsUnmount(): i32           0 when everything is committed and on the media
//   fsRoot(): u32              the root directory's inode (1)
//   fsLookup(dir, path, len): i64          the inode, no reference taken (links followed)
//   fsLookupLink(dir, path, len): i64      the same, a link in the last component not
//                                          followed (lstat)
//   fsOpen(dir, path, len, oflags, mode, uid, gid): i64
//                              O_CREAT/O_EXCL/O_TRUNC/O_DIRECTORY (WASI values),
//                              O_NOFOLLOW (a link in the last component: ELOOP);
//                              the inode with a reference taken (fsIput when closed)
//   fsIget(ino): i32, fsIput(ino): i32     references of open files and cwds; an
//                              unlinked inode is freed after its last fsIput
//   fsRead(ino, off, buf, len): i32        bytes read (<= 64 KiB per call; 0 at EOF)
//   fsWrite(ino, off, buf, len): i32       bytes written (<= 64 KiB per call; short
//                              only when the disk is full)
//   fsTruncate(ino, len), fsStat(ino, out), fsReaddir(dir, cookie, out): 1 | 0 (end)
//   fsMkdir(dir, path, len, mode, uid, gid), fsRmdir(dir, path, len),
//   fsUnlink(dir, path, len), fsLink(d1, p1, l1, d2, p2, l2),
//   fsRename(d1, p1, l1, d2, p2, l2)       atomic, also across directories
//   fsSetTimes(ino, atime, mtime, flags), fsChmod(ino, mode), fsChown(ino, uid, gid)
//   fsSymlink(dir, path, len, target, tlen, uid, gid), fsReadlink(dir, path, len, out, max)
//   fsConfine(on)              resolve paths beneath their starting directory (dir.ts)
//   fsSync(): i64              the commit that makes everything so far durable;
//   fsSyncDone(seq): i32       1 durable, 0 not yet (sleep), -EIO never
//   fsTick(now)                the periodic call: commits a transaction older than
//                              the interval, reclaims unlinked inodes
//   fsService(): i32           reclaim work: 0 none left, 1 more (call again), FS_WAIT
//   fsFsck(): i32              (fsck.ts) 0 clean, > 0 problems, FS_WAIT
//   fsStats(out)               counters (common/bsdfs.ts FSS_*)
//   fsReasonPtr(), fsReasonLen()           text of the last refusal / EIO

import {
  BSIZE, I_TYPE, I_NLINK, I_MODE, I_UID, I_GID, I_SIZE, I_ATIME, I_MTIME, I_CTIME, I_BLOCKS, I_GEN,
  T_FILE, T_DIR, T_LINK, O_NOFOLLOW, ROOT_INO, MODE_MASK, MAX_FILE_BLOCKS, DIRENT_SIZE, DE_INUM, DE_TYPE, DE_NAMELEN, DE_NAME,
  O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC, SET_ATIM, SET_ATIM_NOW, SET_MTIM, SET_MTIM_NOW, FS_MAX_IO,
  ST_INO, ST_SIZE, ST_ATIME, ST_MTIME, ST_CTIME, ST_BLOCKS, ST_TYPE, ST_NLINK, ST_MODE, ST_UID, ST_GID, ST_GEN,
  RD_NEXT, RD_INO, RD_TYPE, RD_NAMELEN, RD_NAME, ORPHAN_SLOTS,
  FSS_READS, FSS_WRITES, FSS_HITS, FSS_MISSES, FSS_COMMITS, FSS_LOGGED, FSS_WAITS, FSS_JOURNAL_WAITS,
  FSS_FREE_BLOCKS, FSS_FREE_INODES, FSS_TX_BLOCKS, FSS_READ_ERRORS, FSS_DURABLE_SEQ,
} from "../../common/bsdfs";
import { BlkReq, BlockDevice, blkSetDone } from "./blkio";
import {
  FS_WAIT, EIO, REQ_CACHE, REQ_COMMIT, REQ_RAW, bioInit, bioDone, bioNextEpoch, bread, bget, bprefetch, bioErr,
  bioSetWakeup, bioHits, bioMisses, bioReads, bioWrites, bioReadErrors,
} from "./bio";
import {
  logInit, logModify, logFresh, logSync, logDurable, logTick, logIoDone, logCommits,
  logBlocksLogged, logJournalWaits, logTxCount, logDurableSeq, logIdle, logFailed, commitStart,
} from "./log";
import {
  itabInit, iget, iput, irefs, iroom, iread, imodify, bmap, ialloc, ifree, truncStep, orphanRemove,
  orphanAt, freeBlocks, freeInodes, ENOSPC, ENFILE, EFBIG,
} from "./inode";
import {
  dirLookup, dirAdd, dirEntry, dirCheckSize, namei, nameiParent, isDotOrDotDot, linkData,
  lastName, lastLen, lastSlash, ENOENT, ENOTDIR, EINVAL, ELOOP,
} from "./dir";
import { msgInit, fsReason } from "./msg";
import { mountInit, mountIoDone, isMounted, mountDone } from "./mount";
import { begin, finish, look, ret, nowNs, setClock, notMounted, touchTimes, opWaits, EEXIST, EISDIR } from "./op";

import { fsService } from "./names";

export { fsMkdir, fsRmdir, fsUnlink, fsLink, fsRename, fsService, fsSymlink } from "./names";
export { fsConfine } from "./dir";

let commitIntervalNs: u64 = 5000000000;

function ioDone(req: BlkReq): void {
  if (req.owner == REQ_CACHE) bioDone(req);
  else if (req.owner == REQ_COMMIT) logIoDone(req);
  else if (req.owner == REQ_RAW) mountIoDone(req);
}

export function fsInit(nbuf: u32, nlog: u32, ninode: u32, dev: BlockDevice): void {
  msgInit(65536);
  bioInit(nbuf, dev);
  logInit(nlog, dev, nowNs);
  itabInit(ninode);
  mountInit(dev, nlog);
  blkSetDone(ioDone);
}

export function fsSetWakeup(fn: () => void): void { bioSetWakeup(fn); }
export function fsSetClock(fn: () => u64): void { setClock(fn); }
export function fsSetCommitInterval(ns: u64): void { commitIntervalNs = ns; }
export function fsRoot(): u32 { return ROOT_INO; }
export function fsReasonPtr(): usize { return fsReason.ptr; }
export function fsReasonLen(): u32 { return fsReason.len; }
export function fsNow(): u64 { return nowNs(); }

// ---- Lookup, open, stat, readdir ----------------------------------------------------------

export function fsLookup(dir: u32, path: usize, len: u32): i64 {
  let r = look();
  if (r < 0) return r;
  return ret(namei(dir, path, len, true));
}

/** As fsLookup, but a symbolic link in the last component is the answer (lstat). */
export function fsLookupLink(dir: u32, path: usize, len: u32): i64 {
  let r = look();
  if (r < 0) return r;
  return ret(namei(dir, path, len, false));
}

export function fsIget(ino: u32): i32 {
  let r = look();
  if (r < 0) return r;
  let ip = iread(ino);
  if (ip == 0) return <i32>ret(bioErr);
  if (load<u16>(ip + I_TYPE) == 0) return -ENOENT;
  return iget(ino) ? 0 : -ENFILE;
}

/** Drop a reference; an unlinked inode's space is reclaimed by fsService / fsTick. */
export function fsIput(ino: u32): i32 {
  return <i32>iput(ino);
}

export function fsOpen(dir: u32, path: usize, len: u32, oflags: u32, mode: u32, uid: u32, gid: u32): i64 {
  let follow = (oflags & O_NOFOLLOW) == 0;
  if (!(oflags & O_CREAT)) {
    let r = look();
    if (r < 0) return r;
    let ino = namei(dir, path, len, follow);
    if (ino < 0) return ret(ino);
    return openExisting(<u32>ino, oflags);
  }
  let r = begin();
  if (r < 0) return r;
  let made = create(dir, path, len, oflags, mode, uid, gid);
  if (made < 0) return finish(<i32>made);
  finish(0);
  if (made == 0) { // it was there already
    if (!foundLink || !follow) return openExisting(foundIno, oflags); // a link not followed: ELOOP
    r = look();
    if (r < 0) return r;
    let ino = namei(dir, path, len, true); // where the link leads (a dangling one: ENOENT)
    if (ino < 0) return ret(ino);
    return openExisting(<u32>ino, oflags);
  }
  iget(<u32>made);
  return made;
}

let foundIno: u32 = 0;
let foundLink: bool = false;

/** Inside an operation: create a file, or find it (returns 0, foundIno set). */
function create(dir: u32, path: usize, len: u32, oflags: u32, mode: u32, uid: u32, gid: u32): i64 {
  let parent = nameiParent(dir, path, len);
  if (parent < 0) return parent;
  if (lastLen == 0 || isDotOrDotDot(lastName, lastLen)) return oflags & O_EXCL ? -EEXIST : -EISDIR;
  let pino = <u32>parent;
  let pp = iread(pino);
  if (pp == 0) return bioErr;
  if (load<u16>(pp + I_NLINK) == 0) return -ENOENT; // a removed directory
  let found = dirLookup(pino, pp, lastName, lastLen);
  if (found < 0) return found;
  if (found > 0) {
    if (oflags & O_EXCL) return -EEXIST;
    foundIno = <u32>found;
    let fp = iread(foundIno);
    if (fp == 0) return bioErr;
    foundLink = <u32>load<u16>(fp + I_TYPE) == T_LINK;
    return 0;
  }
  if (lastSlash) return -EISDIR;
  if (oflags & O_DIRECTORY) return -EINVAL;
  if (!iroom(0)) return -ENFILE;
  let ino = ialloc(T_FILE, mode & MODE_MASK, uid, gid, nowNs());
  if (ino < 0) return ino;
  let ip = imodify(<u32>ino);
  if (ip == 0) return bioErr;
  store<u16>(ip + I_NLINK, 1);
  pp = imodify(pino);
  if (pp == 0) return bioErr;
  let r = dirAdd(pino, pp, lastName, lastLen, <u32>ino, T_FILE);
  if (r < 0) return r;
  touchTimes(pp, nowNs(), true);
  return ino;
}

function openExisting(ino: u32, oflags: u32): i64 {
  bioNextEpoch();
  let ip = iread(ino);
  if (ip == 0) return ret(bioErr);
  let type = <u32>load<u16>(ip + I_TYPE);
  if (type == T_LINK) return -ELOOP; // a link not followed (O_NOFOLLOW), as Linux
  if ((oflags & O_DIRECTORY) && type != T_DIR) return -ENOTDIR;
  if (oflags & O_TRUNC) {
    if (type == T_DIR) return -EISDIR;
    if (!iroom(ino)) return -ENFILE;
    let r = fsTruncate(ino, 0);
    if (r < 0) return r;
  }
  return iget(ino) ? <i64>ino : -ENFILE;
}

export function fsStat(ino: u32, out: usize): i32 {
  let r = look();
  if (r < 0) return r;
  let ip = iread(ino);
  if (ip == 0) return <i32>ret(bioErr);
  if (load<u16>(ip + I_TYPE) == 0) return -ENOENT;
  store<u64>(out + ST_INO, ino);
  store<u64>(out + ST_SIZE, load<u64>(ip + I_SIZE));
  store<u64>(out + ST_ATIME, load<u64>(ip + I_ATIME));
  store<u64>(out + ST_MTIME, load<u64>(ip + I_MTIME));
  store<u64>(out + ST_CTIME, load<u64>(ip + I_CTIME));
  store<u32>(out + ST_BLOCKS, load<u32>(ip + I_BLOCKS));
  store<u16>(out + ST_TYPE, load<u16>(ip + I_TYPE));
  store<u16>(out + ST_NLINK, load<u16>(ip + I_NLINK));
  store<u32>(out + ST_MODE, load<u32>(ip + I_MODE));
  store<u32>(out + ST_UID, load<u32>(ip + I_UID));
  store<u32>(out + ST_GID, load<u32>(ip + I_GID));
  store<u32>(out + ST_GEN, load<u32>(ip + I_GEN));
  return 0;
}

/** The first used entry at index >= cookie into out; 1, or 0 at the end. */
export function fsReaddir(dir: u32, cookie: u64, out: usize): i32 {
  let r = look();
  if (r < 0) return r;
  let dp = iread(dir);
  if (dp == 0) return <i32>ret(bioErr);
  if (<u32>load<u16>(dp + I_TYPE) != T_DIR) return -ENOTDIR;
  if (load<u16>(dp + I_NLINK) == 0) return 0; // removed while open: empty
  let c = dirCheckSize(dir, dp);
  if (c < 0) return c;
  let n = load<u64>(dp + I_SIZE) / DIRENT_SIZE;
  for (let i = cookie; i < n; i++) {
    let e = dirEntry(dir, dp, <u32>i);
    if (e == 0) return <i32>ret(bioErr);
    let ino = load<u32>(e + DE_INUM);
    if (ino == 0) continue;
    let nl = <u32>load<u8>(e + DE_NAMELEN);
    store<u64>(out + RD_NEXT, i + 1);
    store<u32>(out + RD_INO, ino);
    store<u8>(out + RD_TYPE, load<u8>(e + DE_TYPE));
    store<u8>(out + RD_NAMELEN, <u8>nl);
    memory.copy(out + RD_NAME, e + DE_NAME, nl);
    return 1;
  }
  return 0;
}

// ---- Symbolic links ------------------------------------------------------------------

/** A link's target (not followed) into out, at most max bytes: the bytes copied;
 *  -EINVAL when path is not a link. */
export function fsReadlink(dir: u32, path: usize, len: u32, out: usize, max: u32): i32 {
  let r = look();
  if (r < 0) return r;
  let ino = namei(dir, path, len, false);
  if (ino < 0) return <i32>ret(ino);
  let ip = iread(<u32>ino);
  if (ip == 0) return <i32>ret(bioErr);
  if (<u32>load<u16>(ip + I_TYPE) != T_LINK) return -EINVAL;
  let size = <u32>load<u64>(ip + I_SIZE);
  let t = linkData(<u32>ino, ip);
  if (t == 0) return <i32>ret(bioErr);
  let n = size < max ? size : max;
  memory.copy(out, t, n);
  return <i32>n;
}

// ---- Read, write, truncate ------------------------------------------------------------

export function fsRead(ino: u32, off: u64, buf: usize, len: u32): i32 {
  let r = look();
  if (r < 0) return r;
  let ip = iread(ino);
  if (ip == 0) return <i32>ret(bioErr);
  let type = <u32>load<u16>(ip + I_TYPE);
  if (type == T_DIR) return -EISDIR;
  if (type != T_FILE) return -ENOENT;
  let size = load<u64>(ip + I_SIZE);
  if (size > (<u64>MAX_FILE_BLOCKS << 12)) return badSize(ino, size);
  if (off >= size || len == 0) return 0;
  let n = <u64>(len < <u32>FS_MAX_IO ? len : FS_MAX_IO);
  if (n > size - off) n = size - off;
  let first = <u32>(off >> 12), last = <u32>((off + n - 1) >> 12);
  // gather: start every missing read at once, wait once
  let missing = false;
  for (let fb = first; fb <= last; fb++) {
    let blk = bmap(ino, ip, fb, false);
    if (blk == FS_WAIT) { missing = true; continue; }
    if (blk < 0) return <i32>blk;
    if (blk > 0 && !bprefetch(<u32>blk)) missing = true;
  }
  if (missing) return <i32>ret(FS_WAIT);
  let done: u32 = 0;
  let pos = off;
  while (<u64>done < n) {
    let fb = <u32>(pos >> 12);
    let o = <u32>(pos & (BSIZE - 1));
    let piece: u32 = <u32>BSIZE - o;
    if (<u64>piece > n - done) piece = <u32>(n - done);
    let blk = bmap(ino, ip, fb, false);
    if (blk < 0) return <i32>ret(blk);
    if (blk == 0) memory.fill(buf + done, 0, piece);
    else {
      let b = bread(<u32>blk);
      if (!b) return <i32>ret(bioErr);
      memory.copy(buf + done, b.data + o, piece);
    }
    done += piece;
    pos += piece;
  }
  readAhead(ino, ip, last + 1, size);
  return <i32>done;
}

function badSize(ino: u32, size: u64): i32 {
  fsReason.reset().str("inode ").num(ino).str(": size ").num(size).str(" is beyond the largest file").end();
  return -EIO;
}

const READAHEAD: u32 = 16;

/** Start reading the blocks a sequential reader wants next (nothing waits for them). */
function readAhead(ino: u32, ip: usize, fb: u32, size: u64): void {
  let end = <u32>((size + BSIZE - 1) >> 12);
  for (let i: u32 = 0; i < READAHEAD && fb + i < end; i++) {
    let blk = bmap(ino, ip, fb + i, false);
    if (blk <= 0) return;
    bprefetch(<u32>blk);
  }
}

export function fsWrite(ino: u32, off: u64, buf: usize, len: u32): i32 {
  bioNextEpoch();
  if (!isMounted()) return notMounted();
  let ip = iread(ino);
  if (ip == 0) return <i32>ret(bioErr);
  let type = <u32>load<u16>(ip + I_TYPE);
  if (type == T_DIR) return -EISDIR;
  if (type != T_FILE) return -ENOENT;
  if (len == 0) return 0;
  let max = <u64>MAX_FILE_BLOCKS << 12;
  if (load<u64>(ip + I_SIZE) > max) return badSize(ino, load<u64>(ip + I_SIZE));
  if (off >= max) return -EFBIG;
  let n = <u64>(len < <u32>FS_MAX_IO ? len : FS_MAX_IO);
  if (n > max - off) n = max - off;
  // partial first and last blocks are read before anything changes
  let missing = !prefetchPartial(ino, ip, off) || !prefetchPartial(ino, ip, off + n - 1);
  if (missing) return <i32>ret(FS_WAIT);
  let r = begin();
  if (r < 0) return r;
  let done = writeBlocks(ino, off, buf, <u32>n);
  return finish(done);
}

/** Is the block holding byte `at` here (or a hole, or whole-written)? Starts its read. */
function prefetchPartial(ino: u32, ip: usize, at: u64): bool {
  let blk = bmap(ino, ip, <u32>(at >> 12), false);
  if (blk == FS_WAIT) return false;
  if (blk <= 0) return true; // errors show up again in writeBlocks
  return bprefetch(<u32>blk);
}

function writeBlocks(ino: u32, off: u64, buf: usize, n: u32): i32 {
  let ip = imodify(ino);
  if (ip == 0) return bioErr;
  let done: u32 = 0;
  let pos = off;
  while (done < n) {
    let fb = <u32>(pos >> 12);
    let o = <u32>(pos & (BSIZE - 1));
    let piece: u32 = <u32>BSIZE - o;
    if (piece > n - done) piece = n - done;
    let blk = bmap(ino, ip, fb, true);
    if (blk < 0) {
      if (blk == -ENOSPC && done > 0) break; // a short write: what fitted stays
      return <i32>blk;
    }
    let b = piece == BSIZE ? bget(<u32>blk) : bread(<u32>blk);
    if (!b) return bioErr;
    let r = piece == BSIZE ? logFresh(b) : logModify(b);
    if (r < 0) return r;
    memory.copy(b.data + o, buf + done, piece);
    done += piece;
    pos += piece;
  }
  if (pos > load<u64>(ip + I_SIZE)) store<u64>(ip + I_SIZE, pos);
  touchTimes(ip, nowNs(), true);
  return <i32>done;
}

/** Set the size; shrinking frees blocks in bounded operations (one call does them all
 *  unless a block must be read: then FS_WAIT, and the next call goes on from there). */
export function fsTruncate(ino: u32, len: u64): i32 {
  if (len > (<u64>MAX_FILE_BLOCKS << 12)) return -EFBIG;
  while (true) {
    let r = begin();
    if (r < 0) return r;
    let ip = iread(ino);
    if (ip == 0) return finish(bioErr);
    let type = <u32>load<u16>(ip + I_TYPE);
    if (type == T_DIR) return finish(-EISDIR);
    if (type != T_FILE) return finish(-ENOENT);
    if (load<u64>(ip + I_SIZE) == len) return finish(0);
    ip = imodify(ino);
    if (ip == 0) return finish(bioErr);
    let s = truncStep(ino, ip, len);
    if (s < 0) return finish(s);
    touchTimes(ip, nowNs(), true);
    finish(0);
    if (s == 0) return 0;
  }
}

// ---- Attributes -------------------------------------------------------------------------

export function fsSetTimes(ino: u32, atime: u64, mtime: u64, flags: u32): i32 {
  let r = begin();
  if (r < 0) return r;
  let ip = imodify(ino);
  if (ip == 0) return finish(bioErr);
  if (load<u16>(ip + I_TYPE) == 0) return finish(-ENOENT);
  let t = nowNs();
  if (flags & SET_ATIM_NOW) store<u64>(ip + I_ATIME, t);
  else if (flags & SET_ATIM) store<u64>(ip + I_ATIME, atime);
  if (flags & SET_MTIM_NOW) store<u64>(ip + I_MTIME, t);
  else if (flags & SET_MTIM) store<u64>(ip + I_MTIME, mtime);
  store<u64>(ip + I_CTIME, t);
  return finish(0);
}

export function fsChmod(ino: u32, mode: u32): i32 {
  let r = begin();
  if (r < 0) return r;
  let ip = imodify(ino);
  if (ip == 0) return finish(bioErr);
  if (load<u16>(ip + I_TYPE) == 0) return finish(-ENOENT);
  store<u32>(ip + I_MODE, mode & MODE_MASK);
  store<u64>(ip + I_CTIME, nowNs());
  return finish(0);
}

export function fsChown(ino: u32, uid: u32, gid: u32): i32 {
  let r = begin();
  if (r < 0) return r;
  let ip = imodify(ino);
  if (ip == 0) return finish(bioErr);
  if (load<u16>(ip + I_TYPE) == 0) return finish(-ENOENT);
  store<u32>(ip + I_UID, uid);
  store<u32>(ip + I_GID, gid);
  store<u64>(ip + I_CTIME, nowNs());
  return finish(0);
}

// ---- Durability, background work, statistics ---------------------------------------------

/** Reclaim what can be, commit everything, wait for it: 0 when done (then mount again
 *  before any other call). References still held are dropped (their orphans are
 *  reclaimed at the next mount). */
export function fsUnmount(): i32 {
  if (!isMounted()) return 0;
  if (logFailed()) { // nothing more can be written
    mountDone();
    return -EIO;
  }
  while (true) {
    let s = fsService();
    if (s == FS_WAIT) return FS_WAIT;
    if (s <= 0) break; // done, or an error that fsck will show: unmount all the same
  }
  if (!logIdle()) {
    commitStart();
    if (!logIdle()) return FS_WAIT;
  }
  let failed = logFailed();
  mountDone();
  return failed ? -EIO : 0;
}

export function fsSync(): i64 {
  if (!isMounted()) return notMounted();
  return <i64>logSync();
}

export function fsSyncDone(seq: u64): i32 {
  return logDurable(seq);
}

export function fsTick(now: u64): void {
  if (!isMounted()) return;
  logTick(now, commitIntervalNs);
  fsService();
}

export function fsStats(out: usize): void {
  store<u64>(out + FSS_READS, bioReads);
  store<u64>(out + FSS_WRITES, bioWrites);
  store<u64>(out + FSS_HITS, bioHits);
  store<u64>(out + FSS_MISSES, bioMisses);
  store<u64>(out + FSS_COMMITS, logCommits);
  store<u64>(out + FSS_LOGGED, logBlocksLogged);
  store<u64>(out + FSS_WAITS, opWaits);
  store<u64>(out + FSS_JOURNAL_WAITS, logJournalWaits);
  store<u64>(out + FSS_FREE_BLOCKS, freeBlocks);
  store<u64>(out + FSS_FREE_INODES, freeInodes);
  store<u64>(out + FSS_TX_BLOCKS, logTxCount());
  store<u64>(out + FSS_READ_ERRORS, bioReadErrors);
  store<u64>(out + FSS_DURABLE_SEQ, logDurableSeq());
}

export { FS_WAIT };
