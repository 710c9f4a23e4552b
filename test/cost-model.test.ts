// Cost model v2 ("p6"): the meter's operator weights and folds, the cost tables, the
// DMA-line memory model, and the CPU dividing the counter by the weights' scale.
import { describe, it, expect } from "vitest";
import { meterModule, CYCLES_EXPORT, type OpWeights } from "../host/meter.js";
import { PIII_600, P6_600, costModel } from "../host/costs.js";
import { P6_WEIGHTS, P6_SCALE, P6_DRAM_LINE_CYCLES } from "../host/costs-p6.js";
import { DmaLines } from "../host/dma-lines.js";
import type { Cpu } from "../host/cpu.js";

const binaryen = (await import("binaryen")).default;

const WAT = `(module
 (memory (export "memory") 1)
 (func (export "addr") (param $p i32) (param $i i32) (result i32)
  local.get $p local.get $i i32.const 2 i32.shl i32.add i32.load)
 (func (export "addr16") (param $p i32) (param $i i32) (result i32)
  local.get $p local.get $i i32.const 4 i32.shl i32.add i32.load)
 (func (export "store") (param $p i32) (param $i i32) (param $v i32)
  local.get $p local.get $i i32.add local.get $v i32.store)
 (func (export "divc") (param $x i32) (result i32) local.get $x i32.const 10 i32.div_u)
 (func (export "divs") (param $x i32) (result i32) local.get $x i32.const 10 i32.div_s)
 (func (export "divv") (param $x i32) (param $y i32) (result i32) local.get $x local.get $y i32.div_u)
 (func (export "memop") (param $p i32) (param $x i32) (result i32) local.get $p i32.load local.get $x i32.add)
 (func (export "i64add") (param $a i64) (result i64) local.get $a i64.const 1 i64.add)
 (func (export "copy") (param $n i32) i32.const 0 i32.const 4096 local.get $n memory.copy)
)`;

function module(weights?: OpWeights) {
  const m = binaryen.parseText(WAT);
  m.setFeatures(binaryen.Features.MVP | binaryen.Features.BulkMemory);
  const raw = m.emitBinary();
  m.dispose();
  const { bytes } = meterModule(raw, { copy: PIII_600.copyPerByte, fill: PIII_600.fillPerByte, weights });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {}).exports as Record<string, any>;
  const counter = ex[CYCLES_EXPORT] as WebAssembly.Global;
  return (f: string, ...args: Array<number | bigint>): number => {
    counter.value = 0n;
    ex[f](...args);
    return Number(counter.value) / (weights?.scale ?? 1);
  };
}

describe("cost model v2: operator weights", () => {
  it("flat counts every instruction (block markers free), as before", () => {
    const flat = module();
    expect(flat("addr", 0, 1)).toBe(6);
    expect(flat("divc", 100)).toBe(3);
    expect(flat("i64add", 1n)).toBe(3);
  });

  it("p6 folds index scaling and base addition into the load's addressing mode", () => {
    const p6 = module(P6_WEIGHTS);
    expect(p6("addr", 0, 1)).toBe(1); // the load alone
    expect(p6("addr16", 0, 1)).toBe(2); // a shift by 4 has no addressing mode: shl stays, add folds
    expect(p6("store", 0, 4, 7)).toBe(1); // base + index folded into the store
  });

  it("p6 charges division by its latency, and by a constant as a multiply and shift", () => {
    const p6 = module(P6_WEIGHTS);
    expect(p6("divv", 100, 7)).toBe(39); // DIV r32, latency 39 (Agner Fog)
    expect(p6("divc", 100)).toBe(5);
    expect(p6("divs", 100)).toBe(7); // plus the sign fix-up
  });

  it("p6 takes a load as an ALU instruction's memory operand, and 64-bit adds as ADD + ADC", () => {
    const p6 = module(P6_WEIGHTS);
    expect(p6("memop", 0, 5)).toBe(1); // add r, [p]
    expect(p6("i64add", 1n)).toBe(2);
  });

  it("scales the per-byte charges of bulk memory with the counter's unit", () => {
    const p6 = module(P6_WEIGHTS);
    for (const n of [0, 1, 1000, 4095]) {
      expect(p6("copy", n)).toBe(3 + Math.floor((n * PIII_600.copyPerByte.num * P6_SCALE) / PIII_600.copyPerByte.den) / P6_SCALE);
    }
  });

  it("names the models; an unknown one is refused", () => {
    expect(costModel("flat")).toBe(PIII_600);
    expect(costModel("p6")).toBe(P6_600);
    expect(() => costModel("p7")).toThrow(/unknown cost model "p7"/);
    expect(PIII_600.dmaLineMiss).toBe(0);
    expect(P6_600.dmaLineMiss).toBe(P6_DRAM_LINE_CYCLES);
  });
});

describe("cost model v2: lines a device wrote by DMA", () => {
  const cpus = (): Array<{ runs: number; owed: number; chargeNextRun(c: number): void }> =>
    [0, 1].map(() => ({ runs: 0, owed: 0, chargeNextRun(c: number) { this.owed += c; } }));

  it("charges a driver's control lines once per run, to the device's CPU only", () => {
    const c = cpus();
    const d = new DmaLines(1 << 20, 105, c as unknown as Cpu[]);
    d.deviceWrote(1, 0x1000, 8, true); // one line
    d.deviceWrote(1, 0x1004, 4, true); // the same line again before the CPU ran: owed once
    expect(c[1].owed).toBe(105);
    expect(c[0].owed).toBe(0);
    d.deviceWrote(1, 0x1000, 64, true); // two lines, one already owed
    expect(c[1].owed).toBe(210);
    c[1].runs++; // the CPU ran and read them
    d.deviceWrote(1, 0x1000, 8, true);
    expect(c[1].owed).toBe(315);
  });

  it("charges data lines only when a CPU syncs them for reading, once per CPU", () => {
    const c = cpus();
    const d = new DmaLines(1 << 20, 105, c as unknown as Cpu[]);
    d.deviceWrote(1, 0x2010, 100, false); // lines 0x2000..0x2060: 4 lines
    expect(c[1].owed).toBe(0);
    expect(d.syncForCpu(1, 0x2000, 0x80)).toBe(4 * 105);
    expect(d.syncForCpu(1, 0x2000, 0x80)).toBe(0); // warm now
    expect(d.syncForCpu(0, 0x2040, 0x20)).toBe(105); // the other CPU still misses
    expect(d.syncForCpu(0, 0xfffff, 4)).toBe(0); // past the end: nothing, no throw
  });
});
