// HiTactix's disk I/O control thread over a fake disk (test/guests/diskio-test.ts):
// the paper's rate-guarantee mechanism in miniature. One 4,608,000-byte real-time
// read per 256 ms period; from 1 s on, 10 MB writes always queued. The fake disk takes
// 5 ms + bytes / 27 MB/s per request, one at a time, in arrival order.
import { describe, it, expect } from "vitest";
import { board, guest } from "./helpers.js";
import { BOOT_SPIN, BOOT_PING_TOTAL } from "../common/platform.js";

function run(policy: number): Record<string, number> {
  const values: Record<string, number> = {};
  const fails: string[] = [];
  const b = board((cfg) => {
    cfg.cpus[1] = { ...cfg.cpus[1], name: "diskio", wasm: guest("test-diskio"), bootArgs: { [BOOT_SPIN]: policy } };
    cfg.cpus[0].bootArgs[BOOT_PING_TOTAL] = 0;
  }, {
    onConsole: (l) => {
      const m = /ktest: VALUE (\S+) (\d+)/.exec(l.text);
      if (m) values[m[1]] = Number(m[2]);
      if (l.text.includes("ktest: FAIL")) fails.push(l.text);
    },
  });
  b.run(7_000_000_000);
  expect(b.cpus[1].report).toBeUndefined();
  expect(fails).toEqual([]);
  return values;
}

const service = (bytes: number): number => 5_000_000 + Math.floor((bytes * 1000) / 27);

describe("disk I/O control thread", () => {
  it("cyclic: a read waits at most one 128 KB piece of the upload; no period is missed", () => {
    const v = run(0);
    const read = service(4_608_000);
    const piece = service(131_072);
    expect(v.deadlineMisses).toBe(0);
    expect(v.reads).toBe(23); // every period of the 6 s run
    expect(v.worstReadLatencyNs).toBeGreaterThanOrEqual(read + piece);
    expect(v.worstReadLatencyNs).toBeLessThan(read + piece + 50_000); // + the CPU's own work
    expect(v.nrtIssued).toBeGreaterThan(100); // the upload still progresses between reads
    expect(v.bytesWritten).toBeGreaterThan(15_000_000);
    expect(v.rtPhaseNs + v.nrtPhaseNs + v.idleNs).toBeGreaterThan(5_800_000_000);
  });

  it("fifo: reads queue behind whole 10 MB writes and miss their periods", () => {
    const v = run(1);
    expect(v.deadlineMisses).toBeGreaterThan(10);
    expect(v.worstReadLatencyNs).toBeGreaterThan(service(10_000_000));
  });

  it("is deterministic", () => {
    expect(run(0)).toEqual(run(0));
  });
});
