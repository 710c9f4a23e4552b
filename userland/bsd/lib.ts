// The userland library of programs written for our BSD kernel (init, sh, cron,
// streamctl, upload...): WASI preview 1 through @assemblyscript/wasi-shim's bindings,
// plus the kernel's own calls in the `bsd` import module (common/bsd-abi.ts, host/proc/
// wasi.ts): spawn, wait, kill, getpid, pipe, reboot. Files are opened relative to the
// preopened root directory (descriptor 3, "/"), as wasi-libc does.
//
// Interface:
//   spawnv(path, argv, env, fds) -> pid or -errno     fds[i] becomes the child's fd i
//   waitpid(pid, nohang) -> pid (0: none ended yet) or -errno; lastStatus, lastSignal
//   kill(pid, sig), getpid(), makePipe() -> [r, w] or null, reboot(status)
//   open(path, flags) -> fd or -errno (O_READ, O_WRITE, O_CREATE, O_TRUNC, O_APPEND, O_DIR)
//   writeStr(fd, s), writeBytes(fd, ptr, n), readFile(path) -> bytes or null, close(fd)
//   sleepNs(ns), nowNs() (realtime), monoNs()
//   errText(e)        a short text for a WASI errno

import {
  fd_write, fd_read, fd_close, path_open, poll_oneoff, clock_time_get, clockid, errno, rights, lookupflags, fdflags,
  oflags, iovec, subscription, event, eventtype, subclockflags,
} from "bindings/wasi_snapshot_preview1";

@external("bsd", "spawn") declare function bsd_spawn(rec: usize, len: u32): i32;
@external("bsd", "wait") declare function bsd_wait(pid: i32, status: usize, options: u32): i32;
@external("bsd", "kill") declare function bsd_kill(pid: i32, sig: i32): i32;
@external("bsd", "getpid") declare function bsd_getpid(): i32;
@external("bsd", "pipe") declare function bsd_pipe(fds: usize): i32;
@external("bsd", "reboot") declare function bsd_reboot(status: u32): i32;

export const ROOT_FD: u32 = 3;
export const O_READ: u32 = 1;
export const O_WRITE: u32 = 2;
export const O_CREATE: u32 = 4;
export const O_TRUNC: u32 = 8;
export const O_APPEND: u32 = 16;
export const O_DIR: u32 = 32;
export const O_EXCL: u32 = 64;

export let lastStatus: i32 = 0;
export let lastSignal: i32 = 0;

function put32(buf: ArrayBuffer, at: i32, v: u32): i32 {
  store<u32>(changetype<usize>(buf) + <usize>at, v);
  return at + 4;
}

function putStr(buf: ArrayBuffer, at: i32, s: ArrayBuffer): i32 {
  at = put32(buf, at, <u32>s.byteLength);
  memory.copy(changetype<usize>(buf) + <usize>at, changetype<usize>(s), <usize>s.byteLength);
  return at + s.byteLength;
}

/** Start `path` with argv, env and descriptors (fds[i] -> child's i; -1 = closed).
 *  The child also gets the preopened root (descriptor 3) unless fds says otherwise. */
export function spawnv(path: string, argv: string[], env: string[], fds: i32[]): i32 {
  if (fds.length == 3) { fds = fds.slice(0); fds.push(<i32>ROOT_FD); }
  let p = String.UTF8.encode(path);
  let size = 16 + p.byteLength + fds.length * 4;
  let a = new Array<ArrayBuffer>(argv.length);
  for (let i = 0; i < argv.length; i++) { a[i] = String.UTF8.encode(argv[i]); size += 4 + a[i].byteLength; }
  let e = new Array<ArrayBuffer>(env.length);
  for (let i = 0; i < env.length; i++) { e[i] = String.UTF8.encode(env[i]); size += 4 + e[i].byteLength; }
  let rec = new ArrayBuffer(size);
  let at = putStr(rec, 0, p);
  at = put32(rec, at, <u32>argv.length);
  for (let i = 0; i < a.length; i++) at = putStr(rec, at, a[i]);
  at = put32(rec, at, <u32>env.length);
  for (let i = 0; i < e.length; i++) at = putStr(rec, at, e[i]);
  at = put32(rec, at, <u32>fds.length);
  for (let i = 0; i < fds.length; i++) at = put32(rec, at, <u32>fds[i]);
  return bsd_spawn(changetype<usize>(rec), <u32>at);
}

/** Wait for child `pid` (-1: any). Its exit status and killing signal go to lastStatus/lastSignal. */
export function waitpid(pid: i32, nohang: bool): i32 {
  let st = memory.data(8);
  let r = bsd_wait(pid, st, nohang ? 1 : 0);
  if (r > 0) { lastStatus = load<i32>(st); lastSignal = load<i32>(st, 4); }
  return r;
}

export function kill(pid: i32, sig: i32): i32 { return bsd_kill(pid, sig); }
export function getpid(): i32 { return bsd_getpid(); }
export function reboot(status: u32): i32 { return bsd_reboot(status); }

/** A pipe: [read end, write end], or null. */
export function makePipe(): i32[] | null {
  let fds = memory.data(8);
  if (bsd_pipe(fds) < 0) return null;
  let r = new Array<i32>(2);
  r[0] = load<i32>(fds);
  r[1] = load<i32>(fds, 4);
  return r;
}

export function open(path: string, flags: u32): i32 {
  let s = path;
  while (s.startsWith("/")) s = s.substring(1);
  if (s.length == 0) s = ".";
  let b = String.UTF8.encode(s);
  let ofl: u16 = 0;
  if (flags & O_CREATE) ofl |= oflags.CREAT;
  if (flags & O_TRUNC) ofl |= oflags.TRUNC;
  if (flags & O_DIR) ofl |= oflags.DIRECTORY;
  if (flags & O_EXCL) ofl |= oflags.EXCL;
  let r: u64 = 0;
  if (flags & O_READ) r |= rights.FD_READ | rights.FD_READDIR;
  if (flags & O_WRITE) r |= rights.FD_WRITE;
  let ff: u16 = (flags & O_APPEND) ? fdflags.APPEND : 0;
  let out = memory.data(4);
  let err = path_open(ROOT_FD, lookupflags.SYMLINK_FOLLOW, changetype<usize>(b), <usize>b.byteLength, ofl, r, r, ff, out);
  return err == errno.SUCCESS ? load<i32>(out) : -<i32>err;
}

export function close(fd: i32): void { fd_close(<u32>fd); }

export function writeBytes(fd: i32, ptr: usize, n: usize): i32 {
  let iov = memory.data(8);
  let done: usize = 0;
  let out = memory.data(4);
  while (done < n) {
    store<u32>(iov, <u32>(ptr + done));
    store<u32>(iov, <u32>(n - done), 4);
    let err = fd_write(<u32>fd, iov, 1, out);
    if (err != errno.SUCCESS) return -<i32>err;
    let k = load<u32>(out);
    if (k == 0) break;
    done += k;
  }
  return <i32>done;
}

export function writeStr(fd: i32, s: string): i32 {
  let b = String.UTF8.encode(s);
  return writeBytes(fd, changetype<usize>(b), b.byteLength);
}

/** read() into [ptr, ptr + n): bytes, 0 at the end, -errno. */
export function readBytes(fd: i32, ptr: usize, n: usize): i32 {
  let iov = memory.data(8);
  let out = memory.data(4);
  store<u32>(iov, <u32>ptr);
  store<u32>(iov, <u32>n, 4);
  let err = fd_read(<u32>fd, iov, 1, out);
  return err == errno.SUCCESS ? <i32>load<u32>(out) : -<i32>err;
}

/** A whole file's bytes, or null if it cannot be read. */
export function readFile(path: string): ArrayBuffer | null {
  let fd = open(path, O_READ);
  if (fd < 0) return null;
  let cap = 4096;
  let buf = new ArrayBuffer(cap);
  let len = 0;
  for (;;) {
    if (len == cap) {
      let nb = new ArrayBuffer(cap * 2);
      memory.copy(changetype<usize>(nb), changetype<usize>(buf), <usize>len);
      buf = nb;
      cap *= 2;
    }
    let n = readBytes(fd, changetype<usize>(buf) + <usize>len, <usize>(cap - len));
    if (n < 0) { close(fd); return null; }
    if (n == 0) break;
    len += n;
  }
  close(fd);
  return buf.slice(0, len);
}

export function nowNs(): u64 {
  let t = memory.data(8);
  clock_time_get(clockid.REALTIME, 1, t);
  return load<u64>(t);
}

export function monoNs(): u64 {
  let t = memory.data(8);
  clock_time_get(clockid.MONOTONIC, 1, t);
  return load<u64>(t);
}

/** Sleep for ns nanoseconds (a poll_oneoff clock subscription). */
export function sleepNs(ns: u64): void {
  let sub = memory.data(48);
  let ev = memory.data(32);
  let n = memory.data(4);
  memory.fill(sub, 0, 48);
  store<u8>(sub, eventtype.CLOCK, 8);
  store<u32>(sub, clockid.MONOTONIC, 16);
  store<u64>(sub, ns, 24);
  poll_oneoff(sub, ev, 1, n);
}

export function errText(e: i32): string {
  if (e < 0) e = -e;
  if (e == 44) return "no such file or directory";
  if (e == 45) return "not an executable program";
  if (e == 2) return "permission denied";
  if (e == 20) return "file exists";
  if (e == 28) return "invalid argument";
  if (e == 48) return "not enough memory";
  if (e == 54) return "not a directory";
  if (e == 31) return "is a directory";
  if (e == 8) return "bad file descriptor";
  if (e == 6) return "try again";
  if (e == 12) return "no child processes";
  if (e == 51) return "no space left on device";
  if (e == 69) return "read-only file system";
  if (e == 76) return "not capable (outside the directory given)";
  if (e == 32) return "too many levels of symbolic links";
  if (e == 37) return "file name too long";
  if (e == 55) return "directory not empty";
  if (e == 63) return "operation not permitted";
  return "error " + e.toString();
}
