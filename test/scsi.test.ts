// The SCSI driver (guest-lib/drivers/sym53c8xx.ts) on the whole machine: the test guest
// test/guests/scsi-test.ts runs on CPU 1 (HiTactix's partition, IRQ_SCSI) against the
// LSI53C895 model and three 18 GiB in-memory disks (SCSI IDs 0-2) from buildMachine;
// disk 1 has an injected read medium error (16 blocks from BAD_LBA).
//   - every in-guest check passes (INQUIRY, READ CAPACITY, pattern written and read
//     back on every disk with 15 tagged commands outstanding, the sense of each error,
//     the medium error's INFORMATION and residual, an absent target's selection timeout);
//   - (a) 64 MiB read sequentially from disk 0 in 128 KiB READ(10)s, 4 outstanding:
//     the disk's 27 MB/s outer zone shows through the controller (the 80 MB/s bus is
//     faster than one disk);
//   - (b) random 4 KiB reads, one outstanding: the IOPS the disk model's seek curve,
//     rotation and transfer predict (the analytical computation of
//     test/scsi-disk.test.ts, over LBAs uniform in the disk's capacity), plus the
//     controller's per-command overhead measured independently as a 4 KiB cache hit's
//     latency less the disk's hit overhead and the 4 KiB data burst;
//   - (c) the three disks streaming at once: 3 x 27 = 81 MB/s of media against the
//     80 MB/s Ultra2 bus; the aggregate (while all three run) is what the bus allows
//     (its data share of the busy time), and the bus is busy all the time;
//   - (d) nothing crashes the host: no guest fault, no device log of a guest error, the
//     SCRIPTS idle in WAIT RESELECT at the end; a SCSI bus reset from outside in the
//     middle of a stream is recovered (commands in flight fail, the run goes on);
//   - (e) determinism: the same run twice gives the same trace hash.
import { beforeAll, describe, expect, it } from "vitest";
import { guest } from "./helpers.js";
import { defaultBoard } from "../host/config.js";
import { buildMachine, type Machine } from "../host/machine.js";
import { BOOT_PING_TOTAL } from "../common/platform.js";
import { type DiskModel, READ_HIT_OVERHEAD_NS, READ_MISS_OVERHEAD_NS, TARGET_OUTER_BPS } from "../devices/disk-model.js";
import { ULTRA2_BYTES_PER_S } from "../devices/scsi-disk.js";
import { R } from "../devices/lsi53c895.js";
import { SCSI_RAM_BASE, SCSI2_BASE, SCSI2_RAM_BASE } from "../common/platform.js";
import { referenceScript } from "./scripts-asm.js";

/** Boot arguments of the test guest (offsets in its BOOTINFO block; see scsi-test.ts). */
const ST_MODE = 0x40;
const ST_SEQ_MIB = 0x44;
const ST_RANDOM_N = 0x48;
const ST_DEPTH = 0x4c;
const ST_BAD_LBA = 0x50;
const ST_HITS = 0x54;
const ST_BASE = 0x58;
const ST_FUNC = 1;
const ST_SEQ = 2;

const BAD_LBA = 1_000_000;
const SEQ_MIB = 64;
const RANDOM_N = 4000;
const DEPTH = 4;
const DISK_BYTES = 18 * 2 ** 30;
const MB = 1e6;

interface Mark {
  t: number;
  busyNs: number;
  dataNs: number;
}
interface Run {
  m: Machine;
  values: Record<string, number>;
  fails: string[];
  passes: string[];
  done: string | undefined;
  guestErrors: string[];
  /** The driver's console lines ("sym: ..."). */
  driver: string[];
  /** Controller bus statistics at the guest's "scsi-test: <phase> start/end" lines. */
  marks: Record<string, Mark>;
  stopAt: string | undefined;
  wallMs: number;
}

/** `bus: "scsi2"`: the disks hang on a second controller at SCSI2_BASE, which the
 *  guest drives (ST_BASE); the board's first controller stays, with a disk, idle. */
function boot(args: Record<number, number> = {}, stopAt?: string, bus: "scsi" | "scsi2" = "scsi"): Run {
  const c = defaultBoard();
  c.cpus[1] = {
    ...c.cpus[1], name: "scsi-test", wasm: guest("test-scsi"),
    bootArgs: { [ST_SEQ_MIB]: SEQ_MIB, [ST_RANDOM_N]: RANDOM_N, [ST_DEPTH]: DEPTH, [ST_BAD_LBA]: BAD_LBA, [ST_HITS]: 16, ...args },
  };
  c.cpus[0].bootArgs[BOOT_PING_TOTAL] = 0;
  c.scsi = {
    cpu: 1,
    disks: [0, 1, 2].map((id) => (id === 1
      ? { sizeBytes: DISK_BYTES, faults: { mediumErrors: [{ lba: BAD_LBA, count: 16, kind: "read" as const }] } }
      : { sizeBytes: DISK_BYTES })),
  };
  if (bus === "scsi2") {
    c.scsi2 = c.scsi;
    c.scsi = { cpu: 0, disks: [{ sizeBytes: DISK_BYTES }] };
    c.cpus[1].bootArgs[ST_BASE] = SCSI2_BASE;
  }
  const r: Run = { m: undefined as unknown as Machine, values: {}, fails: [], passes: [], done: undefined, guestErrors: [], driver: [], marks: {}, stopAt, wallMs: 0 };
  r.m = buildMachine(c, {
    onLog: (kind, msg) => {
      if (kind === "guest-error") r.guestErrors.push(msg);
    },
    onConsole: (l) => {
      if (l.cpu !== 1) return;
      const v = /^ktest: VALUE (\S+) (\d+)$/.exec(l.text);
      if (v) r.values[v[1]] = Number(v[2]);
      if (l.text.startsWith("ktest: FAIL")) r.fails.push(l.text);
      if (l.text.startsWith("sym: ")) r.driver.push(l.text);
      if (l.text.startsWith("ktest: PASS")) r.passes.push(l.text.slice(12));
      const p = /^scsi-test: (\S+ (start|end))$/.exec(l.text);
      if (p) {
        const s = r.m.scsi!;
        r.marks[p[1]] = { t: r.m.board.sched.now, busyNs: s.busBusyNs(), dataNs: s.stats.busDataNs };
        if (p[1] === r.stopAt) r.m.board.sched.stop();
      }
      if (l.text.startsWith("ktest: DONE")) {
        r.done = l.text;
        r.m.board.sched.stop(); // hand control back to the test
      }
    },
  });
  return r;
}

function finish(r: Run, limitNs = 120e9): void {
  const t0 = performance.now();
  const b = r.m.board;
  while (r.done === undefined && b.sched.now < limitNs) b.run(limitNs);
  r.wallMs += performance.now() - t0;
}

function checkGuest(r: Run): void {
  expect(r.m.board.cpus[1].report, "the guest CPU stopped on a fault").toBeUndefined();
  expect(r.fails).toEqual([]);
  expect(r.done, "the guest never reported DONE").toBeDefined();
  expect(r.done!.endsWith(" 0")).toBe(true);
}

/** Random 4 KiB reads, one at a time, at LBAs uniform in [0, cap): the mean time per
 *  read the model predicts (test/scsi-disk.test.ts's computation): mean seek between
 *  two independent cylinder draws (a cylinder drawn with the share of the capacity it
 *  holds; same cylinder, other surface: a head switch), half a revolution, the read
 *  miss overhead, and 8 blocks' transfer with the skew when they straddle a track. */
function modelRandomNs(m: DiskModel, cap: number): { perIo: number; meanSeek: number; xfer: number } {
  const S = m.surfaces;
  const w = new Float64Array(m.zones[m.zones.length - 1].lastCyl + 1);
  let xfer = 0;
  for (const z of m.zones) {
    for (let c = z.firstCyl; c <= z.lastCyl; c++) {
      const lo = z.firstLba + (c - z.firstCyl) * z.perCyl;
      w[c] = Math.max(0, Math.min(lo + z.perCyl, cap) - lo) / cap;
    }
    const share = Math.max(0, Math.min(z.firstLba + z.blocks, cap) - z.firstLba) / cap;
    const slot = m.revNs / z.spt;
    const skew = ((S - 1) / S) * z.trackSkew + (1 / S) * z.cylSkew;
    xfer += share * (8 * slot + (7 / z.spt) * skew * slot);
  }
  const seek = new Float64Array(w.length);
  for (let d = 0; d < w.length; d++) seek[d] = m.seekNs(d);
  let meanSeek = 0;
  let same = 0;
  for (let i = 0; i < w.length; i++) {
    if (w[i] === 0) continue;
    let acc = 0;
    for (let j = i + 1; j < w.length; j++) acc += w[j] * seek[j - i];
    meanSeek += 2 * w[i] * acc;
    same += w[i] * w[i];
  }
  meanSeek += same * (1 - 1 / S) * m.headSwitchNs;
  return { perIo: meanSeek + m.revNs / 2 + READ_MISS_OVERHEAD_NS + xfer, meanSeek, xfer };
}

const busNs = (bytes: number): number => Math.ceil((bytes * 1e9) / ULTRA2_BYTES_PER_S);
const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

describe("sym53c8xx driver on the board (guest-driven)", () => {
  let r: Run;
  let summary: ReturnType<Machine["board"]["summary"]>;
  beforeAll(() => {
    r = boot();
    finish(r);
    summary = r.m.board.summary(); // at DONE, before the tests run the board further
  });

  it("passes every in-guest check: INQUIRY, READ CAPACITY, pattern write/read back, sense of each error, absent target", () => {
    checkGuest(r);
    for (const name of [
      "disk 0 INQUIRY: QUANTUM ATLAS 10K 18WLS", "disk 2 READ CAPACITY, 512-byte blocks", "15 commands outstanding at once",
      "pattern read back on every disk (LBA 0, 777, middle, end - 72, last 8 blocks)", "unknown opcode: ILLEGAL REQUEST, ASC 20h",
      "bad field in CDB: ILLEGAL REQUEST, ASC 24h", "LBA out of range: ILLEGAL REQUEST, ASC 21h", "medium error: MEDIUM ERROR, ASC 11h",
      "medium error: INFORMATION = the first bad LBA", "medium error: residual = the blocks from the bad one on",
      "absent target (ID 5): selection timeout reported", "TEST UNIT READY + SYNCHRONIZE CACHE on every disk after the errors",
    ]) expect(r.passes).toContain(name);
    for (let d = 0; d < 3; d++) expect(r.values[`lastLba${d}`]).toBe(DISK_BYTES / 512 - 1);
    // The driver issued REQUEST SENSE for each CHECK CONDITION (4 of them) itself.
    expect(r.values.symCheckConditions).toBe(4);
    expect(r.values.symSelectionTimeouts).toBe(1);
    // 3 short DATA INs (INQUIRY) and the medium error's: each a phase mismatch handled
    expect(r.values.symPhaseMismatches).toBe(4);
    expect(r.m.disks[1].stats.mediumErrors).toBe(1);
    console.log(`scsi: ${r.passes.length} checks passed; ${r.values.symCommands} commands, ${r.values.symInterrupts} interrupts ` +
      `(${r.values.symSpurious} spurious); ${(r.m.board.sched.now / 1e9).toFixed(2)} s virtual in ${r.wallMs.toFixed(0)} ms wall`);
  });

  it("runs the reference SCRIPTS program: the words in the chip's SCRIPTS RAM are test/scripts-asm.ts's, word for word", () => {
    const ref = referenceScript({ scriptBase: SCSI_RAM_BASE, hcb: r.values.symHcb, maxSg: 4 });
    const s = r.m.scsi!;
    const ram = Array.from({ length: ref.words.length }, (_, i) => s.read(0x1000 + 4 * i, 4));
    expect(ram).toEqual(Array.from(ref.words));
    console.log(`scsi: SCRIPTS ${ref.words.length * 4} bytes in SCRIPTS RAM, HCB at 0x${r.values.symHcb.toString(16)}`);
  });

  it("(a) reads 64 MiB sequentially from disk 0 at the disk's 27 MB/s through the controller (within 3%)", () => {
    const rate = (r.values.seqBytes * 1e9) / r.values.seqNs;
    expect(r.values.seqBytes).toBe(SEQ_MIB * 2 ** 20);
    const zone = r.m.disks[0].model.zoneRates()[0].bps;
    const a = r.marks["seq start"];
    const b = r.marks["seq end"];
    const busy = (b.busyNs - a.busyNs) / (b.t - a.t);
    console.log(`(a) sequential: ${SEQ_MIB} MiB from disk 0 in 128 KiB READ(10)s, ${DEPTH} outstanding: ${(rate / MB).toFixed(3)} MB/s ` +
      `(target ${TARGET_OUTER_BPS / MB} MB/s: ${pct(rate / TARGET_OUTER_BPS - 1)}; the model's outer zone ${(zone / MB).toFixed(3)} MB/s: ` +
      `${pct(rate / zone - 1)}); bus busy ${pct(busy)}`);
    expect(Math.abs(rate / TARGET_OUTER_BPS - 1)).toBeLessThan(0.03);
    // Tighter: the model's own zone rate, less the initial seek and rotation.
    expect(Math.abs(rate / zone - 1)).toBeLessThan(0.01);
    // One disk leaves the 80 MB/s bus idle two thirds of the time.
    expect(busy).toBeLessThan(0.4);
  });

  it("(b) random 4 KiB reads: the IOPS the seek/rotation model predicts, plus the controller's per-command overhead", () => {
    const disk = r.m.disks[0];
    const m = disk.model;
    const cap = r.values.lastLba0 + 1;
    const { perIo, meanSeek, xfer } = modelRandomNs(m, cap);
    // Controller + driver overhead per command, measured apart: a cache hit costs the
    // disk's hit overhead and a data burst at bus speed; the rest is the protocol
    // (selection, messages, CDB, reselection, status, done queue, interrupt, the
    // driver's completion and next submit). A random read's burst is hidden under its
    // media transfer (the disk reselects so the burst ends with the last block).
    const overhead = r.values.hitNs - READ_HIT_OVERHEAD_NS - busNs(4096);
    const expectedModel = 1e9 / perIo;
    const expected = 1e9 / (perIo + overhead);
    const measured = (r.values.randomN * 1e9) / r.values.randomNs;
    console.log(`(b) random 4 KiB reads, one outstanding, ${r.values.randomN} over disk 0: expected ${expected.toFixed(2)} IOPS = 1 / (` +
      `seek ${(meanSeek / 1e6).toFixed(3)} ms + rotation ${(m.revNs / 2e6).toFixed(3)} ms + transfer ${(xfer / 1e6).toFixed(3)} ms + ` +
      `controller ${(overhead / 1e3).toFixed(1)} us [cache hit ${(r.values.hitNs / 1e3).toFixed(1)} us - hit overhead ${READ_HIT_OVERHEAD_NS / 1e3} us - ` +
      `4 KiB burst ${busNs(4096) / 1e3} us]); the disk alone ${expectedModel.toFixed(2)} IOPS; measured ${measured.toFixed(2)} IOPS ` +
      `(${pct(measured / expected - 1)})`);
    expect(overhead).toBeGreaterThan(10_000); // the protocol is not free ...
    expect(overhead).toBeLessThan(100_000); // ... but small against a seek
    expect(Math.abs(measured / expected - 1)).toBeLessThan(0.02);
    expect(measured).toBeLessThan(expectedModel);
    expect(disk.stats.misses).toBeGreaterThanOrEqual(r.values.randomN);
  });

  it("(c) three disks at once: the aggregate is what the 80 MB/s bus allows against 81 MB/s of media; the bus is always busy", () => {
    const a = r.marks["three start"];
    const b = r.marks["three end"];
    const busy = (b.busyNs - a.busyNs) / (b.t - a.t);
    const dataShare = (b.dataNs - a.dataNs) / (b.busyNs - a.busyNs);
    const busAllows = ULTRA2_BYTES_PER_S * dataShare; // the bus busy all the time
    const media = r.m.disks.reduce((s, d) => s + d.model.zoneRates()[0].bps, 0);
    const limit = Math.min(busAllows, media);
    const overlap = (r.values.threeOverlapBytes * 1e9) / r.values.threeOverlapNs;
    const whole = (r.values.threeBytes * 1e9) / r.values.threeNs;
    const each = [0, 1, 2].map((d) => (SEQ_MIB * 2 ** 20 * 1e9) / r.values[`threeEndNs${d}`] / MB);
    console.log(`(c) three disks x ${SEQ_MIB} MiB at once: aggregate ${(overlap / MB).toFixed(3)} MB/s while all three run ` +
      `(${(whole / MB).toFixed(3)} MB/s to the last completion; per disk ${each.map((x) => x.toFixed(2)).join(", ")} MB/s); ` +
      `media ${(media / MB).toFixed(2)} MB/s, bus ${ULTRA2_BYTES_PER_S / MB} MB/s, of its busy time ${pct(dataShare)} moves data: ` +
      `it allows ${(busAllows / MB).toFixed(3)} MB/s; measured/allowed ${pct(overlap / limit)}; bus busy ${pct(busy)}`);
    expect(r.values.threeBytes).toBe(3 * SEQ_MIB * 2 ** 20);
    expect(busAllows).toBeLessThan(media); // the bus, not the disks, is the limit
    expect(overlap).toBeLessThanOrEqual(ULTRA2_BYTES_PER_S);
    expect(Math.abs(overlap / limit - 1)).toBeLessThan(0.03);
    expect(overlap / ULTRA2_BYTES_PER_S).toBeGreaterThan(0.95);
    expect(busy).toBeGreaterThan(0.97);
  });

  it("(d) nothing crashes the host: no fault, no guest-error log but the three bad commands the guest sent on purpose, the SCRIPTS back in WAIT RESELECT, no task left on a disk", () => {
    checkGuest(r);
    expect(r.guestErrors).toEqual([
      expect.stringMatching(/^disk0: invalid opcode \(opcode 0x[0-9a-f]+, initiator 7, tag \d+\): CHECK CONDITION$/),
      expect.stringMatching(/^disk0: invalid field in CDB byte 2 \(opcode 0x12, /),
      expect.stringMatching(/^disk2: LBA out of range \(opcode 0x28, /),
    ]);
    r.m.board.run(r.m.board.sched.now + 10_000_000);
    const s = r.m.scsi!;
    expect(s.read(R.ISTAT1, 1) & 0x02).toBe(0x02); // SRUN: waiting for a reselection or SIGP
    expect(s.read(R.ISTAT, 1) & 0x07).toBe(0); // no interrupt pending
    for (const d of r.m.disks) expect(d.outstanding).toBe(0);
    expect(r.m.board.summary().cpus[1].fault).toBeUndefined();
  });

  it("(d) a SCSI bus reset from outside during a stream: the driver recovers, the commands in flight fail, the run goes on", () => {
    const x = boot({ [ST_MODE]: ST_SEQ, [ST_SEQ_MIB]: 16 }, "seq start");
    const b = x.m.board;
    b.run(10e9); // stops at the guest's "seq start" line
    expect(x.marks["seq start"]).toBeDefined();
    b.run(b.sched.now + 50_000_000); // 50 ms into the stream
    const s = x.m.scsi!;
    s.write(R.SCNTL1, 1, 0x08); // another device asserts RST ...
    s.write(R.SCNTL1, 1, 0x00); // ... and releases it
    finish(x);
    expect(x.m.board.cpus[1].report).toBeUndefined();
    expect(x.done).toBeDefined();
    // Exactly the two checks a reset must break fail: the reads in flight, the reset count.
    expect(x.driver).toContain("sym: SCSI bus reset by another device: resetting the SCSI bus");
    expect(x.fails.map((f) => f.replace(/: got .*/, ""))).toEqual(["ktest: FAIL sequential reads all GOOD", "ktest: FAIL no controller resets or fatal errors"]);
    expect(x.done).toBe("ktest: DONE 10 2");
    expect(x.values.seqBytes).toBe(16 * 2 ** 20); // every command ended (some with an error)
    console.log(`(d) bus reset from outside 50 ms into a 16 MiB stream: "${x.driver.filter((l) => !l.includes(" at 0x")).join(" / ")}"; the stream ended ` +
      `${(x.values.seqNs / 1e6).toFixed(1)} ms after its start; ${x.fails.length} checks failed as they must`);
  });

  it("(e) is deterministic: the same run twice gives the same trace hash", () => {
    const again = boot();
    finish(again);
    checkGuest(again);
    const s1 = summary;
    const s2 = again.m.board.summary();
    expect(s2.traceHash).toBe(s1.traceHash);
    expect(s2.events).toBe(s1.events);
    expect(s2.cpus[1].busyCycles).toBe(s1.cpus[1].busyCycles);
    expect(again.values).toEqual(r.values);
    console.log(`(e) determinism: trace hash ${s1.traceHash}, ${s1.events} events, both runs`);
  });
});

describe("a second LSI53C895 (config.scsi2, at SCSI2_BASE): the same driver drives its disks", () => {
  it("passes every in-guest check on the second controller's disks; the first controller sees nothing", () => {
    const x = boot({ [ST_MODE]: ST_FUNC }, undefined, "scsi2");
    finish(x);
    checkGuest(x);
    const m = x.m;
    expect(m.scsi2!.stats.commands).toBeGreaterThan(30);
    expect(m.scsi!.stats.commands).toBe(0);
    expect(m.disks[0].stats.reads + m.disks[0].stats.writes).toBe(0);
    for (const d of m.disks2) expect(d.stats.reads + d.stats.writes).toBeGreaterThan(0);
    // The SCRIPTS run from the second chip's own SCRIPTS RAM, at its bus address.
    expect(x.driver[0]).toBe(`sym: 53c895 at 0x${SCSI2_BASE.toString(16)}, SCSI ID 7, 48 tags`);
    const ref = referenceScript({ scriptBase: SCSI2_RAM_BASE, hcb: x.values.symHcb, maxSg: 4 });
    expect(Array.from({ length: ref.words.length }, (_, i) => m.scsi2!.read(0x1000 + 4 * i, 4))).toEqual(Array.from(ref.words));
    // Its guest errors are logged under its own names.
    expect(x.guestErrors).toEqual([
      expect.stringMatching(/^scsi2\.disk0: invalid opcode /),
      expect.stringMatching(/^scsi2\.disk0: invalid field in CDB byte 2 /),
      expect.stringMatching(/^scsi2\.disk2: LBA out of range /),
    ]);
    console.log(`second controller: ${m.scsi2!.stats.commands} commands, ${x.passes.length} checks passed`);
  });
});
