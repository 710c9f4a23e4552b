// Cost model v2 against a real count: bench/costval/run.mjs builds kernel-like C
// workloads natively (IA-32) and to WebAssembly, counts the native build under
// cachegrind and the WebAssembly one with the meter's p6 weights, and fails if a
// workload's prediction is more than 25 % off. Needs valgrind and clang (with its
// wasm32 and i386 targets); skipped without them. ~3 s; deterministic (both counts are).
import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const have = (cmd: string): boolean => {
  try { execFileSync(cmd, ["--version"], { stdio: "ignore" }); return true; } catch { return false; }
};
const tools = have("valgrind") && have("clang");

describe.skipIf(!tools)("cost model v2 validation (cachegrind)", () => {
  it("predicts every workload within 25 % of cachegrind's count weighted by the P6 latencies", () => {
    const out = execFileSync("node", [join(__dirname, "..", "bench", "costval", "run.mjs"), "--json", "--iter", "10"], { encoding: "utf8" });
    const r = JSON.parse(out.trim().split("\n").pop()!) as { rows: Array<{ workload: string; p6: { error: number }; flat: { error: number } }> };
    expect(r.rows.map((x) => x.workload)).toEqual(["ringwalk", "headers", "checksum", "tablescan", "bigscan"]);
    for (const row of r.rows) expect(Math.abs(row.p6.error), row.workload).toBeLessThanOrEqual(0.25);
    // The flat model is the one that cannot be trusted here: it is off by more on most.
    expect(r.rows.filter((x) => Math.abs(x.flat.error) > 0.5).length).toBeGreaterThanOrEqual(3);
  });
});
