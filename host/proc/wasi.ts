// WASI preview 1 for BSD processes: every call enters the BSD kernel.
//
// @bjorn3/browser_wasi_shim does the ABI marshalling: it reads iovec arrays, paths
// and subscription records out of the process's memory and writes fdstat, prestat,
// dirent and event records back. Its `Fd` objects are where it meets a file system:
// ours (KernelFd) turn each method into a system call of the kernel (common/
// bsd-abi.ts), moving bytes through the kernel's SYSBUF. The kernel owns the file
// descriptor table; the shim's `fds` array is only a proxy that names a KernelFd for
// every number (the kernel answers EBADF for the ones that are not open).
//
// Calls whose shim implementation does not fit a kernel are replaced here: path_open
// and fd_renumber (the kernel numbers descriptors), path_rename and path_link (one
// atomic kernel operation, not unlink + link), clocks and random (virtual time and
// the kernel's seeded generator), poll_oneoff (the kernel waits), args and environ
// (the kernel holds them), proc_exit, sched_yield, sockets, and path_symlink and
// path_readlink (the shim has no links, and fails a target longer than the buffer
// where readlink(2) cuts it).
// browser_wasi_shim 0.4.2 writes filestat's times at offsets 38, 46 and 52 instead of
// 40, 48 and 56; KernelFd returns a Filestat whose write_bytes uses the right ones.
//
// The `bsd` import module is the kernel's own calls for programs written for it:
// spawn, wait, kill, getpid, and two the instrumenter inserts: memory_grow (every
// memory.grow of the program) and preempt (loop heads past __preempt_at).
//
// Interface: makeWasiImports(engine, proc) -> { object, attach(memory) }

import { WASI, Fd, wasi } from "@bjorn3/browser_wasi_shim";
import type { ProcessEngine, Proc } from "./engine.js";
import { ProcExit, WouldBlock } from "./engine.js";
import { growProcessMemory, programPages } from "./instrument.js";
import {
  SYSBUF_DATA, SYSBUF_PATH2, SYSBUF_REC, PATH_MAX, STAT_SIZE, DIRENT_NAME,
  SYS_EXIT, SYS_READ, SYS_WRITE, SYS_PREAD, SYS_PWRITE, SYS_OPENAT, SYS_CLOSE, SYS_SEEK, SYS_FSTAT, SYS_STATAT,
  SYS_FDSTAT, SYS_PRESTAT, SYS_READDIR, SYS_MKDIRAT, SYS_UNLINKAT, SYS_RMDIRAT, SYS_RENAMEAT, SYS_FSYNC,
  SYS_FTRUNCATE, SYS_FUTIMES, SYS_UTIMESAT, SYS_RENUMBER, SYS_FDFLAGS, SYS_CLOCK, SYS_POLL, SYS_RANDOM, SYS_YIELD,
  SYS_ARGS, SYS_ENVIRON, SYS_MEMGROW, SYS_SPAWN, SYS_WAIT, SYS_KILL, SYS_GETPID, SYS_LINKAT, SYS_SOCK, SYS_PIPE, SYS_REBOOT,
  SYS_SYMLINKAT, SYS_READLINKAT,
  FT_CHAR_DEVICE, FT_DIRECTORY, FT_REGULAR, E_INVAL, E_NAMETOOLONG, E_FAULT,
} from "../../common/bsd-abi.js";

export interface ProcImports {
  object: { wasi_snapshot_preview1: Record<string, unknown>; bsd: Record<string, unknown> };
  attach(memory: WebAssembly.Memory): void;
}

// Rights (WASI preview 1's capability bits), reported as wasmtime reports them; they are
// not a second permission system here: the kernel checks a descriptor's open mode and
// type, and fd_fdstat_set_rights is ENOTSUP (as in wasmtime; rights are gone in later WASI).
const R = (bit: number): bigint => 1n << BigInt(bit);
const R_FD_READ = R(1), R_FD_WRITE = R(6);
const ALL_RIGHTS = (1n << 30n) - 1n; // every right preview 1 defines (bits 0-29)
/** A directory's: path operations (bits 9-18, 20, 24-26), readdir (14), its own stat and
 *  times (21, 23). */
const DIR_RIGHTS = R(9) | R(10) | R(11) | R(12) | R(13) | R(14) | R(15) | R(16) | R(17) | R(18) | R(20) | R(21) | R(23) | R(24) | R(25) | R(26);
/** What a directory passes on to what is opened through it: its own and a file's (0-8,
 *  21-23, 27). */
const DIR_INHERIT = DIR_RIGHTS | R(0) | R_FD_READ | R(2) | R(3) | R(4) | R(5) | R_FD_WRITE | R(7) | R(8) | R(21) | R(22) | R(23) | R(27);
const SUBSCRIPTION_SIZE = 48;
const EVENT_SIZE = 32;

class Filestat extends wasi.Filestat {
  override write_bytes(view: DataView, ptr: number): void {
    view.setBigUint64(ptr, this.dev, true);
    view.setBigUint64(ptr + 8, this.ino, true);
    view.setUint8(ptr + 16, this.filetype);
    view.setBigUint64(ptr + 24, this.nlink, true);
    view.setBigUint64(ptr + 32, this.size, true);
    view.setBigUint64(ptr + 40, this.atim, true);
    view.setBigUint64(ptr + 48, this.mtim, true);
    view.setBigUint64(ptr + 56, this.ctim, true);
  }
}

const encoder = new TextEncoder();

export function makeWasiImports(engine: ProcessEngine, p: Proc): ProcImports {
  let memory: WebAssembly.Memory;
  const u8 = (): Uint8Array => new Uint8Array(memory.buffer);
  const dv = (): DataView => new DataView(memory.buffer);
  const sys = (nr: number, ...a: Array<number | bigint>): number => engine.sys(p, nr, ...a);
  const kbuf = (): Uint8Array => engine.sysbufView();

  /** Copy bytes into SYSBUF at `at` (charged). */
  const toKernel = (bytes: Uint8Array, at = 0): void => {
    kbuf().set(bytes, at);
    engine.copy(p, bytes.length);
  };
  const fromKernel = (n: number, at = 0): Uint8Array => {
    engine.copy(p, n);
    return kbuf().slice(at, at + n);
  };
  /** A path into SYSBUF; its length, or -errno. */
  const path = (s: string, at = 0): number => {
    const b = encoder.encode(s);
    if (b.length > PATH_MAX) return -E_NAMETOOLONG;
    toKernel(b, at);
    return b.length;
  };
  const readStat = (at: number): Filestat => {
    const v = new DataView(kbuf().buffer, kbuf().byteOffset + at, STAT_SIZE);
    engine.copy(p, STAT_SIZE);
    const st = new Filestat(v.getBigUint64(8, true), v.getUint8(16), v.getBigUint64(32, true));
    st.dev = v.getBigUint64(0, true);
    st.nlink = v.getBigUint64(24, true);
    st.atim = v.getBigUint64(40, true);
    st.mtim = v.getBigUint64(48, true);
    st.ctim = v.getBigUint64(56, true);
    return st;
  };
  /** A blocking data call may block only before it moved anything in this import. */
  const blockOrShort = (e: unknown): void => {
    if (!(e instanceof WouldBlock) || p.moved === 0) throw e;
  };

  class KernelFd extends Fd {
    constructor(readonly fd: number) {
      super();
    }
    override fd_read(size: number): { ret: number; data: Uint8Array } {
      try {
        const r = sys(SYS_READ, this.fd, Math.min(size, SYSBUF_DATA));
        if (r < 0) return { ret: -r, data: new Uint8Array() };
        p.moved += r;
        return { ret: 0, data: fromKernel(r) };
      } catch (e) {
        blockOrShort(e);
        return { ret: 0, data: new Uint8Array() };
      }
    }
    override fd_pread(size: number, offset: bigint): { ret: number; data: Uint8Array } {
      try {
        const r = sys(SYS_PREAD, this.fd, Math.min(size, SYSBUF_DATA), Number(offset));
        if (r < 0) return { ret: -r, data: new Uint8Array() };
        p.moved += r;
        return { ret: 0, data: fromKernel(r) };
      } catch (e) {
        blockOrShort(e);
        return { ret: 0, data: new Uint8Array() };
      }
    }
    override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
      return this.writeAll(data, (n) => sys(SYS_WRITE, this.fd, n));
    }
    override fd_pwrite(data: Uint8Array, offset: bigint): { ret: number; nwritten: number } {
      let off = Number(offset);
      return this.writeAll(data, (n) => {
        const r = sys(SYS_PWRITE, this.fd, n, off);
        if (r > 0) off += r;
        return r;
      });
    }
    /** Write in SYSBUF-sized pieces while the kernel takes them whole. */
    private writeAll(data: Uint8Array, call: (n: number) => number): { ret: number; nwritten: number } {
      let done = 0;
      while (done < data.length || (data.length === 0 && done === 0)) {
        const n = Math.min(SYSBUF_DATA, data.length - done);
        toKernel(data.subarray(done, done + n));
        let r: number;
        try {
          r = call(n);
        } catch (e) {
          blockOrShort(e);
          break;
        }
        if (r < 0) return done > 0 ? { ret: 0, nwritten: done } : { ret: -r, nwritten: 0 };
        done += r;
        p.moved += r;
        if (r < n || n === 0) break;
      }
      return { ret: 0, nwritten: done };
    }
    override fd_seek(offset: bigint, whence: number): { ret: number; offset: bigint } {
      const r = sys(SYS_SEEK, this.fd, Number(offset), whence);
      return r < 0 ? { ret: -r, offset: 0n } : { ret: 0, offset: BigInt(r) };
    }
    override fd_tell(): { ret: number; offset: bigint } {
      return this.fd_seek(0n, wasi.WHENCE_CUR);
    }
    override fd_close(): number {
      return -sys(SYS_CLOSE, this.fd);
    }
    override fd_sync(): number {
      return -sys(SYS_FSYNC, this.fd);
    }
    override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
      const r = sys(SYS_FDSTAT, this.fd);
      if (r < 0) return { ret: -r, fdstat: null };
      const type = r & 0xff;
      const readable = (r & (1 << 16)) !== 0, writable = (r & (1 << 17)) !== 0;
      const st = new wasi.Fdstat(type, (r >> 8) & 0xff);
      if (type === FT_DIRECTORY) {
        st.fs_rights_base = DIR_RIGHTS;
        st.fs_rights_inherited = DIR_INHERIT;
      } else if (type === FT_REGULAR) {
        st.fs_rights_base = ALL_RIGHTS & ~(readable ? 0n : R_FD_READ) & ~(writable ? 0n : R_FD_WRITE);
        st.fs_rights_inherited = st.fs_rights_base;
      } else { // a terminal, a device, a pipe: a stream (no seek/tell, which isatty tests)
        st.fs_rights_base = (readable ? R_FD_READ : 0n) | (writable ? R_FD_WRITE : 0n);
        st.fs_rights_inherited = st.fs_rights_base;
      }
      return { ret: 0, fdstat: st };
    }
    override fd_fdstat_set_flags(flags: number): number {
      return -sys(SYS_FDFLAGS, this.fd, flags);
    }
    override fd_fdstat_set_rights(): number {
      return wasi.ERRNO_NOTSUP; // see DIR_RIGHTS (the fd is known valid: the shim checked)
    }
    override fd_filestat_get(): { ret: number; filestat: wasi.Filestat | null } {
      const r = sys(SYS_FSTAT, this.fd);
      return r < 0 ? { ret: -r, filestat: null } : { ret: 0, filestat: readStat(0) };
    }
    override fd_filestat_set_size(size: bigint): number {
      return -sys(SYS_FTRUNCATE, this.fd, Number(size));
    }
    override fd_filestat_set_times(atim: bigint, mtim: bigint, flags: number): number {
      return -sys(SYS_FUTIMES, this.fd, atim, mtim, flags);
    }
    override fd_allocate(offset: bigint, len: bigint): number {
      const st = this.fd_filestat_get();
      if (st.ret !== 0 || !st.filestat) return st.ret;
      if (st.filestat.filetype === FT_DIRECTORY) return wasi.ERRNO_ISDIR;
      if (st.filestat.filetype !== FT_REGULAR) return wasi.ERRNO_BADF;
      const end = offset + len;
      return end > st.filestat.size ? this.fd_filestat_set_size(end) : 0;
    }
    override fd_prestat_get(): { ret: number; prestat: wasi.Prestat | null } {
      const r = sys(SYS_PRESTAT, this.fd);
      if (r < 0) return { ret: -r, prestat: null };
      return { ret: 0, prestat: wasi.Prestat.dir(new TextDecoder().decode(fromKernel(r))) };
    }
    override fd_readdir_single(cookie: bigint): { ret: number; dirent: wasi.Dirent | null } {
      const r = sys(SYS_READDIR, this.fd, Number(cookie));
      if (r < 0) return { ret: -r, dirent: null };
      if (r === 0) return { ret: 0, dirent: null };
      const b = kbuf();
      const v = new DataView(b.buffer, b.byteOffset, DIRENT_NAME);
      const len = v.getUint32(16, true);
      const name = new TextDecoder().decode(fromKernel(len, DIRENT_NAME));
      return { ret: 0, dirent: new wasi.Dirent(v.getBigUint64(0, true), v.getBigUint64(8, true), name, v.getUint8(20)) };
    }
    override path_create_directory(s: string): number {
      const n = path(s);
      return n < 0 ? -n : -sys(SYS_MKDIRAT, this.fd, n);
    }
    override path_filestat_get(flags: number, s: string): { ret: number; filestat: wasi.Filestat | null } {
      const n = path(s);
      if (n < 0) return { ret: -n, filestat: null };
      const r = sys(SYS_STATAT, this.fd, n, flags);
      return r < 0 ? { ret: -r, filestat: null } : { ret: 0, filestat: readStat(SYSBUF_REC) };
    }
    override path_filestat_set_times(flags: number, s: string, atim: bigint, mtim: bigint, fst: number): number {
      const n = path(s);
      return n < 0 ? -n : -sys(SYS_UTIMESAT, this.fd, n, atim, mtim, fst | (flags << 16));
    }
    override path_remove_directory(s: string): number {
      const n = path(s);
      return n < 0 ? -n : -sys(SYS_RMDIRAT, this.fd, n);
    }
    override path_unlink_file(s: string): number {
      const n = path(s);
      return n < 0 ? -n : -sys(SYS_UNLINKAT, this.fd, n);
    }
  }

  // The shim indexes fds[fd] and checks `!= undefined`: name a KernelFd for every number.
  const cache = new Map<number, KernelFd>();
  const fds = new Proxy([] as Fd[], {
    get(target, prop, recv) {
      if (typeof prop === "string" && /^\d+$/.test(prop)) {
        const fd = Number(prop);
        let f = cache.get(fd);
        if (!f) cache.set(fd, (f = new KernelFd(fd)));
        return f;
      }
      return Reflect.get(target, prop, recv);
    },
    set() {
      return true; // the shim's bookkeeping of closes; the kernel's table is the truth
    },
  });
  const shim = new WASI([], [], fds, { debug: false });
  const w = shim.wasiImport as Record<string, (...a: never[]) => number>;
  const wrap = <A extends unknown[]>(impl: (...args: A) => number) => engine.wrap(p, impl);

  /** Strings the kernel holds for the process (argv or environ), as the shim wants them. */
  /** argv or environ from the kernel: count, and the NUL-terminated strings back to back. */
  const strings = (nr: number): { count: number; bytes: Uint8Array } => {
    const r = sys(nr);
    return { count: Math.floor(r / 2 ** 32), bytes: fromKernel(r % 2 ** 32) };
  };

  const preview1: Record<string, unknown> = {};
  // Everything the shim marshals over KernelFd, wrapped as a system call.
  for (const name of Object.keys(w)) preview1[name] = wrap((...a: unknown[]) => (w[name] as (...x: unknown[]) => number)(...a));

  // argv and environ are the kernel's (spawn gave them): fetched on each call, then
  // laid out by the shim.
  // Served here rather than by browser_wasi_shim: its args_sizes_get counts UTF-16 code
  // units, not bytes, so a non-ASCII argument overran the program's buffer; and the
  // bytes go through as the kernel has them (no decoding and re-encoding).
  const sizesGet = (nr: number) => wrap((countPtr: number, sizePtr: number) => {
    const { count, bytes } = strings(nr);
    dv().setUint32(countPtr, count, true);
    dv().setUint32(sizePtr, bytes.length, true);
    return 0;
  });
  const stringsGet = (nr: number) => wrap((ptrs: number, buf: number) => {
    const { count, bytes } = strings(nr);
    u8().set(bytes, buf);
    const view = dv();
    for (let i = 0, s = 0; i < count; i++) {
      view.setUint32(ptrs + 4 * i, buf + s, true);
      s = bytes.indexOf(0, s) + 1;
    }
    return 0;
  });
  const clock = (res: 0 | 1) => (id: number, out: number) => {
    const r = engine.sys64(p, SYS_CLOCK, id, res);
    if (r < 0n) return Number(-r);
    dv().setBigUint64(out, r, true);
    return 0;
  };
  const clockTime = clock(0);

  Object.assign(preview1, {
    args_sizes_get: sizesGet(SYS_ARGS),
    args_get: stringsGet(SYS_ARGS),
    environ_sizes_get: sizesGet(SYS_ENVIRON),
    environ_get: stringsGet(SYS_ENVIRON),
    clock_time_get: wrap((id: number, _precision: bigint, out: number) => clockTime(id, out)),
    clock_res_get: wrap(clock(1)),
    poll_oneoff: wrap((inPtr: number, outPtr: number, n: number, neventsPtr: number) => {
      if (n === 0) return E_INVAL;
      const bytes = n * SUBSCRIPTION_SIZE;
      if (bytes > SYSBUF_DATA) return E_INVAL;
      toKernel(u8().subarray(inPtr, inPtr + bytes));
      const r = sys(SYS_POLL, n);
      if (r < 0) return -r;
      u8().set(fromKernel(r * EVENT_SIZE), outPtr);
      dv().setUint32(neventsPtr, r, true);
      return 0;
    }),
    random_get: wrap((buf: number, len: number) => {
      let done = 0;
      while (done < len) {
        const n = Math.min(SYSBUF_DATA, len - done);
        const r = sys(SYS_RANDOM, n);
        if (r < 0) return -r;
        u8().set(fromKernel(r), buf + done);
        done += r;
      }
      return 0;
    }),
    proc_exit: wrap((code: number) => {
      sys(SYS_EXIT, code >>> 0);
      throw new ProcExit();
    }),
    proc_raise: wrap((sig: number) => {
      const r = sys(SYS_KILL, p.pid, sig);
      return r < 0 ? -r : 0;
    }),
    sched_yield: wrap(() => -sys(SYS_YIELD)),
    path_open: wrap((fd: number, dirflags: number, pathPtr: number, pathLen: number, oflags: number,
      rightsBase: bigint, _rightsInh: bigint, fdflags: number, outPtr: number) => {
      if (pathLen > PATH_MAX) return E_NAMETOOLONG;
      toKernel(u8().subarray(pathPtr, pathPtr + pathLen));
      const r = sys(SYS_OPENAT, fd, pathLen, oflags, fdflags, dirflags, Number(rightsBase & ((1n << 52n) - 1n)));
      if (r < 0) return -r;
      dv().setUint32(outPtr, r, true);
      return 0;
    }),
    fd_renumber: wrap((fd: number, to: number) => -sys(SYS_RENUMBER, fd, to)),
    path_rename: wrap((fd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) =>
      twoPaths(SYS_RENAMEAT, fd, oldPtr, oldLen, newFd, newPtr, newLen)),
    path_link: wrap((fd: number, flags: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) =>
      twoPaths(SYS_LINKAT, fd, oldPtr, oldLen, newFd, newPtr, newLen, flags)),
    // The link's path goes to SYSBUF, its target to SYSBUF_PATH2 (as the kernel reads them).
    path_symlink: wrap((oldPtr: number, oldLen: number, fd: number, newPtr: number, newLen: number) => {
      if (oldLen > SYSBUF_PATH2 || newLen > SYSBUF_PATH2) return E_NAMETOOLONG;
      toKernel(u8().subarray(newPtr, newPtr + newLen), 0);
      toKernel(u8().subarray(oldPtr, oldPtr + oldLen), SYSBUF_PATH2);
      return -sys(SYS_SYMLINKAT, fd, newLen, oldLen);
    }),
    // The target comes back at SYSBUF_PATH2, cut to the buffer as readlink(2) cuts it.
    path_readlink: wrap((fd: number, pathPtr: number, pathLen: number, buf: number, bufLen: number, usedPtr: number) => {
      if (pathLen > SYSBUF_PATH2) return E_NAMETOOLONG;
      toKernel(u8().subarray(pathPtr, pathPtr + pathLen), 0);
      const r = sys(SYS_READLINKAT, fd, pathLen, bufLen);
      if (r < 0) return -r;
      u8().set(fromKernel(r, SYSBUF_PATH2), buf);
      dv().setUint32(usedPtr, r, true);
      return 0;
    }),
    sock_accept: wrap((fd: number) => -sys(SYS_SOCK, fd)),
    sock_recv: wrap((fd: number) => -sys(SYS_SOCK, fd)),
    sock_send: wrap((fd: number) => -sys(SYS_SOCK, fd)),
    sock_shutdown: wrap((fd: number) => -sys(SYS_SOCK, fd)),
  });

  function twoPaths(nr: number, fd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number, flags = 0): number {
    if (oldLen > SYSBUF_PATH2 || newLen > PATH_MAX) return E_NAMETOOLONG;
    toKernel(u8().subarray(oldPtr, oldPtr + oldLen), 0);
    toKernel(u8().subarray(newPtr, newPtr + newLen), SYSBUF_PATH2);
    return -sys(nr, fd, oldLen, newFd, newLen, flags);
  }

  const bsd: Record<string, unknown> = {
    spawn: wrap((rec: number, len: number) => {
      if (len > SYSBUF_DATA || rec + len > memory.buffer.byteLength) return -E_FAULT;
      toKernel(u8().subarray(rec, rec + len));
      return sys(SYS_SPAWN, len);
    }),
    wait: wrap((pid: number, statusPtr: number, options: number) => {
      const r = sys(SYS_WAIT, pid, options);
      if (r > 0 && statusPtr !== 0) u8().set(fromKernel(8), statusPtr);
      return r;
    }),
    kill: wrap((pid: number, sig: number) => sys(SYS_KILL, pid, sig)),
    pipe: wrap((fdsPtr: number) => {
      const r = sys(SYS_PIPE);
      if (r < 0) return r;
      dv().setInt32(fdsPtr, r % 2 ** 32, true);
      dv().setInt32(fdsPtr + 4, Math.floor(r / 2 ** 32), true);
      return 0;
    }),
    reboot: wrap((status: number) => sys(SYS_REBOOT, status >>> 0)),
    getpid: wrap(() => sys(SYS_GETPID) % 2 ** 32),
    getppid: wrap(() => Math.floor(sys(SYS_GETPID) / 2 ** 32)),
    memory_grow: wrap((delta: number) => {
      const reserved = p.program.reservedPages;
      if (delta === 0) return programPages(memory, reserved);
      if (delta < 0 || sys(SYS_MEMGROW, delta) !== 0) return -1;
      const old = growProcessMemory(memory, delta, reserved);
      if (old < 0) sys(SYS_MEMGROW, -delta); // past the module's own maximum: give the pages back
      return old;
    }),
    preempt: () => engine.preempt(p),
  };

  return {
    object: { wasi_snapshot_preview1: preview1, bsd },
    attach: (m: WebAssembly.Memory) => {
      memory = m;
      shim.inst = { exports: { memory: m } } as unknown as WASI["inst"];
    },
  };
}
