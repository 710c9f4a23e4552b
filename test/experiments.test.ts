// The paper's experiments, shortened, on the whole stack: real HiTactix kernel on CPU 1,
// SCSI controller + three timed disks, AceNIC + wire + measurement client, the host as
// BSD on the mailbox.
import { describe, it, expect } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFastIo } from "../host/experiments/fast-io.js";
import { runRateGuarantee } from "../host/experiments/rate-guarantee.js";

const out = mkdtempSync(join(tmpdir(), "htx-exp-"));

describe("rate guarantee (shortened: writer from 4 s to 12 s)", () => {
  it("cyclic keeps J over 1 s windows below 1 %; FIFO is many times worse", async () => {
    const r = await runRateGuarantee({ schedulers: ["cyclic", "fifo"], durationNs: 12e9, writeStartNs: 4e9, outDir: out, seed: 1 });
    const [cyc, fifo] = r.runs;
    for (const run of r.runs) {
      expect(run.streamStarted).toBe(true);
      expect(run.mismatches).toBe(0);
      expect(run.bytesWritten).toBeGreaterThan(50_000_000); // the upload progresses under both
      expect(run.J1sBeforeWriter).toBeLessThan(0.1);
    }
    expect(cyc.J1s).toBeLessThan(1);
    expect(fifo.J1s).toBeGreaterThan(cyc.J1s * 20);
    expect(fifo.J1s).toBeGreaterThan(10);
  });

  it("is deterministic", async () => {
    const a = await runRateGuarantee({ schedulers: ["cyclic"], durationNs: 6e9, writeStartNs: 3e9, outDir: out, seed: 3 });
    const b = await runRateGuarantee({ schedulers: ["cyclic"], durationNs: 6e9, writeStartNs: 3e9, outDir: out, seed: 3 });
    expect(a.runs[0].sentMBps).toEqual(b.runs[0].sentMBps);
    expect(a.runs[0].bytesWritten).toBe(b.runs[0].bytesWritten);
  });
});

describe("fast I/O (shortened)", () => {
  it("sends every requested rate below the disk limit in full; CPU load grows linearly", async () => {
    const r = await runFastIo({ streams: [4, 8, 16, 24], rateBps: 8_800_000, outDir: out, seed: 1, warmNs: 1.5e9, measureNs: 2e9, log: console.log });
    for (const p of r.points) {
      expect(p.mismatches).toBe(0);
      expect(p.sentMbps).toBeGreaterThanOrEqual(p.requestedMbps * 0.999);
      expect(p.sentMbps).toBeLessThanOrEqual(p.requestedMbps * 1.001);
    }
    expect(r.cpuFit.r2).toBeGreaterThan(0.99);
    expect(r.cpuFit.slope).toBeGreaterThan(0);
  });
});
