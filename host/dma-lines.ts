// Cost model v2's memory system, the part a cheap model can see: lines a device wrote
// by DMA are not in the CPUs' caches (the bus snoop invalidated them), so the CPU's
// first read of each costs a DRAM access (host/costs-p6.ts: 105 cycles for PC100
// behind a 440BX). The meter does not see individual loads (that would cost the host
// per access), so the model charges at two points it does see:
//   - control writes (descriptors, status, event rings, producer indices), which a
//     driver always reads: charged to the device's CPU for its next run, once per
//     line until that CPU has run;
//   - data writes (disk blocks, frame payloads) are only marked cold; a guest that
//     reads them says so with dma_sync_for_cpu(addr, len) (Linux's
//     dma_sync_single_for_cpu; guest-lib/cpu.ts), which charges the cold lines in
//     the range and makes them warm for that CPU.
// What it leaves out: misses on the kernel's own data (its working set is taken to fit
// L1; the validation measures the error when not), and write misses (stores retire
// into the store buffer). Under the flat model none of this exists (no tracker).
//
// Interface:
//   new DmaLines(memBytes, lineCycles, cpus)
//   deviceWrote(cpu, addr, len, control)   from a DeviceContext's dmaWritten
//   syncForCpu(cpu, addr, len) -> cycles    charged by the board to the reading CPU

import type { Cpu } from "./cpu.js";
import { P6_LINE_BYTES } from "./costs-p6.js";

const SHIFT = Math.log2(P6_LINE_BYTES);

export class DmaLines {
  /** Per line: bit c set = CPU c does not hold the line (a device wrote it). */
  private readonly cold: Uint8Array;
  /** Control lines charged to each CPU since its run count was `epoch[c]`. */
  private readonly charged: number[][];
  private readonly epoch: number[];
  private readonly allCpus: number;

  constructor(memBytes: number, readonly lineCycles: number, private readonly cpus: readonly Cpu[]) {
    this.cold = new Uint8Array(memBytes >>> SHIFT);
    this.charged = cpus.map(() => []);
    this.epoch = cpus.map(() => -1);
    this.allCpus = (1 << cpus.length) - 1;
  }

  deviceWrote(cpu: number, addr: number, len: number, control: boolean): void {
    if (len <= 0) return;
    const first = addr >>> SHIFT;
    const last = (addr + len - 1) >>> SHIFT;
    if (!control) {
      this.cold.fill(this.allCpus, first, last + 1);
      return;
    }
    const c = this.cpus[cpu];
    if (c === undefined) return;
    const bit = 1 << cpu;
    if (this.epoch[cpu] !== c.runs) { // the CPU has run since: it read what we charged
      for (const l of this.charged[cpu]) this.cold[l] &= ~bit;
      this.charged[cpu].length = 0;
      this.epoch[cpu] = c.runs;
    }
    let lines = 0;
    for (let l = first; l <= last; l++) {
      if (this.cold[l] & bit) continue; // already owed for this run
      this.cold[l] |= bit;
      this.charged[cpu].push(l);
      lines++;
    }
    if (lines > 0) c.chargeNextRun(lines * this.lineCycles);
  }

  syncForCpu(cpu: number, addr: number, len: number): number {
    if (len <= 0 || addr < 0 || addr + len > this.cold.length << SHIFT) return 0;
    const bit = 1 << cpu;
    let lines = 0;
    for (let l = addr >>> SHIFT, last = (addr + len - 1) >>> SHIFT; l <= last; l++) {
      if (this.cold[l] & bit) {
        this.cold[l] &= ~bit;
        lines++;
      }
    }
    return lines * this.lineCycles;
  }
}
