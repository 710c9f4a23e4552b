// The namespace operations: mkdir, unlink, rmdir, link, rename, and the reclaiming of
// unlinked inodes. Each operation is atomic (one begin/finish: every block it changes
// commits together or not at all), so a rename across directories is atomic on the
// disk too. An inode that loses its last link goes to the orphan table; fsService
// truncates it in bounded steps and frees it once nothing holds it (fsIput). Unlink,
// rmdir and rename try that at once (the table has 1024 slots), and fsTick goes on
// with what had to wait for a block.
//
// Interface (see fs.ts for the conventions):
//   fsMkdir(dir, path, len, mode, uid, gid), fsRmdir(dir, path, len),
//   fsUnlink(dir, path, len), fsLink(d1, p1, l1, d2, p2, l2),
//   fsRename(d1, p1, l1, d2, p2, l2), fsSymlink(dir, path, len, target, tlen, uid, gid)
//   fsService(): i32             reclaim: 0 nothing left, 1 more (call again), FS_WAIT

import {
  I_TYPE, I_NLINK, I_SIZE, I_CTIME, I_BLOCKS, I_DIRECT, T_FILE, T_DIR, T_LINK, LINK_MAX, ROOT_INO, MODE_MASK, DIRENT_SIZE, DE_INUM,
  ORPHAN_SLOTS,
} from "../../common/bsdfs";
import { EIO, bioErr } from "./bio";
import {
  iread, imodify, ialloc, balloc, bnew, ifree, irefs, truncStep, orphanAdd, orphanAt, orphanRemove, reclaimWanted,
  setReclaimWanted,
} from "./inode";
import { isMounted } from "./mount";
import {
  dirLookup, dirAdd, dirSetEntry, dirIsEmpty, dirInit, dirEntry, namei, nameiParent, isDotOrDotDot, foundBlock,
  foundOff, lastName, lastLen, lastSlash, ENOENT, ENOTDIR, EINVAL, ENAMETOOLONG,
} from "./dir";
import { begin, finish, nowNs, touchTimes, EEXIST, EISDIR, ENOTEMPTY, EPERM, EBUSY, EMLINK } from "./op";
import { fsReason } from "./msg";

export function fsMkdir(dir: u32, path: usize, len: u32, mode: u32, uid: u32, gid: u32): i32 {
  let r = begin();
  if (r < 0) return r;
  return finish(mkdir(dir, path, len, mode, uid, gid));
}

/** The directory to add path's last component to, a name that must not exist yet: its
 *  inode, or -errno (EEXIST; ENOENT in a removed directory). lastName, lastLen and
 *  lastSlash (dir.ts) describe the name. */
function parentForNew(dir: u32, path: usize, len: u32): i64 {
  let parent = nameiParent(dir, path, len);
  if (parent < 0) return parent;
  if (lastLen == 0 || isDotOrDotDot(lastName, lastLen)) return -EEXIST;
  let pp = iread(<u32>parent);
  if (pp == 0) return bioErr;
  if (load<u16>(pp + I_NLINK) == 0) return -ENOENT; // a removed directory
  let found = dirLookup(<u32>parent, pp, lastName, lastLen);
  if (found < 0) return found;
  if (found > 0) return -EEXIST;
  return parent;
}

function mkdir(dir: u32, path: usize, len: u32, mode: u32, uid: u32, gid: u32): i32 {
  let parent = parentForNew(dir, path, len);
  if (parent < 0) return <i32>parent;
  let pino = <u32>parent;
  let pp = iread(pino);
  if (pp == 0) return bioErr;
  if (load<u16>(pp + I_NLINK) >= 0xffff) return -EMLINK;
  let t = nowNs();
  let ino = ialloc(T_DIR, mode & MODE_MASK, uid, gid, t);
  if (ino < 0) return <i32>ino;
  let blk = balloc();
  if (blk < 0) return <i32>blk;
  let b = bnew(<u32>blk, false);
  if (!b) return bioErr;
  dirInit(b.data, <u32>ino, pino);
  let ip = imodify(<u32>ino);
  if (ip == 0) return bioErr;
  store<u16>(ip + I_NLINK, 2);
  store<u64>(ip + I_SIZE, 2 * DIRENT_SIZE);
  store<u32>(ip + I_DIRECT, <u32>blk);
  store<u32>(ip + I_BLOCKS, 1);
  pp = imodify(pino);
  if (pp == 0) return bioErr;
  let r = dirAdd(pino, pp, lastName, lastLen, <u32>ino, T_DIR);
  if (r < 0) return r;
  store<u16>(pp + I_NLINK, load<u16>(pp + I_NLINK) + 1);
  touchTimes(pp, t, true);
  return 0;
}

/** A symbolic link at path (not followed) to `target` (tlen bytes, kept as given). */
export function fsSymlink(dir: u32, path: usize, len: u32, target: usize, tlen: u32, uid: u32, gid: u32): i32 {
  if (tlen == 0) return -ENOENT; // as Linux
  if (tlen > <u32>LINK_MAX) return -ENAMETOOLONG;
  for (let i: u32 = 0; i < tlen; i++) if (load<u8>(target + i) == 0) return -EINVAL;
  let r = begin();
  if (r < 0) return r;
  return finish(symlink(dir, path, len, target, tlen, uid, gid));
}

function symlink(dir: u32, path: usize, len: u32, target: usize, tlen: u32, uid: u32, gid: u32): i32 {
  let parent = parentForNew(dir, path, len);
  if (parent < 0) return <i32>parent;
  let pino = <u32>parent;
  if (lastSlash) return -ENOENT; // "name/" for something that does not exist
  let t = nowNs();
  let ino = ialloc(T_LINK, 0o777, uid, gid, t);
  if (ino < 0) return <i32>ino;
  let blk = balloc();
  if (blk < 0) return <i32>blk;
  let b = bnew(<u32>blk, true);
  if (!b) return bioErr;
  memory.copy(b.data, target, tlen);
  let ip = imodify(<u32>ino);
  if (ip == 0) return bioErr;
  store<u16>(ip + I_NLINK, 1);
  store<u64>(ip + I_SIZE, tlen);
  store<u32>(ip + I_DIRECT, <u32>blk);
  store<u32>(ip + I_BLOCKS, 1);
  let pp = imodify(pino);
  if (pp == 0) return bioErr;
  let r = dirAdd(pino, pp, lastName, lastLen, <u32>ino, T_LINK);
  if (r < 0) return r;
  touchTimes(pp, t, true);
  return 0;
}

/** One link fewer for inode ino (its entry is gone); an unlinked one waits in the orphan
 *  table for its last close. */
function dropLink(ino: u32, isDir: bool, t: u64): i32 {
  let ip = imodify(ino);
  if (ip == 0) return bioErr;
  let n = <u32>load<u16>(ip + I_NLINK);
  n = isDir || n == 0 ? 0 : n - 1;
  store<u16>(ip + I_NLINK, <u16>n);
  store<u64>(ip + I_CTIME, t);
  return n == 0 ? orphanAdd(ino) : 0;
}

export function fsUnlink(dir: u32, path: usize, len: u32): i32 {
  let r = begin();
  if (r < 0) return r;
  return reclaimAfter(finish(unlink(dir, path, len, false)));
}

export function fsRmdir(dir: u32, path: usize, len: u32): i32 {
  let r = begin();
  if (r < 0) return r;
  return reclaimAfter(finish(unlink(dir, path, len, true)));
}

/** After an operation that may have orphaned an inode: reclaim what can be now (what
 *  must wait for a block is left to fsTick). Returns the operation's result. */
function reclaimAfter(r: i32): i32 {
  if (r == 0) fsService();
  return r;
}

function unlink(dir: u32, path: usize, len: u32, wantDir: bool): i32 {
  let parent = nameiParent(dir, path, len);
  if (parent < 0) return <i32>parent;
  if (lastLen == 0) return wantDir ? -EBUSY : -EISDIR;
  if (isDotOrDotDot(lastName, lastLen)) {
    if (!wantDir) return -EISDIR;
    return lastLen == 1 ? -EINVAL : -ENOTEMPTY;
  }
  let pino = <u32>parent;
  let pp = iread(pino);
  if (pp == 0) return bioErr;
  let found = dirLookup(pino, pp, lastName, lastLen);
  if (found < 0) return <i32>found;
  if (found == 0) return -ENOENT;
  let eBlock = foundBlock, eOff = foundOff;
  let ino = <u32>found;
  let ip = iread(ino);
  if (ip == 0) return bioErr;
  let isDir = <u32>load<u16>(ip + I_TYPE) == T_DIR;
  if (!wantDir && isDir) return -EISDIR;
  if (wantDir && !isDir) return -ENOTDIR;
  if (!isDir && lastSlash) return -ENOTDIR;
  if (isDir) {
    if (ino == ROOT_INO) return -EBUSY;
    let e = dirIsEmpty(ino, ip);
    if (e < 0) return e;
    if (e == 0) return -ENOTEMPTY;
  }
  let t = nowNs();
  let r = dirSetEntry(eBlock, eOff, 0, 0);
  if (r < 0) return r;
  r = dropLink(ino, isDir, t);
  if (r < 0) return r;
  pp = imodify(pino);
  if (pp == 0) return bioErr;
  if (isDir) store<u16>(pp + I_NLINK, load<u16>(pp + I_NLINK) - 1); // its ".." is gone
  touchTimes(pp, t, true);
  return 0;
}

export function fsLink(d1: u32, p1: usize, l1: u32, d2: u32, p2: usize, l2: u32): i32 {
  let r = begin();
  if (r < 0) return r;
  return finish(link(d1, p1, l1, d2, p2, l2));
}

function link(d1: u32, p1: usize, l1: u32, d2: u32, p2: usize, l2: u32): i32 {
  let src = namei(d1, p1, l1, false); // a link to a symbolic link is a link to it (as linkat(2))
  if (src < 0) return <i32>src;
  let ino = <u32>src;
  let ip = iread(ino);
  if (ip == 0) return bioErr;
  let type = <u32>load<u16>(ip + I_TYPE);
  if (type == T_DIR) return -EPERM;
  if (load<u16>(ip + I_NLINK) >= 0xffff) return -EMLINK;
  let parent = nameiParent(d2, p2, l2);
  if (parent < 0) return <i32>parent;
  if (lastLen == 0 || isDotOrDotDot(lastName, lastLen)) return -EEXIST;
  let pino = <u32>parent;
  let pp = iread(pino);
  if (pp == 0) return bioErr;
  if (load<u16>(pp + I_NLINK) == 0) return -ENOENT;
  let found = dirLookup(pino, pp, lastName, lastLen);
  if (found < 0) return <i32>found;
  if (found > 0) return -EEXIST;
  if (lastSlash) return -ENOENT; // "new/" names a directory that does not exist (as Linux says)
  let t = nowNs();
  pp = imodify(pino);
  if (pp == 0) return bioErr;
  let r = dirAdd(pino, pp, lastName, lastLen, ino, type);
  if (r < 0) return r;
  touchTimes(pp, t, true);
  ip = imodify(ino);
  if (ip == 0) return bioErr;
  store<u16>(ip + I_NLINK, load<u16>(ip + I_NLINK) + 1);
  store<u64>(ip + I_CTIME, t);
  return 0;
}

export function fsRename(d1: u32, p1: usize, l1: u32, d2: u32, p2: usize, l2: u32): i32 {
  let r = begin();
  if (r < 0) return r;
  return reclaimAfter(finish(rename(d1, p1, l1, d2, p2, l2)));
}

/** Is `anc` the directory `d` or one above it? (Follows ".." up to the root.) */
function isAncestor(anc: u32, d: u32): i32 {
  let x = d;
  for (let steps: u32 = 0; steps < 65536; steps++) {
    if (x == anc) return 1;
    if (x == ROOT_INO) return 0;
    let xp = iread(x);
    if (xp == 0) return bioErr;
    let e = dirEntry(x, xp, 1);
    if (e == 0) return bioErr;
    x = load<u32>(e + DE_INUM);
  }
  fsReason.reset().str("a loop of \"..\" entries above directory ").num(d).end();
  return -EIO;
}

function rename(d1: u32, p1: usize, l1: u32, d2: u32, p2: usize, l2: u32): i32 {
  let sp = nameiParent(d1, p1, l1);
  if (sp < 0) return <i32>sp;
  if (lastLen == 0) return -EBUSY;
  if (isDotOrDotDot(lastName, lastLen)) return -EINVAL;
  let sName = lastName, sLen = lastLen, sSlash = lastSlash;
  let tp = nameiParent(d2, p2, l2);
  if (tp < 0) return <i32>tp;
  if (lastLen == 0) return -EBUSY;
  if (isDotOrDotDot(lastName, lastLen)) return -EINVAL;
  let tName = lastName, tLen = lastLen, tSlash = lastSlash;
  let spIno = <u32>sp, tpIno = <u32>tp;
  let spp = iread(spIno);
  if (spp == 0) return bioErr;
  let s = dirLookup(spIno, spp, sName, sLen);
  if (s < 0) return <i32>s;
  if (s == 0) return -ENOENT;
  let sBlock = foundBlock, sOff = foundOff, sIno = <u32>s;
  let sip = iread(sIno);
  if (sip == 0) return bioErr;
  let sType = <u32>load<u16>(sip + I_TYPE);
  if ((sSlash || tSlash) && sType != T_DIR) return -ENOTDIR;
  let tpp = iread(tpIno);
  if (tpp == 0) return bioErr;
  if (load<u16>(tpp + I_NLINK) == 0) return -ENOENT;
  let t = dirLookup(tpIno, tpp, tName, tLen);
  if (t < 0) return <i32>t;
  let tBlock = foundBlock, tOff = foundOff, tIno = <u32>t;
  if (tIno == sIno) return 0; // the same file: nothing to do
  if (sType == T_DIR) {
    let a = isAncestor(sIno, tpIno);
    if (a < 0) return a;
    if (a == 1) return -EINVAL; // into itself
  }
  let now = nowNs();
  let tIsDir = false;
  if (tIno != 0) {
    let tip = iread(tIno);
    if (tip == 0) return bioErr;
    tIsDir = <u32>load<u16>(tip + I_TYPE) == T_DIR;
    if (sType == T_DIR && !tIsDir) return -ENOTDIR;
    if (sType != T_DIR && tIsDir) return -EISDIR;
    if (tIsDir) {
      let e = dirIsEmpty(tIno, tip);
      if (e < 0) return e;
      if (e == 0) return -ENOTEMPTY;
    }
    let r = dirSetEntry(tBlock, tOff, sIno, sType);
    if (r < 0) return r;
    r = dropLink(tIno, tIsDir, now);
    if (r < 0) return r;
  } else {
    if (sType == T_DIR && load<u16>(tpp + I_NLINK) >= 0xffff) return -EMLINK;
    tpp = imodify(tpIno);
    if (tpp == 0) return bioErr;
    let r = dirAdd(tpIno, tpp, tName, tLen, sIno, sType);
    if (r < 0) return r;
  }
  let r = dirSetEntry(sBlock, sOff, 0, 0);
  if (r < 0) return r;
  if (sType == T_DIR && spIno != tpIno) { // its ".." now names the new parent
    sip = iread(sIno);
    if (sip == 0) return bioErr;
    let e = dirEntry(sIno, sip, 1);
    if (e == 0) return bioErr;
    r = dirSetEntry(foundBlock, foundOff, tpIno, T_DIR);
    if (r < 0) return r;
  }
  // link counts of the parents: a moved directory's ".." and a replaced one's
  let spDelta: i32 = 0, tpDelta: i32 = 0;
  if (sType == T_DIR && spIno != tpIno) { spDelta--; tpDelta++; }
  if (tIsDir) tpDelta--;
  spp = imodify(spIno);
  if (spp == 0) return bioErr;
  store<u16>(spp + I_NLINK, <u16>(<i32>load<u16>(spp + I_NLINK) + spDelta));
  touchTimes(spp, now, true);
  tpp = imodify(tpIno);
  if (tpp == 0) return bioErr;
  store<u16>(tpp + I_NLINK, <u16>(<i32>load<u16>(tpp + I_NLINK) + tpDelta));
  touchTimes(tpp, now, true);
  sip = imodify(sIno);
  if (sip == 0) return bioErr;
  store<u64>(sip + I_CTIME, now);
  return 0;
}

// ---- Reclaiming unlinked inodes ----------------------------------------------------------

/** Reclaim orphans nobody holds: bounded work per call. 0 = nothing left, 1 = more. */
export function fsService(): i32 {
  if (!isMounted() || !reclaimWanted) return 0;
  for (let ops = 0; ops < 64; ops++) {
    let r = begin();
    if (r < 0) return r;
    let s = reclaimOne();
    finish(s);
    if (s < 0) return s;
    if (s == 0) { // nothing left that can be reclaimed now
      setReclaimWanted(false);
      return 0;
    }
  }
  return 1;
}

/** One bounded step on the first orphan that is not open: 1 done something, 0 none. */
function reclaimOne(): i32 {
  for (let i: u32 = 0; i < <u32>ORPHAN_SLOTS; i++) {
    let o = orphanAt(i);
    if (o < 0) return <i32>o;
    if (o == 0 || irefs(<u32>o) > 0) continue;
    let ino = <u32>o;
    let ip = imodify(ino);
    if (ip == 0) return bioErr;
    if (load<u16>(ip + I_TYPE) == 0 || load<u16>(ip + I_NLINK) != 0) {
      let r = orphanRemove(ino); // a stale slot: the inode is not an orphan
      return r < 0 ? r : 1;
    }
    let s = truncStep(ino, ip, 0);
    if (s < 0) return s;
    if (s == 1) return 1;
    if (load<u32>(ip + I_BLOCKS) != 0) {
      fsReason.reset().str("inode ").num(ino).str(" still counts ").num(load<u32>(ip + I_BLOCKS))
        .str(" blocks after truncation").end();
      return -EIO;
    }
    let r = ifree(ino);
    if (r < 0) return r;
    r = orphanRemove(ino);
    return r < 0 ? r : 1;
  }
  return 0;
}
