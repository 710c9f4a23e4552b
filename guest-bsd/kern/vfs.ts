// The kernel's view of files by name: path resolution relative to a directory, the
// device directory /dev (dev.ts), and the operations system calls need, over the root
// file system. Every operation is restartable: it returns SYS_BLOCK after arranging
// to be woken (sleep on the file system's channel) and changes nothing before it
// knows it can finish.
//
// BRING-UP BACKEND: until the system disk's file system is attached, the root is a
// read-only table of boot modules (files the host loaded into RAM, common/platform.ts
// MODULE_AREA), flat: a module named "bin/sh.wasm" is the file /bin/sh.wasm.
//
// Interface:
//   vfsInit(modules), vfsRoot()
//   vfsLookup(dir, path, len) -> 0 | -errno | SYS_BLOCK; the result in resKind/resIno/resDev
//   vfsIsDir, vfsSize, vfsRead, vfsWrite, vfsRelease, vfsRetain, vfsStat, vfsReaddir,
//   vfsCreate, vfsMkdir, vfsUnlink, vfsRmdir, vfsRename, vfsTruncate, vfsUtimes, vfsSync

import {
  E_NOENT, E_NOTDIR, E_ROFS, E_ISDIR, E_NAMETOOLONG, E_INVAL, E_EXIST, E_NOTSUP, FT_DIRECTORY, FT_REGULAR, FT_CHAR_DEVICE,
  STAT_SIZE, DIRENT_NAME, O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY,
} from "../../common/bsd-abi";
import { devLookup, devName, NDEV } from "./dev";

export const R_INODE: u8 = 1;
export const R_DEV: u8 = 2;
export let resKind: u8 = 0;
export let resIno: u32 = 0;
export let resDev: u32 = 0;

const ROOT: u32 = 1;
const DEVDIR: u32 = 2;
const FIRST_FILE: u32 = 3;
let nmod: u32 = 0;
let table: usize = 0;

export function vfsInit(modules: usize): void {
  table = modules;
  nmod = modules == 0 ? 0 : load<u32>(modules);
}

export function vfsRoot(): u32 { return ROOT; }

function modName(i: u32): usize { return <usize>load<u32>(table + 4 + i * 16); }
function modNameLen(i: u32): u32 { return load<u32>(table + 8 + i * 16); }
function modAddr(i: u32): usize { return <usize>load<u32>(table + 12 + i * 16); }
function modLen(i: u32): u32 { return load<u32>(table + 16 + i * 16); }

function eq(a: usize, alen: u32, b: usize, blen: u32): bool {
  if (alen != blen) return false;
  return memory.compare(a, b, alen) == 0;
}

/** Resolve `path` (len bytes) relative to directory `dir`. */
export function vfsLookup(dir: u32, path: usize, len: u32): i64 {
  if (len > 1024) return -E_NAMETOOLONG;
  // Normalise: drop leading "/" and "./", trailing "/".
  while (len > 0 && load<u8>(path) == 47) { path++; len--; }
  while (len >= 2 && load<u8>(path) == 46 && load<u8>(path + 1) == 47) { path += 2; len -= 2; }
  while (len > 0 && load<u8>(path + len - 1) == 47) len--;
  if (len == 1 && load<u8>(path) == 46) len = 0;
  if (dir == DEVDIR && len > 0) return devResult(path, len);
  if (dir != ROOT && dir != DEVDIR) return -E_NOTDIR;
  if (len == 0) { resKind = R_INODE; resIno = dir; return 0; }
  if (len == 3 && memory.compare(path, changetype<usize>(DEV_LIT), 3) == 0) { resKind = R_INODE; resIno = DEVDIR; return 0; }
  if (len > 4 && memory.compare(path, changetype<usize>(DEV_LIT), 4) == 0) return devResult(path + 4, len - 4);
  for (let i: u32 = 0; i < nmod; i++) {
    if (eq(modName(i), modNameLen(i), path, len)) { resKind = R_INODE; resIno = FIRST_FILE + i; return 0; }
  }
  return -E_NOENT;
}
const DEV_LIT = memory.data<u8>([100, 101, 118, 47]); // "dev/"

function devResult(name: usize, len: u32): i64 {
  let d = devLookup(name, len);
  if (d < 0) return -E_NOENT;
  resKind = R_DEV; resDev = <u32>d;
  return 0;
}

/** Open with WASI oflags: create/truncate are refused on this read-only root. */
export function vfsOpen(dir: u32, path: usize, len: u32, oflags: u32): i64 {
  let r = vfsLookup(dir, path, len);
  if (r == -E_NOENT && (oflags & O_CREAT) != 0) return -E_ROFS;
  if (r < 0) return r;
  if ((oflags & O_CREAT) != 0 && (oflags & O_EXCL) != 0) return -E_EXIST;
  if (resKind == R_INODE && (oflags & O_DIRECTORY) != 0 && !vfsIsDir(resIno)) return -E_NOTDIR;
  if (resKind == R_INODE && (oflags & O_TRUNC) != 0) return vfsIsDir(resIno) ? -E_ISDIR : -E_ROFS;
  return 0;
}

export function vfsIsDir(ino: u32): bool { return ino == ROOT || ino == DEVDIR; }
export function vfsSize(ino: u32): u64 { return ino >= FIRST_FILE ? <u64>modLen(ino - FIRST_FILE) : 0; }
export function vfsRetain(ino: u32): void {}
export function vfsRelease(ino: u32): void {}

export function vfsRead(ino: u32, off: u64, buf: usize, n: u32): i64 {
  if (ino < FIRST_FILE) return -E_ISDIR;
  let size = vfsSize(ino);
  if (off >= size) return 0;
  let m = <u32>min<u64>(<u64>n, size - off);
  memory.copy(buf, modAddr(ino - FIRST_FILE) + <usize>off, m);
  return <i64>m;
}

export function vfsWrite(ino: u32, off: u64, buf: usize, n: u32): i64 { return -E_ROFS; }
export function vfsTruncate(ino: u32, size: u64): i64 { return -E_ROFS; }
export function vfsUtimes(ino: u32, atim: u64, mtim: u64, flags: u32): i64 { return -E_ROFS; }
export function vfsSync(ino: u32): i64 { return 0; }
export function vfsMkdir(dir: u32, path: usize, len: u32): i64 { return -E_ROFS; }
export function vfsUnlink(dir: u32, path: usize, len: u32): i64 { return -E_ROFS; }
export function vfsRmdir(dir: u32, path: usize, len: u32): i64 { return -E_ROFS; }
export function vfsRename(d1: u32, p1: usize, l1: u32, d2: u32, p2: usize, l2: u32): i64 { return -E_ROFS; }
export function vfsLink(d1: u32, p1: usize, l1: u32, d2: u32, p2: usize, l2: u32): i64 { return -E_NOTSUP; }

/** A WASI filestat record for an inode. */
export function vfsStat(ino: u32, out: usize): i64 {
  memory.fill(out, 0, STAT_SIZE);
  store<u64>(out + 8, <u64>ino);
  store<u8>(out + 16, vfsIsDir(ino) ? <u8>FT_DIRECTORY : <u8>FT_REGULAR);
  store<u64>(out + 24, 1);
  store<u64>(out + 32, vfsSize(ino));
  return 0;
}

export function devStat(dev: u32, out: usize): i64 {
  memory.fill(out, 0, STAT_SIZE);
  store<u64>(out, 1);
  store<u64>(out + 8, <u64>(0x10000 + dev));
  store<u8>(out + 16, <u8>FT_CHAR_DEVICE);
  store<u64>(out + 24, 1);
  return 0;
}

/** The entry after `cookie` of directory `dir` into a DIRENT record: 1, or 0 at the end. */
export function vfsReaddir(dir: u32, cookie: u64, out: usize): i64 {
  if (!vfsIsDir(dir)) return -E_NOTDIR;
  let i = cookie;
  if (dir == DEVDIR) {
    if (i >= <u64>NDEV) return 0;
    let name = devName(<u32>i);
    store<u64>(out, i + 1);
    store<u64>(out + 8, 0x10000 + i);
    store<u32>(out + 16, <u32>name.length);
    store<u8>(out + 20, <u8>FT_CHAR_DEVICE);
    for (let k = 0; k < name.length; k++) store<u8>(out + DIRENT_NAME + k, <u8>name.charCodeAt(k));
    return 1;
  }
  if (i == 0) { // "dev"
    store<u64>(out, 1); store<u64>(out + 8, DEVDIR); store<u32>(out + 16, 3); store<u8>(out + 20, <u8>FT_DIRECTORY);
    memory.copy(out + DIRENT_NAME, changetype<usize>(DEV_LIT), 3);
    return 1;
  }
  let m = <u32>(i - 1);
  if (m >= nmod) return 0;
  store<u64>(out, i + 1);
  store<u64>(out + 8, <u64>(FIRST_FILE + m));
  store<u32>(out + 16, modNameLen(m));
  store<u8>(out + 20, <u8>FT_REGULAR);
  memory.copy(out + DIRENT_NAME, modName(m), modNameLen(m));
  return 1;
}

export { E_INVAL };
