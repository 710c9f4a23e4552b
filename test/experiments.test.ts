// The paper's experiments, shortened, on the whole stack: real HiTactix kernel on CPU 1,
// SCSI controller + three timed disks, AceNIC + wire + measurement client, and the BSD
// kernel on CPU 0 whose userland (streamctl, upload) drives HiTactix through /dev/htx.
import { describe, it, expect } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFastIo, checkFastIo, fileChunkCounts } from "../host/experiments/fast-io.js";
import { runRateGuarantee, checkRateGuarantee } from "../host/experiments/rate-guarantee.js";
import { StreamRig } from "../host/experiments/setup.js";
import { chunkBytes } from "../host/sfs.js";
import { checksumSum } from "../devices/measure-client.js";
import { BOOT_HTX_TX_PATH, HTX_TX_2002, HTX_MAX_STREAMS } from "../common/platform.js";

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

describe("fast I/O: refusals, layouts, seeds, the 2002 path (issue 12)", () => {
  // A window of 4 whole periods: what is sent in it does not depend on its phase.
  const short = { rateBps: 8_800_000, outDir: out, seed: 1, warmNs: 1e9, measureNs: 1.024e9, chunksPerFile: 4 };

  it("reports streams past HiTactix's table as refused, never as sent below requested", async () => {
    const r = await runFastIo({ ...short, streams: [3, 6], streamTable: 4 });
    const [three, six] = r.points;
    expect(three.refused).toBe(0);
    expect(six.refused).toBe(2);
    expect(six.started).toBe(4);
    expect(six.refusedReason).toBe("the distribution table is full");
    expect(six.sentMbps).toBeGreaterThanOrEqual(six.startedMbps * 0.999); // what was started is sent
    expect(r.maxFullRateMbps).toBeCloseTo(three.requestedMbps, 6); // the refused point is not "full" ...
    expect(r.seeds[0].plateauMbps).toBeCloseTo(six.sentMbps, 6); // ... and not a shortfall
    const csv = readFileSync(r.csv, "utf8").trim().split("\n");
    expect(csv[0]).toContain("refused,refused_reason");
    expect(csv[2]).toContain(",2,the distribution table is full,");
  });

  it("draws file lengths from a seeded uniform distribution of whole chunks", () => {
    const a = fileChunkCounts(200, 16, 1, "uniform");
    expect(a).toEqual(fileChunkCounts(200, 16, 1, "uniform"));
    expect(a).not.toEqual(fileChunkCounts(200, 16, 2, "uniform"));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(8);
    expect(Math.max(...a)).toBeLessThanOrEqual(24);
    expect(new Set(a).size).toBeGreaterThan(10);
    const mean = a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean).toBeGreaterThan(14.5);
    expect(mean).toBeLessThan(17.5);
    expect(fileChunkCounts(5, 16, 1, "equal")).toEqual([16, 16, 16, 16, 16]);
  });

  it("repeats the sweep over seeds and gives the limit's median, min and max", async () => {
    const r = await runFastIo({ ...short, streams: [4, 8], seeds: [3, 4, 5] });
    expect(r.seeds.map((s) => s.seed)).toEqual([3, 4, 5]);
    expect(r.points).toHaveLength(6);
    expect(r.fullRate.min).toBeLessThanOrEqual(r.fullRate.median);
    expect(r.fullRate.median).toBeLessThanOrEqual(r.fullRate.max);
    expect(r.fullRate.median).toBeCloseTo(70.4, 6); // 8 streams are far below the disks' limit
  });

  it("refuses a table or stream count past what HiTactix can be given, before any work", () => {
    expect(() => checkFastIo({ ...short, streams: [HTX_MAX_STREAMS + 1] })).toThrow(/at most 1024/);
    expect(() => checkFastIo({ ...short, streams: [257] })).toThrow(/at most 256 files/);
    expect(() => checkFastIo({ ...short, streams: [4], streamTable: 0 })).toThrow(/stream table of 0/);
    expect(() => checkFastIo({ ...short, streams: [4], streamTable: HTX_MAX_STREAMS + 1 })).toThrow(/1 to 1024/);
  });

  it("the 2002 path sends correct UDP checksums and costs more CPU, under both cost models", async () => {
    const load = async (txPath: "fast" | "2002", costModel: "flat" | "p6"): Promise<number> =>
      (await runFastIo({ ...short, streams: [8], txPath, costModel })).points[0].cpuLoad;
    const fastFlat = await load("fast", "flat");
    const slowFlat = await load("2002", "flat");
    const fastP6 = await load("fast", "p6");
    const slowP6 = await load("2002", "p6");
    expect(slowFlat).toBeGreaterThan(fastFlat * 1.5);
    expect(fastP6).toBeLessThan(fastFlat); // P6 weights: fewer cycles than WebAssembly instructions
    expect(slowP6).toBeGreaterThan(fastP6 * 2.5); // cold payload lines (46 per frame) and a doorbell per frame
    // The frames on the wire: every UDP checksum verifies (RFC 768 over the pseudo header).
    const pcap = join(out, "tx2002.pcap");
    const rig = new StreamRig({
      files: [{ name: "a", bytes: chunkBytes(8_800_000, 256e6) * 2, rateBps: 8_800_000 }], policy: "cyclic", seed: 1,
      edit: (cfg) => { cfg.cpus[1].bootArgs[BOOT_HTX_TX_PATH] = HTX_TX_2002; cfg.nic!.pcap = pcap; },
    });
    try {
      rig.boot();
      rig.start(0, 6000, { loop: true });
      rig.run(rig.machine.board.sched.now + 1.5e9);
    } finally {
      rig.machine.close();
    }
    const frames = pcapFrames(readFileSync(pcap));
    const udp = frames.filter((f) => f.length > 42 && f[23] === 17);
    expect(udp.length).toBeGreaterThan(100);
    for (const f of udp) {
      expect((f[40] << 8) | f[41]).not.toBe(0); // a checksum is there
      const len = (f[38] << 8) | f[39];
      const pseudo = checksumSum(f, 26, 8, 17 + len);
      expect(checksumSum(f, 34, len, pseudo)).toBe(0xffff); // sums to all ones
    }
  });
});

describe("rate guarantee: the writer's pressure (issue 12)", () => {
  it("takes 1 to 16 writes in flight and refuses others before any work", () => {
    const o = { schedulers: ["fifo" as const], durationNs: 6e9, writeStartNs: 2e9, outDir: out, seed: 1 };
    expect(() => checkRateGuarantee({ ...o, writesInFlight: 0 })).toThrow(/0 writes in flight: 1 to 16/);
    expect(() => checkRateGuarantee({ ...o, writesInFlight: 17 })).toThrow(/17 writes in flight/);
  });

  it("more writes in flight hurt FIFO more (the host's writer: writes back to back)", async () => {
    const o = { schedulers: ["fifo" as const], durationNs: 8e9, writeStartNs: 2e9, outDir: out, seed: 1, driver: "host" as const };
    const one = (await runRateGuarantee({ ...o, writesInFlight: 1 })).runs[0];
    const four = (await runRateGuarantee({ ...o, writesInFlight: 4 })).runs[0];
    expect(four.J1s).toBeGreaterThan(one.J1s + 5);
  });
});

describe("HiTactix keeps its guarantee while BSD is busy", () => {
  // The same experiments with BSD idle, and with BSD also running a CPU-bound process
  // and cron: HiTactix runs on its own CPU, so what it sends does not change.
  it("rate guarantee: the same J and the same second-by-second sent rate", async () => {
    const o = { schedulers: ["cyclic" as const], durationNs: 10e9, writeStartNs: 4e9, outDir: out, seed: 2 };
    const idle = (await runRateGuarantee(o)).runs[0];
    const busy = (await runRateGuarantee({ ...o, bsdBusy: true })).runs[0];
    expect(busy.J1s).toBe(idle.J1s);
    expect(busy.J10ms).toBe(idle.J10ms);
    expect(busy.sentMBps).toEqual(idle.sentMBps);
    expect(idle.J1s).toBeLessThan(1);
  });

  it("fast I/O: the same sent rates and HiTactix load at every point", async () => {
    const o = { streams: [8, 24], rateBps: 8_800_000, outDir: out, seed: 1, warmNs: 1.5e9, measureNs: 2e9 };
    const idle = await runFastIo(o);
    const busy = await runFastIo({ ...o, bsdBusy: true });
    expect(busy.points.map((p) => [p.sentMbps, p.cpuLoad, p.lateReads])).toEqual(idle.points.map((p) => [p.sentMbps, p.cpuLoad, p.lateReads]));
  });
});

/** The frames of a pcap file (classic format, any timestamp resolution). */
function pcapFrames(b: Uint8Array): Uint8Array[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const frames: Uint8Array[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const len = dv.getUint32(off + 8, true);
    frames.push(b.subarray(off + 16, off + 16 + len));
    off += 16 + len;
  }
  return frames;
}
