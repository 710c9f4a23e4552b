// Turning a WASI program into something the BSD kernel can run as a process.
//
// A userland program is an ordinary WASI preview 1 module. To run it as a process the
// host must count its instructions (to charge CPU 0), take the CPU back when its time
// slice is spent, suspend it inside a system call that blocks, and let the kernel
// decide on its memory growth. This file rewrites the module once, at load time, so
// that all four become possible; the process engine (host/proc/engine.ts) drives it.
//
// The steps, in this order (DESIGN.md, "The BSD side"):
//  1. Validate: a WebAssembly module whose imports all come from
//     `wasi_snapshot_preview1` (known preview 1 functions) or `bsd` (our own programs'
//     kernel calls), that defines its memory and exports `memory` and `_start`.
//     Anything else is refused with an error that names the culprit.
//  2. Reserve pages at the top of memory for the asyncify unwind buffer (see
//     "Memory" below): the memory section's minimum (and maximum) grow by
//     `reservedPages`.
//  3. Meter with host/meter.ts: exact instruction counts in the exported i64 global
//     `__cycles`, memory.copy/fill charged per byte from the cost table.
//  4. With binaryen (after metering, because adding a function import renumbers the
//     defined functions, which the meter avoids by design):
//     - import `bsd.preempt` () -> () and add the exported mutable i64 global
//       `__preempt_at`; at every loop head insert
//         if (i64.ge_u (global.get $__cycles) (global.get $__preempt_at)) (call $preempt)
//       The meter's own watchdog (`if ($cycles > $limit) unreachable`, at every loop
//       head too) is turned into this check rather than kept beside it: one test per
//       iteration instead of two, and a runaway process is stopped by the kernel's
//       time slice, resumably, instead of by a trap. So `__cycle_limit` has no effect
//       in a process.
//     - replace every `memory.grow` with a call to the import `bsd.memory_grow`
//       (delta: i32) -> i32, so the kernel decides and accounts every page;
//     - make `memory.size` report the program's own pages (actual - reserved);
//     - asyncify, with asyncify-imports = every imported wasi_snapshot_preview1 and
//       bsd function except bsd.memory_grow (any system call may block in our
//       kernel), plus bsd.preempt. It exports asyncify_start_unwind, _stop_unwind,
//       _start_rewind, _stop_rewind and _get_state.
//  Nothing added after metering is counted: the cycle count is the program's own
//  instructions, whether or not (and however often) it is preempted.
//
// Memory. The asyncify buffer must lie where the program's allocator never hands out
// memory. One page grown by the host after instantiation is not enough: the program
// sees it, and both AssemblyScript's TLSF allocator (which adds everything up to
// memory.size() to its heap when it starts) and wasi-libc's malloc hand it out;
// test/instrument.test.ts catches both writing there. So the instrumented module
// keeps `reservedPages` at the very top of its memory, and its memory.size answers
// without them: the program believes its memory ends where the reserved pages begin,
// so no allocator of its own can hand them out. When the program grows by n pages
// (bsd.memory_grow), the host grows the real memory by n and the reserved pages move
// up: the old ones become the program's new pages. That is safe because the buffer
// holds data only while the process is suspended (between asyncify_start_unwind and
// asyncify_stop_rewind), and memory.grow is never called then. asyncifyData()
// computes the buffer's place; growProcessMemory() does a growth. One difference
// from an uninstrumented run: a program that stores up to reservedPages * 64 KiB past
// the end of its memory hits the reserved pages instead of trapping.
//
// Feature set given to binaryen: MVP, mutable globals, bulk memory, sign extension,
// non-trapping float-to-int (what clang and asc emit; DESIGN.md). binaryen 132 pitfall:
// getExpressionInfo throws on some expression kinds, so the walker dispatches on
// getExpressionId and uses the per-kind accessors.
//
// Results are cached by a hash of the input bytes, the options and the instrumenting
// code itself (this file, meter.ts, binaryen's version): in memory, and on disk under
// build/cache/instrument/ because binaryen is slow (asyncify of bzip2 takes seconds;
// see the README). A cache file that does not check out is ignored and rewritten. The
// directory is kept under a size (cacheMaxBytes, 512 MiB by default): after a write the
// least recently used entries go (a hit refreshes an entry's time), so the images left
// by earlier versions of the instrumenter, and of programs, do not pile up.
//
// Interface:
//   instrumentProcess(bytes, options?)  -> Promise<ProcessImage>  (cached)
//   clearInstrumentCache()              forgets the in-memory cache
//   pruneDiskCache(dir, maxBytes, keep?) keeps the disk cache under a size (LRU)
//   InstrumentError                     a bad program (message names the reason)
//   asyncifyData(memory, reservedPages) -> address of the unwind data descriptor
//   growProcessMemory(memory, delta, reservedPages) -> old program pages, or -1
//   programPages(memory, reservedPages) -> the pages the program sees
//   PREEMPT_AT_EXPORT, BSD_MODULE, WASI_MODULE, WASI_PREVIEW1_FUNCTIONS
//   ASYNCIFY_EXPORTS                    names of the asyncify control functions

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../config.js";
import { PIII_600, type CostTable } from "../costs.js";
import { CYCLES_EXPORT, LIMIT_EXPORT, meterModule, parseModuleInfo, type OpWeights } from "../meter.js";

export const WASI_MODULE = "wasi_snapshot_preview1";
export const BSD_MODULE = "bsd";
export const PREEMPT_IMPORT = "preempt";
export const MEMORY_GROW_IMPORT = "memory_grow";
export const PREEMPT_AT_EXPORT = "__preempt_at";
export const ASYNCIFY_EXPORTS = {
  startUnwind: "asyncify_start_unwind",
  stopUnwind: "asyncify_stop_unwind",
  startRewind: "asyncify_start_rewind",
  stopRewind: "asyncify_stop_rewind",
  getState: "asyncify_get_state",
} as const;

/** Every function of WASI preview 1 (witx of wasi_snapshot_preview1). */
export const WASI_PREVIEW1_FUNCTIONS: ReadonlySet<string> = new Set([
  "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_res_get", "clock_time_get",
  "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get", "fd_fdstat_set_flags",
  "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread",
  "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite", "fd_read", "fd_readdir", "fd_renumber", "fd_seek",
  "fd_sync", "fd_tell", "fd_write", "path_create_directory", "path_filestat_get", "path_filestat_set_times",
  "path_link", "path_open", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
  "path_unlink_file", "poll_oneoff", "proc_exit", "proc_raise", "sched_yield", "random_get", "sock_accept",
  "sock_recv", "sock_send", "sock_shutdown",
]);

const PAGE = 65536;
/** The most pages a 32-bit memory can have. */
const MAX_PAGES = 65536;

export interface InstrumentOptions {
  /** Per-byte charges of memory.copy and memory.fill. Default: PIII_600. */
  costs?: CostTable;
  /** Pages kept at the top of memory for the asyncify unwind buffer. Default 1. */
  reservedPages?: number;
  /** Directory of the disk cache, or false for none. Default build/cache/instrument. */
  cacheDir?: string | false;
  /** The disk cache's size limit, bytes. Default CACHE_MAX_BYTES. */
  cacheMaxBytes?: number;
}

/** The disk cache's default size limit: the whole test suite's programs (~150 MB, the
 * Rust tests of wasi-testsuite most of it) fit, several times. */
export const CACHE_MAX_BYTES = 512 * 1024 * 1024;

export interface ProcessInfo {
  /** Function index -> name, from the instrumented module's names section. */
  functionNames: Map<number, string>;
  /** The program's own imports, in order ("module.name"). */
  imports: string[];
  /** The imports asyncify may unwind through (system calls that can block). */
  blockingImports: string[];
  /** The program's memory as it declared it, in pages (maximum undefined if none). */
  memory: { initialPages: number; maximumPages: number | undefined };
  /** Pages above the program's memory that hold the asyncify buffer. */
  reservedPages: number;
  /** sha256 of the input bytes, hex. */
  sourceHash: string;
  /** Wall time of the instrumentation, ms (of the run that filled the cache). */
  timing: { validateMs: number; meterMs: number; binaryenMs: number };
}

export interface ProcessImage {
  bytes: Uint8Array;
  info: ProcessInfo;
}

/** A program that cannot be run as a process; the message says why. */
export class InstrumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InstrumentError";
  }
}

// ---- runtime helpers for the engine -------------------------------------------------

/** The pages the program sees (its memory.size). */
export function programPages(memory: WebAssembly.Memory, reservedPages: number): number {
  return memory.buffer.byteLength / PAGE - reservedPages;
}

/**
 * Writes asyncify's data descriptor (i32 start, i32 end of the free stack area) at the
 * bottom of the reserved pages and returns its address, for asyncify_start_unwind.
 * Call it before each unwind: the reserved pages move up when the program grows.
 */
export function asyncifyData(memory: WebAssembly.Memory, reservedPages: number): number {
  const addr = programPages(memory, reservedPages) * PAGE;
  const view = new DataView(memory.buffer);
  view.setUint32(addr, addr + 8, true);
  view.setUint32(addr + 4, addr + reservedPages * PAGE, true);
  return addr;
}

/**
 * Carries out a growth the kernel allowed: grows the real memory by delta pages and
 * returns what memory.grow would have returned to the program (its old page count),
 * or -1 if the memory cannot grow (its declared maximum).
 */
export function growProcessMemory(memory: WebAssembly.Memory, delta: number, reservedPages: number): number {
  const old = programPages(memory, reservedPages);
  if (delta < 0) return -1;
  try {
    memory.grow(delta);
  } catch {
    return -1;
  }
  return old;
}

// ---- validation -------------------------------------------------------------------

interface Validated {
  imports: WebAssembly.ModuleImportDescriptor[];
}

function validate(bytes: Uint8Array): Validated {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) {
    throw new InstrumentError("not a WebAssembly module (no \\0asm version 1 header)");
  }
  let mod: WebAssembly.Module;
  try {
    mod = new WebAssembly.Module(bytes as BufferSource);
  } catch (e) {
    throw new InstrumentError(`not a valid WebAssembly module: ${(e as Error).message}`);
  }
  const imports = WebAssembly.Module.imports(mod);
  for (const imp of imports) {
    const what = `import "${imp.module}"."${imp.name}" (${imp.kind})`;
    if (imp.module === WASI_MODULE) {
      if (imp.kind !== "function") throw new InstrumentError(`${what}: WASI provides only functions`);
      if (!WASI_PREVIEW1_FUNCTIONS.has(imp.name)) throw new InstrumentError(`${what}: not a WASI preview 1 function`);
    } else if (imp.module === BSD_MODULE) {
      if (imp.kind !== "function") throw new InstrumentError(`${what}: the bsd module provides only functions`);
      if (imp.name === PREEMPT_IMPORT || imp.name === MEMORY_GROW_IMPORT) {
        throw new InstrumentError(`${what}: reserved for the instrumentation (already instrumented?)`);
      }
    } else if (imp.kind === "memory") {
      throw new InstrumentError(`${what}: a process must define its own memory, not import it`);
    } else {
      throw new InstrumentError(`${what}: a program may import only from ${WASI_MODULE} and ${BSD_MODULE}`);
    }
  }
  const exports = new Map(WebAssembly.Module.exports(mod).map((e) => [e.name, e.kind]));
  if (exports.get("memory") !== "memory") throw new InstrumentError('the module does not export its memory as "memory"');
  if (exports.get("_start") !== "function") throw new InstrumentError('the module does not export a "_start" function (a WASI command)');
  for (const name of [CYCLES_EXPORT, PREEMPT_AT_EXPORT, ...Object.values(ASYNCIFY_EXPORTS)]) {
    if (exports.has(name)) throw new InstrumentError(`the module already exports "${name}" (already instrumented?)`);
  }
  return { imports };
}

// ---- the memory section: reserve pages at the top -----------------------------------

function readU32(b: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= b.length) throw new InstrumentError("truncated module");
    const byte = b[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
    if (shift > 35) throw new InstrumentError("bad LEB128 in the module");
  }
}

function leb(x: number): number[] {
  const out: number[] = [];
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x !== 0) byte |= 0x80;
    out.push(byte);
  } while (x !== 0);
  return out;
}

/**
 * Adds `reserve` pages to the minimum and maximum of the module's one memory (section
 * 5). Returns the new bytes and the memory's limits as the program declared them.
 */
function reserveTopPages(b: Uint8Array, reserve: number): { bytes: Uint8Array; initialPages: number; maximumPages: number | undefined } {
  let pos = 8;
  while (pos < b.length) {
    const id = b[pos];
    const [size, payload] = readU32(b, pos + 1);
    const end = payload + size;
    if (id === 5) {
      let [count, p] = readU32(b, payload);
      if (count !== 1) throw new InstrumentError(`the module defines ${count} memories; a process has exactly one`);
      const flags = b[p++];
      if (flags & ~1) throw new InstrumentError(`memory flags 0x${flags.toString(16)}: shared and 64-bit memories are not supported`);
      let initial: number, maximum: number | undefined;
      [initial, p] = readU32(b, p);
      if (flags & 1) [maximum, p] = readU32(b, p);
      if (p !== end) throw new InstrumentError("malformed memory section");
      const newMax = maximum === undefined ? undefined : maximum + reserve;
      if (initial + reserve > MAX_PAGES || (newMax !== undefined && newMax > MAX_PAGES)) {
        throw new InstrumentError(`memory of ${initial}..${maximum} pages leaves no room for ${reserve} reserved page(s)`);
      }
      const body = [1, flags, ...leb(initial + reserve), ...(newMax === undefined ? [] : leb(newMax))];
      const section = [5, ...leb(body.length), ...body];
      const out = new Uint8Array(b.length - (end - pos) + section.length);
      out.set(b.subarray(0, pos), 0);
      out.set(section, pos);
      out.set(b.subarray(end), pos + section.length);
      return { bytes: out, initialPages: initial, maximumPages: maximum };
    }
    pos = end;
  }
  throw new InstrumentError("the module defines no memory");
}

// ---- binaryen ---------------------------------------------------------------------

type Binaryen = typeof import("binaryen").default;
type Module = InstanceType<Binaryen["Module"]>;
let binaryenPromise: Promise<Binaryen> | undefined;
let binaryenLoaded: Binaryen | undefined;
/** binaryen is loaded on first use: it takes a while to start, and most runs need none. */
function loadBinaryen(): Promise<Binaryen> {
  binaryenPromise ??= import("binaryen").then((m) => (binaryenLoaded = m.default));
  return binaryenPromise;
}

/** Load binaryen now, so that instrumentProcessSync can run (the BSD kernel asks for a
 *  process synchronously, from inside a system call). */
export async function prepareInstrumenter(): Promise<void> {
  await loadBinaryen();
}

/**
 * binaryen.js's per-kind expression accessors (binaryen.Block.getChildAt, ...), which
 * its index.d.ts does not declare. Every argument and result we use is a number
 * (an expression or function reference, an index, a count).
 */
type Accessors = Record<string, Record<string, (...args: number[]) => number>>;
const accessors = (b: Binaryen): Accessors => b as unknown as Accessors;

/** Child slots of an expression: [get, set] per child, by expression id. */
type Slot = [(e: number) => number, (e: number, c: number) => void];

function childSlots(b: Binaryen): Map<number, (e: number) => Slot[]> {
  const a = accessors(b);
  const one = (get: (e: number) => number, set: (e: number, c: number) => void): Slot => [get, set];
  const fixed = (...slots: Slot[]) => (): Slot[] => slots;
  const list = (count: (e: number) => number, get: (e: number, i: number) => number, set: (e: number, i: number, c: number) => void, extra: Slot[] = []) =>
    (e: number): Slot[] => {
      const slots = [...extra];
      for (let i = 0, n = count(e); i < n; i++) slots.push([(x) => get(x, i), (x, c) => set(x, i, c)]);
      return slots;
    };
  const leaf = fixed();
  const m = new Map<number, (e: number) => Slot[]>();
  m.set(b.BlockId, list(a.Block.getNumChildren, a.Block.getChildAt, a.Block.setChildAt));
  m.set(b.IfId, fixed(one(a.If.getCondition, a.If.setCondition), one(a.If.getIfTrue, a.If.setIfTrue), one(a.If.getIfFalse, a.If.setIfFalse)));
  m.set(b.LoopId, fixed(one(a.Loop.getBody, a.Loop.setBody)));
  m.set(b.BreakId, fixed(one(a.Break.getCondition, a.Break.setCondition), one(a.Break.getValue, a.Break.setValue)));
  m.set(b.SwitchId, fixed(one(a.Switch.getCondition, a.Switch.setCondition), one(a.Switch.getValue, a.Switch.setValue)));
  m.set(b.CallId, list(a.Call.getNumOperands, a.Call.getOperandAt, a.Call.setOperandAt));
  m.set(b.CallIndirectId, list(a.CallIndirect.getNumOperands, a.CallIndirect.getOperandAt, a.CallIndirect.setOperandAt,
    [one(a.CallIndirect.getTarget, a.CallIndirect.setTarget)]));
  m.set(b.LocalGetId, leaf);
  m.set(b.LocalSetId, fixed(one(a.LocalSet.getValue, a.LocalSet.setValue)));
  m.set(b.GlobalGetId, leaf);
  m.set(b.GlobalSetId, fixed(one(a.GlobalSet.getValue, a.GlobalSet.setValue)));
  m.set(b.LoadId, fixed(one(a.Load.getPtr, a.Load.setPtr)));
  m.set(b.StoreId, fixed(one(a.Store.getPtr, a.Store.setPtr), one(a.Store.getValue, a.Store.setValue)));
  m.set(b.ConstId, leaf);
  m.set(b.UnaryId, fixed(one(a.Unary.getValue, a.Unary.setValue)));
  m.set(b.BinaryId, fixed(one(a.Binary.getLeft, a.Binary.setLeft), one(a.Binary.getRight, a.Binary.setRight)));
  m.set(b.SelectId, fixed(one(a.Select.getIfTrue, a.Select.setIfTrue), one(a.Select.getIfFalse, a.Select.setIfFalse),
    one(a.Select.getCondition, a.Select.setCondition)));
  m.set(b.DropId, fixed(one(a.Drop.getValue, a.Drop.setValue)));
  m.set(b.ReturnId, fixed(one(a.Return.getValue, a.Return.setValue)));
  m.set(b.MemorySizeId, leaf);
  m.set(b.MemoryGrowId, fixed(one(a.MemoryGrow.getDelta, a.MemoryGrow.setDelta)));
  m.set(b.NopId, leaf);
  m.set(b.UnreachableId, leaf);
  m.set(b.MemoryInitId, fixed(one(a.MemoryInit.getDest, a.MemoryInit.setDest), one(a.MemoryInit.getOffset, a.MemoryInit.setOffset),
    one(a.MemoryInit.getSize, a.MemoryInit.setSize)));
  m.set(b.DataDropId, leaf);
  m.set(b.MemoryCopyId, fixed(one(a.MemoryCopy.getDest, a.MemoryCopy.setDest), one(a.MemoryCopy.getSource, a.MemoryCopy.setSource),
    one(a.MemoryCopy.getSize, a.MemoryCopy.setSize)));
  m.set(b.MemoryFillId, fixed(one(a.MemoryFill.getDest, a.MemoryFill.setDest), one(a.MemoryFill.getValue, a.MemoryFill.setValue),
    one(a.MemoryFill.getSize, a.MemoryFill.setSize)));
  return m;
}

interface Rewrite {
  cycles: string;
  limit: string;
  preemptAt: string;
  preempt: string;
  memoryGrow: string;
  reservedPages: number;
}

/**
 * Walks every defined function: puts the preemption check at each loop head, turns
 * memory.grow into a call of bsd.memory_grow and memory.size into (size - reserved).
 * Iterative (clang's switch lowering nests blocks deeply).
 */
function rewriteFunctions(b: Binaryen, mod: Module, r: Rewrite): void {
  const slots = childSlots(b);
  const { Function: F, Loop, MemoryGrow, If, Binary, GlobalGet, Block } = accessors(b);
  const condition = (): number => mod.i64.ge_u(mod.global.get(r.cycles, b.i64), mod.global.get(r.preemptAt, b.i64));
  const check = (): number => mod.if(condition(), mod.call(r.preempt, [], b.none));
  const isGlobal = (e: number, name: string): boolean =>
    b.getExpressionId(e) === b.GlobalGetId && (GlobalGet.getName(e) as unknown as string) === name;
  /** The meter's watchdog, `if (i64.gt_u (global.get $cycles) (global.get $limit)) unreachable`. */
  const isWatchdog = (e: number): boolean => {
    if (b.getExpressionId(e) !== b.IfId || If.getIfFalse(e)) return false;
    const cond = If.getCondition(e);
    return b.getExpressionId(cond) === b.BinaryId && Binary.getOp(cond) === b.GtUInt64 &&
      isGlobal(Binary.getLeft(cond), r.cycles) && isGlobal(Binary.getRight(cond), r.limit) &&
      b.getExpressionId(If.getIfTrue(e)) === b.UnreachableId;
  };
  const stack: number[] = [];
  /**
   * One child expression: memory.grow becomes a call of bsd.memory_grow (walked on,
   * its delta may hold more), memory.size becomes (size - reserved); anything else is
   * walked.
   */
  const visit = (c: number, set: (x: number) => void): void => {
    const id = b.getExpressionId(c);
    if (id === b.MemoryGrowId) {
      const call = mod.call(r.memoryGrow, [MemoryGrow.getDelta(c)], b.i32);
      set(call);
      stack.push(call);
    } else if (id === b.MemorySizeId) {
      set(mod.i32.sub(c, mod.i32.const(r.reservedPages)));
    } else {
      stack.push(c);
    }
  };
  for (let i = 0, n = mod.getNumFunctions(); i < n; i++) {
    const f = mod.getFunctionByIndex(i);
    const body = F.getBody(f);
    if (!body) continue; // an import
    visit(body, (x) => F.setBody(f, x));
    while (stack.length) {
      const e = stack.pop()!;
      const id = b.getExpressionId(e);
      const kinds = slots.get(id);
      if (!kinds) {
        const kind = Object.keys(b).find((k) => k.endsWith("Id") && (b as unknown as Record<string, unknown>)[k] === id) ?? `kind ${id}`;
        throw new InstrumentError(`function ${String(F.getName(f))} uses ${kind.replace(/Id$/, "")}, outside the supported feature set ` +
          "(MVP, mutable globals, bulk memory, sign extension, non-trapping float-to-int)");
      }
      for (const [get, set] of kinds(e)) {
        const c = get(e);
        if (c) visit(c, (x) => set(e, x));
      }
      if (id === b.LoopId) {
        // The meter put its watchdog at the loop head: it becomes the preemption check
        // (one test per iteration, not two). Anywhere else, add the check.
        const loopBody = Loop.getBody(e);
        const head = b.getExpressionId(loopBody) === b.BlockId && Block.getNumChildren(loopBody) > 0 ? Block.getChildAt(loopBody, 0) : 0;
        if (head && isWatchdog(head)) {
          If.setCondition(head, condition());
          If.setIfTrue(head, mod.call(r.preempt, [], b.none));
        } else {
          Loop.setBody(e, mod.block(null, [check(), loopBody], b.getExpressionType(loopBody)));
        }
      }
    }
  }
}

async function instrumentUncached(input: Uint8Array, costs: CostTable, reservedPages: number): Promise<ProcessImage> {
  return instrumentWith(await loadBinaryen(), input, costs, reservedPages);
}

function instrumentWith(b: Binaryen, input: Uint8Array, costs: CostTable, reservedPages: number): ProcessImage {
  const t0 = performance.now();
  const { imports } = validate(input);
  const reserved = reserveTopPages(input, reservedPages);
  const t1 = performance.now();
  let metered: Uint8Array;
  try {
    metered = meterModule(reserved.bytes, { copy: costs.copyPerByte, fill: costs.fillPerByte, weights: costs.weights }).bytes;
  } catch (e) {
    throw new InstrumentError(`cannot meter the program: ${(e as Error).message}`);
  }
  const t2 = performance.now();

  const mod = b.readBinary(metered);
  let out: Uint8Array;
  const importNames = imports.map((i) => `${i.module}.${i.name}`);
  const blocking = [...importNames, `${BSD_MODULE}.${PREEMPT_IMPORT}`];
  try {
    mod.setFeatures(b.Features.MVP | b.Features.MutableGlobals | b.Features.BulkMemory | b.Features.BulkMemoryOpt | b.Features.SignExt |
      b.Features.NontrappingFPToInt);
    const unique = (base: string): string => {
      let name = base;
      for (let k = 1; mod.getFunction(name) || mod.getGlobal(name); k++) name = `${base}${k}`;
      return name;
    };
    const cycles = b.getExportInfo(mod.getExport(CYCLES_EXPORT)).value;
    const limit = b.getExportInfo(mod.getExport(LIMIT_EXPORT)).value;
    const preempt = unique("bsd_preempt");
    const memoryGrow = unique("bsd_memory_grow");
    const preemptAt = unique(PREEMPT_AT_EXPORT);
    mod.addFunctionImport(preempt, BSD_MODULE, PREEMPT_IMPORT, b.none, b.none);
    mod.addFunctionImport(memoryGrow, BSD_MODULE, MEMORY_GROW_IMPORT, b.i32, b.i32);
    // Initially never: the engine sets the slice before it first runs the process.
    mod.addGlobal(preemptAt, b.i64, true, mod.i64.const(-1n));
    mod.addGlobalExport(preemptAt, PREEMPT_AT_EXPORT);
    rewriteFunctions(b, mod, { cycles, limit, preemptAt, preempt, memoryGrow, reservedPages });
    if (!mod.validate()) throw new Error("binaryen: the rewritten module does not validate (a bug in instrument.ts)");
    b.setPassArgument("asyncify-imports", blocking.join(","));
    // Optimize level 0 for asyncify: on bzip2 the result runs as fast as at binaryen's
    // default level 2 (V8 optimizes it anyway) and is made in a third of the time;
    // it is 2.4x larger, which costs V8 ~1 ms more to compile. An -O2 pass after
    // asyncify made bzip2 slower (3.0x plain instead of 2.2x), so there is none.
    const level = b.getOptimizeLevel();
    b.setOptimizeLevel(0);
    try {
      mod.runPasses(["asyncify"]);
    } finally {
      b.setOptimizeLevel(level);
    }
    const debugInfo = b.getDebugInfo();
    b.setDebugInfo(true); // keep the names section: fault reports name the function
    try {
      out = mod.emitBinary();
    } finally {
      b.setDebugInfo(debugInfo);
    }
  } finally {
    b.clearPassArguments();
    mod.dispose();
  }
  const t3 = performance.now();
  return {
    bytes: out,
    info: {
      functionNames: parseModuleInfo(out).functionNames,
      imports: importNames,
      blockingImports: blocking,
      memory: { initialPages: reserved.initialPages, maximumPages: reserved.maximumPages },
      reservedPages,
      sourceHash: sha256(input),
      timing: { validateMs: t1 - t0, meterMs: t2 - t1, binaryenMs: t3 - t2 },
    },
  };
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

// ---- the cache --------------------------------------------------------------------

const cache = new Map<string, Promise<ProcessImage>>();

let codeHash: string | undefined;
/** What the output depends on besides the input: this code, the meter's, binaryen's version. */
function instrumenterVersion(): string {
  if (codeHash) return codeHash;
  const h = createHash("sha256");
  // The TypeScript sources (present in every checkout): the compiled host (dist/) and
  // the tests (run from source) then share one cache.
  const root = packageRoot();
  for (const f of ["host/proc/instrument.ts", "host/meter.ts"]) {
    const path = join(root, f);
    h.update(existsSync(path) ? readFileSync(path) : fileURLToPath(import.meta.url));
  }
  const pkg = createRequire(import.meta.url)("binaryen/package.json") as { version: string };
  h.update(pkg.version);
  codeHash = h.digest("hex").slice(0, 16);
  return codeHash;
}

interface CacheRecord {
  key: string;
  outputHash: string;
  info: Omit<ProcessInfo, "functionNames">;
}

function readDiskCache(dir: string, key: string): ProcessImage | undefined {
  const base = join(dir, key);
  try {
    const rec = JSON.parse(readFileSync(`${base}.json`, "utf8")) as CacheRecord;
    const bytes = new Uint8Array(readFileSync(`${base}.wasm`));
    if (rec.key !== key || sha256(bytes) !== rec.outputHash) return undefined;
    touch(`${base}.json`);
    return { bytes, info: { ...rec.info, functionNames: parseModuleInfo(bytes).functionNames } };
  } catch {
    return undefined; // absent or unreadable: instrument again
  }
}

function writeDiskCache(dir: string, key: string, img: ProcessImage): void {
  try {
    mkdirSync(dir, { recursive: true });
    const { functionNames: _names, ...info } = img.info;
    const rec: CacheRecord = { key, outputHash: sha256(img.bytes), info };
    const base = join(dir, key);
    // Write then rename, so a concurrent reader never sees half a file.
    const tmp = `${base}.${process.pid}.tmp`;
    writeFileSync(`${tmp}.wasm`, img.bytes);
    renameSync(`${tmp}.wasm`, `${base}.wasm`);
    writeFileSync(`${tmp}.json`, JSON.stringify(rec));
    renameSync(`${tmp}.json`, `${base}.json`);
  } catch {
    // A read-only checkout still works, only slower.
  }
}

function touch(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // read-only: recency is only a hint
  }
}

/**
 * Removes the least recently used entries (by their .json's mtime) until the directory's
 * entries take at most maxBytes; `keep` (the entry just written) always stays. Stray
 * temporary files of a writer that died go too, once they are an hour old.
 */
export function pruneDiskCache(dir: string, maxBytes: number, keep?: string): void {
  try {
    const entries = new Map<string, { bytes: number; used: number; files: string[] }>();
    const now = Date.now();
    for (const f of readdirSync(dir)) {
      const path = join(dir, f);
      const st = statSync(path);
      if (f.endsWith(".tmp.wasm") || f.endsWith(".tmp.json")) {
        if (now - st.mtimeMs > 3600_000) unlinkSync(path);
        continue;
      }
      const m = /^([0-9a-f]{32})\.(wasm|json)$/.exec(f);
      if (!m) continue; // not ours
      const e = entries.get(m[1]) ?? { bytes: 0, used: 0, files: [] };
      e.bytes += st.size;
      e.files.push(path);
      if (m[2] === "json") e.used = st.mtimeMs;
      entries.set(m[1], e);
    }
    let total = 0;
    for (const e of entries.values()) total += e.bytes;
    const oldestFirst = [...entries.entries()].sort((a, b) => a[1].used - b[1].used || (a[0] < b[0] ? -1 : 1));
    for (const [key, e] of oldestFirst) {
      if (total <= maxBytes) break;
      if (key === keep) continue;
      for (const f of e.files) unlinkSync(f);
      total -= e.bytes;
    }
  } catch {
    // another process pruning at the same time, or a read-only directory: next time
  }
}

/** Forgets the in-memory cache (the disk cache stays). */
export function clearInstrumentCache(): void {
  cache.clear();
  syncCache.clear();
}

const syncCache = new Map<string, ProcessImage>();

/**
 * instrumentProcess without waiting: binaryen must have been loaded before
 * (prepareInstrumenter). Same caches: the image is instrumented at most once per
 * content, options and instrumenter version.
 */
export function instrumentProcessSync(bytes: Uint8Array, options: InstrumentOptions = {}): ProcessImage {
  const costs = options.costs ?? PIII_600;
  const reservedPages = options.reservedPages ?? 1;
  if (!Number.isInteger(reservedPages) || reservedPages < 1) throw new InstrumentError(`reservedPages must be a positive integer, not ${reservedPages}`);
  const dir = options.cacheDir ?? join(packageRoot(), "build", "cache", "instrument");
  const key = cacheKey(bytes, costs, reservedPages);
  let img = syncCache.get(key) ?? (dir === false ? undefined : readDiskCache(dir, key));
  if (!img) {
    if (!binaryenLoaded) throw new Error("instrumentProcessSync: binaryen is not loaded yet (await prepareInstrumenter() first)");
    img = instrumentWith(binaryenLoaded, bytes, costs, reservedPages);
    if (dir !== false) {
      writeDiskCache(dir, key, img);
      pruneDiskCache(dir, options.cacheMaxBytes ?? CACHE_MAX_BYTES, key);
    }
  }
  syncCache.set(key, img);
  return img;
}

function cacheKey(bytes: Uint8Array, costs: CostTable, reservedPages: number): string {
  // Operator weights by their content's hash; flat, which has none, keeps the key it
  // always had.
  const params = JSON.stringify(costs.weights ? [costs.copyPerByte, costs.fillPerByte, reservedPages, weightsKey(costs.weights)] : [costs.copyPerByte, costs.fillPerByte, reservedPages]);
  return sha256(new TextEncoder().encode(`${sha256(bytes)}:${params}:${instrumenterVersion()}`)).slice(0, 32);
}

const weightKeys = new WeakMap<OpWeights, string>();
/** A cost model's operator weights as a short hash of their values ("flat" for none). */
export function weightsKey(w: OpWeights | undefined): string {
  if (!w) return "flat";
  let k = weightKeys.get(w);
  if (!k) {
    k = sha256(new TextEncoder().encode(JSON.stringify(w, (_k, v: unknown) => (v instanceof Uint16Array ? [...v] : v)))).slice(0, 16);
    weightKeys.set(w, k);
  }
  return k;
}

/** Instruments a WASI program for the BSD process engine (see the file header). */
export function instrumentProcess(bytes: Uint8Array, options: InstrumentOptions = {}): Promise<ProcessImage> {
  const costs = options.costs ?? PIII_600;
  const reservedPages = options.reservedPages ?? 1;
  if (!Number.isInteger(reservedPages) || reservedPages < 1) {
    return Promise.reject(new InstrumentError(`reservedPages must be a positive integer, not ${reservedPages}`));
  }
  const dir = options.cacheDir ?? join(packageRoot(), "build", "cache", "instrument");
  const key = cacheKey(bytes, costs, reservedPages);
  let hit = cache.get(key);
  if (!hit) {
    const fromDisk = dir === false ? undefined : readDiskCache(dir, key);
    hit = fromDisk
      ? Promise.resolve(fromDisk)
      : instrumentUncached(bytes, costs, reservedPages).then((img) => {
        if (dir !== false) {
          writeDiskCache(dir, key, img);
          pruneDiskCache(dir, options.cacheMaxBytes ?? CACHE_MAX_BYTES, key);
        }
        return img;
      });
    cache.set(key, hit);
    hit.catch(() => cache.delete(key)); // a failure is not remembered
  }
  return hit;
}
