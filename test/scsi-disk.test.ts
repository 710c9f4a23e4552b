// The SCSI disk target (devices/scsi-disk.ts) driven through a fake controller on a real
// scheduler: no bus time is modelled here, so a read completes when its last block is
// off the platter (Connection.paceEndNs) and every rate below is the media's.
import { describe, it, expect, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Scheduler } from "../host/sched.js";
import { Rng } from "../host/rng.js";
import type { LogKind } from "../host/device.js";
import type { Connection, DataInSource, ScsiPort, ScsiTask } from "../devices/scsi.js";
import { dataInBytes, STATUS_GOOD, STATUS_CHECK_CONDITION, STATUS_QUEUE_FULL } from "../devices/scsi.js";
import { ScsiDisk, type ScsiDiskOptions } from "../devices/scsi-disk.js";
import {
  DiskModel, READ_HIT_OVERHEAD_NS, READ_MISS_OVERHEAD_NS, WRITE_HIT_OVERHEAD_AFTER_READ_NS, TARGET_OUTER_BPS,
} from "../devices/disk-model.js";
import {
  type BlockBackend, MemoryBackend, createImage, openImage, parseSize, DiskImageError,
} from "../devices/block-backend.js";

const MiB = 2 ** 20;
const GEOMETRY_BLOCKS = new DiskModel().totalBlocks; // the 6-surface Atlas 10K, scaled

// ---- A fake controller: records what the disk puts on the bus ------------------------------

interface Done {
  task: ScsiTask;
  status: number;
  data: Uint8Array | undefined;
  /** The connection's DATA IN as the target handed it over. */
  raw: Connection["dataIn"];
  /** When the task ends: the connection's time, or paceEndNs if later (no bus time). */
  at: number;
  connectAt: number;
  paceEndNs: number | undefined;
  /** The disk answered inside command(): no disconnect. */
  inCommand: boolean;
}

class FakeController implements ScsiPort {
  readonly done: Done[] = [];
  readonly byTask = new Map<ScsiTask, Done>();
  /** Bytes to deliver in a write's DATA OUT phase. */
  readonly writeData = new Map<ScsiTask, Uint8Array>();
  onDone: ((d: Done) => void) | undefined;
  disk!: ScsiDisk;
  private inCommand = false;
  private outs: { task: ScsiTask; len: number }[] = [];
  private fins: Done[] = [];
  private readonly hOut;
  private readonly hFin;

  constructor(readonly sched: Scheduler) {
    this.hOut = sched.handler("fake.dataout", (i) => {
      const o = this.outs[i];
      this.disk.dataOut(o.task, this.writeData.get(o.task) ?? new Uint8Array(o.len), this);
    });
    this.hFin = sched.handler("fake.complete", (i) => {
      const d = this.fins[i];
      this.done.push(d);
      this.byTask.set(d.task, d);
      this.onDone?.(d);
    });
  }

  issue(task: ScsiTask): void {
    this.inCommand = true;
    this.disk.command(task, this);
    this.inCommand = false;
  }

  connect(c: Connection): void {
    const now = this.sched.now;
    if (c.dataOutLength !== undefined && c.dataOutLength > 0) {
      this.outs.push({ task: c.task, len: c.dataOutLength });
      this.sched.at(now, this.hOut, this.outs.length - 1);
    }
    if (c.status !== undefined) {
      const d: Done = {
        task: c.task, status: c.status, data: c.dataIn === undefined ? undefined : dataInBytes(c.dataIn), raw: c.dataIn, at: Math.max(now, c.paceEndNs ?? 0),
        connectAt: now, paceEndNs: c.paceEndNs, inCommand: this.inCommand,
      };
      this.fins.push(d);
      this.sched.at(d.at, this.hFin, this.fins.length - 1);
    }
  }
}

let tagSeq = 0;
function mk(cdb: number[], opts: { tag?: number; lun?: number; init?: number } = {}): ScsiTask {
  const cdbBytes = Uint8Array.from(cdb);
  return { initiatorId: opts.init ?? 7, targetId: 0, lun: opts.lun ?? 0, tag: opts.tag ?? (tagSeq++ & 0xff), cdb: cdbBytes };
}
const be = (v: number): number[] => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const read10 = (lba: number, n: number, b1 = 0, ctl = 0): number[] => [0x28, b1, ...be(lba), 0, n >> 8, n & 255, ctl];
const write10 = (lba: number, n: number, b1 = 0, ctl = 0): number[] => [0x2a, b1, ...be(lba), 0, n >> 8, n & 255, ctl];
const inquiry = (evpd: number, page: number, alloc: number): number[] => [0x12, evpd, page, alloc >> 8, alloc & 255, 0];
const requestSense = (alloc = 18): number[] => [0x03, 0, 0, 0, alloc, 0];
const readCapacity = (lba = 0, pmi = 0, b1 = 0): number[] => [0x25, b1, ...be(lba), 0, 0, pmi, 0];
const sync10 = (b1 = 0, lba = 0, n = 0): number[] => [0x35, b1, ...be(lba), 0, n >> 8, n & 255, 0];

interface Env {
  sched: Scheduler;
  backend: BlockBackend;
  disk: ScsiDisk;
  bus: FakeController;
  /** What the disk logged (kind, message). */
  logs: [LogKind, string][];
}

function setup(o: { backend?: BlockBackend; seed?: number; disk?: ScsiDiskOptions } = {}): Env {
  const sched = new Scheduler();
  const backend = o.backend ?? new MemoryBackend(GEOMETRY_BLOCKS);
  const logs: [LogKind, string][] = [];
  const disk = new ScsiDisk(0, { sched, rng: new Rng(o.seed ?? 1), log: (k, m) => logs.push([k, m]) }, backend, o.disk ?? {});
  const bus = new FakeController(sched);
  bus.disk = disk;
  return { sched, backend, disk, bus, logs };
}

/** Issue one command, run to quiescence, return how it ended. */
function run(env: Env, cdb: number[], opts: { lun?: number; init?: number; data?: Uint8Array } = {}): Done {
  const t = mk(cdb, opts);
  if (opts.data) env.bus.writeData.set(t, opts.data);
  env.bus.issue(t);
  env.sched.runUntil(Infinity);
  const d = env.bus.byTask.get(t);
  if (d === undefined) throw new Error("no completion");
  return d;
}

/** Sense bytes after a CHECK CONDITION (REQUEST SENSE from the same initiator). */
function sense(env: Env, init = 7): Uint8Array {
  const d = run(env, requestSense(), { init });
  expect(d.status).toBe(STATUS_GOOD);
  return d.data as Uint8Array;
}

/** Expected fixed-format sense: key, ASC, ASCQ, optional INFORMATION and field pointer. */
function fixedSense(key: number, asc: number, ascq = 0, info?: number, field?: [number, number?]): number[] {
  const s = new Array<number>(18).fill(0);
  s[0] = info !== undefined ? 0xf0 : 0x70;
  s[2] = key;
  if (info !== undefined) [s[3], s[4], s[5], s[6]] = be(info);
  s[7] = 10;
  s[12] = asc;
  s[13] = ascq;
  if (field !== undefined) {
    s[15] = 0xc0 | (field[1] !== undefined ? 0x08 | field[1] : 0);
    s[17] = field[0];
  }
  return s;
}

/** Sequential reads of `blocks` from `lba`, `per` blocks each, `qd` outstanding. */
function stream(env: Env, lba: number, blocks: number, per: number, qd: number): { t0: number; ends: number[] } {
  let next = lba;
  const end = lba + blocks;
  const ends: number[] = [];
  const one = (): void => {
    const n = Math.min(per, end - next);
    env.bus.issue(mk(read10(next, n)));
    next += n;
  };
  env.bus.onDone = (d) => {
    expect(d.status).toBe(STATUS_GOOD);
    ends.push(d.at);
    if (next < end) one();
  };
  const t0 = env.sched.now;
  for (let i = 0; i < qd && next < end; i++) one();
  env.sched.runUntil(Infinity);
  env.bus.onDone = undefined;
  return { t0, ends };
}

// ---- Throughput and IOPS ------------------------------------------------------------------

describe("timing through the SCSI layer", () => {
  it("reads 64 MiB sequentially from LBA 0 at 27 MB/s (128 KiB and 64 KiB READ(10)s, queue depth 2)", () => {
    for (const kib of [128, 64]) {
      const env = setup();
      const { t0, ends } = stream(env, 0, (64 * MiB) / 512, (kib * 1024) / 512, 2);
      const rate = (64 * MiB * 1e9) / (ends[ends.length - 1] - t0);
      console.log(`64 MiB sequential, ${kib} KiB reads, QD 2: ${(rate / 1e6).toFixed(3)} MB/s ` +
        `(cache hits ${env.disk.stats.cacheHits}, streamed ${env.disk.stats.streamHits}, misses ${env.disk.stats.misses})`);
      expect(Math.abs(rate / TARGET_OUTER_BPS - 1)).toBeLessThan(0.03);
      // Tighter: the model's own outer-band figure, less the one initial seek and rotation.
      expect(Math.abs(rate / env.disk.model.zoneRates()[0].bps - 1)).toBeLessThan(0.01);
      expect(env.disk.stats.misses).toBe(1);
    }
  });

  it("queue depth 1 streams as fast: the read-ahead covers the gap between commands", () => {
    const env = setup();
    const { t0, ends } = stream(env, 0, (16 * MiB) / 512, 256, 1);
    const rate = (16 * MiB * 1e9) / (ends[ends.length - 1] - t0);
    expect(Math.abs(rate / env.disk.model.zoneRates()[0].bps - 1)).toBeLessThan(0.01);
  });

  it("sustains each band's model rate when streaming through it (per-zone report)", () => {
    const env = setup();
    const rates = env.disk.model.zoneRates();
    console.log("band  model MB/s  measured MB/s (16 MiB in 128 KiB reads, QD 2)");
    for (const z of env.disk.model.zones) {
      const { ends } = stream(env, z.firstLba, (16 * MiB) / 512, 256, 2);
      // From the first completion to the last: the initial seek and rotation are excluded.
      const measured = ((ends.length - 1) * 128 * 1024 * 1e9) / (ends[ends.length - 1] - ends[0]);
      console.log(`${String(z.band).padStart(4)}  ${(rates[z.band].bps / 1e6).toFixed(3).padStart(10)}  ${(measured / 1e6).toFixed(3).padStart(13)}`);
      expect(Math.abs(measured / rates[z.band].bps - 1)).toBeLessThan(0.005);
    }
  });

  it("random 4 KiB reads give the IOPS that seek + half a revolution + overhead + transfer predict", () => {
    const env = setup({ seed: 5 });
    const m = env.disk.model;
    const S = m.surfaces;
    // Analytical expectation. LBAs are uniform, so a cylinder is drawn with probability
    // proportional to its blocks; the mean seek is over independent pairs of such draws.
    const w = new Float64Array(m.zones[23].lastCyl + 1);
    for (const z of m.zones) for (let c = z.firstCyl; c <= z.lastCyl; c++) w[c] = z.perCyl / m.totalBlocks;
    const seek = new Float64Array(w.length);
    for (let d = 0; d < w.length; d++) seek[d] = m.seekNs(d);
    let meanSeek = 0;
    let same = 0;
    for (let i = 0; i < w.length; i++) {
      let acc = 0;
      for (let j = i + 1; j < w.length; j++) acc += w[j] * seek[j - i];
      meanSeek += 2 * w[i] * acc;
      same += w[i] * w[i];
    }
    meanSeek += same * (1 - 1 / S) * m.headSwitchNs; // same cylinder, other surface
    let xfer = 0;
    for (const z of m.zones) {
      const share = z.blocks / m.totalBlocks;
      const slot = m.revNs / z.spt;
      // 8 blocks, plus the skew when the 8 straddle a track (7 chances in spt).
      const skew = ((S - 1) / S) * z.trackSkew + (1 / S) * z.cylSkew;
      xfer += share * (8 * slot + (7 / z.spt) * skew * slot);
    }
    const perIo = meanSeek + m.revNs / 2 + READ_MISS_OVERHEAD_NS + xfer;
    const expected = 1e9 / perIo;

    const rng = new Rng(2024);
    const N = 4000;
    let issued = 0;
    let last = 0;
    const one = (): void => {
      issued++;
      env.bus.issue(mk(read10(rng.below(Math.floor(m.totalBlocks / 8)) * 8, 8)));
    };
    env.bus.onDone = (d) => {
      last = d.at;
      if (issued < N) one();
    };
    one();
    env.sched.runUntil(Infinity);
    const measured = (N * 1e9) / last;
    console.log(`random 4 KiB reads: expected ${expected.toFixed(1)} IOPS (seek ${(meanSeek / 1e6).toFixed(3)} ms + ` +
      `rotation ${(m.revNs / 2e6).toFixed(3)} ms + transfer ${(xfer / 1e6).toFixed(3)} ms + overhead ${READ_MISS_OVERHEAD_NS / 1e6} ms), ` +
      `measured ${measured.toFixed(1)} IOPS over ${N}`);
    expect(Math.abs(measured / expected - 1)).toBeLessThan(0.02);
    expect(env.disk.stats.misses).toBe(N);
    expect(env.disk.stats.busyNs).toBe(last); // the mechanism never rested
  });

  it("a sequential read continuing the previous one pays no rotation; after a pause it is a cache hit", () => {
    const env = setup({ seed: 9 });
    const m = env.disk.model;
    const a = run(env, read10(10_000, 64));
    expect(a.inCommand).toBe(false); // disconnected, reselected
    expect(a.paceEndNs).toBe(a.at);
    const b = run(env, read10(10_064, 64));
    expect(b.at - a.at).toBe(m.streamNs(10_000, 128) - m.streamNs(10_000, 64));
    env.sched.runUntil(env.sched.now + 10_000_000); // 10 ms of read-ahead
    const t = env.sched.now;
    const c = run(env, read10(10_128, 64));
    expect(c.at).toBe(t + READ_HIT_OVERHEAD_NS);
    expect(c.paceEndNs).toBeUndefined();
    expect(env.disk.stats.cacheHits).toBe(1);
  });

  it("fault injection: a slowdown factor slows the media rate and the mechanics by that factor", () => {
    const normal = setup();
    const slow = setup({ disk: { faults: { slowdown: 2 } } });
    const a = stream(normal, 0, (8 * MiB) / 512, 256, 2);
    const b = stream(slow, 0, (8 * MiB) / 512, 256, 2);
    const span = (r: { ends: number[] }): number => r.ends[r.ends.length - 1] - r.ends[0]; // after the first seek
    expect(Math.abs(span(b) / span(a) - 2)).toBeLessThan(0.002);
    slow.disk.setSlowdown(1); // back to normal from now on
    const c = stream(slow, 100_000, (8 * MiB) / 512, 256, 2);
    expect(Math.abs(span(c) / span(a) - 1)).toBeLessThan(0.002);
  });

  it("reconnects so that a burst at 80 MB/s would end as the last block leaves the platter", () => {
    const env = setup();
    const d = run(env, read10(500_000, 256));
    expect(d.paceEndNs).toBe(d.at);
    expect(d.paceEndNs! - d.connectAt).toBe(Math.ceil((256 * 512 * 1e9) / 80e6)); // 1.6384 ms
  });
});

// ---- Commands, status and sense -------------------------------------------------------------

describe("commands answered at once", () => {
  it("TEST UNIT READY, READ CAPACITY(10) answer inside command()", () => {
    const env = setup();
    const tur = run(env, [0, 0, 0, 0, 0, 0]);
    expect([tur.status, tur.inCommand, tur.data]).toEqual([STATUS_GOOD, true, undefined]);
    const cap = run(env, readCapacity());
    expect(cap.inCommand).toBe(true);
    expect(Array.from(cap.data!)).toEqual([...be(GEOMETRY_BLOCKS - 1), 0, 0, 2, 0]);
    expect(Array.from(run(env, readCapacity(1234, 1)).data!)).toEqual([...be(GEOMETRY_BLOCKS - 1), 0, 0, 2, 0]); // PMI
  });

  it("INQUIRY: standard data of the Atlas 10K with CmdQue, allocation length honoured, EVPD pages 00h and 80h", () => {
    const env = setup();
    const d = run(env, inquiry(0, 0, 255)).data!;
    expect(d.length).toBe(36);
    expect([d[0], d[1], d[2], d[3], d[4]]).toEqual([0x00, 0x00, 0x03, 0x02, 31]);
    expect(d[7] & 0x02).toBe(0x02); // CmdQue
    expect(d[7] & 0x20).toBe(0x20); // WBus16
    const text = new TextDecoder().decode(d.subarray(8, 36));
    expect(text).toBe("QUANTUM ATLAS 10K 18WLS UCH0");
    expect(Array.from(run(env, inquiry(0, 0, 5)).data!)).toEqual([0, 0, 3, 2, 31]);
    expect(run(env, inquiry(0, 0, 0)).data).toBeUndefined();
    expect(Array.from(run(env, inquiry(1, 0x00, 255)).data!)).toEqual([0, 0x00, 0, 2, 0x00, 0x80]);
    const sn = run(env, inquiry(1, 0x80, 255)).data!;
    expect([sn[0], sn[1], sn[3]]).toEqual([0, 0x80, sn.length - 4]);
    expect(new TextDecoder().decode(sn.subarray(4))).toBe("HTX00000");
  });

  it("a lun other than 0: INQUIRY answers peripheral qualifier 3, others LOGICAL UNIT NOT SUPPORTED", () => {
    const env = setup();
    const inq = run(env, inquiry(0, 0, 36), { lun: 1 });
    expect(inq.status).toBe(STATUS_GOOD);
    expect(inq.data![0]).toBe(0x7f);
    const r = run(env, read10(0, 8), { lun: 1 });
    expect(r.status).toBe(STATUS_CHECK_CONDITION);
    expect(Array.from(sense(env))).toEqual(fixedSense(0x5, 0x25));
    const rs = run(env, requestSense(), { lun: 3 });
    expect(rs.status).toBe(STATUS_GOOD);
    expect(Array.from(rs.data!)).toEqual(fixedSense(0x5, 0x25));
  });
});

describe("errors as a real target reports them", () => {
  const cases: [string, number[], number[]][] = [
    ["unknown opcode (MODE SENSE(6))", [0x1a, 0, 0x3f, 0, 255, 0], fixedSense(0x5, 0x20)],
    ["READ(10) with RelAdr", read10(0, 8, 0x01), fixedSense(0x5, 0x24, 0, undefined, [1, 0])],
    ["READ(10) with a reserved bit", read10(0, 8, 0x04), fixedSense(0x5, 0x24, 0, undefined, [1, 2])],
    ["READ(10) with Link in the control byte", read10(0, 8, 0, 0x01), fixedSense(0x5, 0x24, 0, undefined, [9])],
    ["WRITE(10) with RelAdr", write10(0, 8, 0x01), fixedSense(0x5, 0x24, 0, undefined, [1, 0])],
    ["READ CAPACITY(10) with RelAdr", readCapacity(0, 0, 0x01), fixedSense(0x5, 0x24, 0, undefined, [1, 0])],
    ["READ CAPACITY(10) with PMI=0 and an LBA", readCapacity(5, 0), fixedSense(0x5, 0x24, 0, undefined, [2])],
    ["INQUIRY of an unsupported EVPD page", inquiry(1, 0x83, 255), fixedSense(0x5, 0x24, 0, undefined, [2])],
    ["INQUIRY with a page code but no EVPD", inquiry(0, 0x80, 255), fixedSense(0x5, 0x24, 0, undefined, [2])],
    ["INQUIRY with CmdDt", inquiry(2, 0, 255), fixedSense(0x5, 0x24, 0, undefined, [1, 1])],
    ["REQUEST SENSE asking for descriptor format", [0x03, 0x01, 0, 0, 18, 0], fixedSense(0x5, 0x24, 0, undefined, [1, 0])],
    ["READ(10) whose last block is beyond the capacity", read10(GEOMETRY_BLOCKS - 4, 8), fixedSense(0x5, 0x21)],
    ["READ(10) of 0 blocks at the capacity", read10(GEOMETRY_BLOCKS, 0), fixedSense(0x5, 0x21)],
    ["WRITE(10) beyond the capacity", write10(GEOMETRY_BLOCKS - 1, 2), fixedSense(0x5, 0x21)],
    ["SYNCHRONIZE CACHE beyond the capacity", sync10(0, GEOMETRY_BLOCKS - 1, 2), fixedSense(0x5, 0x21)],
  ];
  for (const [name, cdb, expected] of cases) {
    it(`${name}: CHECK CONDITION, then the sense bytes, then NO SENSE`, () => {
      const env = setup();
      const d = run(env, cdb);
      expect(d.status).toBe(STATUS_CHECK_CONDITION);
      expect(d.inCommand).toBe(true);
      expect(d.data).toBeUndefined(); // no data phase (a write asks for no DATA OUT)
      expect(Array.from(sense(env))).toEqual(expected);
      expect(Array.from(sense(env))).toEqual(fixedSense(0, 0)); // REQUEST SENSE cleared it
    });
  }

  it("sense is kept per initiator, and REQUEST SENSE honours its allocation length", () => {
    const env = setup();
    run(env, [0x1a, 0, 0, 0, 0, 0], { init: 3 });
    expect(Array.from(sense(env, 7))).toEqual(fixedSense(0, 0));
    expect(Array.from(run(env, requestSense(4), { init: 3 }).data!)).toEqual([0x70, 0, 5, 0]);
    expect(Array.from(sense(env, 3))).toEqual(fixedSense(0, 0)); // cleared even though truncated
  });

  it("transfer length 0 is not an error: READ(10) and WRITE(10) complete at once with no data", () => {
    const env = setup();
    for (const cdb of [read10(100, 0), write10(100, 0)]) {
      const d = run(env, cdb);
      expect([d.status, d.inCommand, d.data]).toEqual([STATUS_GOOD, true, undefined]);
    }
    expect(env.disk.stats.writes).toBe(0);
  });

  it("MEDIUM ERROR on an injected bad read range: good blocks first, VALID + INFORMATION = first bad LBA", () => {
    const env = setup({ disk: { faults: { mediumErrors: [{ lba: 1000, count: 10, kind: "read" }] } } });
    const pattern = fill(20, 1);
    expect(run(env, write10(990, 20), { data: pattern }).status).toBe(STATUS_GOOD); // writes are fine
    const d = run(env, read10(990, 20));
    expect(d.status).toBe(STATUS_CHECK_CONDITION);
    expect(d.data!.length).toBe(10 * 512);
    expect(Buffer.from(d.data!).equals(Buffer.from(pattern.subarray(0, 10 * 512)))).toBe(true);
    expect(Array.from(sense(env))).toEqual(fixedSense(0x3, 0x11, 0, 1000));
    // A read that starts on a bad block transfers nothing.
    const e = run(env, read10(1005, 4));
    expect([e.status, e.data]).toEqual([STATUS_CHECK_CONDITION, undefined]);
    expect(Array.from(sense(env))).toEqual(fixedSense(0x3, 0x11, 0, 1005));
    expect(run(env, read10(1010, 4)).status).toBe(STATUS_GOOD);
    expect(env.disk.stats.mediumErrors).toBe(2);
  });

  it("MEDIUM ERROR on an injected bad write range: the blocks before it are written, status only after the media", () => {
    const env = setup({ disk: { faults: { mediumErrors: [{ lba: 5000, count: 2, kind: "write" }] } } });
    const d = run(env, write10(4990, 20), { data: fill(20, 7) });
    expect(d.status).toBe(STATUS_CHECK_CONDITION);
    expect(d.at).toBe(env.disk.lastMediaEndNs); // not acknowledged early
    expect(Array.from(sense(env))).toEqual(fixedSense(0x3, 0x0c, 0, 5000));
    const back = run(env, read10(4990, 20)).data!; // reads of that range are fine
    expect(Buffer.from(back.subarray(0, 10 * 512)).equals(Buffer.from(fill(10, 7)))).toBe(true);
    expect(back.subarray(10 * 512).every((b) => b === 0)).toBe(true);
  });

  it("QUEUE FULL for the 65th outstanding task; the 64 complete in arrival order", () => {
    const env = setup();
    const tasks: ScsiTask[] = [];
    for (let i = 0; i < 65; i++) {
      const t = mk(read10(((i * 7919) % 1000) * 10_000, 8), { tag: i });
      tasks.push(t);
      env.bus.issue(t);
    }
    expect(env.disk.outstanding).toBe(64);
    env.sched.runUntil(Infinity);
    const last = env.bus.byTask.get(tasks[64])!;
    expect([last.status, last.inCommand, last.data]).toEqual([STATUS_QUEUE_FULL, true, undefined]);
    const order = env.bus.done.filter((d) => d.status === STATUS_GOOD).map((d) => d.task.tag);
    expect(order).toEqual(Array.from({ length: 64 }, (_, i) => i)); // never reordered
    expect(env.disk.stats.queueFull).toBe(1);
    expect(run(env, read10(0, 8)).status).toBe(STATUS_GOOD);
  });

  it("a duplicate tag is an overlapped command: ABORTED COMMAND 4Eh/00h, the initiator's tasks are aborted", () => {
    const env = setup();
    const a = mk(read10(0, 8), { tag: 5 });
    const other = mk(read10(8000, 8), { tag: 5, init: 2 }); // same tag, another initiator: fine
    const dup = mk(read10(900_000, 8), { tag: 5 });
    env.bus.issue(a);
    env.bus.issue(other);
    env.bus.issue(dup);
    env.sched.runUntil(Infinity);
    expect(env.bus.byTask.get(dup)!.status).toBe(STATUS_CHECK_CONDITION);
    expect(env.bus.byTask.has(a)).toBe(false); // aborted: no status
    expect(env.bus.byTask.get(other)!.status).toBe(STATUS_GOOD);
    expect(Array.from(sense(env))).toEqual(fixedSense(0xb, 0x4e));
  });

  it("a bus reset drops every task: no reconnections after", () => {
    const env = setup();
    for (let i = 0; i < 5; i++) env.bus.issue(mk(read10(i * 100_000, 8)));
    env.disk.busReset();
    env.sched.runUntil(Infinity);
    expect(env.bus.done.length).toBe(0);
    expect(env.disk.outstanding).toBe(0);
    expect(run(env, read10(0, 8)).status).toBe(STATUS_GOOD);
  });

  it("optional UNIT ATTENTION after reset: once per initiator, INQUIRY unaffected", () => {
    const env = setup({ disk: { unitAttention: true } });
    expect(run(env, inquiry(0, 0, 36)).status).toBe(STATUS_GOOD);
    expect(run(env, [0, 0, 0, 0, 0, 0]).status).toBe(STATUS_CHECK_CONDITION);
    expect(Array.from(sense(env))).toEqual(fixedSense(0x6, 0x29));
    expect(run(env, [0, 0, 0, 0, 0, 0]).status).toBe(STATUS_GOOD);
  });
});

// ---- Data and write-back -------------------------------------------------------------------

/** n blocks of a recognisable pattern. */
function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n * 512);
  for (let i = 0; i < b.length; i += 4) b[i] = (i * 31 + seed * 17) & 0xff;
  b[0] = seed;
  return b;
}

describe("data and the write-back cache", () => {
  it("reads back what was written (memory backend), across chunk boundaries", () => {
    const env = setup();
    const spots: [number, number][] = [[0, 8], [120, 20], [1_000_000, 256], [GEOMETRY_BLOCKS - 3, 3]];
    spots.forEach(([lba, n], i) => expect(run(env, write10(lba, n), { data: fill(n, i + 1) }).status).toBe(STATUS_GOOD));
    spots.forEach(([lba, n], i) => {
      expect(Buffer.from(run(env, read10(lba, n)).data!).equals(Buffer.from(fill(n, i + 1)))).toBe(true);
    });
  });

  it("data follows arrival order: a read queued before a write sees the old data, one after sees the new", () => {
    const env = setup();
    run(env, write10(3000, 8), { data: fill(8, 1) });
    const before = mk(read10(3000, 8));
    const w = mk(write10(3000, 8));
    env.bus.writeData.set(w, fill(8, 2));
    env.bus.issue(mk(read10(9_000_000, 8))); // keep the arm busy so all three queue
    env.bus.issue(before);
    env.bus.issue(w);
    env.sched.runUntil(Infinity);
    expect(env.bus.byTask.get(before)!.data![0]).toBe(1);
    expect(run(env, read10(3000, 8)).data![0]).toBe(2);
  });

  it("a read's data is taken from the backend in pieces of any size, as a controller's scatter list moves it", () => {
    const env = setup();
    const data = fill(40, 3);
    run(env, write10(5000, 40), { data });
    const d = run(env, read10(5000, 40));
    expect(d.data).toEqual(data);
    const src = d.raw!;
    expect(src).not.toBeInstanceOf(Uint8Array); // left in the backend, not copied at arrival
    const out = new Uint8Array(data.length + 8);
    let at = 0;
    for (const n of [1, 511, 512, 513, 4096, 3, 7000]) {
      (src as DataInSource).copyTo(at, n, out, at + 8);
      at += n;
    }
    (src as DataInSource).copyTo(at, data.length - at, out, at + 8);
    expect(out.subarray(8)).toEqual(data);
    expect(() => (src as DataInSource).copyTo(data.length - 4, 8, out, 0)).toThrow(RangeError);
  });

  it("write-back: status after the write-hit overhead; SYNCHRONIZE CACHE waits for the media", () => {
    const env = setup();
    const w = run(env, write10(200_000, 64), { data: fill(64, 3) });
    expect(w.at).toBe(WRITE_HIT_OVERHEAD_AFTER_READ_NS); // data at t=0 (no bus), then 0.186 ms
    expect(env.disk.lastMediaEndNs).toBeGreaterThan(w.at + 1_000_000); // seek + rotation + 64 blocks
    const t = mk(sync10());
    env.bus.issue(t); // issued at the end of the run above, after the media write
    env.sched.runUntil(Infinity);
    expect(env.bus.byTask.get(t)!.at).toBe(env.sched.now);
    // Now with the write still in flight: SYNC completes exactly when it reaches the platter.
    const env2 = setup();
    const w2 = mk(write10(200_000, 64));
    const s2 = mk(sync10());
    env2.bus.issue(w2);
    env2.sched.runUntil(WRITE_HIT_OVERHEAD_AFTER_READ_NS);
    expect(env2.bus.byTask.get(w2)!.status).toBe(STATUS_GOOD);
    expect(env2.disk.dirtyBlocks).toBe(64);
    env2.bus.issue(s2);
    env2.sched.runUntil(Infinity);
    expect(env2.bus.byTask.get(s2)!.at).toBe(env2.disk.lastMediaEndNs);
    expect(env2.disk.dirtyBlocks).toBe(0);
    // IMMED answers at once.
    const s3 = run(env2, sync10(0x02));
    expect([s3.status, s3.inCommand]).toEqual([STATUS_GOOD, true]);
  });

  it("FUA and writes beyond the write-back allowance are written through", () => {
    const env = setup();
    const f = run(env, write10(7000, 16, 0x08), { data: fill(16, 4) });
    expect(f.at).toBe(env.disk.lastMediaEndNs);
    const big = run(env, write10(8000, 400), { data: fill(400, 5) }); // > 374 blocks
    expect(big.at).toBe(env.disk.lastMediaEndNs);
    // Two 256-block writes: the second waits for room until the first is on the platter.
    const env2 = setup();
    const a = mk(write10(50_000, 256));
    const b = mk(write10(50_256, 256));
    env2.bus.issue(a);
    env2.bus.issue(b);
    let firstOnMedia = 0;
    env2.bus.onDone = (d) => {
      if (d.task === a) firstOnMedia = env2.disk.lastMediaEndNs;
    };
    env2.sched.runUntil(Infinity);
    expect(env2.bus.byTask.get(a)!.at).toBe(WRITE_HIT_OVERHEAD_AFTER_READ_NS);
    expect(firstOnMedia).toBeGreaterThan(env2.bus.byTask.get(a)!.at);
    expect(env2.bus.byTask.get(b)!.at).toBe(firstOnMedia);
  });

  it("reads back from an image file in the temp directory, and the data survives reopening", () => {
    const file = path.join(tmp(), "disk0.img");
    createImage(file, 64 * MiB);
    const env = setup({ backend: openImage(file) });
    expect(env.disk.capacity).toBe((64 * MiB) / 512);
    expect(env.disk.model.capacity).toBe((64 * MiB) / 512);
    const data = fill(100, 9);
    expect(run(env, write10(130_000, 100), { data }).status).toBe(STATUS_GOOD);
    expect(Buffer.from(run(env, read10(130_000, 100)).data!).equals(Buffer.from(data))).toBe(true);
    expect(run(env, sync10()).status).toBe(STATUS_GOOD);
    env.disk.close();
    const again = openImage(file);
    const buf = new Uint8Array(100 * 512);
    again.read(130_000, 100, buf, 0);
    expect(Buffer.from(buf).equals(Buffer.from(data))).toBe(true);
    again.read(0, 1, buf, 0);
    expect(buf.subarray(0, 512).every((b) => b === 0)).toBe(true);
    again.close();
  });
});

// ---- Backends -----------------------------------------------------------------------------

let tmpDir: string | undefined;
function tmp(): string {
  tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "scsi-disk-test-"));
  return tmpDir;
}
afterAll(() => {
  if (tmpDir !== undefined) fs.rmSync(tmpDir, { recursive: true, force: true });
});

describe("block backends", () => {
  it("an 18 GiB memory disk costs memory only for the chunks written", () => {
    const sectors = parseSize("18G") / 512;
    const b = new MemoryBackend(sectors);
    const heap0 = process.memoryUsage().heapUsed;
    const env = setup({ backend: b });
    expect(env.disk.model.surfaces).toBe(12);
    expect(Array.from(run(env, readCapacity()).data!.subarray(0, 4))).toEqual(be(sectors - 1));
    for (const lba of [0, 17_000_000, sectors - 8]) run(env, write10(lba, 8), { data: fill(8, 6) });
    expect(b.allocatedBytes).toBe(3 * 64 * 1024);
    const z = run(env, read10(30_000_000, 256)).data!;
    expect(z.every((x) => x === 0)).toBe(true);
    expect(run(env, read10(sectors - 8, 8)).data![0]).toBe(6);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(64 * MiB);
  });

  it("memory reads and writes spanning chunks; out-of-range access throws", () => {
    const b = new MemoryBackend(1000);
    const d = fill(300, 2);
    b.write(100, 300, d, 0);
    const r = new Uint8Array(302 * 512);
    b.read(99, 302, r, 0);
    expect(r.subarray(0, 512).every((x) => x === 0)).toBe(true);
    expect(Buffer.from(r.subarray(512, 301 * 512)).equals(Buffer.from(d))).toBe(true);
    expect(() => b.read(999, 2, r, 0)).toThrow(RangeError);
    expect(() => b.write(0, 2, new Uint8Array(512), 0)).toThrow(RangeError);
  });

  it("createImage makes a sparse file and refuses to overwrite unless told to", () => {
    const file = path.join(tmp(), "big.img");
    createImage(file, parseSize("1G"));
    const st = fs.statSync(file);
    expect(st.size).toBe(2 ** 30);
    expect(st.blocks * 512).toBeLessThan(MiB); // sparse
    expect(() => createImage(file, 4096)).toThrow(/exists/);
    createImage(file, 4096, { overwrite: true });
    expect(fs.statSync(file).size).toBe(4096);
    expect(() => createImage(path.join(tmp(), "odd.img"), 1000)).toThrow(/multiple of 512/);
    expect(() => createImage(path.join(tmp(), "zero.img"), 0)).toThrow(DiskImageError);
  });

  it("openImage says clearly what is wrong with an absent or corrupt image", () => {
    const dir = tmp();
    expect(() => openImage(path.join(dir, "nope.img"))).toThrow(/does not exist/);
    expect(() => openImage(dir)).toThrow(/not a regular file/);
    fs.writeFileSync(path.join(dir, "short.img"), new Uint8Array(1000));
    expect(() => openImage(path.join(dir, "short.img"))).toThrow(/1000 bytes, not a whole number of 512-byte sectors/);
    fs.writeFileSync(path.join(dir, "empty.img"), new Uint8Array(0));
    expect(() => openImage(path.join(dir, "empty.img"))).toThrow(/empty/);
    const ok = openImage(path.join(dir, "big.img"));
    ok.close();
    expect(() => ok.read(0, 1, new Uint8Array(512), 0)).toThrow(/after close/);
  });

  it("parseSize reads powers of 1024", () => {
    expect(parseSize("18G")).toBe(18 * 2 ** 30);
    expect(parseSize("512M")).toBe(512 * 2 ** 20);
    expect(parseSize("4096")).toBe(4096);
    expect(parseSize("1.5k")).toBe(1536);
    expect(parseSize("2GiB")).toBe(2 ** 31);
    expect(() => parseSize("12 parsecs")).toThrow(/powers of 1024/);
    expect(() => parseSize("0.3k")).toThrow(/whole number/);
  });
});

// ---- Determinism --------------------------------------------------------------------------

describe("determinism", () => {
  function workload(seed: number): { times: number[]; hash: string } {
    const env = setup({ seed });
    const rng = new Rng(77);
    const times: number[] = [];
    let issued = 0;
    const one = (): void => {
      issued++;
      const lba = rng.below(GEOMETRY_BLOCKS - 256);
      const seq = rng.below(4);
      const t = mk(seq === 0 ? write10(lba, 64) : read10(lba, 8 + rng.below(200)));
      env.bus.writeData.set(t, fill(64, seed));
      env.bus.issue(t);
    };
    env.bus.onDone = (d) => {
      times.push(d.at);
      if (issued < 400) one();
    };
    for (let i = 0; i < 4; i++) one();
    env.sched.runUntil(Infinity);
    return { times, hash: env.sched.traceHash };
  }

  it("the same seed gives the same times, another seed (spindle phase) other times", () => {
    const a = workload(42);
    const b = workload(42);
    const c = workload(43);
    expect(a.times.length).toBe(400);
    expect(b).toEqual(a);
    expect(c.times).not.toEqual(a.times);
    expect(a.times.every(Number.isSafeInteger)).toBe(true);
  });
});
