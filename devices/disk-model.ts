// The mechanics and timing of one 10,000 rpm Ultra2 disk of about 2000: the Quantum
// Atlas 10K ("QUANTUM_TORNADO"), as validated for DiskSim, with its zone table scaled so
// that the outer zone streams at the paper's 27 MB/s (MB = 10^6 B).
//
// What it models (sources: TIMING-REF.md section A, which digests DiskSim's
// valid/atlas10k.model and atlas10k.diskspecs; "[est]" marks an estimate):
//   - Layout: 24 recording bands (zones), each with its blocks per track and its track
//     and cylinder skews; blocks are numbered cylinder by cylinder, surface by surface
//     inside a cylinder, and every track switch shifts the first block of the next
//     track by the skew (track skew for a head switch, cylinder skew for the move to
//     the next cylinder), so a stream crossing a track never loses a revolution.
//     No spare sectors, slips or defects (the image maps LBA n to the n-th slot).
//   - Rotation in virtual time: the platter's angle is (time + spindle phase) mod one
//     revolution, so any access waits exactly for its first block to come round, and a
//     read that continues where the previous one ended waits for nothing.
//   - Seek: the two-piece least-squares fit of the extracted Atlas 10K seek curve,
//     the measured single-cylinder seek, head switch, extra settle before writes.
//   - Cache: 10 segments of 374 blocks, LRU. After a read the disk keeps reading
//     ahead (up to 354 blocks past the request) until another command needs the arm;
//     a read found in a segment (or in the running read-ahead) costs the read-hit
//     overhead, and its blocks still to come off the platter arrive at media pace.
//     Written blocks are readable from the cache ("read hits on write data").
//   - Write-back: see ScsiDisk (scsi-disk.ts) for when the status goes back; here a
//     write is one media run, taken in arrival order, positioned like a read plus
//     the write settle.
//
// The scale. The Atlas 10K's outer band holds 334 blocks per track: 28.6 MB/s off the
// platter, but only 23.5 MB/s sustained once the skews are paid (TIMING-REF A). The
// paper's disks sustain 27 MB/s. So every band's blocks per track is multiplied by ONE
// factor, the skews (in blocks) with it so that their duration (which covers the head
// switch / one-cylinder seek plus write settle) is unchanged, and rounded (blocks per
// track to nearest, skews up). fitScale() chooses the factor: the outer band's blocks
// per track whose sustained rate, computed by this model's own streaming arithmetic
// (zoneRate: one cylinder = S tracks + (S-1) track skews + 1 cylinder skew), is
// closest to the target. With the 6-surface geometry this gives 384/334 = 1.1497
// (26.96 MB/s at 383, 27.04 MB/s at 384); a geometry with more surfaces (fitted to a
// larger image, see `surfaces` below) is refitted the same way. Mechanics (seek,
// rotation, head switch, settle, overheads, cache sizes) are not scaled.
//
// Not modelled: zero-latency (out-of-order) sector access, seek-time variation, thermal
// recalibration, spare sectors/slips, the bus (the SCSI controller times it), command
// queue reordering (the disk serves in arrival order; see scsi-disk.ts), prefetch of
// data before the first block asked for.
//
// Time is integer ns. Every time is computed from absolute quantities (a stream's
// anchor, a block's slot), never by adding up rounded pieces across requests:
// slot u of a band starts floor(u * rev / spt) ns after slot 0 came under the head.
//
// Interface:
//   new DiskModel(opts)          geometry (fitted to opts.capacityBlocks), empty cache
//   reset()                      power on: arm at cylinder 0, cache empty
//   read(lba, n, t, fua)         a read starting at t -> ReadTiming (hit/stream/miss)
//   readFailing(lba, bad, t)     a read that stops at an unreadable block -> error time
//   write(lba, n, t, ovh)        a media write starting at t -> WriteTiming
//   writeFailing(lba, bad, t, ovh)   the same, stopping at an unwritable block
//   zoneRates()                  sustained sequential rate of every band, B/s
//   streamNs(lba, n)             media time of n blocks read without a break
//   seekNs(d), positionNs(from, to, write), trackOf(lba), nextPass(t, lba)
//   revNs, zones, surfaces, totalBlocks, capacity, scale, outerSpt, busyNs
//   setSlowdown(f, now)          fault injection: every mechanical time x f

// ---- Tables and constants ----------------------------------------------------------

/**
 * Recording bands of the Atlas 10K 9.1 GB: [first cylinder, last cylinder, blocks per
 * track, track-switch skew, cylinder-switch skew] (skews in blocks). Source: DiskSim
 * valid/atlas10k.model, "band 0".."band 23" (TIMING-REF.md A, "Zones" and "Skews").
 */
export const ATLAS10K_BANDS: readonly (readonly [number, number, number, number, number])[] = [
  [0, 432, 334, 63, 113], [433, 848, 334, 63, 113], [849, 1264, 334, 63, 113],
  [1265, 1688, 324, 63, 101], [1689, 2104, 324, 63, 101], [2105, 2520, 324, 63, 101],
  [2521, 2936, 324, 62, 101], [2937, 3360, 324, 61, 98], [3361, 3776, 324, 61, 98],
  [3777, 4192, 324, 61, 98], [4193, 4608, 324, 61, 98], [4609, 5032, 306, 58, 98],
  [5033, 5448, 306, 58, 98], [5449, 5864, 302, 57, 92], [5865, 6280, 293, 56, 91],
  [6281, 6704, 288, 55, 91], [6705, 7120, 288, 55, 88], [7121, 7536, 280, 54, 88],
  [7537, 7952, 270, 51, 87], [7953, 8376, 262, 51, 83], [8377, 8792, 255, 48, 83],
  [8793, 9208, 246, 47, 75], [9209, 9624, 237, 45, 75], [9625, 10041, 229, 44, 75],
];

/** Spindle speed, rpm (TIMING-REF A "rpm"; atlas10k.model "Rotation speed"). */
export const RPM = 10025;
/** One revolution, ns: 60e9 / 10025 = 5,985,037.4, rounded (0.07 ppm fast). */
export const REV_NS = Math.round(60e9 / RPM);
/** Data surfaces of the validated 9.1 GB model (TIMING-REF A "Geometry"). */
export const BASE_SURFACES = 6;
/** Cylinders (TIMING-REF A "Geometry"; the bands above cover 0..10041). */
export const CYLINDERS = 10042;
/** Head switch, ns (TIMING-REF A "head switch" 0.176 ms). */
export const HEAD_SWITCH_NS = 176_000;
/** Extra settle before writing after any arm movement, ns (TIMING-REF A, +0.487 ms). */
export const WRITE_SETTLE_NS = 487_000;
/** Single-cylinder seek, ns (TIMING-REF A "Track-to-track (1 cyl)" 1.245 ms, measured;
 *  the fit below gives 1.374 ms at d=1 and would make band 13's cylinder skew too short). */
export const SEEK_ONE_CYL_NS = 1_245_000;
/** Seek fit for 2 <= d <= 1000: 1.29 + 0.0841*sqrt(d) ms (TIMING-REF A "Seek fit"). */
export const SEEK_SHORT_BASE_NS = 1_290_000;
export const SEEK_SHORT_SQRT_NS = 84_100;
export const SEEK_SHORT_MAX_CYL = 1000;
/** Seek fit for d > 1000: 3.19 + 0.000737*d ms (TIMING-REF A "Seek fit"). */
export const SEEK_LONG_BASE_NS = 3_190_000;
export const SEEK_LONG_PER_CYL_NS = 737;
/** Read hit overhead, ns (atlas10k.diskspecs "Read hit over." 0.184 ms). */
export const READ_HIT_OVERHEAD_NS = 184_000;
/** Read miss overhead: 0, folded into the extracted seek curve (atlas10k.diskspecs). */
export const READ_MISS_OVERHEAD_NS = 0;
/** Write hit overhead after a read / after a write, ns (atlas10k.diskspecs). */
export const WRITE_HIT_OVERHEAD_AFTER_READ_NS = 186_000;
export const WRITE_HIT_OVERHEAD_AFTER_WRITE_NS = 189_000;
/** Write miss (write-through) overhead after a read / after a write, ns (diskspecs). */
export const WRITE_MISS_OVERHEAD_AFTER_READ_NS = 344_920;
export const WRITE_MISS_OVERHEAD_AFTER_WRITE_NS = 496_730;
/** Cache: segments and their size in blocks (diskspecs "Number of buffer segments",
 *  "Segment size (in blks)"). */
export const CACHE_SEGMENTS = 10;
export const SEGMENT_BLOCKS = 374;
/** Read-ahead past the request, blocks (diskspecs "Maximum read-ahead (blks)"). */
export const READ_AHEAD_BLOCKS = 354;
/** Dirty blocks the write-back cache holds: one write segment ("Maximum number of
 *  write segments = 1") of 374 blocks (diskspecs). */
export const WRITE_BACK_BLOCKS = 374;
/** Revolutions spent retrying an unreadable/unwritable block before reporting it
 *  [est: a read retry count of 8, one revolution per retry, the order of the default
 *  of mode page 01h on drives of the period; no Atlas 10K figure found]. */
export const ERROR_RETRY_REVS = 8;
/** The paper's sustained sequential read rate, B/s (PAPER.md Table 1, via TIMING-REF). */
export const TARGET_OUTER_BPS = 27_000_000;
/** Most surfaces a geometry fitted to a large image may get (sanity bound). */
const MAX_SURFACES = 64;

/** One band after scaling, with its place in the LBA space. */
export interface Zone {
  readonly band: number;
  readonly firstCyl: number;
  readonly lastCyl: number;
  /** Blocks per track (scaled). */
  readonly spt: number;
  /** Skew at a head switch / at a cylinder switch, in block slots (scaled). */
  readonly trackSkew: number;
  readonly cylSkew: number;
  readonly firstLba: number;
  readonly blocks: number;
  /** Blocks per cylinder = surfaces * spt. */
  readonly perCyl: number;
  /** Slots one cylinder spans when streamed: S*spt + (S-1)*trackSkew + cylSkew. */
  readonly cylSlots: number;
}

export interface DiskModelOptions {
  /** Blocks the disk must hold (e.g. the image's size). Surfaces are added to the
   *  6-surface Atlas 10K (as its 18/36 GB siblings have more) until they fit; the scale
   *  is refitted for that surface count. Default: the 6-surface geometry's capacity. */
  capacityBlocks?: number;
  /** Force a surface count (then capacityBlocks must fit). */
  surfaces?: number;
  /** Outer-zone sustained rate to fit, B/s (default TARGET_OUTER_BPS). */
  outerZoneBps?: number;
  /** Fault injection: every mechanical time and overhead multiplied by this (>= 0.1). */
  slowdown?: number;
  /** Spindle phase at t = 0, ns (ScsiDisk draws it from its Rng). */
  phaseNs?: number;
  /** Cache parameters (defaults: the Atlas 10K's). */
  readAheadBlocks?: number;
  cacheSegments?: number;
}

export const HIT = 0; // every block in the cache
export const STREAM = 1; // the running read-ahead reaches the request: no seek, no rotation
export const MISS = 2; // positioning and rotation, then a new stream

export interface ReadTiming {
  kind: typeof HIT | typeof STREAM | typeof MISS;
  /** Blocks found in a segment at the start. */
  hitBlocks: number;
  /** Earliest time data may go to the host (command start + overhead). */
  readyNs: number;
  /** Time the last block is off the platter (readyNs for a full hit). */
  mediaEndNs: number;
  /** Cylinders moved, rotational wait (misses only). */
  seekCyl: number;
  rotNs: number;
}

export interface WriteTiming {
  startNs: number; // first block under the head
  mediaEndNs: number;
  seekCyl: number;
  rotNs: number;
}

/** A continuous media run: block `lba` started under the head at `t`. */
interface Anchor {
  lba: number;
  t: number;
}

/** A cache segment: blocks [lo, hi). */
interface Segment {
  lo: number;
  hi: number;
}

/** The read-ahead in progress: reads from its anchor on until `limit` (exclusive). */
interface Stream {
  a: Anchor;
  limit: number;
  seg: Segment;
}

// ---- Geometry (pure functions of the band table) ------------------------------------

/** Seek time for a move of d cylinders at normal speed, ns. */
export function baseSeekNs(d: number): number {
  if (d <= 0) return 0;
  if (d === 1) return SEEK_ONE_CYL_NS;
  if (d <= SEEK_SHORT_MAX_CYL) return Math.round(SEEK_SHORT_BASE_NS + SEEK_SHORT_SQRT_NS * Math.sqrt(d));
  return SEEK_LONG_BASE_NS + SEEK_LONG_PER_CYL_NS * d;
}

/** The band table scaled by outerSpt/334, laid out for `surfaces` surfaces. */
export function buildZones(surfaces: number, outerSpt: number): Zone[] {
  const base = ATLAS10K_BANDS[0][2];
  let lba = 0;
  return ATLAS10K_BANDS.map(([c0, c1, spt0, ts0, cs0], band) => {
    const spt = Math.round((spt0 * outerSpt) / base);
    const trackSkew = Math.ceil((ts0 * spt) / spt0);
    const cylSkew = Math.ceil((cs0 * spt) / spt0);
    const perCyl = surfaces * spt;
    const blocks = (c1 - c0 + 1) * perCyl;
    const z: Zone = {
      band, firstCyl: c0, lastCyl: c1, spt, trackSkew, cylSkew, firstLba: lba, blocks, perCyl,
      cylSlots: perCyl + (surfaces - 1) * trackSkew + cylSkew,
    };
    lba += blocks;
    return z;
  });
}

/** Time from slot 0 of a band to slot u, ns. */
function slotNs(z: Zone, u: number, rev: number): number {
  return Math.floor((u * rev) / z.spt);
}

/** Sustained sequential rate of a band, B/s: one cylinder's bytes over its stream time. */
export function zoneRate(z: Zone, rev: number): number {
  return (z.perCyl * 512 * 1e9) / slotNs(z, z.cylSlots, rev);
}

/** The outer band's blocks per track whose sustained rate is closest to targetBps. */
export function fitScale(surfaces: number, targetBps: number): number {
  const base = ATLAS10K_BANDS[0][2];
  const unscaled = zoneRate(buildZones(surfaces, base)[0], REV_NS);
  const guess = Math.round((base * targetBps) / unscaled);
  let best = guess;
  for (let spt = guess - 3; spt <= guess + 3; spt++) {
    const err = Math.abs(zoneRate(buildZones(surfaces, spt)[0], REV_NS) - targetBps);
    if (err < Math.abs(zoneRate(buildZones(surfaces, best)[0], REV_NS) - targetBps)) best = spt;
  }
  return best;
}

// ---- The model ------------------------------------------------------------------------

export class DiskModel {
  readonly surfaces: number;
  readonly zones: readonly Zone[];
  /** Scaled blocks per track of the outer band, and the scale factor (outerSpt/334). */
  readonly outerSpt: number;
  readonly scale: number;
  /** Blocks of the whole geometry, and the blocks in use (<= totalBlocks). */
  readonly totalBlocks: number;
  readonly capacity: number;
  readonly readAhead: number;
  readonly segments: number;

  // Timing, scaled by the slowdown (integer ns).
  /** Slowdown in thousandths (1000 = normal speed). */
  private slow = 1000;
  revNs = REV_NS;
  headSwitchNs = HEAD_SWITCH_NS;
  writeSettleNs = WRITE_SETTLE_NS;

  // State.
  /** Spindle phase: the platter angle at time t is (t + phase) mod revNs. */
  private readonly phase: number;
  /** The heads sit on this block's track whenever no stream moves them. */
  private armLba = 0;
  /** The read-ahead in progress, or null (idle, or after a write). */
  private stream: Stream | null = null;
  /** Cache segments, least recently used first. */
  private segs: Segment[] = [];
  /** Time the mechanism has spent positioning and transferring, ns. */
  busyNs = 0;

  constructor(opts: DiskModelOptions = {}) {
    const target = opts.outerZoneBps ?? TARGET_OUTER_BPS;
    const want = opts.capacityBlocks;
    let s = opts.surfaces ?? BASE_SURFACES;
    let spt = fitScale(s, target);
    let zones = buildZones(s, spt);
    while (opts.surfaces === undefined && want !== undefined && endOf(zones) < want) {
      if (++s > MAX_SURFACES) throw new Error(`disk model: ${want} blocks need more than ${MAX_SURFACES} surfaces`);
      spt = fitScale(s, target);
      zones = buildZones(s, spt);
    }
    if (want !== undefined && endOf(zones) < want) {
      throw new Error(`disk model: ${want} blocks do not fit ${s} surfaces (${endOf(zones)} blocks)`);
    }
    this.surfaces = s;
    this.zones = zones;
    this.outerSpt = spt;
    this.scale = spt / ATLAS10K_BANDS[0][2];
    this.totalBlocks = endOf(zones);
    this.capacity = want ?? this.totalBlocks;
    this.readAhead = opts.readAheadBlocks ?? READ_AHEAD_BLOCKS;
    this.segments = opts.cacheSegments ?? CACHE_SEGMENTS;
    this.phase = opts.phaseNs ?? 0;
    this.setSlowdown(opts.slowdown ?? 1, 0);
  }

  reset(): void {
    this.armLba = 0;
    this.stream = null;
    this.segs = [];
    this.busyNs = 0;
  }

  /** Fault injection: from `now` on, every mechanical time runs `factor` times slower. */
  setSlowdown(factor: number, now: number): void {
    if (!(factor >= 0.1 && factor <= 1000)) throw new Error(`disk slowdown ${factor}: give a factor between 0.1 and 1000`);
    this.stopStream(now); // the running stream's times were computed at the old speed
    this.slow = Math.round(factor * 1000);
    this.revNs = this.scaled(REV_NS);
    this.headSwitchNs = this.scaled(HEAD_SWITCH_NS);
    this.writeSettleNs = this.scaled(WRITE_SETTLE_NS);
    this.checkSkews();
  }

  get slowdown(): number {
    return this.slow / 1000;
  }

  // ---- Geometry ----

  zoneOf(lba: number): Zone {
    const zs = this.zones;
    let lo = 0;
    let hi = zs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (zs[mid].firstLba <= lba) lo = mid;
      else hi = mid - 1;
    }
    return zs[lo];
  }

  /** Track number (cylinder * surfaces + head) holding `lba`. */
  trackOf(lba: number): number {
    const z = this.zoneOf(lba);
    const off = lba - z.firstLba;
    const cyl = Math.floor(off / z.perCyl);
    const head = Math.floor((off - cyl * z.perCyl) / z.spt);
    return (z.firstCyl + cyl) * this.surfaces + head;
  }

  /** Seek of d cylinders, ns (slowdown applied). */
  seekNs(d: number): number {
    return this.scaled(baseSeekNs(d));
  }

  /** Moving the heads from one track to another: seek, or head switch; + settle for writes. */
  positionNs(fromTrack: number, toTrack: number, write: boolean): number {
    if (fromTrack === toTrack) return 0;
    const d = Math.abs(Math.floor(fromTrack / this.surfaces) - Math.floor(toTrack / this.surfaces));
    return (d > 0 ? this.seekNs(d) : this.headSwitchNs) + (write ? this.writeSettleNs : 0);
  }

  /** Unrolled slot of `lba` in its band: where it passes in a continuous stream. */
  private slotOf(z: Zone, lba: number): number {
    const off = lba - z.firstLba;
    const cyl = Math.floor(off / z.perCyl);
    const rem = off - cyl * z.perCyl;
    const head = Math.floor(rem / z.spt);
    return cyl * z.cylSlots + head * (z.spt + z.trackSkew) + (rem - head * z.spt);
  }

  /** Blocks of band z whose unrolled slot is below u. */
  private blocksBelow(z: Zone, u: number): number {
    if (u <= 0) return 0;
    const cyl = Math.floor(u / z.cylSlots);
    const rem = u - cyl * z.cylSlots;
    const head = Math.min(this.surfaces - 1, Math.floor(rem / (z.spt + z.trackSkew)));
    const within = Math.min(z.spt, rem - head * (z.spt + z.trackSkew));
    return Math.min(z.blocks, cyl * z.perCyl + head * z.spt + within);
  }

  /** First time >= t at which `lba` starts under the head. */
  nextPass(t: number, lba: number): number {
    const z = this.zoneOf(lba);
    const angle = slotNs(z, this.slotOf(z, lba), this.revNs) % this.revNs;
    const r = this.revNs;
    return t + ((((angle - ((t + this.phase) % r)) % r) + r) % r);
  }

  // ---- Streaming arithmetic: a continuous run of blocks from an anchor ----

  /** Time `lba` (>= a.lba) starts under the head in the run anchored at a. */
  private startOf(a: Anchor, lba: number, write = false): number {
    let z = this.zoneOf(a.lba);
    let al = a.lba;
    let at = a.t;
    while (lba >= z.firstLba + z.blocks) {
      // Cross into the next band: one-cylinder move, then its first block (slot 0).
      const last = z.firstLba + z.blocks - 1;
      const end = at + slotNs(z, this.slotOf(z, last) + 1, this.revNs) - slotNs(z, this.slotOf(z, al), this.revNs);
      const next = this.zones[z.band + 1];
      at = this.nextPass(end + this.positionNs(this.trackOf(last), this.trackOf(next.firstLba), write), next.firstLba);
      al = next.firstLba;
      z = next;
    }
    return at + slotNs(z, this.slotOf(z, lba), this.revNs) - slotNs(z, this.slotOf(z, al), this.revNs);
  }

  /** Time `lba` has passed completely under the head in the run anchored at a. */
  private endOf(a: Anchor, lba: number, write = false): number {
    const z = this.zoneOf(lba);
    const u = this.slotOf(z, lba);
    return this.startOf(a, lba, write) + slotNs(z, u + 1, this.revNs) - slotNs(z, u, this.revNs);
  }

  /** First block not yet completely read at time t by the run anchored at a (<= limit). */
  private doneBy(a: Anchor, t: number, limit: number): number {
    if (limit <= a.lba || t < a.t) return a.lba;
    if (t >= this.endOf(a, limit - 1)) return limit;
    let z = this.zoneOf(a.lba);
    let al = a.lba;
    let at = a.t;
    for (;;) {
      const x = t - at + slotNs(z, this.slotOf(z, al), this.revNs);
      // Largest slot u with slotNs(u) <= x; blocks with slot + 1 <= that are done.
      const uMax = Math.floor(((x + 1) * z.spt - 1) / this.revNs);
      const done = z.firstLba + this.blocksBelow(z, uMax);
      if (done < z.firstLba + z.blocks) return Math.min(limit, Math.max(al, done));
      const next = this.zones[z.band + 1];
      at = this.startOf(a, next.firstLba);
      al = next.firstLba;
      z = next;
      if (t < at) return al;
    }
  }

  // ---- Cache ----

  /** Where the heads are at time t (the running stream moves them). */
  private armTrackAt(t: number): number {
    const st = this.stream;
    if (st === null) return this.trackOf(this.armLba);
    return this.trackOf(Math.min(this.doneBy(st.a, t, st.limit), st.limit - 1));
  }

  /** Another command takes the arm at t: the read-ahead stops, its blocks stay cached. */
  private stopStream(t: number): void {
    const st = this.stream;
    if (st === null) return;
    const done = this.doneBy(st.a, t, st.limit);
    st.seg.hi = done;
    this.armLba = Math.min(done, st.limit - 1);
    this.stream = null;
    if (st.seg.hi <= st.seg.lo) this.dropSegment(st.seg);
  }

  private newSegment(lo: number, hi: number): Segment {
    if (this.segs.length >= this.segments) this.segs.shift(); // LRU; the stream was stopped
    const s = { lo, hi };
    this.segs.push(s);
    return s;
  }

  private dropSegment(s: Segment): void {
    const i = this.segs.indexOf(s);
    if (i >= 0) this.segs.splice(i, 1);
  }

  private touch(s: Segment): void {
    this.dropSegment(s);
    this.segs.push(s);
  }

  // ---- Operations ----

  /**
   * A read of blocks [lba, lba+n) whose command starts at t (the previous command has
   * released the disk). fua: every block must come from the platter.
   */
  read(lba: number, n: number, t: number, fua = false): ReadTiming {
    const st = this.stream;
    let running = false;
    if (st !== null) {
      st.seg.hi = this.doneBy(st.a, t, st.limit);
      running = st.seg.hi < st.limit;
    }
    // Longest prefix held by a segment (the newest SEGMENT_BLOCKS of each).
    let hit = 0;
    let hitSeg: Segment | null = null;
    if (!fua) {
      for (const s of this.segs) {
        const lo = Math.max(s.lo, s.hi - SEGMENT_BLOCKS);
        if (lba >= lo && lba < s.hi && Math.min(n, s.hi - lba) > hit) {
          hit = Math.min(n, s.hi - lba);
          hitSeg = s;
        }
      }
    }
    const hitReady = t + this.scaled(READ_HIT_OVERHEAD_NS);
    if (hit === n && hitSeg !== null) {
      if (st !== null && running && hitSeg === st.seg) st.limit = Math.max(st.limit, this.raLimit(lba + n));
      this.touch(hitSeg);
      return { kind: HIT, hitBlocks: n, readyNs: hitReady, mediaEndNs: hitReady, seekCyl: 0, rotNs: 0 };
    }
    const p = lba + hit;
    if (st !== null && running && p >= st.seg.hi && p <= st.limit) {
      // The read-ahead is on its way to p: keep streaming, stay ahead of the reader.
      st.limit = Math.max(st.limit, this.raLimit(lba + n));
      const end = this.endOf(st.a, lba + n - 1);
      this.touch(st.seg);
      this.busyNs += end - t;
      return { kind: STREAM, hitBlocks: hit, readyNs: hitReady, mediaEndNs: end, seekCyl: 0, rotNs: 0 };
    }
    // Miss: position, wait for p to come round, stream from there.
    const from = this.armTrackAt(t);
    this.stopStream(t);
    const to = this.trackOf(p);
    const ready = t + this.scaled(READ_MISS_OVERHEAD_NS) + this.positionNs(from, to, false);
    const start = this.nextPass(ready, p);
    const a = { lba: p, t: start };
    const end = this.endOf(a, lba + n - 1);
    this.stream = { a, limit: this.raLimit(lba + n), seg: this.newSegment(p, p) };
    this.busyNs += end - t;
    const seekCyl = Math.abs(Math.floor(from / this.surfaces) - Math.floor(to / this.surfaces));
    return {
      kind: MISS, hitBlocks: hit, readyNs: hit > 0 ? hitReady : t + this.scaled(READ_MISS_OVERHEAD_NS),
      mediaEndNs: end, seekCyl, rotNs: start - ready,
    };
  }

  /**
   * A read of [lba, ...) that reaches the unreadable block `bad` (lba <= bad): the
   * blocks before it come off the platter, then the disk retries `bad` for
   * ERROR_RETRY_REVS revolutions and gives up. Returns the read timing (mediaEndNs =
   * the good blocks' end) and the time the error is known.
   */
  readFailing(lba: number, bad: number, t: number): { timing: ReadTiming; errorNs: number } {
    const timing = this.read(lba, bad - lba + 1, t, true);
    const st = this.stream;
    if (st !== null) {
      st.seg.hi = bad; // what it holds is the good blocks; no read-ahead past an error
      if (st.seg.hi <= st.seg.lo) this.dropSegment(st.seg);
      this.stream = null;
    }
    this.armLba = bad;
    const z = this.zoneOf(bad);
    const u = this.slotOf(z, bad);
    // The good blocks are off the platter by the time the bad one comes under the head.
    const goodEnd = timing.mediaEndNs - (slotNs(z, u + 1, this.revNs) - slotNs(z, u, this.revNs));
    const errorNs = timing.mediaEndNs + ERROR_RETRY_REVS * this.revNs;
    this.busyNs += errorNs - timing.mediaEndNs;
    return { timing: { ...timing, mediaEndNs: Math.max(timing.readyNs, goodEnd) }, errorNs };
  }

  /**
   * A media write of [lba, lba+n) whose turn comes at t; overheadNs is command processing
   * before the arm moves (0 for a write-back destage). The blocks join the cache.
   */
  write(lba: number, n: number, t: number, overheadNs: number): WriteTiming {
    const from = this.armTrackAt(t);
    this.stopStream(t);
    const to = this.trackOf(lba);
    const ready = t + overheadNs + this.positionNs(from, to, true);
    const start = this.nextPass(ready, lba);
    const end = this.endOf({ lba, t: start }, lba + n - 1, true);
    this.armLba = lba + n - 1;
    this.newSegment(Math.max(lba, lba + n - SEGMENT_BLOCKS), lba + n);
    this.busyNs += end - t;
    const seekCyl = Math.abs(Math.floor(from / this.surfaces) - Math.floor(to / this.surfaces));
    return { startNs: start, mediaEndNs: end, seekCyl, rotNs: start - ready };
  }

  /** A write that fails at block `bad`: written up to it, retried, then reported. */
  writeFailing(lba: number, bad: number, t: number, overheadNs: number): { timing: WriteTiming; errorNs: number } {
    const timing = this.write(lba, bad - lba + 1, t, overheadNs);
    const last = this.segs[this.segs.length - 1];
    last.hi = bad;
    if (last.hi <= last.lo) this.dropSegment(last);
    const errorNs = timing.mediaEndNs + ERROR_RETRY_REVS * this.revNs;
    this.busyNs += errorNs - timing.mediaEndNs;
    return { timing, errorNs };
  }

  /** Overheads with the slowdown applied (the ScsiDisk picks after-read/after-write). */
  overheadNs(baseNs: number): number {
    return this.scaled(baseNs);
  }

  /** Media time of n blocks from lba streamed without a break (from its first block's start). */
  streamNs(lba: number, n: number): number {
    const a = { lba, t: 0 };
    return this.endOf(a, lba + n - 1);
  }

  /** Sustained sequential rate of every band (with skews), B/s, at the current speed. */
  zoneRates(): { band: number; firstCyl: number; lastCyl: number; spt: number; bps: number }[] {
    return this.zones.map((z) => ({ band: z.band, firstCyl: z.firstCyl, lastCyl: z.lastCyl, spt: z.spt, bps: zoneRate(z, this.revNs) }));
  }

  // ---- Helpers ----

  private scaled(ns: number): number {
    return Math.round((ns * this.slow) / 1000);
  }

  private raLimit(end: number): number {
    return Math.min(this.capacity, end + this.readAhead);
  }

  /**
   * The streaming arithmetic assumes every skew covers its switch, for writes too
   * (head switch + settle; one-cylinder seek + settle): check it once per speed.
   */
  private checkSkews(): void {
    const r = this.revNs;
    for (const z of this.zones) {
      const track = Math.floor((z.trackSkew * r) / z.spt) - 1;
      const cyl = Math.floor((z.cylSkew * r) / z.spt) - 1;
      if (track < this.headSwitchNs + this.writeSettleNs || cyl < this.seekNs(1) + this.writeSettleNs) {
        throw new Error(`disk model: band ${z.band} skews (${z.trackSkew}, ${z.cylSkew} slots) do not cover the switch times`);
      }
    }
  }
}

function endOf(zones: readonly Zone[]): number {
  const z = zones[zones.length - 1];
  return z.firstLba + z.blocks;
}
