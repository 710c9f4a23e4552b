// The cost table: every CPU cost the instruction count does not see, for a Pentium III
// 600 MHz class machine (1 us = 600 cycles). One file, each number with its source.
// Sources are digested in ../shared/TIMING-REF.md section B; "[est]" marks an estimate
// with the reasoning next to it, "[model]" a modelling choice rather than a measurement.
//
// What the metered instruction count already covers: every WebAssembly instruction a
// guest executes (kernel and driver code included). So the entries below are only the
// parts a WASM guest cannot execute itself: trap/interrupt hardware paths, uncached
// device accesses, cross-CPU signalling, and bulk memory bandwidth.
//
// Two models (`--cost-model flat|p6`; flat is the default, so that every figure
// published before v2 still comes out the same):
//   flat (PIII_600)  one cycle per WebAssembly instruction, no memory system.
//   p6   (P6_600)    cost model v2: each WebAssembly operator weighted by what it
//                    becomes on the P6 core (host/costs-p6.ts: the mapping to IA-32
//                    instructions and the latencies, each with its source), x86
//                    addressing modes absorbing address arithmetic, and a memory model:
//                    a 32-byte line a device wrote by DMA misses on the CPU's first
//                    touch (PC100 SDRAM behind a 440BX). Validated against cachegrind
//                    counts of native builds (bench/costval/, README).
//
// Interface:
//   PIII_600, P6_600, costModel(name), COST_MODELS
//   copyCycles(table, n), cyclesToNs(table, cycles), nsToCycles(table, ns)

import type { OpWeights } from "./meter.js";
import { P6_WEIGHTS, P6_DRAM_LINE_CYCLES, P6_MMIO_WRITE_CYCLES } from "./costs-p6.js";

export interface CostTable {
  /** The model's name, as `--cost-model` takes it. */
  name: "flat" | "p6";
  /** Per-operator weights for the meter; undefined = one cycle per instruction. */
  weights?: OpWeights;
  /** Cycles charged per 32-byte line a CPU reads after a device wrote it by DMA
   *  (0: the memory system is not modelled). */
  dmaLineMiss: number;
  /** CPU clock, Hz. */
  hz: number;
  /** Cycles charged per metered WASM instruction. */
  cyclesPerInstruction: number;
  /** memory.copy: cycles per byte, as a fraction num/den. */
  copyPerByte: { num: number; den: number };
  /** memory.fill: cycles per byte, as a fraction num/den. */
  fillPerByte: { num: number; den: number };
  /** Uncached MMIO read of a PCI device register (CPU stalls for the round trip). */
  mmioRead: number;
  /** Posted MMIO write. */
  mmioWrite: number;
  /** Access to an on-chip per-CPU register (local APIC, timer, console). */
  localRegAccess: number;
  /** Hardware part of interrupt entry + iret, charged per delivered interrupt. */
  interruptEntryExit: number;
  /** Delay from the IPI register write to the target CPU seeing the interrupt, ns. */
  ipiLatencyNs: number;
  /** System-call trap + return (int 0x80 / iret path), charged by a guest per call. */
  syscallEntryExit: number;
  /** Address-space switch work a guest does not execute (TLB refill etc.). */
  contextSwitch: number;
}

export const PIII_600: CostTable = {
  name: "flat",
  dmaLineMiss: 0,
  // Table 1 of the paper: Pentium III 600 MHz.
  hz: 600_000_000,

  // [model] One cycle per WASM instruction. A P6 core retires up to 3 x86 uops per
  // cycle but sustains about 1 IPC on integer kernel code (lmbench3 memhier.ms: int add
  // 1 clk, loads 3 clk L1), while a WASM instruction such as local.get often costs no
  // x86 instruction at all. The two roughly cancel; 1 is the honest round figure.
  cyclesPerInstruction: 1,

  // bcopy 134-155 MB/s on P6 machines of 450-790 MHz (lmbench3 paper: 2xPIII-450
  // 134 MB/s; LKML Morris 2002: Celeron-548 155 MB/s; LKML Marathe 2003: 790 MHz
  // 124 MB/s). At 600 MHz, 140 MB/s = 4.3 cycles/byte [est, mid-range].
  copyPerByte: { num: 43, den: 10 },

  // bw_mem write 170-199 MB/s (same three sources). 190 MB/s = 3.2 cycles/byte [est].
  fillPerByte: { num: 32, den: 10 },

  // "each PCI read takes 330ns best case" (LynxTWO HalEEPROM.cpp, 2003); 0.7-0.9 us on
  // an e1000 (Olsson & Welte mmio_test.c); "in the order of 1usec" (Bugge, Beowulf
  // list 2007). On 33 MHz PCI: 0.5-1 us [est]; we take 0.75 us = 450 cycles.
  mmioRead: 450,

  // PCI writes are posted: "no longer than a memory write" unless a read flushes them
  // (LKML Wilcox 2003). A write-combining-free uncached store to the bridge: ~50 ns =
  // 30 cycles [est].
  mmioWrite: 30,

  // Local APIC registers are on the CPU die (no bus cycle): an uncached access to the
  // APIC page, ~20 cycles [est; no published PIII figure found].
  localRegAccess: 20,

  // Interrupt overhead 4.45 us on a Pentium II 300 (Aron & Druschel, SOSP'99, quoted
  // in Tanenbaum MOS), which includes the handler's own work; scaled to 600 MHz that
  // is ~2.2 us in total. The guest handler's instructions are metered separately, so
  // we charge the hardware entry/exit (vectoring, pushes, iret, PIC EOI I/O) at
  // 1.5 us = 900 cycles [est: 2-4 us total per TIMING-REF, minus metered work].
  interruptEntryExit: 900,

  // P6 IPIs travel over the 3-wire APIC serial bus: a short message is ~21 APIC-bus
  // clocks = 1.3 us at 16.67 MHz (Intel SDM vol. 3, unverified); TIMING-REF suggests
  // 2-5 us send-to-handler [est]. We take 2 us to the target's pending bit; entry
  // cost is then charged as for any interrupt.
  ipiLatencyNs: 2000,

  // Null system call (getppid) ~350 cycles on P6 machines at 450, 548 and 790 MHz
  // (lmbench3 paper; LKML Morris 2002; LKML Marathe 2003): the cycle count is
  // constant across clocks, so 350 cycles at 600 MHz.
  syscallEntryExit: 350,

  // lat_ctx 2p/0K: 2.89 us on a Celeron-548 SMP (LKML Morris), 0.98-1.32 us at
  // 790 MHz (LKML Marathe); PIII-600 ~1.5-3 us [est]. The guest's scheduler code is
  // metered; the unseen part (CR3 reload, TLB refill) we put at 1 us = 600 cycles [est].
  contextSwitch: 600,
};

/** Cost model v2: the P6 core and its memory system (see the header). Entries not
 *  named here are PIII_600's, with their sources. */
export const P6_600: CostTable = {
  ...PIII_600,
  name: "p6",
  weights: P6_WEIGHTS,
  // One line of PC100 SDRAM through the 440BX: ~175 ns load latency, 105 cycles at
  // 600 MHz (costs-p6.ts: P6_DRAM_LINE_CYCLES, its sources).
  dmaLineMiss: P6_DRAM_LINE_CYCLES,
  // A posted write: one front-side-bus transaction into the 440BX's CPU-to-PCI write
  // buffer (costs-p6.ts: P6_MMIO_WRITE_CYCLES, how it is derived).
  mmioWrite: P6_MMIO_WRITE_CYCLES,
};

export const COST_MODELS = ["flat", "p6"] as const;
export type CostModelName = (typeof COST_MODELS)[number];

/** The cost table of a model by its name (throws on an unknown one). */
export function costModel(name: string): CostTable {
  if (name === "flat") return PIII_600;
  if (name === "p6") return P6_600;
  throw new Error(`unknown cost model "${name}" (flat or p6)`);
}

/** Cycles for a memory.copy of n bytes (integer, floor). */
export function copyCycles(c: CostTable, n: number): number {
  return Math.floor((n * c.copyPerByte.num) / c.copyPerByte.den);
}

/** Nanoseconds for a number of cycles at the table's clock (integer, floor, exact). */
export function cyclesToNs(c: CostTable, cycles: number): number {
  // 1e9 / hz reduced to a fraction keeps the product exact in a double.
  const g = gcd(1_000_000_000, c.hz);
  const num = 1_000_000_000 / g;
  const den = c.hz / g;
  const p = cycles * num;
  return (p - (p % den)) / den;
}

/** Cycles elapsed in a number of nanoseconds (integer, floor). */
export function nsToCycles(c: CostTable, ns: number): number {
  const g = gcd(1_000_000_000, c.hz);
  const num = c.hz / g;
  const den = 1_000_000_000 / g;
  const p = ns * num;
  return (p - (p % den)) / den;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
