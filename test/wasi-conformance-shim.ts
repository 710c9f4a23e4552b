// A test-only host for instrumented WASI programs (host/proc/instrument.ts): what the
// BSD process engine does, without the kernel. It runs a program through
// @bjorn3/browser_wasi_shim with in-memory files and
//  - preempts it every N metered cycles: bsd.preempt unwinds (asyncify), the driver
//    sets the next slice and rewinds;
//  - suspends it inside a blocking fd_read: stdin is served in pieces, and a read that
//    finds no piece unwinds until the driver hands out the next one;
//  - carries out memory growth (bsd.memory_grow), optionally under a page limit;
//  - checks that the reserved pages above the program's memory (the asyncify buffer)
//    are never written by the program: they are copied whenever the program starts
//    running, and compared with the copy whenever it stops.
// It is also a ConformanceRunner, so the conformance table can compare it with
// node:wasi as the BSD runner will be compared.
//
// Interface:
//   runInstrumented(image, options)  -> DriveResult
//   shimRunner(options)              -> ConformanceRunner (instruments, then runs)

import { Directory, File, Fd, Inode, PreopenDirectory, WASI, WASIProcExit, wasi } from "@bjorn3/browser_wasi_shim";
import { readFileSync } from "node:fs";
import {
  ASYNCIFY_EXPORTS, BSD_MODULE, PREEMPT_AT_EXPORT, WASI_MODULE, asyncifyData, growProcessMemory, instrumentProcess,
  programPages, type ProcessImage,
} from "../host/proc/instrument.js";
import { CYCLES_EXPORT } from "../host/meter.js";
import { Rng } from "../host/rng.js";
import { PREOPEN_NAME, type ConformanceCase, type ConformanceRunner, type RunResult } from "./wasi-conformance.js";

export interface DriveOptions {
  argv: string[];
  env?: Record<string, string>;
  stdin?: Uint8Array;
  /** Serve stdin in pieces of 1..pieceMax bytes (seeded); a read between pieces blocks. */
  pieceMax?: number;
  pieceSeed?: number;
  /** Preempt every this many cycles; undefined: never. */
  preemptEvery?: number;
  files?: Record<string, Uint8Array>;
  /** Most pages the program may have (its own, reserved excluded); growth past it fails. */
  pageLimit?: number;
  /**
   * Where the unwind buffer lies. "reserved" (the default): the reserved pages above
   * the program's memory. "grown-after-instantiation": DESIGN.md's first placement,
   * one page the host grows right after instantiation, which the program can see.
   */
  buffer?: "reserved" | "grown-after-instantiation";
  /** Check that the program never writes the buffer's pages (default true; costs two 64 KiB copies per stop). */
  checkBuffer?: boolean;
}

export interface DriveResult extends RunResult {
  cycles: bigint;
  preemptions: number;
  blockedReads: number;
  grows: number;
  deniedGrows: number;
  /** Most bytes of unwind data one suspension needed. */
  maxUnwindBytes: number;
  /** Times the program was found to have written into the buffer's pages. */
  bufferWritten: number;
  /** The program's own pages at the end, and the memory's real size. */
  programPages: number;
  memoryPages: number;
}

/** stdin in pieces: a read with no piece out and more to come would block. */
class PieceStdin extends Fd {
  private avail: Uint8Array = new Uint8Array(0);
  private next = 0;
  constructor(private readonly pieces: Uint8Array[]) {
    super();
  }
  wouldBlock(): boolean {
    return this.avail.length === 0 && this.next < this.pieces.length;
  }
  release(): void {
    this.avail = this.pieces[this.next++];
  }
  override fd_read(size: number): { ret: number; data: Uint8Array } {
    const data = this.avail.subarray(0, size);
    this.avail = this.avail.subarray(data.length);
    return { ret: 0, data: data.slice() };
  }
  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    return { ret: 0, fdstat: new wasi.Fdstat(wasi.FILETYPE_REGULAR_FILE, 0) };
  }
}

/** stdout/stderr collected in chunks (a regular file to wasi-libc, as under node:wasi). */
class Sink extends Fd {
  chunks: Uint8Array[] = [];
  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    this.chunks.push(data);
    return { ret: 0, nwritten: data.length };
  }
  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    return { ret: 0, fdstat: new wasi.Fdstat(wasi.FILETYPE_REGULAR_FILE, 0) };
  }
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.chunks));
  }
}

function splitPieces(data: Uint8Array, pieceMax: number | undefined, seed: number): Uint8Array[] {
  if (data.length === 0) return [];
  if (!pieceMax) return [data];
  const rng = new Rng(seed);
  const out: Uint8Array[] = [];
  for (let p = 0; p < data.length;) {
    const n = 1 + rng.below(pieceMax);
    out.push(data.subarray(p, p + n));
    p += n;
  }
  return out;
}

function buildTree(files: Record<string, Uint8Array>): Map<string, Inode> {
  const rootMap = new Map<string, Inode>();
  for (const [path, data] of Object.entries(files)) {
    const parts = path.split("/");
    let dir = rootMap;
    for (const part of parts.slice(0, -1)) {
      let d = dir.get(part);
      if (!d) {
        d = new Directory(new Map());
        dir.set(part, d);
      }
      dir = (d as Directory).contents;
    }
    dir.set(parts[parts.length - 1], new File(data.slice()));
  }
  return rootMap;
}

function readTree(contents: Map<string, Inode>, prefix = "", out: Record<string, Uint8Array> = {}): Record<string, Uint8Array> {
  for (const name of [...contents.keys()].sort()) {
    const node = contents.get(name)!;
    const rel = prefix ? `${prefix}/${name}` : name;
    if (node instanceof Directory) readTree(node.contents, rel, out);
    else if (node instanceof File) out[rel] = new Uint8Array(node.data);
  }
  return out;
}

interface AsyncifyExports {
  _start(): void;
  memory: WebAssembly.Memory;
  asyncify_start_unwind(addr: number): void;
  asyncify_stop_unwind(): void;
  asyncify_start_rewind(addr: number): void;
  asyncify_stop_rewind(): void;
  asyncify_get_state(): number;
}

const compiled = new WeakMap<Uint8Array, WebAssembly.Module>();

/** Runs an instrumented program to its end (see the file header). */
export async function runInstrumented(image: ProcessImage, o: DriveOptions): Promise<DriveResult> {
  let mod = compiled.get(image.bytes);
  if (!mod) {
    mod = await WebAssembly.compile(image.bytes as BufferSource);
    compiled.set(image.bytes, mod);
  }
  const reserved = image.info.reservedPages;
  const stdin = new PieceStdin(splitPieces(o.stdin ?? new Uint8Array(0), o.pieceMax, o.pieceSeed ?? 1));
  const stdout = new Sink();
  const stderr = new Sink();
  const root = new PreopenDirectory(PREOPEN_NAME, buildTree(o.files ?? {}));
  const env = Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const shim = new WASI(o.argv, env, [stdin, stdout, stderr, root], { debug: false });

  const r = { preemptions: 0, blockedReads: 0, grows: 0, deniedGrows: 0, maxUnwindBytes: 0, bufferWritten: 0 };
  let ex!: AsyncifyExports;
  let cycles!: WebAssembly.Global;
  let preemptAt!: WebAssembly.Global;
  let reason: "preempt" | "read" | undefined;
  let rewinding = false;
  let dataAddr = 0;

  /** The page grown after instantiation, for buffer: "grown-after-instantiation". */
  let grownPage = -1;
  /** Where the unwind buffer lies. */
  const bufferRange = (): [number, number] => {
    if (grownPage >= 0) return [grownPage * 65536, (grownPage + 1) * 65536];
    return [programPages(ex.memory, reserved) * 65536, ex.memory.buffer.byteLength];
  };
  /** The buffer region as the program left it when it last started running. */
  let snapshot = new Uint8Array(0);
  const check = o.checkBuffer ?? true;
  const takeSnapshot = (): void => {
    if (!check) return;
    const [a, b] = bufferRange();
    snapshot = new Uint8Array(ex.memory.buffer, a, b - a).slice();
  };
  /** Did the program write into the buffer region since takeSnapshot? */
  const checkSnapshot = (): void => {
    if (!check) return;
    const [a, b] = bufferRange();
    if (Buffer.compare(new Uint8Array(ex.memory.buffer, a, b - a), snapshot) !== 0) r.bufferWritten++;
  };
  const unwind = (why: "preempt" | "read"): void => {
    checkSnapshot();
    if (grownPage >= 0) {
      dataAddr = grownPage * 65536;
      new DataView(ex.memory.buffer).setUint32(dataAddr, dataAddr + 8, true);
      new DataView(ex.memory.buffer).setUint32(dataAddr + 4, dataAddr + 65536, true);
    } else {
      dataAddr = asyncifyData(ex.memory, reserved);
    }
    ex.asyncify_start_unwind(dataAddr);
    reason = why;
  };
  /** Called first thing in an import that may have unwound: finishes a rewind. */
  const resumed = (): boolean => {
    if (!rewinding) return false;
    ex.asyncify_stop_rewind();
    rewinding = false;
    takeSnapshot(); // the buffer is dead again: from here on the program runs
    return true;
  };

  const wasiImports: Record<string, (...args: number[]) => number> = {};
  for (const [name, fn] of Object.entries(shim.wasiImport as Record<string, (...args: number[]) => number>)) {
    wasiImports[name] = name === "fd_read"
      ? (...args: number[]): number => {
        if (!resumed() && args[0] === 0 && stdin.wouldBlock()) {
          unwind("read");
          return 0;
        }
        return fn(...args);
      }
      : fn;
  }
  const bsd = {
    preempt(): void {
      if (!resumed()) unwind("preempt");
    },
    memory_grow(delta: number): number {
      const have = programPages(ex.memory, reserved);
      if (o.pageLimit !== undefined && have + delta > o.pageLimit) {
        r.deniedGrows++;
        return -1;
      }
      checkSnapshot();
      r.grows++;
      const old = growProcessMemory(ex.memory, delta, reserved);
      takeSnapshot(); // the reserved pages moved up
      return old;
    },
  };
  const instance = await WebAssembly.instantiate(mod, { [WASI_MODULE]: wasiImports, [BSD_MODULE]: bsd });
  ex = instance.exports as unknown as AsyncifyExports;
  cycles = instance.exports[CYCLES_EXPORT] as WebAssembly.Global;
  preemptAt = instance.exports[PREEMPT_AT_EXPORT] as WebAssembly.Global;
  for (const name of Object.values(ASYNCIFY_EXPORTS)) if (typeof instance.exports[name] !== "function") throw new Error(`no ${name}`);
  shim.inst = instance as unknown as typeof shim.inst;
  const every = o.preemptEvery;
  preemptAt.value = every ? BigInt(every) : -1n;
  if (o.buffer === "grown-after-instantiation") {
    // The program sees the grown page: its memory.size counts every page but the
    // reserved ones, as it would count every page without instrumentation.
    grownPage = programPages(ex.memory, reserved);
    ex.memory.grow(1);
  }
  takeSnapshot();

  let status = 0;
  for (;;) {
    try {
      ex._start();
    } catch (e) {
      if (e instanceof WASIProcExit) {
        status = e.code;
        break;
      }
      throw e;
    }
    if (!reason) break; // _start returned: exit status 0
    ex.asyncify_stop_unwind();
    const used = new DataView(ex.memory.buffer).getUint32(dataAddr, true) - (dataAddr + 8);
    r.maxUnwindBytes = Math.max(r.maxUnwindBytes, used);
    if (reason === "preempt") {
      r.preemptions++;
      preemptAt.value = (cycles.value as bigint) + BigInt(every!);
    } else {
      r.blockedReads++;
      stdin.release();
    }
    reason = undefined;
    rewinding = true;
    ex.asyncify_start_rewind(dataAddr);
  }
  checkSnapshot();
  return {
    stdout: stdout.bytes(),
    stderr: stderr.bytes(),
    status,
    files: readTree(root.dir.contents),
    cycles: cycles.value as bigint,
    ...r,
    programPages: programPages(ex.memory, reserved),
    memoryPages: ex.memory.buffer.byteLength / 65536,
  };
}

/** The conformance cases through instrumentation and this driver. */
export function shimRunner(o: { preemptEvery?: number; pieceMax?: number } = {}): ConformanceRunner & {
  run(c: ConformanceCase): Promise<DriveResult>;
} {
  return {
    name: `instrumented, browser_wasi_shim, preempt ${o.preemptEvery ?? "never"}, stdin pieces ${o.pieceMax ?? "whole"}`,
    async run(c: ConformanceCase): Promise<DriveResult> {
      const image = await instrumentProcess(new Uint8Array(readFileSync(c.program)));
      return runInstrumented(image, { argv: c.argv, env: c.env, stdin: c.stdin, files: c.files, ...o });
    },
  };
}
