// The kernel's view of files by name: BSDFS on the system disk (guest-bsd/fs/, the
// root file system) and the device directory /dev (dev.ts), behind the operations the
// system calls need. Paths are relative to a directory inode; one starting with '/'
// starts at the root.
//
// Every operation is restartable. When the file system answers FS_WAIT (a block is
// being read, or the journal has no room) the running process sleeps on FS_CHAN and
// the operation answers SYS_BLOCK: the host re-issues the system call when the process
// runs again. The file system's wake-up hook (fsWakeup) only makes the sleepers
// runnable; the kernel's own waiting work (mounting the root, starting init) is retried
// at the end of the interrupt that made progress (vfsProgress).
//
// /dev: a lookup whose parent is the root's "dev" directory and whose last component
// names a device (dev.ts) gives that device, whatever the disk holds there.
//
// Interface:
//   vfsInit(dev)                 the file system over a block device
//   vfsMount() -> 0 | -errno | SYS_BLOCK, vfsRoot(), vfsReason()
//   vfsLookup(dir, path, len) / vfsOpen(dir, path, len, oflags)
//                                the result in resKind (R_INODE / R_DEV), resIno, resDev,
//                                resIsDir; vfsOpen takes an inode reference (vfsRelease)
//   vfsRead, vfsWrite, vfsSize, vfsStat, vfsReaddir, vfsMkdir, vfsUnlink, vfsRmdir,
//   vfsRename, vfsLink, vfsSymlink, vfsReadlink, vfsTruncate, vfsUtimes, vfsSync, vfsRetain,
//   vfsRelease, vfsConfine(on) (WASI's sandboxed resolution for the calls that follow)
//   vfsTick(now), vfsProgress (set by the wake-up hook), FS_CHAN

import {
  E_NOENT, E_NOTDIR, E_NAMETOOLONG, E_INVAL, E_EXIST, E_ISDIR, E_IO, FT_DIRECTORY, FT_REGULAR, FT_CHAR_DEVICE, FT_SYMLINK,
  STAT_SIZE, DIRENT_NAME, O_CREAT, O_EXCL, O_DIRECTORY, SYS_BLOCK,
} from "../../common/bsd-abi";
import {
  ST_INO, ST_SIZE, ST_ATIME, ST_MTIME, ST_CTIME, ST_TYPE, ST_NLINK, T_DIR, T_LINK, O_NOFOLLOW as FS_O_NOFOLLOW, RD_NEXT, RD_INO, RD_TYPE, RD_NAMELEN, RD_NAME,
  FS_MAX_IO,
} from "../../common/bsdfs";
import {
  fsInit, fsSetWakeup, fsSetClock, fsRoot, fsLookup, fsOpen, fsIget, fsIput, fsRead, fsWrite, fsTruncate,
  fsStat, fsReaddir, fsMkdir, fsRmdir, fsUnlink, fsLink, fsRename, fsSetTimes, fsSync, fsSyncDone, fsTick,
  fsReasonPtr, fsReasonLen, fsLookupLink, fsSymlink, fsReadlink, fsConfine,
} from "../fs/fs";
import { fsMount } from "../fs/mount";
import { BlockDevice } from "../fs/blkio";
import { devLookup, devName, NDEV } from "./dev";
import { sleep, wakeup } from "./sched";
import { realtimeNs } from "./clock";
import { PATH_MAX_K } from "./param";

export const FS_CHAN: u32 = 0x70000001;
const FS_WAIT: i64 = -1000;
/** Buffer cache blocks (4 KiB), journal transaction blocks, in-memory inodes. */
const NBUF: u32 = 1024;
const NLOG: u32 = 256;
const NINODE: u32 = 256;
/** WASI has no file modes: new files get 0644, new directories 0755 (umask 022). */
const FILE_MODE: u32 = 0o644;
const DIR_MODE: u32 = 0o755;

export const R_INODE: u8 = 1;
export const R_DEV: u8 = 2;
export let resKind: u8 = 0;
export let resIno: u32 = 0;
export let resDev: u32 = 0;
export let resIsDir: bool = false;
/** Set by the file system's wake-up hook: the kernel retries its own waiting work. */
export let vfsProgress: bool = false;
export function clearProgress(): void { vfsProgress = false; }

let devIno: u32 = 0; // the inode of /dev, once mounted
let st: usize = 0; // a stat record (fs layout)
let rd: usize = 0; // a readdir record (fs layout)
let mounted = false;

function fsWakeup(): void {
  vfsProgress = true;
  wakeup(FS_CHAN);
}

export function vfsInit(dev: BlockDevice): void {
  fsInit(NBUF, NLOG, NINODE, dev);
  fsSetWakeup(fsWakeup);
  fsSetClock(realtimeNs);
  st = heap.alloc(64);
  rd = heap.alloc(128);
}

/** FS_WAIT -> sleep on FS_CHAN and SYS_BLOCK; anything else as it is. */
function wait(r: i64): i64 {
  if (r != FS_WAIT) return r;
  sleep(FS_CHAN);
  return SYS_BLOCK;
}

/** Mount the root (a kernel job, retried until it is done). */
export function vfsMount(): i64 {
  let r = <i64>fsMount();
  if (r == FS_WAIT) return SYS_BLOCK;
  if (r < 0) return r;
  mounted = true;
  let d = fsLookup(fsRoot(), changetype<usize>(DEV_NAME), 3);
  if (d == FS_WAIT) { mounted = false; return SYS_BLOCK; }
  devIno = d > 0 ? <u32>d : 0;
  return 0;
}
const DEV_NAME = memory.data<u8>([100, 101, 118]); // "dev"

export function vfsReasonPtr(): usize { return fsReasonPtr(); }
export function vfsReasonLen(): u32 { return fsReasonLen(); }
export function vfsRoot(): u32 { return fsRoot(); }
export function vfsMounted(): bool { return mounted; }

/** Split off the last component: [path, path + plen) is the parent, [name, name + nlen) the last. */
let plen: u32 = 0;
let name: usize = 0;
let nlen: u32 = 0;
function splitLast(path: usize, len: u32): void {
  let end = len;
  while (end > 1 && load<u8>(path + end - 1) == 47) end--; // trailing '/'
  let i = end;
  while (i > 0 && load<u8>(path + i - 1) != 47) i--;
  name = path + i;
  nlen = end - i;
  plen = i;
}

/** The device named by `path` relative to `dir`, or -1 (not under /dev, or no such device). */
function devOf(dir: u32, path: usize, len: u32): i64 {
  if (devIno == 0) return -1;
  splitLast(path, len);
  if (nlen == 0) return -1;
  let parent: i64;
  if (plen == 0) parent = <i64>dir;
  else {
    parent = fsLookup(dir, path, plen);
    if (parent == FS_WAIT) return FS_WAIT;
    if (parent < 0) return -1;
  }
  if (<u32>parent != devIno) return -1;
  let d = devLookup(name, nlen);
  return d < 0 ? -1 : <i64>d;
}

function isDirIno(ino: u32): i64 {
  let r = <i64>fsStat(ino, st);
  if (r < 0) return r;
  return load<u16>(st + ST_TYPE) == T_DIR ? 1 : 0;
}

/** The file `path` names; `follow`: a symbolic link in the last component is followed. */
export function vfsLookup(dir: u32, path: usize, len: u32, follow: bool = true): i64 {
  if (len > PATH_MAX_K) return -E_NAMETOOLONG;
  let d = devOf(dir, path, len);
  if (d == FS_WAIT) return wait(d);
  if (d >= 0) { resKind = R_DEV; resDev = <u32>d; resIsDir = false; return 0; }
  let ino = follow ? fsLookup(dir, path, len) : fsLookupLink(dir, path, len);
  if (ino < 0) return wait(ino);
  let isDir = isDirIno(<u32>ino);
  if (isDir < 0) return wait(isDir);
  resKind = R_INODE; resIno = <u32>ino; resIsDir = isDir == 1;
  return 0;
}

/** open(): a device, or an inode with a reference taken (vfsRelease when closed). */
export function vfsOpen(dir: u32, path: usize, len: u32, oflags: u32, follow: bool = true): i64 {
  if (len > PATH_MAX_K) return -E_NAMETOOLONG;
  let d = devOf(dir, path, len);
  if (d == FS_WAIT) return wait(d);
  if (d >= 0) {
    if ((oflags & O_CREAT) != 0 && (oflags & O_EXCL) != 0) return -E_EXIST;
    if ((oflags & O_DIRECTORY) != 0) return -E_NOTDIR;
    resKind = R_DEV; resDev = <u32>d; resIsDir = false;
    return 0;
  }
  let ino = fsOpen(dir, path, len, oflags | (follow ? 0 : FS_O_NOFOLLOW), FILE_MODE, 0, 0);
  if (ino < 0) return wait(ino);
  let isDir = isDirIno(<u32>ino);
  if (isDir < 0) { fsIput(<u32>ino); return wait(isDir); }
  resKind = R_INODE; resIno = <u32>ino; resIsDir = isDir == 1;
  return 0;
}

/** Another holder of an inode (a File made without vfsOpen, e.g. init's root). */
export function vfsRetain(ino: u32): i64 { return wait(<i64>fsIget(ino)); }
export function vfsRelease(ino: u32): void { fsIput(ino); }

export function vfsRead(ino: u32, off: u64, buf: usize, n: u32): i64 {
  return wait(<i64>fsRead(ino, off, buf, min<u32>(n, FS_MAX_IO)));
}

/** write(); off = 0xffff... appends at the end. */
export function vfsWrite(ino: u32, off: u64, buf: usize, n: u32): i64 {
  if (off == 0xffffffffffffffff) {
    let size = vfsSize(ino);
    if (size < 0) return size;
    off = <u64>size;
  }
  return wait(<i64>fsWrite(ino, off, buf, min<u32>(n, FS_MAX_IO)));
}

/** The file's size, or -errno / SYS_BLOCK. */
export function vfsSize(ino: u32): i64 {
  let r = <i64>fsStat(ino, st);
  if (r < 0) return wait(r);
  return <i64>load<u64>(st + ST_SIZE);
}

/** WASI's filetype of a BSDFS inode type. */
function filetype(t: u32): u32 {
  return t == T_DIR ? FT_DIRECTORY : t == T_LINK ? FT_SYMLINK : FT_REGULAR;
}

/** A WASI filestat record for an inode (common/bsd-abi.ts STAT). */
export function vfsStat(ino: u32, out: usize): i64 {
  let r = <i64>fsStat(ino, st);
  if (r < 0) return wait(r);
  memory.fill(out, 0, STAT_SIZE);
  store<u64>(out, 1); // dev: the system disk
  store<u64>(out + 8, load<u64>(st + ST_INO));
  store<u8>(out + 16, <u8>filetype(<u32>load<u16>(st + ST_TYPE)));
  store<u64>(out + 24, <u64>load<u16>(st + ST_NLINK));
  store<u64>(out + 32, load<u64>(st + ST_SIZE));
  store<u64>(out + 40, load<u64>(st + ST_ATIME));
  store<u64>(out + 48, load<u64>(st + ST_MTIME));
  store<u64>(out + 56, load<u64>(st + ST_CTIME));
  return 0;
}

export function devStat(dev: u32, out: usize): i64 {
  memory.fill(out, 0, STAT_SIZE);
  store<u64>(out, 2); // dev: the device directory
  store<u64>(out + 8, <u64>(0x10000 + dev));
  store<u8>(out + 16, <u8>FT_CHAR_DEVICE);
  store<u64>(out + 24, 1);
  return 0;
}

/** The entry after `cookie` of directory `dir`, as a DIRENT record: 1, or 0 at the end. */
export function vfsReaddir(dir: u32, cookie: u64, out: usize): i64 {
  if (dir == devIno && devIno != 0) return devReaddir(cookie, out);
  let r = <i64>fsReaddir(dir, cookie, rd);
  if (r <= 0) return wait(r);
  let n = <u32>load<u8>(rd + RD_NAMELEN);
  store<u64>(out, load<u64>(rd + RD_NEXT));
  store<u64>(out + 8, <u64>load<u32>(rd + RD_INO));
  store<u32>(out + 16, n);
  store<u8>(out + 20, <u8>filetype(<u32>load<u8>(rd + RD_TYPE)));
  memory.copy(out + DIRENT_NAME, rd + RD_NAME, n);
  return 1;
}

/** /dev lists the kernel's devices (".", "..", then each by name). */
function devReaddir(cookie: u64, out: usize): i64 {
  let i = cookie;
  if (i >= <u64>NDEV) return 0;
  let nm = devName(<u32>i);
  store<u64>(out, i + 1);
  store<u64>(out + 8, 0x10000 + i);
  store<u32>(out + 16, <u32>nm.length);
  store<u8>(out + 20, <u8>FT_CHAR_DEVICE);
  for (let k = 0; k < nm.length; k++) store<u8>(out + DIRENT_NAME + k, <u8>nm.charCodeAt(k));
  return 1;
}

export function vfsMkdir(dir: u32, path: usize, len: u32): i64 { return wait(<i64>fsMkdir(dir, path, len, DIR_MODE, 0, 0)); }
export function vfsUnlink(dir: u32, path: usize, len: u32): i64 { return wait(<i64>fsUnlink(dir, path, len)); }
export function vfsRmdir(dir: u32, path: usize, len: u32): i64 { return wait(<i64>fsRmdir(dir, path, len)); }
export function vfsRename(d1: u32, p1: usize, l1: u32, d2: u32, p2: usize, l2: u32): i64 {
  return wait(<i64>fsRename(d1, p1, l1, d2, p2, l2));
}
export function vfsLink(d1: u32, p1: usize, l1: u32, d2: u32, p2: usize, l2: u32): i64 {
  return wait(<i64>fsLink(d1, p1, l1, d2, p2, l2));
}
export function vfsSymlink(dir: u32, path: usize, len: u32, target: usize, tlen: u32): i64 {
  return wait(<i64>fsSymlink(dir, path, len, target, tlen, 0, 0));
}
/** A link's target into out (at most max bytes): the length, or -EINVAL if not a link. */
export function vfsReadlink(dir: u32, path: usize, len: u32, out: usize, max: u32): i64 {
  return wait(<i64>fsReadlink(dir, path, len, out, max));
}
/** Resolve the paths of the calls that follow beneath their directory (WASI's sandbox)
 *  or not (the kernel's own lookups: exec, /dev). */
export function vfsConfine(on: bool): void { fsConfine(on); }
export function vfsTruncate(ino: u32, size: u64): i64 { return wait(<i64>fsTruncate(ino, size)); }

/** WASI fst_flags: ATIM 1, ATIM_NOW 2, MTIM 4, MTIM_NOW 8 (the file system's SET_* are the same bits). */
export function vfsUtimes(ino: u32, atim: u64, mtim: u64, flags: u32): i64 {
  // fstflags: ATIM 1, ATIM_NOW 2, MTIM 4, MTIM_NOW 8; a time both given and "now" is EINVAL.
  if ((flags & 3) == 3 || (flags & 12) == 12) return -E_INVAL;
  return wait(<i64>fsSetTimes(ino, atim, mtim, flags & 15));
}

/** fsync(): start a commit and wait until it is on the media. The commit's number is
 *  kept in the caller's Proc across restarts (syncSeq). */
export function vfsSyncStart(): i64 { return wait(fsSync()); }
export function vfsSyncDone(seq: u64): i64 {
  let r = <i64>fsSyncDone(seq);
  if (r == 1) return 0;
  if (r == 0) { sleep(FS_CHAN); return SYS_BLOCK; }
  return r < 0 ? r : -E_IO;
}

export function vfsTick(t: u64): void {
  if (mounted) fsTick(t);
}

export { E_NOENT, E_INVAL, E_ISDIR };
