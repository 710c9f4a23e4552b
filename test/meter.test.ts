// The metering pass: exact instruction counts, per-byte bulk-memory charges, the
// watchdog, and that the rewrite keeps the module valid and its names intact.
import { describe, it, expect } from "vitest";
import { meterModule, parseModuleInfo } from "../host/meter.js";
import { PIII_600, copyCycles } from "../host/costs.js";
import { guestBytes } from "./helpers.js";

function instantiate() {
  const raw = guestBytes("test-metered");
  const { bytes, info } = meterModule(raw, { copy: PIII_600.copyPerByte, fill: PIII_600.fillPerByte });
  const memory = new WebAssembly.Memory({ initial: 4 });
  const seen: bigint[] = [];
  let inst!: WebAssembly.Instance;
  inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {
    env: { memory, probe: () => seen.push((inst.exports.__cycles as WebAssembly.Global).value as bigint), abort: () => {} },
  });
  const ex = inst.exports as Record<string, any>;
  const run = (f: () => void): number => {
    ex.__cycles.value = 0n;
    f();
    return Number(ex.__cycles.value);
  };
  return { ex, run, seen, info, memory };
}

describe("metering", () => {
  it("charges a straight-line routine exactly its instruction count, up to the import at the import", () => {
    const { ex, run, seen } = instantiate();
    // straight: call probe | local.get local.get i32.mul i32.const i32.add (end) = 1 + 5
    expect(run(() => ex.straight(2, 3))).toBe(6);
    expect(seen).toEqual([1n]);
  });

  it("charges a loop 13 per iteration plus 5 (counted from its WebAssembly text)", () => {
    const { ex, run } = instantiate();
    // loop head: local.get local.get i32.gt_s if = 4; body: 8 + br = 9; exit: local.get = 1
    for (const n of [0, 1, 7, 1000]) expect(run(() => ex.loop(n))).toBe(13 * n + 5);
  });

  it("charges memory.copy and memory.fill per byte from the cost table", () => {
    const { ex, run } = instantiate();
    for (const n of [0, 1, 100, 65536]) {
      expect(run(() => ex.copy(1024, 100000, n))).toBe(4 + copyCycles(PIII_600, n));
      expect(run(() => ex.fill(1024, n))).toBe(4 + Math.floor((n * PIII_600.fillPerByte.num) / PIII_600.fillPerByte.den));
    }
  });

  it("traps a runaway loop at the cycle limit instead of hanging", () => {
    const { ex, run } = instantiate();
    ex.__cycle_limit.value = 5_000_000n;
    expect(() => run(() => ex.spin())).toThrow(WebAssembly.RuntimeError);
    expect(Number(ex.__cycles.value)).toBeGreaterThan(5_000_000);
    expect(Number(ex.__cycles.value)).toBeLessThan(5_000_100);
  });

  it("keeps function names and indices", () => {
    const raw = guestBytes("test-metered");
    const before = parseModuleInfo(raw);
    const { info } = instantiate();
    expect([...info.functionNames.values()].some((n) => n.endsWith("metered/loop"))).toBe(true);
    expect(parseModuleInfo(meterModule(raw, { copy: PIII_600.copyPerByte, fill: PIII_600.fillPerByte }).bytes).functionNames).toEqual(before.functionNames);
  });

  it("rejects what is not WebAssembly", () => {
    expect(() => meterModule(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), { copy: { num: 1, den: 1 }, fill: { num: 1, den: 1 } })).toThrow(/not a WebAssembly module/);
  });
});
