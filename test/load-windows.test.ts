// CPU load windows in bounded memory (issue 9, item 18): full 10 ms resolution for the
// recent horizon (what the experiments read, unchanged), older history downsampled, and
// the same memory after 100 virtual hours as after one.
import { describe, it, expect } from "vitest";
import { LoadWindows, FINE_WINDOWS, COARSE_BINS, COARSE_FIRST_SPAN } from "../host/load-windows.js";
import { Rng } from "../host/rng.js";
import { board, guest, root } from "./helpers.js";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { BOOT_TICK_NS, BOOT_SPIN, BOOT_PING_TOTAL, BOOT_REPORT_TICKS } from "../common/platform.js";

const W = 10_000_000;

/** Random busy runs in time order (some spanning windows), against a plain array. */
function feed(lw: LoadWindows, windows: number, seed: number): Float64Array {
  const ref = new Float64Array(windows + 2);
  const rng = new Rng(seed);
  let t = 0;
  while (t < windows * W) {
    t += rng.below(3 * W);
    const len = 1 + rng.below(rng.below(10) === 0 ? 4 * W : W / 4);
    const end = Math.min(t + len, windows * W);
    lw.add(t, end);
    for (let s = t; s < end;) {
      const i = Math.floor(s / W);
      const upto = Math.min(end, (i + 1) * W);
      ref[i] += upto - s;
      s = upto;
    }
    t = end;
  }
  return ref;
}

describe("load windows", () => {
  it("give every window of the recent horizon exactly, as a plain array would", () => {
    for (const seed of [1, 2, 99]) {
      const lw = new LoadWindows(W);
      const n = FINE_WINDOWS * 3 + 12345;
      const ref = feed(lw, n, seed);
      const from = lw.fineFromNs;
      expect(from).toBeGreaterThan(0);
      const got = lw.series(n * W, from);
      const want = Array.from(ref.subarray(from / W, n), (v) => v / W);
      expect(got).toEqual(want);
    }
  });

  it("keep the busy time of older windows in their coarse bins (nothing lost)", () => {
    const lw = new LoadWindows(W);
    const n = FINE_WINDOWS * 2 + 777;
    const ref = feed(lw, n, 5);
    const series = lw.series(n * W);
    const total = ref.reduce((a, b) => a + b, 0);
    expect(series.reduce((a, b) => a + b, 0) * W).toBeCloseTo(total, -1);
    // One old coarse bin: its windows read as the bin's mean.
    const bin = Array.from(ref.subarray(0, COARSE_FIRST_SPAN)).reduce((a, b) => a + b, 0) / COARSE_FIRST_SPAN / W;
    expect(series[0]).toBeCloseTo(bin, 12);
    expect(series[COARSE_FIRST_SPAN - 1]).toBeCloseTo(bin, 12);
  });

  it("double the coarse span when the bins are full, memory unchanged", () => {
    const lw = new LoadWindows(W);
    const bytes = lw.bytes;
    const end = (FINE_WINDOWS + COARSE_BINS * COARSE_FIRST_SPAN * 3) * W; // three spans' worth
    for (let t = 0; t < end; t += 1e9) lw.add(t, t + 1e6); // 1 ms busy every second
    expect(lw.coarseSpanNs).toBe(4 * COARSE_FIRST_SPAN * W);
    expect(lw.bytes).toBe(bytes);
    const old = lw.series(4e9 * 100, 0).slice(0, 100); // within the first 4 s bin
    for (const v of old) expect(v).toBeCloseTo(1e6 / 1e9, 12); // 0.1 % load, as it was
  });

  it("a CPU's memory for them is the same after 100 virtual hours as at boot, and recent loads stay exact", () => {
    const b = board((c) => {
      c.cpus[0].bootArgs = { ...c.cpus[0].bootArgs, [BOOT_TICK_NS]: 1e9, [BOOT_PING_TOTAL]: 0, [BOOT_REPORT_TICKS]: 0 };
      c.cpus[1] = { ...c.cpus[1], name: "loadgen", wasm: guest("test-loadgen"), bootArgs: { [BOOT_TICK_NS]: 1e9, [BOOT_SPIN]: 1000 } };
    });
    const cpu = b.cpus[1];
    const bytes = cpu.windows.bytes;
    b.run(2e9);
    const early = cpu.loadSeries(2e9, 1e9);
    const hours = 100;
    for (let t = 0; t < hours * 3600e9;) b.run((t += 3600e9));
    expect(cpu.windows.bytes).toBe(bytes); // before: a Float64Array of 2^26 windows (512 MiB) per CPU
    expect(bytes).toBeLessThanOrEqual(2 ** 20);
    const last = hours * 3600e9;
    const recent = cpu.loadSeries(last, last - 1e9);
    expect(recent).toHaveLength(100);
    // A tick's run lands at the start of each second, in the same place as the early ones.
    expect(recent).toEqual(early);
  });
});

describe("a 100-hour run", () => {
  it("keeps its peak RSS within 1.5x of a 1-hour run's (each in its own process, as npm run bench measures)", () => {
    const rss = (hours: number): number => {
      const r = spawnSync(process.execPath, [join(root, "dist/host/bench-rss.js"), String(hours)], { encoding: "utf8", timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { maxRssBytes: number }).maxRssBytes;
    };
    const one = rss(1);
    const hundred = rss(100);
    // Before the bound: ~70 MB and ~1,000 MB.
    expect(hundred / one).toBeLessThanOrEqual(1.5);
  });
});
