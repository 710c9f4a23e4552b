// System calls: the kernel's export `syscall(nr, a0..a5)`, entered by the host's
// process engine for the running process (curproc) on every WASI call. Numbers and
// record layouts: common/bsd-abi.ts. Data moves through SYSBUF (the host copies it to
// and from the process and charges the copies). Every call is restartable: SYS_BLOCK
// means the caller now sleeps and the host re-issues the same call when it runs again.
//
// Interface: syscallInit(sysbuf), doSyscall(nr, a0..a5), poweroff hook, nsyscalls

import {
  SYSBUF_DATA, SYSBUF_PATH2, SYSBUF_REC, SYS_BLOCK, STAT_SIZE,
  SYS_EXIT, SYS_READ, SYS_WRITE, SYS_PREAD, SYS_PWRITE, SYS_OPENAT, SYS_CLOSE, SYS_SEEK, SYS_FSTAT, SYS_STATAT,
  SYS_FDSTAT, SYS_PRESTAT, SYS_READDIR, SYS_MKDIRAT, SYS_UNLINKAT, SYS_RMDIRAT, SYS_RENAMEAT, SYS_FSYNC,
  SYS_FTRUNCATE, SYS_FUTIMES, SYS_UTIMESAT, SYS_RENUMBER, SYS_FDFLAGS, SYS_CLOCK, SYS_POLL, SYS_RANDOM, SYS_YIELD,
  SYS_ARGS, SYS_ENVIRON, SYS_MEMGROW, SYS_SPAWN, SYS_WAIT, SYS_KILL, SYS_GETPID, SYS_LINKAT, SYS_SOCK, SYS_PIPE,
  SYS_REBOOT, SYS_SYMLINKAT, SYS_READLINKAT, SYS_NCALLS, LOOKUP_FOLLOW, PATH_MAX,
  E_BADF, E_INVAL, E_NOSYS, E_NOTCAPABLE, E_NOTSOCK, E_NOTDIR, E_ISDIR, E_SPIPE, E_NFILE, E_NOTSUP, E_PERM, E_MFILE,
  FT_UNKNOWN, FT_CHAR_DEVICE, FT_DIRECTORY, FT_REGULAR, O_DIRECTORY,
  FDFLAG_APPEND, FDFLAG_NONBLOCK, RIGHT_FD_READ, RIGHT_FD_WRITE,
} from "../../common/bsd-abi";
import { NOFILE } from "./param";
import { Proc, procExit, procWait, procKill, memGrow } from "./proc";
import { cur, yieldCpu, sleep, POLL_CHAN } from "./sched";
import { files, fileAlloc, fileClose, fdAlloc, fdFile, fileRead, fileWrite, filePread, filePwrite, F_INODE, F_DEV, F_PIPE } from "./file";
import { pipeAlloc, pipeReadable, pipeWritable } from "./pipe";
import { devOpen, devReadable, devFiletype } from "./dev";
import {
  vfsOpen, vfsLookup, vfsStat, vfsReaddir, vfsMkdir, vfsUnlink, vfsRmdir, vfsRename, vfsLink, vfsTruncate,
  vfsUtimes, vfsSyncStart, vfsSyncDone, vfsSize, vfsRelease, devStat, resKind, resIno, resDev, resIsDir, R_INODE,
  vfsSymlink, vfsReadlink, vfsConfine,
} from "./vfs";
import { spawn } from "./exec";
import { realtimeNs, uptimeNs, callAt, callCancel, clockEpoch } from "./clock";
import { randomFill } from "./random";

@external("env", "proc_cycles") declare function proc_cycles(pid: i32): i64;

let sysbuf: usize = 0;
export let nsyscalls: u64 = 0;
export let callCounts = new StaticArray<u64>(<i32>SYS_NCALLS);
/** Power off (main.ts sets it: the SYSCTL register). */
function noPoweroff(status: u32): void {}
export let poweroff: (status: u32) => void = noPoweroff;
export function setPoweroff(fn: (status: u32) => void): void { poweroff = fn; }

export function syscallInit(buf: usize): void {
  sysbuf = buf;
}

/** A descriptor's file, or -1. */
function fdGet(p: Proc, fd: i64): i32 {
  let f = fdFile(p, fd);
  return f;
}

/** The directory inode a *at call's path is relative to, or -errno. From here on in
 *  the call, paths resolve beneath their directory (WASI's sandbox: an absolute path, a
 *  ".." above it or a link out of it is ENOTCAPABLE; vfsConfine, guest-bsd/fs/dir.ts). */
function dirOf(p: Proc, fd: i64): i64 {
  let f = fdGet(p, fd);
  if (f < 0) return -E_BADF;
  let file = files[f];
  if (file.type != F_INODE || !file.isDir) return -E_NOTDIR;
  vfsConfine(true);
  return <i64>file.ino;
}

export function doSyscall(nr: i32, a0: i64, a1: i64, a2: i64, a3: i64, a4: i64, a5: i64): i64 {
  let p = cur();
  nsyscalls++;
  p.syscalls++;
  if (nr >= 0 && nr < <i32>SYS_NCALLS) callCounts[nr]++;
  vfsConfine(false); // the kernel's own lookups (exec, /dev) are not confined
  let n = <u32>min<i64>(max<i64>(a1, 0), <i64>SYSBUF_DATA);
  switch (nr) {
    case SYS_EXIT: procExit(p, <i32>a0, 0); return 0;
    case SYS_READ: { let f = fdGet(p, a0); return f < 0 ? -E_BADF : fileRead(f, sysbuf, n); }
    case SYS_WRITE: { let f = fdGet(p, a0); return f < 0 ? -E_BADF : fileWrite(f, sysbuf, n); }
    case SYS_PREAD: { let f = fdGet(p, a0); return f < 0 ? -E_BADF : filePread(f, sysbuf, n, <u64>a2); }
    case SYS_PWRITE: { let f = fdGet(p, a0); return f < 0 ? -E_BADF : filePwrite(f, sysbuf, n, <u64>a2); }
    case SYS_OPENAT: return openat(p, a0, <u32>a1, <u32>a2, <u32>a3, (a4 & LOOKUP_FOLLOW) != 0, <u64>a5);
    case SYS_SYMLINKAT: { // the new link's path at SYSBUF, its target at SYSBUF_PATH2
      let d = dirOf(p, a0);
      if (d < 0) return d;
      if (a2 > 0 && load<u8>(sysbuf + SYSBUF_PATH2) == 47) return -E_NOTCAPABLE; // could never be followed
      return vfsSymlink(<u32>d, sysbuf, <u32>a1, sysbuf + SYSBUF_PATH2, <u32>a2);
    }
    case SYS_READLINKAT: { // the target to SYSBUF_PATH2, at most a2 bytes
      let d = dirOf(p, a0);
      if (d < 0) return d;
      return vfsReadlink(<u32>d, sysbuf, <u32>a1, sysbuf + SYSBUF_PATH2, <u32>min<i64>(max<i64>(a2, 0), <i64>PATH_MAX));
    }
    case SYS_CLOSE: {
      let f = fdGet(p, a0);
      if (f < 0) return -E_BADF;
      p.fds[<i32>a0] = -1;
      fileClose(f);
      return 0;
    }
    case SYS_SEEK: return seek(p, a0, a1, <u32>a2);
    case SYS_FSTAT: return fstat(p, a0, sysbuf);
    case SYS_STATAT: {
      let d = dirOf(p, a0);
      if (d < 0) return d;
      let r = vfsLookup(<u32>d, sysbuf, <u32>a1, (a2 & LOOKUP_FOLLOW) != 0);
      if (r < 0) return r;
      return resKind == R_INODE ? vfsStat(resIno, sysbuf + SYSBUF_REC) : devStat(resDev, sysbuf + SYSBUF_REC);
    }
    case SYS_FDSTAT: {
      let f = fdGet(p, a0);
      if (f < 0) return -E_BADF;
      let file = files[f];
      let type: u32 = file.type == F_DEV ? devFiletype(file.dev, file.writable) : file.type == F_PIPE ? FT_UNKNOWN : file.isDir ? FT_DIRECTORY : FT_REGULAR;
      let flags: u32 = (file.append ? FDFLAG_APPEND : 0) | (file.nonblock ? FDFLAG_NONBLOCK : 0);
      // The open mode rides above: readable 1 << 16, writable 1 << 17 (the host's rights).
      return <i64>(type | (flags << 8) | ((file.readable ? 1 : 0) << 16) | ((file.writable ? 1 : 0) << 17));
    }
    case SYS_PRESTAT: {
      let f = fdGet(p, a0);
      if (f < 0 || !files[f].preopen) return -E_BADF;
      store<u8>(sysbuf, 47); // "/"
      return 1;
    }
    case SYS_READDIR: {
      let f = fdGet(p, a0);
      if (f < 0) return -E_BADF;
      if (files[f].type != F_INODE) return -E_NOTDIR;
      return vfsReaddir(files[f].ino, <u64>a1, sysbuf);
    }
    case SYS_MKDIRAT: { let d = dirOf(p, a0); return d < 0 ? d : vfsMkdir(<u32>d, sysbuf, <u32>a1); }
    case SYS_UNLINKAT: { let d = dirOf(p, a0); return d < 0 ? d : vfsUnlink(<u32>d, sysbuf, <u32>a1); }
    case SYS_RMDIRAT: { let d = dirOf(p, a0); return d < 0 ? d : vfsRmdir(<u32>d, sysbuf, <u32>a1); }
    case SYS_RENAMEAT: case SYS_LINKAT: {
      let d1 = dirOf(p, a0);
      if (d1 < 0) return d1;
      let d2 = dirOf(p, a2);
      if (d2 < 0) return d2;
      // path_link never follows the old path's link (as wasmtime: following is EINVAL)
      if (nr == SYS_LINKAT && (a4 & LOOKUP_FOLLOW) != 0) return -E_INVAL;
      return nr == SYS_RENAMEAT
        ? vfsRename(<u32>d1, sysbuf, <u32>a1, <u32>d2, sysbuf + SYSBUF_PATH2, <u32>a3)
        : vfsLink(<u32>d1, sysbuf, <u32>a1, <u32>d2, sysbuf + SYSBUF_PATH2, <u32>a3);
    }
    case SYS_FSYNC: {
      let f = fdGet(p, a0);
      if (f < 0) return -E_BADF;
      if (files[f].type != F_INODE) return 0;
      return syncWait(p);
    }
    case SYS_FTRUNCATE: {
      let f = fdGet(p, a0);
      if (f < 0) return -E_BADF;
      let file = files[f];
      if (file.type != F_INODE || !file.writable) return file.type == F_INODE ? -E_BADF : -E_INVAL;
      if (file.isDir) return -E_ISDIR;
      return vfsTruncate(file.ino, <u64>a1);
    }
    case SYS_FUTIMES: {
      let f = fdGet(p, a0);
      if (f < 0) return -E_BADF;
      return files[f].type == F_INODE ? vfsUtimes(files[f].ino, <u64>a1, <u64>a2, <u32>a3) : 0;
    }
    case SYS_UTIMESAT: {
      let d = dirOf(p, a0);
      if (d < 0) return d;
      let r = vfsLookup(<u32>d, sysbuf, <u32>a1, ((a4 >> 16) & LOOKUP_FOLLOW) != 0);
      if (r < 0) return r;
      return resKind == R_INODE ? vfsUtimes(resIno, <u64>a2, <u64>a3, <u32>a4 & 0xffff) : 0;
    }
    case SYS_RENUMBER: {
      // WASI's renumber: both descriptors must be open (unlike dup2, `to` is not made).
      let f = fdGet(p, a0);
      if (f < 0 || fdGet(p, a1) < 0) return -E_BADF;
      if (a0 == a1) return 0;
      let old = p.fds[<i32>a1];
      p.fds[<i32>a1] = f;
      p.fds[<i32>a0] = -1;
      if (old >= 0) fileClose(old);
      return 0;
    }
    case SYS_FDFLAGS: {
      let f = fdGet(p, a0);
      if (f < 0) return -E_BADF;
      if ((a1 & ~<i64>(FDFLAG_APPEND | FDFLAG_NONBLOCK)) != 0) return -E_INVAL; // only these two change
      files[f].append = (a1 & FDFLAG_APPEND) != 0;
      files[f].nonblock = (a1 & FDFLAG_NONBLOCK) != 0;
      return 0;
    }
    case SYS_CLOCK: return clock(p, <u32>a0, a1 != 0);
    case SYS_POLL: return poll(p, <u32>a0);
    case SYS_RANDOM: randomFill(sysbuf, <u32>min<i64>(max<i64>(a0, 0), <i64>SYSBUF_DATA)); return <i64>min<i64>(max<i64>(a0, 0), <i64>SYSBUF_DATA);
    case SYS_YIELD: yieldCpu(); return 0;
    case SYS_ARGS: memory.copy(sysbuf, p.args, p.argBytes); return (<i64>p.argc << 32) | <i64>p.argBytes;
    case SYS_ENVIRON: memory.copy(sysbuf, p.args + p.argBytes, p.envBytes); return (<i64>p.envc << 32) | <i64>p.envBytes;
    case SYS_MEMGROW: return memGrow(p, <i32>a0);
    case SYS_SPAWN: return spawn(p, sysbuf, <u32>min<i64>(max<i64>(a0, 0), <i64>SYSBUF_DATA));
    case SYS_WAIT: return procWait(p, <i32>a0, <u32>a1, sysbuf);
    case SYS_KILL: return procKill(<i32>a0, <i32>a1);
    case SYS_GETPID: return (<i64>p.ppid << 32) | <i64>p.pid;
    case SYS_SOCK: return fdGet(p, a0) < 0 ? -E_BADF : -E_NOTSOCK; // no sockets yet
    case SYS_PIPE: return pipe(p);
    case SYS_REBOOT: {
      // As BSD's reboot(2) without RB_NOSYNC: the file system's last writes are made
      // durable first (the caller sleeps until they are), then the board powers off.
      if (p.pid != 1) return -E_PERM;
      let r = syncWait(p);
      if (r == SYS_BLOCK) return r;
      poweroff(<u32>a0);
      return 0;
    }
  }
  return -E_NOSYS;
}

/** Start a commit of the file system and wait until it is durable: SYS_BLOCK while it
 *  is not. The commit's number is kept across the call's restarts: it waits for that one. */
function syncWait(p: Proc): i64 {
  if (!p.syncing) {
    let s = vfsSyncStart();
    if (s < 0) return s;
    p.syncSeq = <u64>s;
    p.syncing = true;
  }
  let r = vfsSyncDone(p.syncSeq);
  if (r != SYS_BLOCK) p.syncing = false;
  return r;
}

function openat(p: Proc, dirfd: i64, len: u32, oflags: u32, fdflags: u32, follow: bool, rights: u64): i64 {
  let d = dirOf(p, dirfd);
  if (d < 0) return d;
  // Synchronous writes (DSYNC, RSYNC, SYNC) are not implemented: refused, not ignored
  // (a program can fall back to fd_sync).
  if ((fdflags & ~(FDFLAG_APPEND | FDFLAG_NONBLOCK)) != 0) return -E_NOTSUP;
  let r = vfsOpen(<u32>d, sysbuf, len, oflags, follow);
  if (r < 0) return r;
  let wantRead = (rights & <u64>RIGHT_FD_READ) != 0 || rights == 0;
  let wantWrite = (rights & <u64>RIGHT_FD_WRITE) != 0;
  let f: i32;
  if (resKind == R_INODE) {
    // vfsOpen took a reference on the inode: it goes with the file, or back now.
    let dir = resIsDir;
    if (dir && wantWrite) { vfsRelease(resIno); return -E_ISDIR; } // with O_DIRECTORY too, as on Linux
    if (!dir && (oflags & O_DIRECTORY) != 0) { vfsRelease(resIno); return -E_NOTDIR; }
    f = fileAlloc(F_INODE);
    if (f < 0) { vfsRelease(resIno); return -E_NFILE; }
    files[f].ino = resIno;
    files[f].isDir = dir;
  } else {
    let minor = devOpen(resDev);
    if (minor < 0) return minor;
    f = fileAlloc(F_DEV);
    if (f < 0) return -E_NFILE;
    files[f].dev = resDev;
    files[f].minor = <u32>minor;
  }
  let file = files[f];
  file.readable = wantRead;
  file.writable = wantWrite && !file.isDir;
  file.append = (fdflags & FDFLAG_APPEND) != 0;
  file.nonblock = (fdflags & FDFLAG_NONBLOCK) != 0;
  let fd = fdAlloc(p, f);
  if (fd < 0) { fileClose(f); return fd; }
  return <i64>fd;
}

function seek(p: Proc, fd: i64, off: i64, whence: u32): i64 {
  let f = fdGet(p, fd);
  if (f < 0) return -E_BADF;
  let file = files[f];
  if (file.type != F_INODE) return -E_SPIPE;
  if (file.isDir) return -E_ISDIR;
  if (whence > 2) return -E_INVAL;
  let base: i64 = whence == 0 ? 0 : whence == 1 ? <i64>file.off : vfsSize(file.ino);
  if (base < 0) return base; // -errno or SYS_BLOCK from the size
  let pos = base + off;
  if (pos < 0) return -E_INVAL;
  file.off = <u64>pos;
  return pos;
}

function fstat(p: Proc, fd: i64, out: usize): i64 {
  let f = fdGet(p, fd);
  if (f < 0) return -E_BADF;
  let file = files[f];
  if (file.type == F_INODE) return vfsStat(file.ino, out);
  if (file.type == F_DEV) {
    devStat(file.dev, out);
    store<u8>(out + 16, <u8>devFiletype(file.dev, file.writable));
    return 0;
  }
  memory.fill(out, 0, STAT_SIZE);
  store<u64>(out + 8, <u64>(0x20000 + f));
  store<u8>(out + 16, <u8>FT_UNKNOWN);
  store<u64>(out + 24, 1);
  return 0;
}

function clock(p: Proc, id: u32, resolution: bool): i64 {
  if (id > 3) return -E_INVAL;
  if (resolution) return 1;
  if (id == 0) return <i64>realtimeNs();
  if (id == 1) return <i64>uptimeNs();
  // CPU time of the process: the cycles it ran, at the CPU's clock (host-counted).
  return proc_cycles(p.pid) * 5 / 3; // 600 MHz: 1 cycle = 5/3 ns
}

function pipe(p: Proc): i64 {
  let pi = pipeAlloc();
  if (pi < 0) return -E_NFILE;
  let r = fileAlloc(F_PIPE);
  let w = fileAlloc(F_PIPE);
  if (r < 0 || w < 0) {
    if (r >= 0) fileClose(r);
    if (w >= 0) fileClose(w);
    return -E_NFILE;
  }
  files[r].pipe = pi; files[r].readable = true;
  files[w].pipe = pi; files[w].writable = true; files[w].writeEnd = true;
  let rfd = fdAlloc(p, r);
  if (rfd < 0) { fileClose(r); fileClose(w); return -E_MFILE; }
  let wfd = fdAlloc(p, w);
  if (wfd < 0) { p.fds[rfd] = -1; fileClose(r); fileClose(w); return -E_MFILE; }
  return <i64>rfd | (<i64>wfd << 32);
}

// ---- poll_oneoff --------------------------------------------------------------
// Subscriptions (48 B): userdata u64 @0, tag u8 @8 (0 clock, 1 fd_read, 2 fd_write),
// clock: id u32 @16, timeout u64 @24, flags u16 @40 (1 = absolute); fd: fd u32 @16.
// Events (32 B): userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24.
const SUB: u32 = 48;
const EVT: u32 = 32;

function poll(p: Proc, n: u32): i64 {
  if (n == 0 || n * SUB > <u32>SYSBUF_DATA) return -E_INVAL;
  let t0 = uptimeNs();
  // A restart keeps the deadline the first attempt computed (p.pollDeadline).
  let deadline: u64 = 0xffffffffffffffff;
  let ready: u32 = 0;
  let evts = memory.data(64 * 32);
  let maxEv = min<u32>(n, 64);
  for (let i: u32 = 0; i < n; i++) {
    let s = sysbuf + i * SUB;
    let tag = load<u8>(s + 8);
    let ok = false;
    let err: u16 = 0;
    if (tag == 0) {
      let id = load<u32>(s + 16);
      let t = load<u64>(s + 24);
      let abs = (load<u16>(s + 40) & 1) != 0;
      let d: u64;
      if (p.pollArmed) d = p.pollDeadline;
      else if (abs) d = id == 0 ? (t > realtimeNs() ? t0 + (t - realtimeNs()) : t0) : t;
      else d = t0 + t;
      if (d < deadline) deadline = d;
      ok = d <= t0;
    } else if (tag == 1 || tag == 2) {
      let f = fdGet(p, <i64>load<u32>(s + 16));
      if (f < 0) { ok = true; err = <u16>E_BADF; }
      else {
        let file = files[f];
        if (file.type == F_PIPE) ok = tag == 1 ? pipeReadable(file.pipe) : pipeWritable(file.pipe);
        else if (file.type == F_DEV) ok = tag == 1 ? devReadable(file.dev, file.minor) : true;
        else ok = true;
      }
    } else { ok = true; err = <u16>E_INVAL; }
    if (ok && ready < maxEv) {
      let e = evts + ready * EVT;
      memory.fill(e, 0, EVT);
      store<u64>(e, load<u64>(s));
      store<u16>(e + 8, err);
      store<u8>(e + 10, tag);
      ready++;
    }
  }
  if (ready > 0) {
    p.pollArmed = false;
    callCancel(p.slot);
    memory.copy(sysbuf, evts, ready * EVT);
    return <i64>ready;
  }
  p.pollArmed = true;
  p.pollDeadline = deadline;
  p.timedOut = false;
  if (deadline != 0xffffffffffffffff) callAt(p.slot, deadline + clockEpoch());
  sleep(POLL_CHAN);
  return SYS_BLOCK;
}
