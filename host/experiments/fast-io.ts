// Experiment: fast I/O (PAPER.md section 5, Fig. 8-10). N streams of one rate each,
// every one from its own file (no two streams share disk blocks, so the disks' caches
// cannot flatter the result), for N over a range, on one or several seeds. Per point:
// the total requested rate, the streams HiTactix started and refused (and why), the
// total rate of stream data the measurement client received in a steady-state window,
// HiTactix's CPU load over that window (cycle accounting), and its late reads, failed
// reads and skipped periods in that window (its statistics block, host/htx-stats.ts).
// Then, per seed: the largest requested rate still sent in full (within 0.1 %), the
// plateau (the most sent), and a linear fit of load against requested rate over the
// points sent in full; over the seeds, their median, min and max.
//
// Files are laid out as uploads would lay them: each file's length is drawn from a
// uniform distribution of whole chunks between half and one and a half times
// `chunksPerFile` (a partial last chunk would lower a looping stream's rate), and the
// files are imported in a seeded random order, so the file system's own allocator
// (host/sfs.ts importFile: each disk filled in order) places them; stream i plays
// file i, which is not the i-th on the disks. `fileLengths: "equal"` restores the old
// layout (equal files back to back in stream order), whose rotational waits between
// chunks are systematic rather than random (README: the disk limit).
//
// Streams are started past admission control (FLAG_NO_ADMISSION) so the disks' own
// limit shows; every start's reply is checked. HiTactix still refuses a stream whose
// ring buffers do not fit its memory, or one past its distribution table: such a
// point is reported with its refusals (CSV, JSON, figure) and is never counted as
// "sent below requested" (it is neither full nor short: what it was asked was not
// started). Admission control's verdict comes with each reply even past admission:
// `pastAdmission` counts the streams it would have refused, so the disks' measured
// limit can be set beside what admission guarantees.
//
// Limits are checked before any work (checkFastIo): stream counts against the
// largest table HiTactix can be given (HTX_MAX_STREAMS; a count past the table asked
// for is allowed and shows as refusals) and the stream file system's 256 files (one
// per stream), each point's ring buffers against HiTactix's
// partition, and the files' bytes against the host memory budget below. Each point's
// CSV row is written as the point completes, so a sweep that fails keeps what it
// measured.
//
// Interface:
//   checkFastIo(options)       throws on a limit, before anything is allocated
//   runFastIo(options) -> FastIoResult
//   fileChunkCounts(n, mean, seed, kind) -> chunks of each file (the layout above)

import { join } from "node:path";
import { StreamRig, refusalReason, type FileSpec } from "./setup.js";
import { linearFit, saturation, spread, type Fit, type Spread } from "./metrics.js";
import { prepareOutDir } from "./out-dir.js";
import { chunkBytes } from "../sfs.js";
import { CsvFile, writeRangeChart } from "../plot.js";
import { Rng } from "../rng.js";
import { costModel, type CostModelName, type CostTable } from "../costs.js";
import { readHitactixStats, type HitactixStats } from "../htx-stats.js";
import {
  HTX_MAX_STREAMS, HTX_DEFAULT_STREAMS, HTX_RING_SLOTS, BOOT_HTX_NSTREAM, BOOT_HTX_TX_PATH, HTX_TX_2002, HTX_TX_FAST, ERR_ADMISSION,
} from "../../common/platform.js";
import { HTX_BASE, HTX_END } from "../../common/memmap.js";
import { SFS_MAX_FILES } from "../../common/sfs.js";

/** Host memory the files' contents may take. Each file is held twice: the client's
 *  copy to verify payloads against, and the memory disks' blocks. 2 GiB of files is
 *  4 GiB resident, a sixth of this 24 GiB machine (shared with other work). */
export const FILE_BYTES_BUDGET = 2 * 2 ** 30;
/** Mean chunks per file (~4 s at 256 ms), looped. */
export const CHUNKS_PER_FILE = 16;
const PERIOD_NS = 256_000_000;
/** Stream data per frame (guest-hitactix/param.ts FRAME_DATA): frames per Mbit/s. */
const FRAME_DATA = 1456;

export interface FastIoOptions {
  streams: number[];
  rateBps: number;
  outDir: string;
  /** The seed of a single-seed run (ignored when `seeds` is given). */
  seed: number;
  /** Seeds to repeat the sweep on (default [seed]). */
  seeds?: number[];
  warmNs?: number;
  measureNs?: number;
  /** Mean chunks per file (default CHUNKS_PER_FILE); tests make them shorter. */
  chunksPerFile?: number;
  /** "uniform" (default): lengths drawn and import order shuffled; "equal": the old layout. */
  fileLengths?: "uniform" | "equal";
  /** HiTactix's distribution table (BOOT_HTX_NSTREAM; default HiTactix's own). */
  streamTable?: number;
  /** HiTactix's transmit path (BOOT_HTX_TX_PATH): "fast" (default) or "2002". */
  txPath?: "fast" | "2002";
  /** CPU cost model (host/costs.ts): "flat" (default) or "p6". */
  costModel?: CostModelName;
  /** A cost table of one's own (overrides costModel; scripts/fig10-factors.mjs). */
  costs?: CostTable;
  /** Who drives HiTactix (setup.ts): BSD userland (default) or the host stand-in. */
  driver?: "bsd" | "host";
  /** BSD also runs a CPU-bound process and cron meanwhile. */
  bsdBusy?: boolean;
  log?: (s: string) => void;
}

export interface FastIoPoint {
  seed: number;
  streams: number;
  requestedMbps: number;
  /** Streams HiTactix started, and their rate. */
  started: number;
  startedMbps: number;
  sentMbps: number;
  cpuLoad: number;
  /** HiTactix's counters over the measurement window (all streams). */
  readErrors: number;
  lateReads: number;
  skippedPeriods: number;
  /** Streams HiTactix refused (the first refusal's reason in words), 0 if none. */
  refused: number;
  refusedReason?: string;
  /** Streams started past admission that admission control would have refused. */
  pastAdmission: number;
  mismatches: number;
  realTimeFactor: number;
}

export interface SeedSummary {
  seed: number;
  /** Largest requested rate sent in full (points without refusals), Mbit/s. */
  maxFullRateMbps: number;
  /** The most any point sent, Mbit/s. */
  plateauMbps: number;
  /** The rate of the streams admission control would have admitted (of the most
   *  started at one point), Mbit/s. */
  admittedMbps: number;
  cpuFit: Fit & { saturationMbps: number };
}

export interface FastIoResult {
  points: FastIoPoint[];
  seeds: SeedSummary[];
  /** Over the seeds. */
  fullRate: Spread;
  plateau: Spread;
  /** The first seed's (a single-seed run's) figures, as before. */
  maxFullRateMbps: number;
  /** Load against requested rate over every seed's full points, and the HiTactix
   *  cycles per frame that slope means. */
  cpuFit: Fit & { saturationMbps: number; cyclesPerFrame: number };
  csv: string;
  svg: string;
}

const MB = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

/** Chunks of each of n files: uniform whole chunks in [mean/2, 3 mean/2] (seeded), or
 *  `mean` each. */
export function fileChunkCounts(n: number, mean: number, seed: number, kind: "uniform" | "equal"): number[] {
  if (kind === "equal") return Array.from({ length: n }, () => mean);
  const lo = Math.max(1, Math.ceil(mean / 2));
  const hi = Math.max(lo, Math.floor((3 * mean) / 2));
  const rng = new Rng(seed).fork("fast-io file lengths");
  return Array.from({ length: n }, () => lo + rng.below(hi - lo + 1));
}

/** Every limit, before any work: throws an Error saying which and by how much. */
export function checkFastIo(o: FastIoOptions): void {
  if (o.streams.length === 0) throw new Error("fast-io: no stream counts to measure");
  for (const n of o.streams) {
    if (!Number.isInteger(n) || n < 1 || n > HTX_MAX_STREAMS) {
      throw new Error(`fast-io: ${n} streams: HiTactix's distribution table holds at most ${HTX_MAX_STREAMS} streams (1 to ${HTX_MAX_STREAMS})`);
    }
    if (n > SFS_MAX_FILES) {
      throw new Error(`fast-io: ${n} streams: each plays a file of its own, and the stream file system holds at most ${SFS_MAX_FILES} files`);
    }
  }
  const t = o.streamTable;
  if (t !== undefined && (!Number.isInteger(t) || t < 1 || t > HTX_MAX_STREAMS)) {
    throw new Error(`fast-io: a stream table of ${t}: HiTactix takes 1 to ${HTX_MAX_STREAMS}`);
  }
  if (!(o.rateBps > 0) || !Number.isFinite(o.rateBps)) throw new Error(`fast-io: the rate must be more than 0 (got ${o.rateBps})`);
  const chunk = chunkBytes(o.rateBps, PERIOD_NS);
  const most = Math.min(Math.max(...o.streams), t ?? HTX_DEFAULT_STREAMS);
  const partition = HTX_END - HTX_BASE;
  const ring = HTX_RING_SLOTS * chunk;
  if (most * ring > partition) {
    const fit = Math.floor(partition / ring);
    throw new Error(`fast-io: ${most} stream${most === 1 ? "" : "s"} of ${(o.rateBps / 1e6).toFixed(1)} Mbit/s need ${HTX_RING_SLOTS} ring buffers of ${MB(chunk)} each (${MB(most * ring)} in all), ` +
      `more than HiTactix's whole partition (${MB(partition)}); at this rate it holds at most ${fit} stream${fit === 1 ? "" : "s"}`);
  }
  const mean = o.chunksPerFile ?? CHUNKS_PER_FILE;
  const longest = (o.fileLengths ?? "uniform") === "equal" ? mean : Math.max(1, Math.floor((3 * mean) / 2));
  const files = Math.max(...o.streams) * chunk * longest;
  if (files > FILE_BYTES_BUDGET) {
    throw new Error(`fast-io: ${Math.max(...o.streams)} files of up to ${MB(chunk * longest)} are up to ${MB(files)}, over the host memory budget for file contents (${MB(FILE_BYTES_BUDGET)})`);
  }
}

export async function runFastIo(o: FastIoOptions): Promise<FastIoResult> {
  checkFastIo(o);
  const dir = prepareOutDir(o.outDir);
  const log = o.log ?? (() => {});
  const csv = join(dir, "fast-io.csv");
  const svg = join(dir, "fast-io.svg");
  const table = new CsvFile(csv, ["seed", "streams", "requested_Mbps", "started", "refused", "refused_reason", "past_admission",
    "sent_Mbps", "cpu_load", "read_errors", "late_reads", "skipped_periods"]);
  const seeds = o.seeds ?? [o.seed];
  const points: FastIoPoint[] = [];
  const summaries: SeedSummary[] = [];
  for (const seed of seeds) {
    const mine: FastIoPoint[] = [];
    for (const n of o.streams) {
      const p = await point(n, seed, o);
      mine.push(p);
      points.push(p);
      table.append([[seed, p.streams, p.requestedMbps, p.started, p.refused, p.refusedReason ?? "", p.pastAdmission,
        p.sentMbps, p.cpuLoad, p.readErrors, p.lateReads, p.skippedPeriods]]);
      log(`seed ${seed}, ${n} streams: requested ${p.requestedMbps.toFixed(1)} Mbit/s` +
        (p.refused ? `, ${p.refused} refused (${p.refusedReason}), started ${p.startedMbps.toFixed(1)} Mbit/s` : "") +
        `, sent ${p.sentMbps.toFixed(1)} Mbit/s, HiTactix load ${(p.cpuLoad * 100).toFixed(2)} %, ` +
        `late reads ${p.lateReads}, read errors ${p.readErrors}, skipped periods ${p.skippedPeriods}, past admission ${p.pastAdmission}, ${p.realTimeFactor.toFixed(1)}x real time`);
    }
    summaries.push(summarize(seed, mine));
  }
  const fullPoints = points.filter(isFull);
  const fitted = fullPoints.length >= 2 ? fullPoints : points.filter((p) => p.refused === 0);
  const fit = fitted.length >= 2 && new Set(fitted.map((p) => p.requestedMbps)).size >= 2
    ? linearFit(fitted.map((p) => p.requestedMbps), fitted.map((p) => p.cpuLoad))
    : { slope: NaN, intercept: NaN, r2: NaN }; // one rate: no line
  const hz = (o.costs ?? costModel(o.costModel ?? "flat")).hz;
  const framesPerMbit = 1e6 / 8 / FRAME_DATA; // frames per second per Mbit/s of stream data
  const cpuFit = { ...fit, saturationMbps: saturation(fit, 1), cyclesPerFrame: (fit.slope * hz) / framesPerMbit };
  await writeFigure(svg, points, seeds.length);
  return {
    points,
    seeds: summaries,
    fullRate: spread(summaries.map((s) => s.maxFullRateMbps)),
    plateau: spread(summaries.map((s) => s.plateauMbps)),
    maxFullRateMbps: summaries[0].maxFullRateMbps,
    cpuFit,
    csv,
    svg,
  };
}

/** Sent in full: nothing refused, and the requested rate sent within 0.1 %. */
function isFull(p: FastIoPoint): boolean {
  return p.refused === 0 && p.sentMbps >= p.requestedMbps * 0.999;
}

function summarize(seed: number, pts: FastIoPoint[]): SeedSummary {
  const full = pts.filter(isFull);
  const fitted = full.length >= 2 ? full : [];
  const fit = fitted.length >= 2 ? linearFit(fitted.map((p) => p.requestedMbps), fitted.map((p) => p.cpuLoad)) : { slope: NaN, intercept: NaN, r2: NaN };
  return {
    seed,
    maxFullRateMbps: full.length ? Math.max(...full.map((p) => p.requestedMbps)) : 0,
    plateauMbps: Math.max(...pts.map((p) => p.sentMbps)),
    // Streams are started in the same order at every point: admission takes the first ones.
    admittedMbps: Math.max(...pts.map((p) => ((p.started - p.pastAdmission) * p.requestedMbps) / p.streams)),
    cpuFit: { ...fit, saturationMbps: saturation(fit, 1) },
  };
}

async function writeFigure(svg: string, points: FastIoPoint[], seeds: number): Promise<void> {
  const byN = new Map<number, FastIoPoint[]>();
  for (const p of points) byN.set(p.streams, [...(byN.get(p.streams) ?? []), p]);
  const rows: Array<{ x: number; series: string; median: number; min: number; max: number }> = [];
  const add = (x: number, series: string, v: number[]): void => { rows.push({ x, series, ...spread(v) }); };
  for (const [n, ps] of [...byN].sort((a, b) => a[0] - b[0])) {
    const req = ps[0].requestedMbps;
    add(req, "requested (Mbit/s)", [req]);
    add(req, "started (Mbit/s)", ps.map((p) => p.startedMbps));
    add(req, "sent (Mbit/s)", ps.map((p) => p.sentMbps));
    add(req, "HiTactix CPU load (x1000)", ps.map((p) => p.cpuLoad * 1000));
    add(req, "streams refused (x10)", ps.map((p) => p.refused * 10));
    void n;
  }
  await writeRangeChart(svg, {
    title: `Sent rate, refusals and HiTactix CPU load against requested rate${seeds > 1 ? ` (median, min-max over ${seeds} seeds)` : ""}`,
    x: { title: "requested (Mbit/s)" },
    y: { title: "Mbit/s, CPU load x 1000, refusals x 10" },
    data: rows,
  });
}

async function point(n: number, seed: number, o: FastIoOptions): Promise<FastIoPoint> {
  const warm = o.warmNs ?? 2_000_000_000;
  const measure = o.measureNs ?? 3_000_000_000;
  // Whole chunks: a partial last chunk would take a whole period and lower the
  // stream's rate by its missing part at every loop.
  const chunk = chunkBytes(o.rateBps, PERIOD_NS);
  const kind = o.fileLengths ?? "uniform";
  const counts = fileChunkCounts(n, o.chunksPerFile ?? CHUNKS_PER_FILE, seed, kind);
  const streamFiles: FileSpec[] = counts.map((c, i) => ({ name: `s${i}`, bytes: chunk * c, rateBps: o.rateBps }));
  // Upload order: seeded shuffle (Fisher-Yates); file k on the volume is stream order[k]'s.
  const order = streamFiles.map((_, i) => i);
  if (kind === "uniform") {
    const rng = new Rng(seed).fork("fast-io upload order");
    for (let i = order.length - 1; i > 0; i--) { const j = rng.below(i + 1); [order[i], order[j]] = [order[j], order[i]]; }
  }
  const volumeIndex = new Array<number>(n);
  order.forEach((stream, k) => { volumeIndex[stream] = k; });
  const costs = o.costs ?? costModel(o.costModel ?? "flat");
  const rig = await StreamRig.create({
    files: order.map((i) => streamFiles[i]), policy: "cyclic", seed,
    edit: (cfg) => {
      cfg.costs = costs;
      cfg.cpus[1].bootArgs[BOOT_HTX_NSTREAM] = o.streamTable ?? 0;
      cfg.cpus[1].bootArgs[BOOT_HTX_TX_PATH] = o.txPath === "2002" ? HTX_TX_2002 : HTX_TX_FAST;
    },
    driver: o.driver, bsdBusy: o.bsdBusy,
  });
  try {
    rig.boot();
    for (let i = 0; i < n; i++) rig.start(volumeIndex[i], 6000 + i, { loop: true, noAdmission: true });
    // Every start is answered before the measurement starts.
    const b = rig.machine.board;
    const asked = rig.time;
    while (rig.streams.some((s) => s.id === -1)) {
      if (rig.time - asked > 1_000_000_000) throw new Error(`fast-io: HiTactix did not answer ${rig.streams.filter((s) => s.id === -1).length} stream starts within 1 s`);
      rig.run(rig.time + 10_000_000, `${n} streams`);
    }
    const refused = rig.streams.filter((s) => s.id === -2);
    const started = n - refused.length;
    const t0 = asked + warm;
    rig.run(t0, `${n} streams`);
    const client = rig.machine.client!;
    const data = (): number => client.flows().reduce((a, f) => a + f.dataBytes, 0);
    const d0 = data();
    const s0 = rig.stats();
    const wall0 = performance.now();
    rig.run(t0 + measure, `${n} streams`);
    const wall = (performance.now() - wall0) / 1000;
    const s1 = readHitactixStats(b.mem);
    const delta = (k: keyof HitactixStats): number => ((s1?.[k] as number) ?? 0) - ((s0?.[k] as number) ?? 0);
    const sent = ((data() - d0) * 8) / (measure / 1e9) / 1e6;
    const cpu = b.cpus[1];
    const win = cpu.loadSeries(t0 + measure, t0).slice(0, Math.floor(measure / cpu.windowNs));
    return {
      seed,
      streams: n,
      requestedMbps: (n * o.rateBps) / 1e6,
      started,
      startedMbps: (started * o.rateBps) / 1e6,
      sentMbps: sent,
      cpuLoad: win.reduce((a, v) => a + v, 0) / win.length,
      readErrors: delta("readErrors"),
      lateReads: delta("lateReads"),
      skippedPeriods: delta("skippedPeriods"),
      refused: refused.length,
      ...(refused.length ? { refusedReason: refusalReason(refused[0].reason) } : {}),
      pastAdmission: rig.streams.filter((s) => s.id >= 0 && s.reason === ERR_ADMISSION).length,
      mismatches: client.flows().reduce((a, f) => a + f.mismatches, 0),
      realTimeFactor: measure / 1e9 / wall,
    };
  } finally {
    rig.machine.close();
  }
}
