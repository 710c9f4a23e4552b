// Experiment: fast I/O (PAPER.md section 5, Fig. 8-10). N streams of 8.8 Mbit/s each,
// every one from its own file (no two streams share disk blocks, so the disks' caches
// cannot flatter the result), for N over a range. Per point: the total requested rate,
// the total rate of stream data the measurement client received in a steady-state
// window, and HiTactix's CPU load over that window (cycle accounting). Then: a linear
// fit of load against requested rate (r^2, where it would reach 100 %), and the largest
// requested rate still sent in full (within 0.1 %), the fit taken over those points.
// Streams are started past admission control (FLAG_NO_ADMISSION) so the disks' own
// limit shows; HiTactix still refuses a stream whose ring buffers do not fit its
// memory, and a point with a refused stream ends the sweep with that reason.
//
// Limits are checked before any work (checkFastIo): stream counts against HiTactix's
// table (HTX_MAX_STREAMS), each point's ring buffers against HiTactix's partition, and
// the files' bytes against the host memory budget below. Each point's CSV row is
// written as the point completes, so a sweep that fails keeps what it measured. Per
// point the JSON also carries HiTactix's failed reads, late reads and skipped periods
// (its statistics block, host/htx-stats.ts) since the streams started.
//
// Interface:
//   checkFastIo(options)       throws on a limit, before anything is allocated
//   runFastIo(options) -> FastIoResult

import { join } from "node:path";
import { StreamRig, refusalReason } from "./setup.js";
import { linearFit, saturation, type Fit } from "./metrics.js";
import { prepareOutDir } from "./out-dir.js";
import { chunkBytes } from "../sfs.js";
import { CsvFile, writeLineChart } from "../plot.js";
import { HTX_MAX_STREAMS, HTX_RING_SLOTS } from "../../common/platform.js";
import { HTX_BASE, HTX_END } from "../../common/memmap.js";

/** Host memory the files' contents may take. Each file is held twice: the client's
 *  copy to verify payloads against, and the memory disks' blocks. 2 GiB of files is
 *  4 GiB resident, a sixth of this 24 GiB machine (shared with other work). */
export const FILE_BYTES_BUDGET = 2 * 2 ** 30;
/** Chunks per file: whole chunks (~4 s at 256 ms), looped. */
export const CHUNKS_PER_FILE = 16;
const PERIOD_NS = 256_000_000;

export interface FastIoOptions {
  streams: number[];
  rateBps: number;
  outDir: string;
  seed: number;
  warmNs?: number;
  measureNs?: number;
  /** Chunks per file (default CHUNKS_PER_FILE); tests make them shorter. */
  chunksPerFile?: number;
  log?: (s: string) => void;
}

export interface FastIoPoint {
  streams: number;
  requestedMbps: number;
  sentMbps: number;
  cpuLoad: number;
  /** HiTactix's counters since the point's streams started (all streams). */
  readErrors: number;
  lateReads: number;
  skippedPeriods: number;
  /** Streams HiTactix refused (reason in words), 0 if none. */
  refused: number;
  refusedReason?: string;
  mismatches: number;
  realTimeFactor: number;
}

export interface FastIoResult {
  points: FastIoPoint[];
  maxFullRateMbps: number;
  cpuFit: Fit & { saturationMbps: number };
  csv: string;
  svg: string;
}

const MB = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

/** Every limit, before any work: throws an Error saying which and by how much. */
export function checkFastIo(o: FastIoOptions): void {
  if (o.streams.length === 0) throw new Error("fast-io: no stream counts to measure");
  for (const n of o.streams) {
    if (!Number.isInteger(n) || n < 1 || n > HTX_MAX_STREAMS) {
      throw new Error(`fast-io: ${n} streams: HiTactix's distribution table holds 1 to ${HTX_MAX_STREAMS} streams`);
    }
  }
  if (!(o.rateBps > 0) || !Number.isFinite(o.rateBps)) throw new Error(`fast-io: the rate must be more than 0 (got ${o.rateBps})`);
  const chunk = chunkBytes(o.rateBps, PERIOD_NS);
  const most = Math.max(...o.streams);
  const partition = HTX_END - HTX_BASE;
  const ring = HTX_RING_SLOTS * chunk;
  if (most * ring > partition) {
    const fit = Math.floor(partition / ring);
    throw new Error(`fast-io: ${most} stream${most === 1 ? "" : "s"} of ${(o.rateBps / 1e6).toFixed(1)} Mbit/s need ${HTX_RING_SLOTS} ring buffers of ${MB(chunk)} each (${MB(most * ring)} in all), ` +
      `more than HiTactix's whole partition (${MB(partition)}); at this rate it holds at most ${fit} stream${fit === 1 ? "" : "s"}`);
  }
  const files = most * chunk * (o.chunksPerFile ?? CHUNKS_PER_FILE);
  if (files > FILE_BYTES_BUDGET) {
    throw new Error(`fast-io: ${most} files of ${MB(files / most)} are ${MB(files)}, over the host memory budget for file contents (${MB(FILE_BYTES_BUDGET)})`);
  }
}

export async function runFastIo(o: FastIoOptions): Promise<FastIoResult> {
  checkFastIo(o);
  const dir = prepareOutDir(o.outDir);
  const log = o.log ?? (() => {});
  const csv = join(dir, "fast-io.csv");
  const svg = join(dir, "fast-io.svg");
  const table = new CsvFile(csv, ["streams", "requested_Mbps", "sent_Mbps", "cpu_load", "read_errors", "late_reads", "skipped_periods", "refused"]);
  const points: FastIoPoint[] = [];
  for (const n of o.streams) {
    const p = point(n, o);
    points.push(p);
    table.append([[p.streams, p.requestedMbps, p.sentMbps, p.cpuLoad, p.readErrors, p.lateReads, p.skippedPeriods, p.refused]]);
    log(`${n} streams: requested ${p.requestedMbps.toFixed(1)} Mbit/s, sent ${p.sentMbps.toFixed(1)} Mbit/s, HiTactix load ${(p.cpuLoad * 100).toFixed(2)} %, ` +
      `late reads ${p.lateReads}, read errors ${p.readErrors}, skipped periods ${p.skippedPeriods}, ${p.realTimeFactor.toFixed(1)}x real time`);
    if (p.refused > 0) {
      throw new Error(`fast-io: at ${n} streams HiTactix refused ${p.refused} stream${p.refused === 1 ? "" : "s"} (${p.refusedReason}); ` +
        `the sweep stops here, the points measured are in ${csv}`);
    }
  }
  const full = points.filter((p) => p.sentMbps >= p.requestedMbps * 0.999);
  const maxFullRateMbps = full.length ? Math.max(...full.map((p) => p.requestedMbps)) : 0;
  // The load is fitted where the requested rate is actually sent: past the disk limit
  // the work stops growing with the request.
  const fitted = full.length >= 2 ? full : points;
  const fit = fitted.length >= 2
    ? linearFit(fitted.map((p) => p.requestedMbps), fitted.map((p) => p.cpuLoad))
    : { slope: NaN, intercept: NaN, r2: NaN }; // one point: no line
  const cpuFit = { ...fit, saturationMbps: saturation(fit, 1) };
  await writeLineChart(svg, {
    title: "Sent rate and HiTactix CPU load against requested rate",
    x: { field: "requested", title: "requested (Mbit/s)" },
    y: { field: "value", title: "Mbit/s, or CPU load x 1000" },
    color: { field: "series", title: "" },
    interpolate: "linear",
    data: points.flatMap((p) => [
      { requested: p.requestedMbps, value: p.requestedMbps, series: "requested (Mbit/s)" },
      { requested: p.requestedMbps, value: p.sentMbps, series: "sent (Mbit/s)" },
      { requested: p.requestedMbps, value: p.cpuLoad * 1000, series: "HiTactix CPU load (x1000)" },
    ]),
  });
  return { points, maxFullRateMbps, cpuFit, csv, svg };
}

function point(n: number, o: FastIoOptions): FastIoPoint {
  const warm = o.warmNs ?? 2_000_000_000;
  const measure = o.measureNs ?? 3_000_000_000;
  // Whole chunks: a partial last chunk would take a whole period and lower the
  // stream's rate by its missing part at every loop.
  const fileBytes = chunkBytes(o.rateBps, PERIOD_NS) * (o.chunksPerFile ?? CHUNKS_PER_FILE);
  const files = Array.from({ length: n }, (_, i) => ({ name: `s${i}`, bytes: fileBytes, rateBps: o.rateBps }));
  const rig = new StreamRig({ files, policy: "cyclic", seed: o.seed });
  try {
    rig.boot();
    for (let i = 0; i < n; i++) rig.start(i, 6000 + i, { loop: true, noAdmission: true });
    const t0 = rig.machine.board.sched.now + warm;
    rig.run(t0, `${n} streams`);
    const client = rig.machine.client!;
    const data = (): number => client.flows().reduce((a, f) => a + f.dataBytes, 0);
    const d0 = data();
    const wall0 = performance.now();
    rig.run(t0 + measure, `${n} streams`);
    const wall = (performance.now() - wall0) / 1000;
    const sent = ((data() - d0) * 8) / (measure / 1e9) / 1e6;
    const cpu = rig.machine.board.cpus[1];
    const win = cpu.loadSeries(t0 + measure, t0).slice(0, Math.floor(measure / cpu.windowNs));
    const stats = rig.stats();
    const refused = rig.streams.filter((s) => s.id === -2);
    return {
      streams: n,
      requestedMbps: (n * o.rateBps) / 1e6,
      sentMbps: sent,
      cpuLoad: win.reduce((a, b) => a + b, 0) / win.length,
      readErrors: stats?.readErrors ?? 0,
      lateReads: stats?.lateReads ?? 0,
      skippedPeriods: stats?.skippedPeriods ?? 0,
      refused: refused.length,
      ...(refused.length ? { refusedReason: refusalReason(refused[0].reason) } : {}),
      mismatches: client.flows().reduce((a, f) => a + f.mismatches, 0),
      realTimeFactor: measure / 1e9 / wall,
    };
  } finally {
    rig.machine.close();
  }
}
