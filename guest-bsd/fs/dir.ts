// Directories and path names. A directory is a file of 64-byte entries (format:
// common/bsdfs.ts); entry 0 is ".", entry 1 is "..". Names and paths are byte ranges
// (ptr, len) in kernel memory: nothing here allocates.
//
// Paths: components separated by '/', repeated slashes allowed; a leading '/' starts
// at the root, otherwise at the given directory; "." and ".." are looked up as the
// entries they are (the root's ".." is the root, and ".." after a link is the parent of
// where the link led). Symbolic links are followed (see walk); fsConfine(true) keeps a
// resolution beneath its starting directory (WASI's sandbox).
//
// Interface:
//   dirLookup(dino, dp, name, len): i64    inode number, 0 if absent, < 0 error;
//                                          sets foundBlock / foundOff to the entry
//   dirAdd(dino, dp, name, len, ino, type): i32   dp must be in the transaction
//   dirSetEntry(block, off, ino, type): i32   rewrite an entry (0 = remove it)
//   dirIsEmpty(dino, dp): i32              1 only "." and ".." left, 0 not, < 0 error
//   dirInit(block, self, parent)           the first block of a new directory
//   dirEntry(dino, dp, index): usize       pointer to entry `index`, 0 past the end
//   namei(start, path, len, follow): i64   the inode a path names (follow: a link in
//                                          the last component is followed)
//   nameiParent(start, path, len): i64     the directory holding the last component;
//                                          lastName / lastLen / lastSlash describe it
//   checkName(name, len): i32              0 or -ENAMETOOLONG / -EINVAL / -ENOENT
//   linkData(ino, ip): usize               a link's target in the cache (I_SIZE bytes)
//   fsConfine(on)                          confined resolution (the kernel's WASI calls)

import {
  BSIZE, DIRENT_SIZE, DE_INUM, DE_TYPE, DE_NAMELEN, DE_NAME, NAME_MAX, I_TYPE, I_SIZE, T_DIR, T_LINK, ROOT_INO,
  LINK_MAX,
} from "../../common/bsdfs";
import { bread, bprefetch, bioErr, fail, EIO, FS_WAIT } from "./bio";
import { logModify } from "./log";
import { iread, bmap } from "./inode";
import { fsReason } from "./msg";
import { geo } from "./super";

export const ENOENT: i32 = 44;
export const ENOTDIR: i32 = 54;
export const ENAMETOOLONG: i32 = 37;
export const EINVAL: i32 = 28;
export const ELOOP: i32 = 32;
export const ENOTCAPABLE: i32 = 76;

export let foundBlock: u32 = 0;
export let foundOff: u32 = 0;
export let lastName: usize = 0;
export let lastLen: u32 = 0;
/** The path ended in '/': the last component must be a directory. */
export let lastSlash: bool = false;

export function checkName(name: usize, len: u32): i32 {
  if (len == 0) return -ENOENT;
  if (len > <u32>NAME_MAX) return -ENAMETOOLONG;
  for (let i: u32 = 0; i < len; i++) if (load<u8>(name + i) == 0) return -EINVAL;
  return 0;
}

@inline function isDot(name: usize, len: u32): bool { return len == 1 && load<u8>(name) == 46; }
@inline function isDotDot(name: usize, len: u32): bool { return len == 2 && load<u8>(name) == 46 && load<u8>(name + 1) == 46; }
export function isDotOrDotDot(name: usize, len: u32): bool { return isDot(name, len) || isDotDot(name, len); }

function badDir(dino: u32, what: string): i32 {
  fsReason.reset().str("directory ").num(dino).str(": ").str(what).end();
  return fail(-EIO);
}

/** 0 if the directory's size is possible, else -EIO (with the reason). */
export function dirCheckSize(dino: u32, dp: usize): i32 {
  let size = load<u64>(dp + I_SIZE);
  if (size % DIRENT_SIZE != 0 || size < <u64>(2 * DIRENT_SIZE)) return badDir(dino, "size is not a whole number of entries");
  if (size > (<u64>geo.nblocks << 12)) return badDir(dino, "is larger than the file system");
  return 0;
}

/** Start reading every block of the directory; FS_WAIT until all are cached. */
function prefetchDir(dino: u32, dp: usize): i32 {
  let c = dirCheckSize(dino, dp);
  if (c < 0) return c;
  let size = load<u64>(dp + I_SIZE);
  let nb = <u32>((size + BSIZE - 1) >> 12);
  let missing = false;
  for (let fb: u32 = 0; fb < nb; fb++) {
    let blk = bmap(dino, dp, fb, false);
    if (blk == FS_WAIT) { missing = true; continue; }
    if (blk < 0) return <i32>blk;
    if (blk == 0) return badDir(dino, "has a hole");
    if (!bprefetch(<u32>blk)) missing = true;
  }
  return missing ? fail(FS_WAIT) : 0;
}

/** Pointer to entry `index` of the directory (its block is cached), 0 (bioErr) if not. */
export function dirEntry(dino: u32, dp: usize, index: u32): usize {
  let size = load<u64>(dp + I_SIZE);
  if (<u64>index * DIRENT_SIZE >= size) { fail(0); return 0; }
  let blk = bmap(dino, dp, index / (BSIZE / DIRENT_SIZE), false);
  if (blk < 0) { fail(<i32>blk); return 0; }
  if (blk == 0) { badDir(dino, "has a hole"); return 0; }
  let b = bread(<u32>blk);
  if (!b) return 0;
  foundBlock = <u32>blk;
  foundOff = (index % (BSIZE / DIRENT_SIZE)) * DIRENT_SIZE;
  let e = b.data + foundOff;
  let n = <u32>load<u8>(e + DE_NAMELEN);
  if (load<u32>(e + DE_INUM) != 0 && (n == 0 || n > <u32>NAME_MAX)) { badDir(dino, "an entry has a bad name length"); return 0; }
  return e;
}

function nameEq(e: usize, name: usize, len: u32): bool {
  if (<u32>load<u8>(e + DE_NAMELEN) != len) return false;
  for (let i: u32 = 0; i < len; i++) if (load<u8>(e + DE_NAME + i) != load<u8>(name + i)) return false;
  return true;
}

export function dirLookup(dino: u32, dp: usize, name: usize, len: u32): i64 {
  let r = prefetchDir(dino, dp);
  if (r < 0) return r;
  let n = <u32>(load<u64>(dp + I_SIZE) / DIRENT_SIZE);
  for (let i: u32 = 0; i < n; i++) {
    let e = dirEntry(dino, dp, i);
    if (e == 0) return bioErr;
    let ino = load<u32>(e + DE_INUM);
    if (ino != 0 && nameEq(e, name, len)) return ino;
  }
  return 0;
}

function putEntry(e: usize, ino: u32, type: u32, name: usize, len: u32): void {
  memory.fill(e, 0, DIRENT_SIZE);
  store<u32>(e + DE_INUM, ino);
  store<u8>(e + DE_TYPE, <u8>type);
  store<u8>(e + DE_NAMELEN, <u8>len);
  memory.copy(e + DE_NAME, name, len);
}

/** Add an entry (the name is known to be absent); dp is in the transaction. */
export function dirAdd(dino: u32, dp: usize, name: usize, len: u32, ino: u32, type: u32): i32 {
  let r = prefetchDir(dino, dp);
  if (r < 0) return r;
  let size = load<u64>(dp + I_SIZE);
  let n = <u32>(size / DIRENT_SIZE);
  for (let i: u32 = 2; i < n; i++) {
    let e = dirEntry(dino, dp, i);
    if (e == 0) return bioErr;
    if (load<u32>(e + DE_INUM) == 0) {
      let b = bread(foundBlock)!;
      r = logModify(b);
      if (r < 0) return r;
      putEntry(e, ino, type, name, len);
      return 0;
    }
  }
  let blk = bmap(dino, dp, <u32>(size >> 12), true); // a new block comes zeroed
  if (blk < 0) return <i32>blk;
  let b = bread(<u32>blk);
  if (!b) return bioErr;
  r = logModify(b);
  if (r < 0) return r;
  putEntry(b.data + <usize>(size & (BSIZE - 1)), ino, type, name, len);
  store<u64>(dp + I_SIZE, size + DIRENT_SIZE);
  return 0;
}

/** Point the entry at (block, off) to ino (0 removes it). */
export function dirSetEntry(block: u32, off: u32, ino: u32, type: u32): i32 {
  let b = bread(block);
  if (!b) return bioErr;
  let r = logModify(b);
  if (r < 0) return r;
  let e = b.data + off;
  if (ino == 0) memory.fill(e, 0, DIRENT_SIZE);
  else {
    store<u32>(e + DE_INUM, ino);
    store<u8>(e + DE_TYPE, <u8>type);
  }
  return 0;
}

export function dirIsEmpty(dino: u32, dp: usize): i32 {
  let r = prefetchDir(dino, dp);
  if (r < 0) return r;
  let n = <u32>(load<u64>(dp + I_SIZE) / DIRENT_SIZE);
  for (let i: u32 = 2; i < n; i++) {
    let e = dirEntry(dino, dp, i);
    if (e == 0) return bioErr;
    if (load<u32>(e + DE_INUM) != 0) return 0;
  }
  return 1;
}

/** Fill a new directory's first block (the caller sets its size to two entries). */
export function dirInit(data: usize, self: u32, parent: u32): void {
  memory.fill(data, 0, BSIZE);
  store<u32>(data + DE_INUM, self);
  store<u8>(data + DE_TYPE, <u8>T_DIR);
  store<u8>(data + DE_NAMELEN, 1);
  store<u8>(data + DE_NAME, 46);
  let e = data + DIRENT_SIZE;
  store<u32>(e + DE_INUM, parent);
  store<u8>(e + DE_TYPE, <u8>T_DIR);
  store<u8>(e + DE_NAMELEN, 2);
  store<u8>(e + DE_NAME, 46);
  store<u8>(e + DE_NAME + 1, 46);
}

// ---- Path names -----------------------------------------------------------------------

/** Symbolic links followed in one resolution before it fails with ELOOP (as Linux). */
const MAXSYMLINKS: u32 = 40;
/** Two buffers a resolution splices link targets into (a target + the path's rest). */
const PATHBUF: u32 = 4096;
const bufA = memory.data(PATHBUF);
const bufB = memory.data(PATHBUF);

/** Confined resolution (the kernel's WASI calls): a path stays beneath the directory it
 *  starts from. An absolute path, a ".." above that directory, or a link to an absolute
 *  target is ENOTCAPABLE (as wasmtime answers). The host tool resolves unconfined. */
let confined: bool = false;
export function fsConfine(on: bool): void { confined = on; }

/** Pointer to a symbolic link's target (in the cache; `size` bytes), 0 (bioErr) if not. */
export function linkData(ino: u32, ip: usize): usize {
  let size = load<u64>(ip + I_SIZE);
  if (size == 0 || size > <u64>LINK_MAX) {
    fsReason.reset().str("symbolic link ").num(ino).str(": target length ").num(size).str(" is out of range").end();
    fail(-EIO);
    return 0;
  }
  let blk = bmap(ino, ip, 0, false);
  if (blk < 0) { fail(<i32>blk); return 0; }
  if (blk == 0) {
    fsReason.reset().str("symbolic link ").num(ino).str(" has no data block").end();
    fail(-EIO);
    return 0;
  }
  let b = bread(<u32>blk);
  return b ? b.data : 0;
}

/** Walk components [from, to) of path starting at inode `ino`; the inode reached. Links
 *  are followed in every component but the last, which is followed when `followLast`
 *  or when a '/' comes after it. */
function walk(ino: u32, path: usize, from: u32, to: u32, followLast: bool): i64 {
  let i = from;
  let links: u32 = 0;
  let depth: i32 = 0; // below the start (confined resolution)
  while (true) {
    while (i < to && load<u8>(path + i) == 47) i++;
    if (i >= to) return ino;
    let s = i;
    while (i < to && load<u8>(path + i) != 47) i++;
    let name = path + s, len = i - s;
    let j = i;
    while (j < to && load<u8>(path + j) == 47) j++;
    let last = j >= to;
    let dp = iread(ino);
    if (dp == 0) return bioErr;
    if (<u32>load<u16>(dp + I_TYPE) != T_DIR) return -ENOTDIR;
    let r = checkName(name, len);
    if (r < 0) return r;
    if (isDot(name, len)) continue;
    let up = isDotDot(name, len);
    if (up && confined && depth == 0) return -ENOTCAPABLE;
    let next = dirLookup(ino, dp, name, len);
    if (next < 0) return next;
    if (next == 0) return -ENOENT;
    let np = iread(<u32>next);
    if (np == 0) return bioErr;
    if (<u32>load<u16>(np + I_TYPE) == T_LINK && (!last || followLast || i < to)) {
      if (++links > MAXSYMLINKS) return -ELOOP;
      let size = <u32>load<u64>(np + I_SIZE);
      let t = linkData(<u32>next, np);
      if (t == 0) return bioErr;
      if (load<u8>(t) == 47) { // absolute: from the root
        if (confined) return -ENOTCAPABLE;
        ino = ROOT_INO;
      } // relative: from the directory holding the link (ino as it is)
      let rest = to - i;
      if (size + rest > PATHBUF) return -ENAMETOOLONG;
      let into = path == bufA ? bufB : bufA;
      memory.copy(into + size, path + i, rest);
      memory.copy(into, t, size);
      path = into;
      i = 0;
      to = size + rest;
      continue;
    }
    if (confined) depth += up ? -1 : 1;
    ino = <u32>next;
  }
}

/** Where a path starts: the root for an absolute one (-ENOTCAPABLE when confined). */
function startOf(start: u32, path: usize, len: u32): i64 {
  if (len > 0 && load<u8>(path) == 47) return confined ? -ENOTCAPABLE : <i64>ROOT_INO;
  return <i64>start;
}

export function namei(start: u32, path: usize, len: u32, follow: bool): i64 {
  if (len == 0) return -ENOENT;
  let from = startOf(start, path, len);
  if (from < 0) return from;
  let r = walk(<u32>from, path, 0, len, follow);
  if (r <= 0) return r;
  let end = len;
  while (end > 0 && load<u8>(path + end - 1) == 47) end--;
  if (end < len && end > 0) { // "name/": must be a directory
    let ip = iread(<u32>r);
    if (ip == 0) return bioErr;
    if (<u32>load<u16>(ip + I_TYPE) != T_DIR) return -ENOTDIR;
  }
  return r;
}

export function nameiParent(start: u32, path: usize, len: u32): i64 {
  if (len == 0) return -ENOENT;
  let end = len;
  while (end > 0 && load<u8>(path + end - 1) == 47) end--;
  lastSlash = end < len;
  let s = end;
  while (s > 0 && load<u8>(path + s - 1) != 47) s--;
  lastName = path + s;
  lastLen = end - s;
  let from = startOf(start, path, len);
  if (from < 0) return from;
  if (confined && lastLen == 2 && isDotDot(lastName, lastLen) && s == 0) return -ENOTCAPABLE;
  let dir = walk(<u32>from, path, 0, s, true);
  if (dir <= 0) return dir;
  let dp = iread(<u32>dir);
  if (dp == 0) return bioErr;
  if (<u32>load<u16>(dp + I_TYPE) != T_DIR) return -ENOTDIR;
  if (lastLen > 0) {
    let r = checkName(lastName, lastLen);
    if (r < 0) return r;
  }
  return dir;
}

export { EIO };
