// Cost model v2 ("p6"): what each WebAssembly operator costs on a Pentium III
// (Coppermine, P6 core) at 600 MHz, and the memory system behind it (16 KB L1D and
// 256 KB on-die L2, 32-byte lines, PC100 SDRAM behind a 440BX). host/costs.ts puts
// these into the P6_600 cost table; host/meter.ts applies the weights.
//
// How a weight is found. A guest's WebAssembly is what a compiler would have turned
// into IA-32 code on the paper's machine; each operator is weighted by the IA-32
// instructions it becomes in such code, at one cycle each, except where an
// instruction's latency dominates (division), where the latency is charged:
//   - local.get / local.set / local.tee / i32.const / drop: 0. A local lives in a
//     register or is a memory operand of the instruction that uses it
//     (`add eax, [esp+8]`); a constant is an immediate. (IA-32 has 6-7 free
//     registers, so some locals are spilled: the validation measures what that leaves.)
//   - ALU operators (add, sub, and, or, xor, shifts, rotates, compares, eqz): 1. A
//     compare feeding br_if/if is `cmp` + `jcc`: 1 + 1.
//   - i32.mul: 1. IMUL r32 is 1 uop, latency 4, throughput 1/clock [Agner Fog,
//     instruction tables, "PPro, PII and PIII": MUL IMUL r,(r),(i) 1 uop, latency 4].
//   - i32.div/rem: 39. DIV/IDIV r32 latency 39, throughput 1/37 [Agner Fog, same table].
//     By a constant: 5 (a multiply of latency 4 and a shift: what compilers emit).
//   - load: 1 (MOV r,m: 1 uop on port 2, L1 hit latency 3, hidden by out-of-order
//     execution when independent [Agner Fog, same table; lmbench3: L1 3 clk on P6]).
//   - store: 1 (MOV m,r: store-address + store-data uops, 1/clock [Agner Fog]).
//   - Address arithmetic absorbed by an addressing mode: 0 (meter.ts foldAddress).
//   - br, br_if, if: 1 (JMP / Jcc: 1 uop [Agner Fog]); br_table: 3 (cmp, ja, jmp m).
//   - call: 4 (CALL near and RETN, and a callee-saved register pushed and popped: the
//     call's own cost in the P6 is 4 uops for CALL, 4 for RET [Agner Fog], ~1 clock
//     each of issue at 3 uops/clock); call_indirect: 6 (table load, type check).
//   - global.get / global.set: 1 (a memory operand; clang's __stack_pointer).
//   - 64-bit integer operators on a 32-bit core: add/sub 2 (ADD + ADC), and/or/xor 2,
//     compares 3, shifts 4 (SHLD + SHL + a test of bit 5), mul 6 (three MUL/IMUL of
//     latency 4 and two adds), div/rem 80 (libgcc __udivdi3: one or two DIV r32 of 39
//     [est]). extend 1 (CDQ or XOR), wrap 0.
//   - 64-bit load/store: 2 (two 32-bit moves).
//   - f32/f64: add/sub/mul 1 (FADD/FMUL, pipelined), div 18/32 (FDIV latency 18 single,
//     32 double [Agner Fog]), sqrt 30/38, conversions to integer 10 (FISTP with a
//     control-word change), others 1-4. Our guests use no floating point.
//   - memory.copy / memory.fill: 3 to set up REP MOVS / STOS, plus the per-byte
//     bandwidth of the cost table (lmbench bcopy / bw_mem on P6 machines).
// Cycles per instruction: a P6 decodes up to 3 instructions and retires up to 3 uops
// per clock [Agner Fog, microarchitecture guide, PPro/PII/PIII pipeline], but integer
// code with dependencies and taken branches sustains about one instruction per clock;
// the model takes 1 (the validation's reference takes the same 1, so the two are
// compared on instructions and misses, not on this figure).
//
// Memory system:
//   - L1D 16 KB 4-way, L2 256 KB 8-way on die, 32-byte lines (Intel, Pentium III
//     Coppermine datasheet; TIMING-REF.md B; Fanael 2019: no hardware prefetcher on
//     Coppermine).
//   - L2 hit: 7 cycles (lmbench lat_mem_rd on a 790 MHz P6: 8.9 ns = 7 clocks; LKML
//     Marathe 2003, in TIMING-REF.md B).
//   - DRAM (PC100 behind the 440BX): ~175 ns (lmbench: 180 ns on a PIII-450 with a
//     100 MHz bus, lmbench3 paper; 174 ns at 790 MHz, LKML Marathe 2003), 105 cycles
//     at 600 MHz. A line a device wrote by DMA is not in the CPU's caches (the bus
//     snoop invalidated it), so the CPU's first read of it costs this.
//   - The kernel's own data (stream table, header slots) is taken to hit in L1: its
//     per-tick working set is a few KB up to ~100 streams; the validation's table
//     scan measures the error when it does not fit (README, cost-model validation).
// MMIO write: a posted write is one front-side-bus transaction into the 440BX's
// CPU-to-PCI write buffer; the CPU does not wait for the PCI cycle (the buffer takes
// up to 4 words at once: A. Wong, BIOS Optimization Guide, "CPU to PCI Write Buffer"),
// but UC stores leave in program order, one bus transaction each (Intel SDM vol. 3,
// 11.3, "Strong Uncacheable"). A P6 bus transaction takes ~6 bus clocks from request
// to response (request 2, error 1, snoop 1, response 2 [est]) = 36 cycles at 100 MHz
// x 6. No measured figure for a PIII was found: this is derived, not measured.

import type { OpWeights } from "./meter.js";

/** Counter units per cycle: weights in quarter cycles. */
export const P6_SCALE = 4;
export const P6_L2_HIT_CYCLES = 7;
export const P6_DRAM_LINE_CYCLES = 105;
export const P6_LINE_BYTES = 32;
export const P6_MMIO_WRITE_CYCLES = 36;

/** Cycles per WebAssembly operator (see the header); built into P6_WEIGHTS. */
function p6OpCycles(): Float64Array {
  const c = new Float64Array(256).fill(1);
  const set = (ops: number[], v: number): void => { for (const o of ops) c[o] = v; };
  const range = (a: number, z: number): number[] => Array.from({ length: z - a + 1 }, (_, i) => a + i);
  set([0x00, 0x01, 0x02, 0x03, 0x05, 0x0b], 0); // unreachable, nop, block, loop, else, end
  set([0x04, 0x0c, 0x0d], 1); // if, br, br_if
  c[0x0e] = 3; // br_table
  c[0x0f] = 0; // return: its RET is charged with the call
  c[0x10] = 4; // call
  c[0x11] = 6; // call_indirect
  c[0x12] = 4; c[0x13] = 6; // return_call(_indirect)
  set([0x1a], 0); // drop
  set([0x1b, 0x1c], 2); // select: test + CMOV
  set([0x20, 0x21, 0x22], 0); // local.get/set/tee
  set([0x23, 0x24], 1); // global.get/set
  set(range(0x28, 0x35), 1); // loads
  c[0x29] = 2; set(range(0x30, 0x35), 2); // i64 loads
  set(range(0x36, 0x3e), 1); // stores
  c[0x37] = 2; // i64.store
  c[0x3f] = 1; c[0x40] = 20; // memory.size, memory.grow (a call into the runtime)
  set([0x41, 0x42], 0); // i32/i64.const: immediates
  set([0x43, 0x44], 1); // f32/f64.const: a load from the constant pool
  set(range(0x45, 0x4f), 1); // i32 compares
  set(range(0x50, 0x5a), 3); // i64 compares
  set(range(0x5b, 0x66), 2); // float compares
  c[0x67] = 3; c[0x68] = 3; c[0x69] = 10; // i32 clz ctz popcnt (no POPCNT on P6)
  set(range(0x6a, 0x78), 1); // i32 arithmetic, logic, shifts
  set([0x6d, 0x6e, 0x6f, 0x70], 39); // i32 div/rem
  c[0x79] = 6; c[0x7a] = 6; c[0x7b] = 20; // i64 clz ctz popcnt
  set([0x7c, 0x7d, 0x83, 0x84, 0x85], 2); // i64 add sub and or xor
  c[0x7e] = 6; // i64.mul
  set([0x7f, 0x80, 0x81, 0x82], 80); // i64 div/rem
  set([0x86, 0x87, 0x88], 4); // i64 shifts
  set([0x89, 0x8a], 6); // i64 rotates
  set(range(0x8b, 0xa6), 1); // float arithmetic
  set([0x8d, 0x8e, 0x8f, 0x90, 0x9b, 0x9c, 0x9d, 0x9e], 10); // ceil floor trunc nearest
  c[0x91] = 30; c[0x9f] = 38; // sqrt
  c[0x95] = 18; c[0xa3] = 32; // div
  set([0x96, 0x97, 0x98, 0xa4, 0xa5, 0xa6], 4); // min max copysign
  c[0xa7] = 0; // i32.wrap_i64
  set(range(0xa8, 0xab), 10); set(range(0xae, 0xb1), 10); // truncations
  set([0xac, 0xad], 1); // i64.extend_i32_s/u
  set(range(0xb2, 0xbb), 2); // conversions to float, demote, promote
  set(range(0xbc, 0xbf), 2); // reinterpret: through memory
  set(range(0xc0, 0xc4), 1); // sign extension: MOVSX
  return c;
}

export const P6_WEIGHTS: OpWeights = {
  scale: P6_SCALE,
  op: Uint16Array.from(p6OpCycles(), (v) => Math.round(v * P6_SCALE)),
  fc: 10 * P6_SCALE, // saturating truncations, memory.init, table ops
  fcBulk: 3 * P6_SCALE, // REP MOVS / STOS set-up; bytes charged per byte on top
  fe: 20 * P6_SCALE, // LOCK-prefixed read-modify-write [est]
  foldAddress: true,
  // i32 division by a constant: MUL r32 (1 uop, latency 4 [Agner Fog]) and a shift,
  // as compilers emit it (Granlund & Montgomery 1994; gcc and clang do it at -O1).
  divByConst: 5 * P6_SCALE,
};
