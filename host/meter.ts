// Cycle metering of guest WebAssembly: a load-time rewrite of the module's binary so
// that the host knows, at any import call, how many instructions the guest has run.
//
// How: each function body is cut into segments. A segment ends after every control
// instruction (block, loop, if, else, end, br, br_if, br_table, return, unreachable)
// and after every call, so a segment is straight-line code that runs whole or not at
// all, and the counter is exact whenever control reaches an import. At the head of
// every segment we insert
//     global.get $cycles  i64.const N  i64.add  global.set $cycles
// with N = the segment's instruction count (see instructionCost). Because segments are
// cut after calls, an import sees the count up to and including its own call.
//
// memory.copy and memory.fill are also charged per byte: before each, the length is
// teed into a scratch local and (len * num / den) is added, num/den from the cost
// table. At the head of every loop body a watchdog compares $cycles with $limit and
// executes `unreachable` past it, so a runaway guest traps instead of hanging the host
// (the host tells that trap apart by the counter).
//
// The rewrite appends two globals and their exports (__cycles, __cycle_limit); it
// never renumbers functions or globals, so the names section and every index stay
// valid. It refuses SIMD and exception-handling opcodes (our guests use neither).
//
// Weights (cost model v2, host/costs-p6.ts): by default every instruction counts 1.
// With `weights`, the counter counts in units of 1/scale cycle and each instruction adds
// its operator's weight; when `foldAddress` is set, an i32.add that computes a load's
// or store's address (the instruction right before the load, or before the stored
// value's local.get/const), and the `i32.const k (k <= 3); i32.shl` scaling its index
// before it, weigh nothing: an IA-32 addressing mode (base + index * 1/2/4/8 + disp)
// does that arithmetic inside the load; an i32.load (or global.get) whose value goes
// straight into an add, sub, and, or, xor or compare weighs nothing, as IA-32 takes
// it as that instruction's memory operand; an i32 division by a constant weighs
// `divByConst` (a multiply and shifts, as compilers emit it). The watchdog limit and the per-byte charges of
// copy and fill are in the same units; the CPU divides by scale.
//
// Interface:
//   meterModule(bytes, { copy, fill, weights? })  -> { bytes, info }
//   parseModuleInfo(bytes)               -> data segments, function names, imports
//   instructionCost(op)                  -> what one instruction counts (flat)

export interface Fraction {
  num: number;
  den: number;
}

/** Per-operator weights, in units of 1/scale cycle (cost model v2). */
export interface OpWeights {
  /** Counter units per cycle. */
  scale: number;
  /** Units per one-byte opcode (index = opcode; block/loop/else/end/nop are 0 anyway). */
  op: Uint16Array;
  /** Units of a 0xFC-prefixed instruction other than memory.copy/fill (their
   *  per-byte charge comes on top of `fcBulk`). */
  fc: number;
  fcBulk: number;
  /** Units of an atomic (0xFE) instruction. */
  fe: number;
  /** Address arithmetic folded into x86 addressing modes (see the header). */
  foldAddress: boolean;
  /** Units of an i32 division or remainder by a constant (`i32.const d; i32.div_u`):
   *  a compiler for the target turns it into a multiply and shifts. Undefined: as
   *  any division. */
  divByConst?: number;
}

export interface MeterOptions {
  copy: Fraction;
  fill: Fraction;
  weights?: OpWeights;
}

export interface DataSegment {
  offset: number;
  size: number;
}

export interface ModuleInfo {
  /** Active data segments with constant offsets (memory 0). */
  data: DataSegment[];
  /** Function index -> name from the names section, when present. */
  functionNames: Map<number, string>;
  importedFunctions: number;
  importedGlobals: number;
  definedGlobals: number;
}

export const CYCLES_EXPORT = "__cycles";
export const LIMIT_EXPORT = "__cycle_limit";

// ---- byte reader / writer --------------------------------------------------------

class Reader {
  pos: number;
  constructor(readonly b: Uint8Array, pos = 0, readonly end = b.length) {
    this.pos = pos;
  }
  u8(): number {
    if (this.pos >= this.end) throw new Error("meter: unexpected end of module");
    return this.b[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error("meter: bad LEB128");
    }
  }
  /** Signed LEB of any width: only skipped or read as a small number. */
  sleb(): number {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = this.u8();
      if (shift < 32) result |= (byte & 0x7f) << shift;
      shift += 7;
      if (shift > 70) throw new Error("meter: bad signed LEB128");
    } while (byte & 0x80);
    if (shift < 32 && byte & 0x40) result |= -1 << shift;
    return result;
  }
  skip(n: number): void {
    this.pos += n;
    if (this.pos > this.end) throw new Error("meter: unexpected end of module");
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.b.subarray(this.pos, this.pos + n));
    this.skip(n);
    return s;
  }
}

class Writer {
  private buf = new Uint8Array(1 << 16);
  len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }
  u8(x: number): void {
    this.ensure(1);
    this.buf[this.len++] = x;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u32(x: number): void {
    do {
      let byte = x % 128;
      x = Math.floor(x / 128);
      if (x !== 0) byte |= 0x80;
      this.u8(byte);
    } while (x !== 0);
  }
  /** Signed LEB of a non-negative integer below 2^53. */
  sleb(x: number): void {
    for (;;) {
      const byte = x % 128;
      x = Math.floor(x / 128);
      if (x === 0 && (byte & 0x40) === 0) {
        this.u8(byte);
        return;
      }
      this.u8(byte | 0x80);
    }
  }
  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

// ---- instruction decoding ---------------------------------------------------------

const enum Kind {
  Plain, // counts 1, no boundary
  Free, // counts 0, no boundary (nop)
  StructOpen, // block/loop/if: a boundary after it
  StructMark, // else/end: counts 0, boundary after
  Branch, // br, br_if, br_table, return, unreachable: counts 1, boundary after
  Call, // call, call_indirect: counts 1, boundary after
  Copy, // memory.copy
  Fill, // memory.fill
}

interface Insn {
  start: number;
  end: number;
  kind: Kind;
  isLoop: boolean;
}

/** What one instruction counts: 0 for structure markers and nop, else 1. */
export function instructionCost(op: number): number {
  return op === 0x01 || op === 0x02 || op === 0x03 || op === 0x05 || op === 0x0b ? 0 : 1;
}

function blockType(r: Reader): void {
  const b = r.b[r.pos];
  if (b === 0x40 || (b >= 0x6f && b <= 0x7f)) r.u8();
  else r.sleb();
}

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory index
  r.u32();
}

function decodeOne(r: Reader): Insn {
  const start = r.pos;
  const op = r.u8();
  let kind = Kind.Plain;
  let isLoop = false;
  switch (op) {
    case 0x00: kind = Kind.Branch; break; // unreachable
    case 0x01: kind = Kind.Free; break; // nop
    case 0x02: case 0x03: case 0x04: // block loop if
      blockType(r);
      kind = Kind.StructOpen;
      isLoop = op === 0x03;
      break;
    case 0x05: case 0x0b: kind = Kind.StructMark; break; // else end
    case 0x0c: case 0x0d: r.u32(); kind = Kind.Branch; break; // br br_if
    case 0x0e: { // br_table
      const n = r.u32();
      for (let i = 0; i <= n; i++) r.u32();
      kind = Kind.Branch;
      break;
    }
    case 0x0f: kind = Kind.Branch; break; // return
    case 0x10: r.u32(); kind = Kind.Call; break; // call
    case 0x11: r.u32(); r.u32(); kind = Kind.Call; break; // call_indirect
    case 0x12: r.u32(); kind = Kind.Branch; break; // return_call
    case 0x13: r.u32(); r.u32(); kind = Kind.Branch; break; // return_call_indirect
    case 0x1a: case 0x1b: break; // drop select
    case 0x1c: { const n = r.u32(); r.skip(n); break; } // select t*
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
      r.u32();
      break;
    case 0x3f: case 0x40: r.u8(); break; // memory.size/grow
    case 0x41: case 0x42: r.sleb(); break; // i32/i64.const
    case 0x43: r.skip(4); break;
    case 0x44: r.skip(8); break;
    case 0xd0: r.u8(); break; // ref.null
    case 0xd1: break; // ref.is_null
    case 0xd2: r.u32(); break; // ref.func
    case 0xfc: {
      const sub = r.u32();
      if (sub <= 7) break; // saturating truncations
      switch (sub) {
        case 8: r.u32(); r.u8(); break; // memory.init
        case 9: r.u32(); break; // data.drop
        case 10: r.u8(); r.u8(); kind = Kind.Copy; break; // memory.copy
        case 11: r.u8(); kind = Kind.Fill; break; // memory.fill
        case 12: case 14: r.u32(); r.u32(); break; // table.init, table.copy
        case 13: case 15: case 16: case 17: r.u32(); break;
        default: throw new Error(`meter: unknown 0xFC opcode ${sub}`);
      }
      break;
    }
    case 0xfe: { // atomics
      const sub = r.u32();
      if (sub === 0x03) r.u8();
      else memarg(r);
      break;
    }
    default:
      if (op >= 0x28 && op <= 0x3e) memarg(r);
      else if (op >= 0x45 && op <= 0xc4) { /* numeric, no immediates */ }
      else throw new Error(`meter: unsupported opcode 0x${op.toString(16)} at byte ${start}`);
  }
  return { start, end: r.pos, kind, isLoop };
}

// ---- module parsing ---------------------------------------------------------------

interface Section {
  id: number;
  start: number; // payload start
  end: number; // payload end
  headerStart: number;
}

function sections(b: Uint8Array): Section[] {
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) {
    throw new Error("meter: not a WebAssembly module");
  }
  const r = new Reader(b, 8);
  const out: Section[] = [];
  while (r.pos < b.length) {
    const headerStart = r.pos;
    const id = r.u8();
    const size = r.u32();
    out.push({ id, start: r.pos, end: r.pos + size, headerStart });
    r.skip(size);
  }
  return out;
}

function constExprI32(r: Reader): number | undefined {
  const op = r.u8();
  let v: number | undefined;
  if (op === 0x41) v = r.sleb() >>> 0;
  else if (op === 0x23) r.u32();
  else throw new Error(`meter: unsupported constant expression opcode 0x${op.toString(16)}`);
  if (r.u8() !== 0x0b) throw new Error("meter: bad constant expression");
  return v;
}

export function parseModuleInfo(b: Uint8Array): ModuleInfo {
  const info: ModuleInfo = { data: [], functionNames: new Map(), importedFunctions: 0, importedGlobals: 0, definedGlobals: 0 };
  for (const s of sections(b)) {
    const r = new Reader(b, s.start, s.end);
    if (s.id === 2) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        r.name();
        r.name();
        const kind = r.u8();
        if (kind === 0) { r.u32(); info.importedFunctions++; }
        else if (kind === 1) { r.u8(); limits(r); }
        else if (kind === 2) limits(r);
        else if (kind === 3) { r.u8(); r.u8(); info.importedGlobals++; }
        else throw new Error(`meter: unknown import kind ${kind}`);
      }
    } else if (s.id === 6) {
      info.definedGlobals = r.u32();
    } else if (s.id === 11) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const flags = r.u32();
        let offset: number | undefined;
        if (flags === 0) offset = constExprI32(r);
        else if (flags === 2) { r.u32(); offset = constExprI32(r); }
        else if (flags !== 1) throw new Error(`meter: unknown data segment flags ${flags}`);
        const size = r.u32();
        r.skip(size);
        if (offset !== undefined) info.data.push({ offset, size });
      }
    } else if (s.id === 0) {
      const name = r.name();
      if (name !== "name") continue;
      while (r.pos < s.end) {
        const sub = r.u8();
        const size = r.u32();
        const subEnd = r.pos + size;
        if (sub === 1) {
          const n = r.u32();
          for (let i = 0; i < n; i++) {
            const idx = r.u32();
            info.functionNames.set(idx, r.name());
          }
        }
        r.pos = subEnd;
      }
    }
  }
  return info;
}

function limits(r: Reader): void {
  const flags = r.u8();
  r.u32();
  if (flags & 1) r.u32();
}

// ---- the rewrite ------------------------------------------------------------------

export function meterModule(bytes: Uint8Array, opts: MeterOptions): { bytes: Uint8Array; info: ModuleInfo } {
  const info = parseModuleInfo(bytes);
  const secs = sections(bytes);
  const gCycles = info.importedGlobals + info.definedGlobals;
  const gLimit = gCycles + 1;
  const out = new Writer();
  out.bytes(bytes.subarray(0, 8));

  const writeSection = (id: number, payload: Uint8Array): void => {
    out.u8(id);
    out.u32(payload.length);
    out.bytes(payload);
  };
  const newGlobals = (w: Writer): void => {
    for (const init of [0, Number.MAX_SAFE_INTEGER]) {
      w.u8(0x7e); // i64
      w.u8(0x01); // mutable
      w.u8(0x42);
      w.sleb(init);
      w.u8(0x0b);
    }
  };
  const newExports = (w: Writer): void => {
    w.name(CYCLES_EXPORT); w.u8(0x03); w.u32(gCycles);
    w.name(LIMIT_EXPORT); w.u8(0x03); w.u32(gLimit);
  };

  // Section order of the standard: global (6) comes before export (7), which comes
  // before code (10). Insert a missing global/export section at its place.
  const order = (id: number): number => (id === 12 ? 9.5 : id); // datacount sits before code
  let wroteGlobals = false;
  let wroteExports = false;
  for (const s of secs) {
    const payload = bytes.subarray(s.start, s.end);
    if (s.id !== 0) {
      if (!wroteGlobals && order(s.id) > 6) {
        const w = new Writer(); w.u32(2); newGlobals(w); writeSection(6, w.done()); wroteGlobals = true;
      }
      if (!wroteExports && order(s.id) > 7) {
        const w = new Writer(); w.u32(2); newExports(w); writeSection(7, w.done()); wroteExports = true;
      }
    }
    if (s.id === 6) {
      const r = new Reader(bytes, s.start, s.end);
      const n = r.u32();
      const w = new Writer(); w.u32(n + 2); w.bytes(bytes.subarray(r.pos, s.end)); newGlobals(w);
      writeSection(6, w.done());
      wroteGlobals = true;
    } else if (s.id === 7) {
      const r = new Reader(bytes, s.start, s.end);
      const n = r.u32();
      const w = new Writer(); w.u32(n + 2); w.bytes(bytes.subarray(r.pos, s.end)); newExports(w);
      writeSection(7, w.done());
      wroteExports = true;
    } else if (s.id === 10) {
      writeSection(10, rewriteCode(bytes, s, gCycles, gLimit, opts));
    } else {
      out.u8(s.id);
      out.u32(payload.length);
      out.bytes(payload);
    }
  }
  if (!wroteGlobals) { const w = new Writer(); w.u32(2); newGlobals(w); writeSection(6, w.done()); }
  if (!wroteExports) { const w = new Writer(); w.u32(2); newExports(w); writeSection(7, w.done()); }
  return { bytes: out.done(), info };
}

function rewriteCode(b: Uint8Array, s: Section, gCycles: number, gLimit: number, opts: MeterOptions): Uint8Array {
  const r = new Reader(b, s.start, s.end);
  const n = r.u32();
  const w = new Writer();
  w.u32(n);
  const body = new Writer();
  for (let f = 0; f < n; f++) {
    const size = r.u32();
    const end = r.pos + size;
    const fr = new Reader(b, r.pos, end);
    // Locals: copy the declarations and add one i32 scratch local for copy/fill.
    const groups = fr.u32();
    let nLocals = 0;
    const localDecls: Array<[number, number]> = [];
    for (let g = 0; g < groups; g++) {
      const count = fr.u32();
      const type = fr.u8();
      localDecls.push([count, type]);
      nLocals += count;
    }
    // Parameters come first in the local index space, so the scratch local (a new
    // last group) has index = parameters + declared locals.
    const insns: Insn[] = [];
    while (fr.pos < end) insns.push(decodeOne(fr));
    const needScratch = insns.some((i) => i.kind === Kind.Copy || i.kind === Kind.Fill);
    body.len = 0;
    body.u32(localDecls.length + (needScratch ? 1 : 0));
    for (const [count, type] of localDecls) { body.u32(count); body.u8(type); }
    if (needScratch) { body.u32(1); body.u8(0x7f); }
    const scratchIndex = needScratch ? paramCounts(b)[f] + nLocals : -1;
    emitBody(b, insns, body, gCycles, gLimit, scratchIndex, opts);
    const fb = body.done();
    w.u32(fb.length);
    w.bytes(fb);
    r.pos = end;
  }
  return w.done();
}

/** Parameter count of each defined function (from the type and function sections). */
const paramCache = new WeakMap<Uint8Array, number[]>();
function paramCounts(b: Uint8Array): number[] {
  const cached = paramCache.get(b);
  if (cached) return cached;
  const typeParams: number[] = [];
  const result: number[] = [];
  for (const s of sections(b)) {
    const r = new Reader(b, s.start, s.end);
    if (s.id === 1) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const form = r.u8();
        if (form !== 0x60) throw new Error(`meter: unsupported type form 0x${form.toString(16)}`);
        const np = r.u32(); r.skip(np);
        const nr = r.u32(); r.skip(nr);
        typeParams.push(np);
      }
    } else if (s.id === 3) {
      const n = r.u32();
      for (let i = 0; i < n; i++) result.push(typeParams[r.u32()]);
    }
  }
  paramCache.set(b, result);
  return result;
}

function emitCharge(w: Writer, gCycles: number, n: number): void {
  if (n === 0) return;
  w.u8(0x23); w.u32(gCycles); // global.get $cycles
  w.u8(0x42); w.sleb(n); // i64.const n
  w.u8(0x7c); // i64.add
  w.u8(0x24); w.u32(gCycles); // global.set $cycles
}

function emitWatchdog(w: Writer, gCycles: number, gLimit: number): void {
  w.u8(0x23); w.u32(gCycles);
  w.u8(0x23); w.u32(gLimit);
  w.u8(0x56); // i64.gt_u
  w.u8(0x04); w.u8(0x40); // if (void)
  w.u8(0x00); // unreachable
  w.u8(0x0b); // end
}

/** (scratch * num) / den added to $cycles; leaves the operand stack as it was. */
function emitPerByte(w: Writer, gCycles: number, scratch: number, fr: Fraction): void {
  w.u8(0x22); w.u32(scratch); // local.tee scratch (length stays on the stack)
  w.u8(0x23); w.u32(gCycles);
  w.u8(0x20); w.u32(scratch);
  w.u8(0xad); // i64.extend_i32_u
  w.u8(0x42); w.sleb(fr.num);
  w.u8(0x7e); // i64.mul
  w.u8(0x42); w.sleb(fr.den);
  w.u8(0x80); // i64.div_u
  w.u8(0x7c); // i64.add
  w.u8(0x24); w.u32(gCycles);
}

/** What instruction k weighs under `wt` (units of 1/wt.scale cycle). */
function weightOf(b: Uint8Array, insns: Insn[], k: number, wt: OpWeights): number {
  const ins = insns[k];
  if (ins.kind === Kind.Free || ins.kind === Kind.StructMark || (ins.kind === Kind.StructOpen && b[ins.start] !== 0x04)) return 0;
  const op = b[ins.start];
  if (op === 0xfc) return ins.kind === Kind.Copy || ins.kind === Kind.Fill ? wt.fcBulk : wt.fc;
  if (op === 0xfe) return wt.fe;
  if (wt.foldAddress && (op === 0x6a || op === 0x74) && addressFolds(b, insns, k)) return 0;
  if (wt.foldAddress && (op === 0x28 || op === 0x23) && loadFolds(b, insns, k)) return 0;
  if (op >= 0x6d && op <= 0x70 && wt.divByConst !== undefined && k > 0 && b[insns[k - 1].start] === 0x41) {
    const d = new Reader(b, insns[k - 1].start + 1, insns[k - 1].end).sleb();
    if (d !== 0) return op === 0x6e || op === 0x70 ? wt.divByConst : wt.divByConst + wt.op[0x6a] * 2; // signed: a sign fix-up
  }
  return wt.op[op];
}

const isLoad = (op: number): boolean => op >= 0x28 && op <= 0x35;
const isStore = (op: number): boolean => op >= 0x36 && op <= 0x3e;
const isSimpleValue = (op: number): boolean => op === 0x20 || op === 0x41 || op === 0x42 || op === 0x23;

/** i32 operators that take a memory operand on IA-32 (ADD SUB AND OR XOR CMP TEST r,m:
 *  one instruction [Agner Fog]): add sub and or xor, compares, eqz. */
const takesMemoryOperand = (op: number): boolean => (op >= 0x45 && op <= 0x4f) || op === 0x6a || op === 0x6b || (op >= 0x71 && op <= 0x73);

/** Is the i32.load (or global.get) at k the operand of the i32 operator that uses it
 *  next (right after it, or after the other operand's local.get/const)? */
function loadFolds(b: Uint8Array, insns: Insn[], k: number): boolean {
  const opAt = (j: number): number => (j < insns.length ? b[insns[j].start] : -1);
  const next = opAt(k + 1);
  if (takesMemoryOperand(next)) return true;
  return (next === 0x20 || next === 0x41) && takesMemoryOperand(opAt(k + 2)) && opAt(k + 2) !== 0x45;
}

/** Is the i32.add / i32.shl at k part of a load's or store's address (see the header)? */
function addressFolds(b: Uint8Array, insns: Insn[], k: number): boolean {
  const opAt = (j: number): number => (j >= 0 && j < insns.length ? b[insns[j].start] : -1);
  const op = opAt(k);
  if (op === 0x74) {
    // i32.const k<=3; i32.shl; i32.add; <load, or simple value + store>
    const c = insns[k - 1];
    if (opAt(k - 1) !== 0x41 || !c) return false;
    const sh = new Reader(b, c.start + 1, c.end).sleb();
    if (sh < 0 || sh > 3 || opAt(k + 1) !== 0x6a) return false;
    return addressFolds(b, insns, k + 1);
  }
  const next = opAt(k + 1);
  if (isLoad(next)) return true;
  return isSimpleValue(next) && isStore(opAt(k + 2));
}

function emitBody(b: Uint8Array, insns: Insn[], w: Writer, gCycles: number, gLimit: number, scratch: number, opts: MeterOptions): void {
  const wt = opts.weights;
  const scale = wt?.scale ?? 1;
  const copy = { num: opts.copy.num * scale, den: opts.copy.den };
  const fill = { num: opts.fill.num * scale, den: opts.fill.den };
  let i = 0;
  let headIsLoop = false;
  while (i < insns.length) {
    // Find the segment [i, j): up to and including the first boundary instruction.
    let j = i;
    let count = 0;
    for (;;) {
      const ins = insns[j];
      count += wt ? weightOf(b, insns, j, wt)
        : ins.kind === Kind.Free || ins.kind === Kind.StructMark || (ins.kind === Kind.StructOpen && b[ins.start] !== 0x04) ? 0 : 1;
      j++;
      if (ins.kind !== Kind.Plain && ins.kind !== Kind.Free && ins.kind !== Kind.Copy && ins.kind !== Kind.Fill) break;
      if (j >= insns.length) break;
    }
    if (headIsLoop) emitWatchdog(w, gCycles, gLimit);
    emitCharge(w, gCycles, count);
    for (let k = i; k < j; k++) {
      const ins = insns[k];
      if (ins.kind === Kind.Copy) emitPerByte(w, gCycles, scratch, copy);
      else if (ins.kind === Kind.Fill) emitPerByte(w, gCycles, scratch, fill);
      w.bytes(b.subarray(ins.start, ins.end));
    }
    headIsLoop = insns[j - 1].isLoop;
    i = j;
  }
}
