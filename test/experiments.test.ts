// The paper's experiments, shortened, on the whole stack: real HiTactix kernel on CPU 1,
// SCSI controller + three timed disks, AceNIC + wire + measurement client, the host as
// BSD on the mailbox.
import { describe, it, expect } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFastIo } from "../host/experiments/fast-io.js";

const out = mkdtempSync(join(tmpdir(), "htx-exp-"));

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
