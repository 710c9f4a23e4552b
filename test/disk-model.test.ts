// The disk's mechanics and timing (devices/disk-model.ts), without the SCSI layer.
import { describe, it, expect } from "vitest";
import {
  DiskModel, ATLAS10K_BANDS, REV_NS, HIT, STREAM, MISS, TARGET_OUTER_BPS, READ_HIT_OVERHEAD_NS,
  WRITE_SETTLE_NS, HEAD_SWITCH_NS, buildZones, zoneRate, baseSeekNs, CYLINDERS,
} from "../devices/disk-model.js";

const MB = 1e6;

describe("geometry and the 27 MB/s scale", () => {
  const m = new DiskModel();

  it("keeps the Atlas 10K geometry and scales blocks per track by one fitted factor", () => {
    expect(m.surfaces).toBe(6);
    expect(m.revNs).toBe(5_985_037); // 60e9 / 10025 rpm
    expect(m.zones.length).toBe(24);
    expect(m.zones[23].lastCyl + 1).toBe(CYLINDERS);
    // The factor is the outer band's fitted blocks per track over the Atlas's 334.
    expect(m.scale).toBe(m.outerSpt / 334);
    for (const z of m.zones) expect(z.spt).toBe(Math.round(ATLAS10K_BANDS[z.band][2] * m.scale));
    // It is the best integer choice: one block more or less per track misses 27 MB/s by more.
    const err = (spt: number): number => Math.abs(zoneRate(buildZones(6, spt)[0], REV_NS) - TARGET_OUTER_BPS);
    expect(err(m.outerSpt)).toBeLessThan(err(m.outerSpt - 1));
    expect(err(m.outerSpt)).toBeLessThan(err(m.outerSpt + 1));
    console.log(`scale ${m.scale.toFixed(4)} (outer band ${m.outerSpt} blocks/track, Atlas 10K: 334); ` +
      `capacity ${m.totalBlocks} blocks = ${(m.totalBlocks * 512 / 1e9).toFixed(2)} GB on ${m.surfaces} surfaces`);
  });

  it("without the scale the outer band sustains the 23.5 MB/s TIMING-REF computes from DiskSim's skews", () => {
    const raw = buildZones(6, 334)[0];
    expect(zoneRate(raw, REV_NS) / MB).toBeCloseTo(23.5, 1);
  });

  it("reports the sustained rate of every band: outer 27 MB/s, falling to the inner band", () => {
    const rates = m.zoneRates();
    console.log("band  cylinders     blocks/track  sustained MB/s  raw MB/s");
    for (const r of rates) {
      const raw = (r.spt * 512 * 1e9) / m.revNs / MB;
      console.log(`${String(r.band).padStart(4)}  ${String(r.firstCyl).padStart(5)}-${String(r.lastCyl).padEnd(5)}  ${String(r.spt).padStart(12)}  ${(r.bps / MB).toFixed(3).padStart(14)}  ${raw.toFixed(2).padStart(8)}`);
      expect(r.bps / MB).toBeLessThan(raw); // skews cost something in every band
    }
    expect(Math.abs(rates[0].bps / TARGET_OUTER_BPS - 1)).toBeLessThan(0.002);
    expect(Math.max(...rates.map((r) => r.bps))).toBe(rates[0].bps);
    expect(Math.min(...rates.map((r) => r.bps))).toBe(rates[23].bps);
    expect(rates[23].bps / MB).toBeGreaterThan(18);
    expect(rates[23].bps / MB).toBeLessThan(19);
  });

  it("adds surfaces to hold a larger image, refitting the scale (18 GiB: 12 surfaces, like the 18 GB Atlas 10K)", () => {
    const big = new DiskModel({ capacityBlocks: (18 * 2 ** 30) / 512 });
    expect(big.surfaces).toBe(12);
    expect(big.totalBlocks).toBeGreaterThanOrEqual((18 * 2 ** 30) / 512);
    expect(Math.abs(big.zoneRates()[0].bps / TARGET_OUTER_BPS - 1)).toBeLessThan(0.002);
    console.log(`18 GiB image: ${big.surfaces} surfaces, scale ${big.scale.toFixed(4)} (${big.outerSpt} blocks/track)`);
  });
});

describe("mechanics", () => {
  const m = new DiskModel();

  it("seeks by the two-piece fit, with the measured single-cylinder seek", () => {
    expect(m.seekNs(0)).toBe(0);
    expect(m.seekNs(1)).toBe(1_245_000);
    expect(m.seekNs(2)).toBe(Math.round(1_290_000 + 84_100 * Math.SQRT2));
    expect(m.seekNs(1000)).toBe(Math.round(1_290_000 + 84_100 * Math.sqrt(1000)));
    expect(m.seekNs(1001)).toBe(3_190_000 + 737 * 1001);
    expect(m.seekNs(CYLINDERS - 1) / 1e6).toBeCloseTo(10.59, 2);
    // Mean over uniform random cylinder pairs: TIMING-REF gives 5.55 ms for the extracted curve.
    let sum = 0;
    for (let d = 1; d < CYLINDERS; d++) sum += 2 * (CYLINDERS - d) * baseSeekNs(d);
    const mean = sum / (CYLINDERS * CYLINDERS);
    console.log(`mean seek over uniform cylinder pairs: ${(mean / 1e6).toFixed(3)} ms`);
    expect(Math.abs(mean / 5.55e6 - 1)).toBeLessThan(0.03);
  });

  it("a head switch costs 0.176 ms, and a write adds the 0.487 ms settle", () => {
    const s = m.surfaces;
    expect(m.positionNs(0, 1, false)).toBe(HEAD_SWITCH_NS);
    expect(m.positionNs(0, 1, true)).toBe(HEAD_SWITCH_NS + WRITE_SETTLE_NS);
    expect(m.positionNs(0, 100 * s, false)).toBe(m.seekNs(100));
    expect(m.positionNs(0, 100 * s + 3, true)).toBe(m.seekNs(100) + WRITE_SETTLE_NS);
    expect(m.positionNs(7, 7, true)).toBe(0);
  });

  it("tracks the platter's angle in virtual time: an access waits for its block to come round", () => {
    const d = new DiskModel({ phaseNs: 12345 });
    const t = 1_000_000_007;
    const p = d.nextPass(t, 5000);
    expect(p).toBeGreaterThanOrEqual(t);
    expect(p - t).toBeLessThan(d.revNs);
    expect(d.nextPass(p, 5000)).toBe(p); // it is under the head now
    expect(d.nextPass(p + 1, 5000)).toBe(p + d.revNs); // just missed: one revolution
    expect(d.nextPass(t + 10 * d.revNs, 5000)).toBe(p + 10 * d.revNs);
  });
});

describe("reads, read-ahead and rotation", () => {
  it("a read continuing the previous one pays no rotation (read-ahead streaming)", () => {
    const m = new DiskModel({ phaseNs: 777 });
    const a = m.read(1000, 256, 5_000_000);
    expect(a.kind).toBe(MISS);
    const b = m.read(1256, 256, a.mediaEndNs);
    expect(b.kind).toBe(STREAM);
    expect(b.rotNs).toBe(0);
    // Exactly the media time of a continuous run of 512 blocks from a's first block.
    const aStart = a.mediaEndNs - m.streamNs(1000, 256);
    expect(b.mediaEndNs).toBe(aStart + m.streamNs(1000, 512));
  });

  it("pays no rotation even without read-ahead: the angle alone lines the next block up", () => {
    const m = new DiskModel({ readAheadBlocks: 0, phaseNs: 4242 });
    const a = m.read(0, 100, 3_000_000); // blocks 0..199 share track 0
    const b = m.read(100, 100, a.mediaEndNs);
    expect(b.kind).toBe(MISS);
    expect(b.seekCyl).toBe(0);
    expect(b.rotNs).toBe(0);
    expect(b.mediaEndNs - a.mediaEndNs).toBe(m.streamNs(0, 200) - m.streamNs(0, 100));
    // The same read a little later has missed its block: almost a full revolution.
    const m2 = new DiskModel({ readAheadBlocks: 0, phaseNs: 4242 });
    const a2 = m2.read(0, 100, 3_000_000);
    const c = m2.read(100, 100, a2.mediaEndNs + 1000);
    expect(c.rotNs).toBe(m2.revNs - 1000);
  });

  it("read-ahead fills the segment: a later sequential read is a cache hit costing only the hit overhead", () => {
    const m = new DiskModel();
    const a = m.read(0, 128, 0);
    const t = a.mediaEndNs + 4_000_000; // 4 ms of read-ahead: about 250 blocks
    const b = m.read(128, 128, t);
    expect(b.kind).toBe(HIT);
    expect(b.readyNs).toBe(t + READ_HIT_OVERHEAD_NS);
    expect(b.mediaEndNs).toBe(b.readyNs);
    // The read-ahead stops READ_AHEAD_BLOCKS past the request unless hits keep it going.
    const c = m.read(128 + 128, 64, t + 50_000_000);
    expect(c.kind).toBe(HIT); // the hit above extended the read-ahead to 256 + 354
  });

  it("a random read between two sequential ones preempts the read-ahead; the segment still serves its blocks", () => {
    const m = new DiskModel();
    const a = m.read(0, 64, 0);
    const r = m.read(10_000_000, 8, a.mediaEndNs + 2_000_000);
    expect(r.kind).toBe(MISS);
    expect(r.seekCyl).toBeGreaterThan(1000);
    const b = m.read(64, 64, r.mediaEndNs); // read ahead during the 2 ms before the miss
    expect(b.kind).toBe(HIT);
    const c = m.read(1000, 8, b.mediaEndNs); // beyond what was read ahead: back to the platter
    expect(c.kind).toBe(MISS);
  });

  it("reading across a band boundary in two pieces ends exactly when one read would", () => {
    const m1 = new DiskModel({ phaseNs: 99 });
    const m2 = new DiskModel({ phaseNs: 99 });
    const edge = m1.zones[1].firstLba;
    const one = m1.read(edge - 300, 600, 1_000_000);
    const p1 = m2.read(edge - 300, 200, 1_000_000);
    const p2 = m2.read(edge - 100, 400, p1.mediaEndNs);
    expect(p2.kind).toBe(STREAM);
    expect(p2.mediaEndNs).toBe(one.mediaEndNs);
    expect(Number.isSafeInteger(one.mediaEndNs)).toBe(true);
  });

  it("FUA reads go to the platter even when the blocks are cached", () => {
    const m = new DiskModel();
    const a = m.read(0, 64, 0);
    const b = m.read(0, 64, a.mediaEndNs + 1_000_000, true);
    expect(b.kind).toBe(MISS);
    expect(b.rotNs).toBeGreaterThan(0);
  });
});

describe("writes", () => {
  it("a write continuing the previous write starts at once; one on a new track pays the skew, not a revolution", () => {
    const m = new DiskModel({ phaseNs: 31337 });
    const a = m.write(0, 100, 2_000_000, 0);
    const b = m.write(100, 100, a.mediaEndNs, 0);
    expect(b.startNs).toBe(a.mediaEndNs);
    const spt = m.zones[0].spt;
    const c = m.write(200, spt - 200 + 50, b.mediaEndNs, 0); // runs onto track 1
    expect(c.startNs).toBe(b.mediaEndNs);
    expect(c.mediaEndNs - c.startNs).toBe(m.streamNs(200, spt - 200 + 50));
  });

  it("written blocks are read hits afterwards", () => {
    const m = new DiskModel();
    const w = m.write(50_000, 64, 0, 0);
    const r = m.read(50_000, 64, w.mediaEndNs + 10);
    expect(r.kind).toBe(HIT);
  });

  it("an unreadable block costs the retries, and no read-ahead follows", () => {
    const m = new DiskModel();
    const { timing, errorNs } = m.readFailing(1000, 1010, 0);
    // The good blocks are off the platter at timing.mediaEndNs; then block 1010 and 8 retries.
    const bad = m.streamNs(1000, 11) - m.streamNs(1000, 10);
    expect(errorNs - timing.mediaEndNs).toBe(bad + 8 * m.revNs);
    const again = m.read(1000, 10, errorNs);
    expect(again.kind).toBe(HIT); // the good blocks before it are cached
    expect(m.read(1011, 8, errorNs + 1).kind).toBe(MISS);
  });
});

describe("slowdown (fault injection)", () => {
  it("slows every mechanical time by the factor", () => {
    const m = new DiskModel({ slowdown: 2 });
    expect(Math.abs(m.revNs - 2 * REV_NS)).toBeLessThanOrEqual(1);
    expect(m.seekNs(500)).toBe(Math.round(baseSeekNs(500) * 2));
    expect(m.zoneRates()[0].bps / new DiskModel().zoneRates()[0].bps).toBeCloseTo(0.5, 4);
    m.setSlowdown(1, 0);
    expect(m.revNs).toBe(REV_NS);
    expect(() => m.setSlowdown(0, 0)).toThrow(/slowdown/);
  });
});
