// Fig. 10's slope (HiTactix CPU load per Mbit/s) factor by factor: from the flat model
// to cost model v2, then from this testbed's transmit path to the 2002 one. Each row
// changes one thing from the row above and runs fast-io's points below the disk limit.
// Usage: npm run build && node scripts/fig10-factors.mjs [--json]  (~3 minutes here)
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { runFastIo } = await import("../dist/host/experiments/fast-io.js");
const { PIII_600, P6_600 } = await import("../dist/host/costs.js");

const streams = [8, 16, 24, 32, 40, 48];
const p6NoMemory = { ...P6_600, dmaLineMiss: 0 };
const rows = [
  ["flat (1 cycle per WebAssembly instruction)", { ...PIII_600 }, "fast"],
  ["+ P6 operator weights", { ...PIII_600, name: "p6", weights: P6_600.weights }, "fast"],
  ["+ DMA-written control lines miss (105 cycles)", { ...PIII_600, name: "p6", weights: P6_600.weights, dmaLineMiss: P6_600.dmaLineMiss }, "fast"],
  ["+ posted MMIO write 36 cycles: cost model v2 (p6)", { ...P6_600 }, "fast"],
  ["p6, 2002 path without the memory model: doorbell per frame, checksums in software", p6NoMemory, "2002"],
  ["+ cold payload lines (46 per frame, 105 cycles each): p6, 2002 path", { ...P6_600 }, "2002"],
  ["flat, 2002 path", { ...PIII_600 }, "2002"],
];
const out = mkdtempSync(join(tmpdir(), "fig10-"));
const results = [];
for (const [label, costs, txPath] of rows) {
  const r = await runFastIo({ streams, rateBps: 8_800_000, outDir: out, seed: 1, costs, txPath, fileLengths: "uniform" });
  const f = r.cpuFit;
  results.push({ label, txPath, slope: f.slope, intercept: f.intercept, r2: f.r2, saturationMbps: f.saturationMbps, cyclesPerFrame: f.cyclesPerFrame });
  console.log(`| ${label} | ${f.slope.toExponential(3)} | ${f.cyclesPerFrame.toFixed(0)} | ${f.saturationMbps.toFixed(0)} |`);
}
if (process.argv.includes("--json")) console.log(JSON.stringify(results));
