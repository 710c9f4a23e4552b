// Open files and descriptors (BSD's struct file and fd tables). A file is a file
// system inode (vfs.ts), one end of a pipe (pipe.ts) or a device (dev.ts); it is
// shared by every descriptor that refers to it (dup, spawn's descriptor map), with one
// offset, and released when the last descriptor closes.
//
// Interface:
//   fileInit(); fileAlloc(type) -> index or -1; fileDup(i); fileClose(i)
//   fdAlloc(p, file) -> fd or -E_MFILE; fdFile(p, fd) -> file index or -1
//   fileRead(i, buf, n), fileWrite(i, buf, n), filePread/Pwrite   dispatch by type
//   files[i]                the table

import { NFILE, NOFILE } from "./param";
import { Proc } from "./proc";
import { E_BADF, E_MFILE, E_SPIPE, E_ISDIR } from "../../common/bsd-abi";
import { pipeRead, pipeWrite, pipeClose } from "./pipe";
import { devRead, devWrite, devClose } from "./dev";
import { vfsRead, vfsWrite, vfsRelease } from "./vfs";

export const F_NONE: u8 = 0;
export const F_INODE: u8 = 1;
export const F_PIPE: u8 = 2;
export const F_DEV: u8 = 3;

@final
export class File {
  type: u8 = F_NONE;
  refs: u32 = 0;
  readable: bool = false;
  writable: bool = false;
  append: bool = false;
  nonblock: bool = false;
  /** Byte offset (inodes), shared by every descriptor of this file. */
  off: u64 = 0;
  /** F_INODE: the inode; F_PIPE: the pipe; F_DEV: the device number. */
  ino: u32 = 0;
  pipe: i32 = -1;
  writeEnd: bool = false;
  dev: u32 = 0;
  /** F_DEV: the device's minor number (an htx session). */
  minor: u32 = 0;
  /** F_INODE: a directory. */
  isDir: bool = false;
  /** Set for the preopened directory descriptors (fd_prestat_get names them). */
  preopen: bool = false;
}

export const files = new StaticArray<File>(NFILE);
export let filesOpen: u32 = 0;

export function fileInit(): void {
  for (let i: i32 = 0; i < NFILE; i++) files[i] = new File();
}

export function fileAlloc(type: u8): i32 {
  for (let i: i32 = 0; i < NFILE; i++) {
    let f = files[i];
    if (f.refs != 0) continue;
    f.type = type; f.refs = 1; f.readable = false; f.writable = false; f.append = false; f.nonblock = false;
    f.off = 0; f.ino = 0; f.pipe = -1; f.writeEnd = false; f.dev = 0; f.minor = 0; f.isDir = false; f.preopen = false;
    filesOpen++;
    return i;
  }
  return -1;
}

export function fileDup(i: i32): void {
  files[i].refs++;
}

export function fileClose(i: i32): void {
  let f = files[i];
  if (f.refs == 0) return;
  if (--f.refs != 0) return;
  filesOpen--;
  if (f.type == F_PIPE) pipeClose(f.pipe, f.writeEnd);
  else if (f.type == F_DEV) devClose(f.dev, f.minor);
  else if (f.type == F_INODE) vfsRelease(f.ino);
  f.type = F_NONE;
}

export function fdAlloc(p: Proc, file: i32): i32 {
  for (let fd: i32 = 0; fd < NOFILE; fd++) {
    if (p.fds[fd] < 0) { p.fds[fd] = file; return fd; }
  }
  return -E_MFILE;
}

export function fdFile(p: Proc, fd: i64): i32 {
  if (fd < 0 || fd >= <i64>NOFILE) return -1;
  return p.fds[<i32>fd];
}

/** read(2) on file i into buf: bytes, 0 at the end, -errno or SYS_BLOCK. */
export function fileRead(i: i32, buf: usize, n: u32): i64 {
  let f = files[i];
  if (!f.readable) return -E_BADF;
  if (f.type == F_PIPE) return pipeRead(f.pipe, buf, n, f.nonblock);
  if (f.type == F_DEV) {
    let d = devRead(f.dev, f.minor, f.off, buf, n, f.nonblock);
    if (d > 0) f.off += <u64>d;
    return d;
  }
  if (f.isDir) return -E_ISDIR;
  let r = vfsRead(f.ino, f.off, buf, n);
  if (r > 0) f.off += <u64>r;
  return r;
}

export function fileWrite(i: i32, buf: usize, n: u32): i64 {
  let f = files[i];
  if (!f.writable) return -E_BADF;
  if (f.type == F_PIPE) return pipeWrite(f.pipe, buf, n, f.nonblock);
  if (f.type == F_DEV) return devWrite(f.dev, f.minor, buf, n);
  if (f.append) {
    let size = vfsSize(f.ino);
    if (size < 0) return size;
    f.off = <u64>size;
  }
  let r = vfsWrite(f.ino, f.off, buf, n);
  if (r > 0) f.off += <u64>r;
  return r;
}

/** pread/pwrite: at an offset, without moving the file's own. */
export function filePread(i: i32, buf: usize, n: u32, off: u64): i64 {
  let f = files[i];
  if (!f.readable) return -E_BADF;
  if (f.type != F_INODE) return -E_SPIPE;
  if (f.isDir) return -E_ISDIR;
  return vfsRead(f.ino, off, buf, n);
}

export function filePwrite(i: i32, buf: usize, n: u32, off: u64): i64 {
  let f = files[i];
  if (!f.writable) return -E_BADF;
  if (f.type != F_INODE) return -E_SPIPE;
  if (f.isDir) return -E_ISDIR;
  return vfsWrite(f.ino, off, buf, n);
}

import { vfsSize } from "./vfs";
