// Starting programs (SYS_SPAWN; there is no fork). The caller names a program file,
// its argv and environ, and which of its own descriptors the child gets as 0, 1, 2...
// The kernel reads the whole image into the exec buffer, then asks the host to build
// the address space (env.proc_create: validate, meter, instrument, instantiate). A bad
// image (not WebAssembly, an import we do not provide) is refused with ENOEXEC and the
// host's reason on the console.
//
// SYS_SPAWN is restartable like every call: reading the image may sleep many times
// (disk reads). The caller's Proc keeps where it got to (execState, execOff), and the
// exec buffer is held by one spawn at a time (others sleep on EXEC_CHAN).
//
// Interface:
//   execInit()                        the buffer
//   spawn(caller, rec, len) -> pid | -errno | SYS_BLOCK
//   execAbandon(p)                    p exits while holding the buffer

import { EXEC_MAX, ARG_MAX, NOFILE, PATH_MAX_K } from "./param";
import { Proc, procs, procAlloc, procFree, memGrow } from "./proc";
import { setRunnable, sleep, wakeup } from "./sched";
import { fileDup, fdFile, files, F_INODE } from "./file";
import { vfsLookup, vfsRead, vfsSize, vfsRoot, resKind, resIno, resIsDir, R_INODE } from "./vfs";
import { E_INVAL, E_NOEXEC, E_2BIG, E_NOMEM, E_AGAIN, E_ISDIR, E_BADF, SYS_BLOCK } from "../../common/bsd-abi";
import { cputs, cputu, cputc, kprint } from "../../guest-lib/console";
import { uptimeNs } from "./clock";

@external("env", "proc_create") declare function proc_create(pid: i32, image: usize, len: u32): i32;
@external("env", "proc_destroy") declare function proc_destroy(pid: i32): void;

const EXEC_CHAN: u32 = 0x50000001;
const ST_IDLE: u32 = 0;
const ST_READING: u32 = 1;
let execBuf: usize = 0;
let holder: i32 = -1; // slot holding the buffer
/** Where the host writes its reason when it refuses an image (the kernel's SYSBUF). */
let reasonBuf: usize = 0;
export let spawns: u64 = 0;
export let spawnFailures: u64 = 0;

export function execInit(sysbuf: usize): void {
  execBuf = heap.alloc(EXEC_MAX + 4096);
  execBuf = (execBuf + 4095) & ~4095;
  reasonBuf = sysbuf;
}

export function execAbandon(p: Proc): void {
  if (holder == p.slot) { holder = -1; wakeup(EXEC_CHAN); }
  p.execState = ST_IDLE;
}

/** A checked reader over the SPAWN record. */
let rp: usize = 0;
let rend: usize = 0;
let rbad = false;
function ru32(): u32 {
  if (rp + 4 > rend) { rbad = true; return 0; }
  let v = load<u32>(rp);
  rp += 4;
  return v;
}
function rskip(n: u32): usize {
  let at = rp;
  if (<u64>rp + <u64>n > <u64>rend) { rbad = true; return at; }
  rp += n;
  return at;
}

/** spawn for `caller` from the SPAWN record at rec (len bytes). */
export function spawn(caller: Proc, rec: usize, len: u32): i64 {
  rp = rec; rend = rec + len; rbad = false;
  let pathLen = ru32();
  if (pathLen == 0 || pathLen > PATH_MAX_K) return -E_INVAL;
  let path = rskip(pathLen);
  if (rbad) return -E_INVAL;
  if (caller.execState == ST_IDLE) {
    let r = vfsLookup(vfsRoot(), path, pathLen);
    if (r < 0) return r; // SYS_BLOCK included: the lookup arranged the wake-up
    if (resKind != R_INODE) return -E_NOEXEC;
    if (resIsDir) return -E_ISDIR;
    let ino = resIno;
    let size = vfsSize(ino);
    if (size < 0) return size; // SYS_BLOCK included
    if (size > <i64>EXEC_MAX) return -E_2BIG;
    if (size == 0) return -E_NOEXEC;
    if (holder >= 0 && holder != caller.slot) { sleep(EXEC_CHAN); return SYS_BLOCK; }
    holder = caller.slot;
    caller.execState = ST_READING;
    caller.execIno = ino;
    caller.execOff = 0;
    caller.execSize = <u32>size;
  }
  while (caller.execOff < caller.execSize) {
    let n = min<u32>(caller.execSize - caller.execOff, 65536);
    let r = vfsRead(caller.execIno, <u64>caller.execOff, execBuf + caller.execOff, n);
    if (r == SYS_BLOCK) return r;
    if (r <= 0) { execAbandon(caller); return r < 0 ? r : -E_NOEXEC; }
    caller.execOff += <u32>r;
  }
  let r = makeChild(caller, path, pathLen);
  execAbandon(caller);
  return r;
}

/** The image is in the exec buffer: a process for it, with the record's argv, environ and descriptors. */
function makeChild(caller: Proc, path: usize, pathLen: u32): i64 {
  let c = procAlloc();
  if (c == null) return -E_AGAIN;
  // argv, then environ: NUL-terminated strings in the child's argument area.
  let at: u32 = 0;
  for (let pass = 0; pass < 2; pass++) {
    let count = ru32();
    if (rbad || count > ARG_MAX / 2) { procFree(c); return -E_INVAL; }
    for (let i: u32 = 0; i < count; i++) {
      let n = ru32();
      let s = rskip(n);
      if (rbad) { procFree(c); return -E_INVAL; }
      if (at + n + 1 > ARG_MAX) { procFree(c); return -E_2BIG; }
      memory.copy(c.args + at, s, n);
      store<u8>(c.args + at + n, 0);
      at += n + 1;
    }
    if (pass == 0) { c.argc = count; c.argBytes = at; } else { c.envc = count; c.envBytes = at - c.argBytes; }
  }
  let nfd = ru32();
  if (rbad || nfd > <u32>NOFILE) { procFree(c); return -E_INVAL; }
  for (let i: u32 = 0; i < nfd; i++) {
    let from = <i32>ru32();
    if (rbad) { procFree(c); return -E_INVAL; }
    if (from < 0) continue;
    let f = caller.slot == 0 ? from : fdFile(caller, from); // the kernel passes file indexes
    if (f < 0) { procFree(c); return -E_BADF; }
    fileDup(f);
    c.fds[<i32>i] = f;
    // A directory given as descriptor 3 or above is one of the child's preopens (WASI
    // programs find them by fd_prestat_get from 3 up): how init -r gives a program
    // another directory as its "/".
    if (i >= 3 && files[f].type == F_INODE && files[f].isDir) files[f].preopen = true;
  }
  let nameLen = min<u32>(pathLen, 63);
  memory.copy(c.name, path + pathLen - nameLen, nameLen);
  store<u8>(c.name + nameLen, 0);
  c.ppid = caller.pid;
  c.startNs = uptimeNs();
  let pages = proc_create(c.pid, execBuf, caller.execSize);
  if (pages < 0) {
    spawnFailures++;
    cputs("bsd: spawn "); cputName(c.name, nameLen); cputs(": "); cputReason(); kprint("");
    procFree(c);
    return -E_NOEXEC;
  }
  if (memGrow(c, pages) < 0) {
    spawnFailures++;
    cputs("bsd: spawn "); cputName(c.name, nameLen); cputs(": needs "); cputu(<u64>pages); kprint(" pages of memory, not available");
    proc_destroy(c.pid);
    procFree(c);
    return -E_NOMEM;
  }
  spawns++;
  setRunnable(c);
  return <i64>c.pid;
}

function cputName(p: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) { let ch = load<u8>(p + i); cputc2(ch >= 32 && ch < 127 ? ch : 63); }
}
function cputReason(): void {
  for (let i: u32 = 0; i < 400; i++) { let ch = load<u8>(reasonBuf + i); if (ch == 0) break; cputc2(ch >= 32 && ch < 127 ? ch : 63); }
}
function cputc2(c: u32): void { cputc(c); }
