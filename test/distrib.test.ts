// HiTactix's distribution thread (cyclic pipeline I/O) over a fake disk and a fake NIC
// (test/guests/distrib-test.ts): one 18 MB/s stream, 4,608,000-byte chunks per 256 ms
// period, paced by a 1 ms tick, payload sent from the ring buffer (zero copy).
import { describe, it, expect } from "vitest";
import { board, guest } from "./helpers.js";
import { BOOT_PING_TOTAL } from "../common/platform.js";

function run(): { values: Record<string, number>; lines: string[]; load: number } {
  const values: Record<string, number> = {};
  const lines: string[] = [];
  const b = board((cfg) => {
    cfg.cpus[1] = { ...cfg.cpus[1], name: "distrib", wasm: guest("test-distrib"), bootArgs: {} };
    cfg.cpus[0].bootArgs[BOOT_PING_TOTAL] = 0;
  }, {
    onConsole: (l) => {
      if (l.cpu !== 1) return;
      lines.push(l.text);
      const m = /ktest: VALUE (\S+) (\d+)/.exec(l.text);
      if (m) values[m[1]] = Number(m[2]);
    },
  });
  b.run(4_000_000_000);
  expect(b.cpus[1].report).toBeUndefined();
  return { values, lines, load: b.summary().cpus[1].load };
}

describe("distribution thread", () => {
  it("sends one chunk per period, evenly, from the ring buffer", () => {
    const { values: v, lines } = run();
    expect(lines.filter((l) => l.startsWith("ktest: FAIL"))).toEqual([]);
    expect(lines).toContain("ktest: DONE 4 0");
    expect(v.lateReads).toBe(0);
    // 10 ms windows in steady state: 4,608,000 B / 25.6 = 180,000 B, +- one frame
    // (1456 B) of the 1 ms pacing granularity.
    expect(v.min10ms).toBeGreaterThanOrEqual(180_000 - 1456);
    expect(v.max10ms).toBeLessThanOrEqual(180_000 + 1456);
    // Sending starts one period after the first read; by 3.9 s: (3.9 - 0.256) s of data.
    expect(v.bytesSent).toBeGreaterThan(4_608_000 * 14);
    expect(v.bytesSent).toBeLessThanOrEqual(4_608_000 * 15);
  });

  it("is deterministic", () => {
    expect(run().values).toEqual(run().values);
  });
});
