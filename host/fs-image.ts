// The BSD system disk's file system on the host: build/fstool.wasm (the file system the
// BSD kernel runs, guest-bsd/fs/, compiled on its own) over a block backend, for
// `hitactix fs` (cli-fs.ts), scripts/build-sysimg.mjs and the tests. One
// implementation: the host never parses the format itself.
//
// Its blocks come from a backend (fs-backend.ts: an image file, memory, a recorder).
//
// Interface:
// BsdFs(backend, options): one fstool.wasm instance.
//   mkfs({ninodes, logBlocks, created, zeroed}), mount(), unmount(), sync()
//   lookup/stat/list/readFile/readInto/writeFile/writeFrom/mkdir/unlink/rmdir/
//   rename/chmod/setTimes/truncate, fsck() -> {problems, report}, stats(), notes
//   Paths are strings (UTF-8), absolute or relative to the root.
// Errors are FsError with the path, the errno name and, for EIO and mount refusals, the
// file system's own reason. A trap inside fstool.wasm (which the checks should make
// impossible) becomes an FsError that says so, never a crash of the host.
// Options: deferred: true holds every request until the test completes it (pump()),
// exercising the restartable paths the kernel uses (FS_WAIT, re-issue).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  BSIZE, O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC, FS_MAX_IO, FS_WAIT_CODE, ST_INO, ST_SIZE, ST_ATIME, ST_MTIME,
  ST_CTIME, ST_BLOCKS, ST_TYPE, ST_NLINK, ST_MODE, ST_UID, ST_GID, RD_NEXT, RD_INO, RD_TYPE, RD_NAMELEN, RD_NAME,
  T_DIR, T_FILE, T_LINK, ROOT_INO, SET_ATIM, SET_MTIM, FSS_READS, FSS_WRITES, FSS_HITS, FSS_MISSES, FSS_COMMITS, FSS_LOGGED,
  FSS_WAITS, FSS_JOURNAL_WAITS, FSS_FREE_BLOCKS, FSS_FREE_INODES, FSS_TX_BLOCKS, FSS_READ_ERRORS, FSS_DURABLE_SEQ,
} from "../common/bsdfs.js";
import { packageRoot } from "./config.js";
import { FsError, FileBackend, type FsBackend } from "./fs-backend.js";

export { FsError, FileBackend, MemBackend, RecordingBackend, OverlayBackend, createImageFile, type FsBackend, type Recorded } from "./fs-backend.js";

export { BSIZE, O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC, T_DIR, T_FILE, T_LINK };

const ERRNO: Record<number, [string, string]> = {
  2: ["E2BIG", "argument list too long"], 10: ["EBUSY", "busy (the root)"], 20: ["EEXIST", "already exists"],
  22: ["EFBIG", "file too large"], 28: ["EINVAL", "invalid argument"], 29: ["EIO", "I/O error"],
  31: ["EISDIR", "is a directory"], 34: ["EMLINK", "too many links"], 37: ["ENAMETOOLONG", "name too long (58 bytes at most)"],
  41: ["ENFILE", "too many open files"], 44: ["ENOENT", "no such file or directory"], 51: ["ENOSPC", "no space left on the file system"],
  54: ["ENOTDIR", "not a directory"], 55: ["ENOTEMPTY", "directory not empty"], 63: ["EPERM", "operation not permitted"],
};

export function errnoName(e: number): string {
  return ERRNO[e]?.[0] ?? `errno ${e}`;
}

// ---- The wasm instance ------------------------------------------------------------------

let compiled: WebAssembly.Module | undefined;

export function fstoolModule(): WebAssembly.Module {
  if (!compiled) {
    const path = join(packageRoot(), "build", "fstool.wasm");
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      throw new FsError(`${path} is missing: run npm run build`);
    }
    compiled = new WebAssembly.Module(bytes as BufferSource);
  }
  return compiled;
}

interface Exports {
  memory: WebAssembly.Memory;
  _start(): void;
  toolInit(nbuf: number, nlog: number, ninode: number, memBlocks: number): void;
  toolHeapMark(): number;
  toolIoDone(req: number, status: number): void;
  toolPath1(): number; toolPath2(): number; toolData(): number; toolStat(): number; toolDirent(): number; toolStats(): number;
  fsMount(): number; fsUnmount(): number;
  fsMkfs(nblocks: number, ninodes: number, logBlocks: number, created: bigint, zeroed: number): number;
  fsLookup(dir: number, path: number, len: number): bigint;
  fsLookupLink(dir: number, path: number, len: number): bigint;
  fsSymlink(dir: number, path: number, len: number, target: number, tlen: number, uid: number, gid: number): number;
  fsReadlink(dir: number, path: number, len: number, out: number, max: number): number;
  fsOpen(dir: number, path: number, len: number, oflags: number, mode: number, uid: number, gid: number): bigint;
  fsIget(ino: number): number; fsIput(ino: number): number;
  fsRead(ino: number, off: bigint, buf: number, len: number): number;
  fsWrite(ino: number, off: bigint, buf: number, len: number): number;
  fsTruncate(ino: number, len: bigint): number;
  fsStat(ino: number, out: number): number;
  fsReaddir(dir: number, cookie: bigint, out: number): number;
  fsMkdir(dir: number, path: number, len: number, mode: number, uid: number, gid: number): number;
  fsRmdir(dir: number, path: number, len: number): number;
  fsUnlink(dir: number, path: number, len: number): number;
  fsLink(d1: number, p1: number, l1: number, d2: number, p2: number, l2: number): number;
  fsRename(d1: number, p1: number, l1: number, d2: number, p2: number, l2: number): number;
  fsSetTimes(ino: number, atime: bigint, mtime: bigint, flags: number): number;
  fsChmod(ino: number, mode: number): number;
  fsChown(ino: number, uid: number, gid: number): number;
  fsSync(): bigint; fsSyncDone(seq: bigint): number;
  fsTick(now: bigint): void; fsService(): number; fsSetCommitInterval(ns: bigint): void;
  fsStats(out: number): void;
  fsReasonPtr(): number; fsReasonLen(): number; fsNotesPtr(): number; fsNotesLen(): number;
  fsFsck(): number; fsReportPtr(): number; fsReportLen(): number; fsReportDropped(): number;
  fsckFiles: WebAssembly.Global; fsckDirs: WebAssembly.Global; fsckBlocks: WebAssembly.Global;
}

export interface FsOptions {
  /** Cache blocks (4 KiB each). */
  nbuf?: number;
  /** Largest transaction, blocks (snapshot buffers). */
  nlog?: number;
  ninode?: number;
  /** Time stamps, ns since the epoch (default: SOURCE_DATE_EPOCH if set, else the wall clock). */
  clock?: () => bigint;
  /** Hold every request until pump() completes it (tests of the restartable paths). */
  deferred?: boolean;
  /** With deferred: complete held requests in a seeded random order. */
  seed?: number;
  /** Use the guest's own in-memory device (blkio.ts MemDevice) of this many blocks
   *  instead of the backend (whose size then only sizes the memory). */
  guestMemoryBlocks?: number;
}

export interface FsStat {
  ino: number; type: "file" | "dir" | "link"; size: number; mode: number; nlink: number; uid: number; gid: number;
  blocks: number; atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint;
}

export interface FsDirent { name: string; ino: number; type: "file" | "dir" | "link" }

function typeName(t: number): "file" | "dir" | "link" {
  return t === T_DIR ? "dir" : t === T_LINK ? "link" : "file";
}

export interface FsStats {
  reads: number; writes: number; hits: number; misses: number; commits: number; blocksLogged: number; waits: number;
  journalWaits: number; freeBlocks: number; freeInodes: number; txBlocks: number; readErrors: number; durableSeq: number;
}

export function defaultClock(): bigint {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) return BigInt(epoch) * 1_000_000_000n;
  return BigInt(Date.now()) * 1_000_000n;
}

interface Held { op: number; block: number; data: number; req: number }

const enc = new TextEncoder();
const dec = new TextDecoder();

export class BsdFs {
  private x: Exports;
  private mem: WebAssembly.Memory;
  private dead: string | undefined;
  private held: Held[] = [];
  private rng: number;
  deferred: boolean;
  /** What mount did (a replay, a dropped torn commit, orphans to reclaim). */
  notes = "";
  /** Times the file system called its wake-up hook. */
  wakeups = 0;

  constructor(readonly backend: FsBackend, opts: FsOptions = {}) {
    const nbuf = opts.nbuf ?? 4096;
    const nlog = opts.nlog ?? 1016;
    const ninode = opts.ninode ?? 256;
    this.deferred = opts.deferred ?? false;
    this.rng = (opts.seed ?? 1) >>> 0 || 1;
    const clock = opts.clock ?? defaultClock;
    // heap: the cache, the snapshots, fsck's tables (a bit per block, 13 bytes per inode;
    // at most 32 inodes per block of the image), 2 MiB for everything else
    const guestBlocks = opts.guestMemoryBlocks ?? 0;
    const cap = guestBlocks || backend.blocks;
    const fsck = Math.ceil(cap / 8) + Math.min(cap * 32, 2 ** 26) * 13;
    const heapBytes = (nbuf + nlog + 64 + guestBlocks) * BSIZE + fsck + (2 << 20);
    const pages = Math.min(65536, Math.ceil((65536 + 1048576 + heapBytes) / 65536));
    this.mem = new WebAssembly.Memory({ initial: pages });
    const readStr = (p: number): string => {
      if (!p) return "";
      const len = new DataView(this.mem.buffer).getUint32(p - 4, true);
      return String.fromCharCode(...new Uint16Array(this.mem.buffer, p, len >>> 1));
    };
    const imports = {
      env: {
        memory: this.mem,
        heap_end: new WebAssembly.Global({ value: "i32", mutable: false }, (pages * 65536) | 0),
        heap_exhausted: (size: number): never => {
          throw new FsError(`fstool.wasm ran out of memory (asked for ${size >>> 0} bytes; the image's geometry is too large for this tool's memory)`);
        },
        abort: (msg: number, file: number, line: number, col: number): never => {
          throw new FsError(`fstool.wasm aborted: ${readStr(msg)} at ${readStr(file)}:${line}:${col}`);
        },
      },
      host: {
        blk_capacity: () => Math.min(cap, 0xffffffff),
        blk_io: (op: number, block: number, data: number, req: number): number => this.io(op, block >>> 0, data >>> 0, req >>> 0),
        now_ns: (): bigint => clock(),
        wakeup: (): void => { this.wakeups++; },
      },
    };
    const inst = new WebAssembly.Instance(fstoolModule(), imports);
    this.x = inst.exports as unknown as Exports;
    this.x._start();
    this.x.toolInit(nbuf, nlog, ninode, guestBlocks);
  }

  /** The guest heap's top (each call moves it by one 16-byte block). */
  heapMark(): number {
    return this.x.toolHeapMark() >>> 0;
  }

  // ---- requests ----

  private io(op: number, block: number, data: number, req: number): number {
    if (op !== 2 && block >= this.backend.blocks) return 1; // beyond the device: an error status
    if (this.deferred) {
      this.held.push({ op, block, data, req });
      return -1;
    }
    return this.doIo(op, block, data);
  }

  private doIo(op: number, block: number, data: number): number {
    if (op === 2) this.backend.flush();
    else {
      const view = new Uint8Array(this.mem.buffer, data, BSIZE);
      if (op === 0) this.backend.read(block, view);
      else this.backend.write(block, view);
    }
    return 0;
  }

  private random(): number {
    let x = this.rng;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.rng = x;
    return x;
  }

  /** Requests held (deferred mode). */
  get inFlight(): number {
    return this.held.length;
  }

  /** Complete up to n held requests (in a seeded random order); returns how many. */
  pump(n = Infinity): number {
    let done = 0;
    while (this.held.length > 0 && done < n) {
      const i = this.random() % this.held.length;
      const h = this.held[i];
      this.held[i] = this.held[this.held.length - 1];
      this.held.pop();
      const status = this.doIo(h.op, h.block, h.data);
      this.call("toolIoDone", () => this.x.toolIoDone(h.req, status));
      done++;
    }
    return done;
  }

  // ---- calling in ----

  private call<T>(name: string, f: () => T): T {
    if (this.dead) throw new FsError(`fstool.wasm stopped earlier (${this.dead}); open the image again`);
    try {
      return f();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        this.dead = `a trap in ${name}: ${e.message}`;
        throw new FsError(`fstool.wasm trapped in ${name} (${e.message}): the image is damaged in a way the checks did not catch`);
      }
      this.dead = (e as Error).message; // an exception unwound the guest mid-call
      throw e;
    }
  }

  /** Run a restartable call until it stops answering FS_WAIT. */
  private run(name: string, f: () => number): number {
    for (let spins = 0; ; spins++) {
      const r = this.call(name, f);
      if (r !== FS_WAIT_CODE) return r;
      if (this.held.length === 0) {
        if (spins > 4) throw new FsError(`fstool.wasm: ${name} keeps answering FS_WAIT with no request in flight`);
        continue; // a journal wait that a commit started by this call has already ended
      }
      this.pump(this.deferred ? 1 + (this.random() % 8) : Infinity);
    }
  }

  private runBig(name: string, f: () => bigint): bigint {
    let r = 0n;
    this.run(name, () => {
      r = f();
      return r === BigInt(FS_WAIT_CODE) ? FS_WAIT_CODE : 0;
    });
    return r;
  }

  private text(p: number, len: number): string {
    return dec.decode(new Uint8Array(this.mem.buffer, p, len));
  }

  reason(): string {
    return this.text(this.x.fsReasonPtr(), this.x.fsReasonLen());
  }

  private fail(r: number, what: string): never {
    const e = -r;
    const [name, text] = ERRNO[e] ?? [`errno ${e}`, "error"];
    const why = e === 29 ? `: ${this.reason()}` : "";
    throw new FsError(`${what}: ${text} (${name})${why}`, e);
  }

  private check(r: number, what: string): number {
    if (r < 0) this.fail(r, what);
    return r;
  }

  private putPath(path: string, which: 1 | 2 = 1): [number, number] {
    const bytes = enc.encode(path);
    if (bytes.length > 4096) throw new FsError(`${path.slice(0, 40)}...: path too long (${bytes.length} bytes)`, 37);
    const p = which === 1 ? this.x.toolPath1() : this.x.toolPath2();
    new Uint8Array(this.mem.buffer, p, bytes.length).set(bytes);
    return [p, bytes.length];
  }

  // ---- the file system ----

  mkfs(o: { ninodes?: number; logBlocks?: number; created?: bigint; zeroed?: boolean; blocks?: number } = {}): void {
    const deferred = this.deferred;
    this.deferred = false; // mkfs writes synchronously (a tool's job, not the kernel's)
    let r: number;
    try {
      r = this.call("fsMkfs", () =>
        this.x.fsMkfs(o.blocks ?? 0, o.ninodes ?? 0, o.logBlocks ?? 0, o.created ?? defaultClock(), o.zeroed ? 1 : 0));
    } finally {
      this.deferred = deferred;
    }
    if (r < 0) throw new FsError(`mkfs: ${this.reason()}`, -r);
  }

  mount(): void {
    const r = this.run("fsMount", () => this.x.fsMount());
    this.notes = this.text(this.x.fsNotesPtr(), this.x.fsNotesLen());
    if (r < 0) throw new FsError(`cannot mount: ${this.reason()}`, -r);
  }

  unmount(): void {
    this.check(this.run("fsUnmount", () => this.x.fsUnmount()), "unmount");
  }

  /** Make everything so far durable; returns the commit's sequence number. */
  sync(): number {
    const seq = this.call("fsSync", () => this.x.fsSync());
    if (seq < 0n) this.fail(Number(seq), "sync");
    this.run("fsSyncDone", () => {
      const d = this.x.fsSyncDone(seq);
      return d === 0 ? FS_WAIT_CODE : d;
    });
    return Number(seq);
  }

  /** Reclaim unlinked files now (the kernel does it from its clock tick). */
  service(): void {
    while (this.run("fsService", () => this.x.fsService()) === 1);
  }

  tick(nowNs: bigint): void {
    this.call("fsTick", () => this.x.fsTick(nowNs));
  }

  setCommitInterval(ns: bigint): void {
    this.x.fsSetCommitInterval(ns);
  }

  lookup(path: string, dir = ROOT_INO): number {
    const r = this.runBig("fsLookup", () => this.x.fsLookup(dir, ...this.putPath(path)));
    return this.check(Number(r), path);
  }

  /** As lookup, but a symbolic link in the last component is not followed. */
  lookupLink(path: string, dir = ROOT_INO): number {
    const r = this.runBig("fsLookupLink", () => this.x.fsLookupLink(dir, ...this.putPath(path)));
    return this.check(Number(r), path);
  }

  /** A symbolic link at `path` to `target` (kept as given; resolved when followed). */
  symlink(target: string, path: string, uid = 0, gid = 0): void {
    const [tp, tl] = this.putPath(target, 2);
    this.check(this.run("fsSymlink", () => this.x.fsSymlink(ROOT_INO, ...this.putPath(path), tp, tl, uid, gid)), path);
  }

  /** The target of the symbolic link at `path`. */
  readlink(path: string): string {
    const out = this.x.toolData();
    const n = this.check(this.run("fsReadlink", () => this.x.fsReadlink(ROOT_INO, ...this.putPath(path), out, 4096)), path);
    return this.text(out, n);
  }

  /** stat without following a link in the last component (lstat). */
  lstat(path: string): FsStat {
    return this.statIno(this.lookupLink(path), path);
  }

  exists(path: string): boolean {
    try {
      this.lookup(path);
      return true;
    } catch (e) {
      if (e instanceof FsError && (e.errno === 44 || e.errno === 54)) return false;
      throw e;
    }
  }

  /** Open (taking a reference); close() drops it. */
  open(path: string, oflags = 0, mode = 0o644, uid = 0, gid = 0): number {
    const r = this.runBig("fsOpen", () => this.x.fsOpen(ROOT_INO, ...this.putPath(path), oflags, mode, uid, gid));
    return this.check(Number(r), path);
  }

  close(ino: number): void {
    this.call("fsIput", () => this.x.fsIput(ino));
  }

  statIno(ino: number, what = `inode ${ino}`): FsStat {
    const out = this.x.toolStat();
    this.check(this.run("fsStat", () => this.x.fsStat(ino, out)), what);
    const dv = new DataView(this.mem.buffer, out, 64);
    return {
      ino: Number(dv.getBigUint64(ST_INO, true)),
      type: typeName(dv.getUint16(ST_TYPE, true)),
      size: Number(dv.getBigUint64(ST_SIZE, true)),
      mode: dv.getUint32(ST_MODE, true),
      nlink: dv.getUint16(ST_NLINK, true),
      uid: dv.getUint32(ST_UID, true),
      gid: dv.getUint32(ST_GID, true),
      blocks: dv.getUint32(ST_BLOCKS, true),
      atimeNs: dv.getBigUint64(ST_ATIME, true),
      mtimeNs: dv.getBigUint64(ST_MTIME, true),
      ctimeNs: dv.getBigUint64(ST_CTIME, true),
    };
  }

  stat(path: string): FsStat {
    return this.statIno(this.lookup(path), path);
  }

  /** Entries of a directory, without "." and "..". */
  list(path: string): FsDirent[] {
    const dir = this.lookup(path);
    const out = this.x.toolDirent();
    const entries: FsDirent[] = [];
    let cookie = 0n;
    for (;;) {
      const r = this.check(this.run("fsReaddir", () => this.x.fsReaddir(dir, cookie, out)), path);
      if (r === 0) break;
      const dv = new DataView(this.mem.buffer, out, 72);
      cookie = dv.getBigUint64(RD_NEXT, true);
      const name = this.text(out + RD_NAME, dv.getUint8(RD_NAMELEN));
      if (name === "." || name === "..") continue;
      entries.push({ name, ino: dv.getUint32(RD_INO, true), type: typeName(dv.getUint8(RD_TYPE)) });
    }
    return entries;
  }

  /** Read a whole file, chunk by chunk, into sink(bytes) (the view is valid during the call). */
  readInto(path: string, sink: (chunk: Uint8Array) => void): number {
    const ino = this.open(path);
    try {
      const st = this.statIno(ino, path);
      if (st.type === "dir") this.fail(-31, path);
      const buf = this.x.toolData();
      let off = 0;
      for (;;) {
        const n = this.check(this.run("fsRead", () => this.x.fsRead(ino, BigInt(off), buf, FS_MAX_IO)), path);
        if (n === 0) break;
        sink(new Uint8Array(this.mem.buffer, buf, n));
        off += n;
      }
      return off;
    } finally {
      this.close(ino);
    }
  }

  /** Read up to len bytes at off from an inode held open (open()). */
  readAt(ino: number, off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const buf = this.x.toolData();
    let at = 0;
    while (at < len) {
      const n = this.check(this.run("fsRead", () => this.x.fsRead(ino, BigInt(off + at), buf, Math.min(FS_MAX_IO, len - at))), `inode ${ino}`);
      if (n === 0) break;
      out.set(new Uint8Array(this.mem.buffer, buf, n), at);
      at += n;
    }
    return out.subarray(0, at);
  }

  readFile(path: string): Uint8Array {
    const parts: Uint8Array[] = [];
    const total = this.readInto(path, (c) => parts.push(Uint8Array.from(c)));
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  /** Create or replace a file with `size` bytes that fill(off, dst) provides. */
  writeFrom(path: string, size: number, fill: (off: number, dst: Uint8Array) => void, mode = 0o644): void {
    const ino = this.open(path, O_CREAT | O_TRUNC, mode);
    try {
      const buf = this.x.toolData();
      let off = 0;
      while (off < size) {
        const n = Math.min(FS_MAX_IO, size - off);
        fill(off, new Uint8Array(this.mem.buffer, buf, n));
        const w = this.check(this.run("fsWrite", () => this.x.fsWrite(ino, BigInt(off), buf, n)), path);
        if (w < n) this.fail(-51, path); // a short write: the disk is full
        off += w;
      }
      const st = this.statIno(ino, path);
      if ((st.mode & 0o7777) !== (mode & 0o7777)) this.check(this.call("fsChmod", () => this.x.fsChmod(ino, mode)), path);
    } finally {
      this.close(ino);
    }
  }

  writeFile(path: string, data: Uint8Array, mode = 0o644): void {
    this.writeFrom(path, data.length, (off, dst) => dst.set(data.subarray(off, off + dst.length)), mode);
  }

  /** One fsWrite call (at most 64 KiB) on an inode held open: bytes written. */
  writeOnce(ino: number, off: number, data: Uint8Array): number {
    if (data.length > FS_MAX_IO) throw new FsError(`writeOnce: at most ${FS_MAX_IO} bytes`);
    const buf = this.x.toolData();
    new Uint8Array(this.mem.buffer, buf, data.length).set(data);
    return this.check(this.run("fsWrite", () => this.x.fsWrite(ino, BigInt(off), buf, data.length)), `inode ${ino}`);
  }

  /** Write bytes at an offset of an existing file (no truncation). */
  pwrite(path: string, off: number, data: Uint8Array): void {
    const ino = this.open(path);
    try {
      const buf = this.x.toolData();
      for (let at = 0; at < data.length;) {
        const n = Math.min(FS_MAX_IO, data.length - at);
        new Uint8Array(this.mem.buffer, buf, n).set(data.subarray(at, at + n));
        const w = this.check(this.run("fsWrite", () => this.x.fsWrite(ino, BigInt(off + at), buf, n)), path);
        if (w < n) this.fail(-51, path);
        at += w;
      }
    } finally {
      this.close(ino);
    }
  }

  truncate(path: string, len: number): void {
    const ino = this.open(path);
    try {
      this.check(this.run("fsTruncate", () => this.x.fsTruncate(ino, BigInt(len))), path);
    } finally {
      this.close(ino);
    }
  }

  mkdir(path: string, mode = 0o755, uid = 0, gid = 0): void {
    this.check(this.run("fsMkdir", () => this.x.fsMkdir(ROOT_INO, ...this.putPath(path), mode, uid, gid)), path);
  }

  unlink(path: string): void {
    this.check(this.run("fsUnlink", () => this.x.fsUnlink(ROOT_INO, ...this.putPath(path))), path);
  }

  rmdir(path: string): void {
    this.check(this.run("fsRmdir", () => this.x.fsRmdir(ROOT_INO, ...this.putPath(path))), path);
  }

  rename(from: string, to: string): void {
    this.check(this.run("fsRename", () => this.x.fsRename(ROOT_INO, ...this.putPath(from, 1), ROOT_INO, ...this.putPath(to, 2))),
      `${from} -> ${to}`);
  }

  link(from: string, to: string): void {
    this.check(this.run("fsLink", () => this.x.fsLink(ROOT_INO, ...this.putPath(from, 1), ROOT_INO, ...this.putPath(to, 2))),
      `${from} -> ${to}`);
  }

  chmod(path: string, mode: number): void {
    const ino = this.lookup(path);
    this.check(this.run("fsChmod", () => this.x.fsChmod(ino, mode)), path);
  }

  setTimes(path: string, atimeNs: bigint, mtimeNs: bigint): void {
    const ino = this.lookup(path);
    this.check(this.run("fsSetTimes", () => this.x.fsSetTimes(ino, atimeNs, mtimeNs, SET_ATIM | SET_MTIM)), path);
  }

  /** The full check: problems (0 = clean) and the report's lines. */
  fsck(): { problems: number; report: string[]; files: number; dirs: number; blocks: number } {
    const n = this.run("fsFsck", () => this.x.fsFsck());
    if (n < 0) this.fail(n, "fsck");
    const report = this.text(this.x.fsReportPtr(), this.x.fsReportLen()).split("\n").filter((l) => l.length > 0);
    const dropped = this.x.fsReportDropped();
    if (dropped > 0) report.push(`... and ${dropped} more lines`);
    return { problems: n, report, files: this.x.fsckFiles.value as number, dirs: this.x.fsckDirs.value as number, blocks: this.x.fsckBlocks.value as number };
  }

  stats(): FsStats {
    const out = this.x.toolStats();
    this.x.fsStats(out);
    const dv = new DataView(this.mem.buffer, out, 104);
    const g = (o: number) => Number(dv.getBigUint64(o, true));
    return {
      reads: g(FSS_READS), writes: g(FSS_WRITES), hits: g(FSS_HITS), misses: g(FSS_MISSES), commits: g(FSS_COMMITS),
      blocksLogged: g(FSS_LOGGED), waits: g(FSS_WAITS), journalWaits: g(FSS_JOURNAL_WAITS), freeBlocks: g(FSS_FREE_BLOCKS),
      freeInodes: g(FSS_FREE_INODES), txBlocks: g(FSS_TX_BLOCKS), readErrors: g(FSS_READ_ERRORS), durableSeq: g(FSS_DURABLE_SEQ),
    };
  }

  /** Close the backend (after unmount()). */
  release(): void {
    this.backend.close?.();
  }
}

/** Open an image file and mount it: the usual start of a host tool command. */
export function openFs(path: string, opts: FsOptions = {}): BsdFs {
  const fs = new BsdFs(new FileBackend(path), opts);
  try {
    fs.mount();
  } catch (e) {
    fs.backend.close?.();
    if (e instanceof FsError) throw new FsError(`${path}: ${e.message}`, e.errno);
    throw e;
  }
  return fs;
}

export { ST_CTIME, ST_ATIME, ST_MTIME, ST_BLOCKS };
