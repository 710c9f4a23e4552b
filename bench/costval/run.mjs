// Validation of cost model v2 (host/costs-p6.ts) against a real count, workload by
// workload (workloads.c says what each does).
//   predicted: the WebAssembly build, metered by host/meter.ts with the p6 weights,
//              plus the p6 memory model (host/dma-lines.ts: a line the device wrote
//              costs a DRAM access when the kernel syncs it for reading);
//   reference: the native IA-32 build (gcc -m32 -march=pentium3 -O2, freestanding)
//              under valgrind's cachegrind with the Coppermine's caches (16 KB 4-way
//              L1s, 256 KB 8-way L2, 32-byte lines): instructions at 1 cycle each, D1
//              misses that hit the L2 at 7 cycles, L2 misses at 105 (the same sourced
//              latencies, host/costs-p6.ts), counted in the kernel part only.
// The flat model's prediction (1 per WebAssembly instruction, no memory) is shown too.
// Usage: npm run build && node bench/costval/run.mjs [--json] [--iter N]
// Needs gcc (with -m32: no libc is linked), clang with the wasm32 target, valgrind.
// Exit status 1 if a workload is outside +-25 %.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const { meterModule, CYCLES_EXPORT } = await import(join(root, "dist/host/meter.js"));
const { P6_WEIGHTS, P6_L2_HIT_CYCLES, P6_DRAM_LINE_CYCLES, P6_LINE_BYTES } = await import(join(root, "dist/host/costs-p6.js"));
const { PIII_600 } = await import(join(root, "dist/host/costs.js"));

export const WORKLOADS = ["ringwalk", "headers", "checksum", "tablescan", "bigscan"];
/** Workloads whose data a device wrote (natively: the caches are swept after it). */
const DEVICE_WRITES = ["ringwalk", "checksum"];
const args = process.argv.slice(2);
const json = args.includes("--json");
const iterAt = args.indexOf("--iter");
const ITER = iterAt >= 0 ? Number(args[iterAt + 1]) : 50;
const src = join(here, "workloads.c");
const out = mkdtempSync(join(tmpdir(), "costval-"));

function run(cmd, argv) {
  return execFileSync(cmd, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** cachegrind's per-function totals of the kernel part (kernel_<w> and the sync call). */
function reference(w) {
  const exe = join(out, `native_${w}`);
  run("clang", ["-m32", "-march=pentium3", "-O2", "-fno-pic", "-static", "-nostdlib", "-ffreestanding", "-fno-builtin",
    `-DWDEV=device_${w}`, `-DWKER=kernel_${w}`, `-DITER=${ITER}`, ...(DEVICE_WRITES.includes(w) ? ["-DEVICT"] : []), "-o", exe, src]);
  const cg = join(out, `cg_${w}`);
  run("valgrind", ["--tool=cachegrind", "--cache-sim=yes", "--I1=16384,4,32", "--D1=16384,4,32", "--LL=262144,8,32", `--cachegrind-out-file=${cg}`, exe]);
  const text = readFileSync(cg, "utf8").split("\n");
  const events = text.find((l) => l.startsWith("events:")).slice(7).trim().split(/\s+/);
  const sum = Object.fromEntries(events.map((e) => [e, 0]));
  let fn = "";
  for (const l of text) {
    if (l.startsWith("fn=")) { fn = l.slice(3); continue; }
    if (!/^\d/.test(l) || (fn !== `kernel_${w}` && fn !== "dma_sync_for_cpu")) continue;
    const v = l.trim().split(/\s+/).slice(1).map(Number);
    events.forEach((e, i) => { sum[e] += v[i] ?? 0; });
  }
  const d1 = sum.D1mr + sum.D1mw;
  const ll = sum.DLmr + sum.DLmw;
  const cycles = sum.Ir + (d1 - ll) * P6_L2_HIT_CYCLES + ll * P6_DRAM_LINE_CYCLES;
  return { ir: sum.Ir, d1Misses: d1, llMisses: ll, cycles: cycles / ITER };
}

let wasmBytes;
function wasm() {
  if (!wasmBytes) {
    const f = join(out, "workloads.wasm");
    run("clang", ["--target=wasm32-wasi", "-O2", "-nostdlib", "-Wl,--no-entry", "-o", f, src]);
    wasmBytes = readFileSync(f);
  }
  return wasmBytes;
}

/** The meter's count of kernel_<w> (per iteration), with the p6 memory model. */
function predicted(w, weights) {
  const { bytes } = meterModule(wasm(), { copy: PIII_600.copyPerByte, fill: PIII_600.fillPerByte, weights });
  const scale = weights?.scale ?? 1;
  const shift = Math.log2(P6_LINE_BYTES);
  const cold = new Set(); // lines a device wrote, not yet read
  let memCycles = 0;
  const env = {
    dev_wrote: (addr, len) => { for (let l = addr >>> shift; l <= (addr + len - 1) >>> shift; l++) cold.add(l); },
    dma_sync_for_cpu: (addr, len) => {
      for (let l = addr >>> shift; l <= (addr + len - 1) >>> shift; l++) if (cold.delete(l)) memCycles += P6_DRAM_LINE_CYCLES;
    },
  };
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env });
  const ex = inst.exports;
  const counter = ex[CYCLES_EXPORT];
  let core = 0n;
  for (let i = 0; i < ITER; i++) {
    ex[`device_${w}`]();
    const before = counter.value;
    ex[`kernel_${w}`]();
    core += counter.value - before;
  }
  const coreCycles = Number(core) / scale / ITER;
  return { core: coreCycles, mem: weights ? memCycles / ITER : 0, cycles: coreCycles + (weights ? memCycles / ITER : 0) };
}

const rows = [];
try {
  for (const w of WORKLOADS) {
    const ref = reference(w);
    const p6 = predicted(w, P6_WEIGHTS);
    const flat = predicted(w, undefined);
    rows.push({
      workload: w,
      reference: { instructions: ref.ir / ITER, d1Misses: ref.d1Misses / ITER, llMisses: ref.llMisses / ITER, cycles: ref.cycles },
      p6: { core: p6.core, memory: p6.mem, cycles: p6.cycles, error: p6.cycles / ref.cycles - 1 },
      flat: { cycles: flat.cycles, error: flat.cycles / ref.cycles - 1 },
    });
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} %`;
const n = (x) => Math.round(x).toLocaleString("en-US");
console.log(`| workload | x86 instr. | D1 misses | L2 misses | reference cycles | p6: core + memory | p6 cycles | p6 error | flat cycles | flat error |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|`);
for (const r of rows) {
  console.log(`| ${r.workload} | ${n(r.reference.instructions)} | ${n(r.reference.d1Misses)} | ${n(r.reference.llMisses)} | ${n(r.reference.cycles)} | ` +
    `${n(r.p6.core)} + ${n(r.p6.memory)} | ${n(r.p6.cycles)} | ${pct(r.p6.error)} | ${n(r.flat.cycles)} | ${pct(r.flat.error)} |`);
}
if (json) console.log(JSON.stringify({ iterations: ITER, rows }));
const bad = rows.filter((r) => Math.abs(r.p6.error) > 0.25);
if (bad.length) {
  console.error(`outside +-25 %: ${bad.map((r) => `${r.workload} (${pct(r.p6.error)})`).join(", ")}`);
  process.exitCode = 1;
}
