// Experiment: rate guarantee under upload (PAPER.md section 5, Fig. 11-13).
// One stream of 18 MB/s; from `writeStart` on, an uploader keeps `writesInFlight`
// ~10 MB writes in flight (default 1), rotating over the disks. BSD's userland drives
// it all through the HiTactix driver (streamctl, then the upload program; setup.ts),
// unless `driver` is "host" (the host stand-in on the mailbox). The writer's concurrency is the pressure FIFO
// suffers from: with one write in flight a FIFO disk serves the stream's read between
// two writes; a 2002 kernel's write-behind cache flushing several buffers at once
// queues several (README: the writer's pressure). The measurement client counts the stream's bytes per 1 s and 10 ms window;
// J = mean |Real - Exp| / Exp * 100 over the windows after the writer starts, with Exp
// the bytes the stream is owed per window (its chunk per period, headers included).
// Run with the cyclic disk schedule and with FIFO (the paper's "without").
// The CSV gets each scheduler's rows as its run completes (a failure keeps them); each
// run also reports HiTactix's failed reads, late reads and skipped periods (its
// statistics block). A guest fault ends the experiment with GuestFaultError (setup.ts).
//
// Interface: runRateGuarantee(options) -> { runs, csv, svg }

import { join } from "node:path";
import { StreamRig, STREAM_DATA_PER_FRAME, refusalReason } from "./setup.js";
import { jitterJ } from "./metrics.js";
import { prepareOutDir } from "./out-dir.js";
import { chunkBytes } from "../sfs.js";
import { CsvFile, writeLineChart } from "../plot.js";
import { STREAM_HEADER_BYTES } from "../../devices/measure-client.js";
import { costModel, type CostModelName } from "../costs.js";

/** Most upload writes in flight: HiTactix's service has 16 write slots (NWRITE). */
export const MAX_WRITES_IN_FLIGHT = 16;

export interface RateGuaranteeOptions {
  schedulers: Array<"cyclic" | "fifo">;
  durationNs: number;
  writeStartNs: number;
  outDir: string;
  seed: number;
  writeBytes?: number;
  /** Upload writes kept in flight (default 1). */
  writesInFlight?: number;
  /** CPU cost model (host/costs.ts): "flat" (default) or "p6". */
  costModel?: CostModelName;
  /** Who drives HiTactix (setup.ts): BSD userland (default) or the host stand-in. */
  driver?: "bsd" | "host";
  /** BSD also runs a CPU-bound process and cron meanwhile. */
  bsdBusy?: boolean;
  log?: (s: string) => void;
}

export interface RateGuaranteeRun {
  scheduler: string;
  J1s: number;
  J10ms: number;
  J1sBeforeWriter: number;
  sentMBps: number[];
  writeMBps: number[];
  bytesWritten: number;
  mismatches: number;
  lost: number;
  streamStarted: boolean;
  /** Why HiTactix refused the stream, when it did. */
  refusedReason?: string;
  readErrors: number;
  lateReads: number;
  skippedPeriods: number;
}

const PERIOD_NS = 256_000_000;
const STREAM_RATE = 18_000_000 * 8; // 18 MB/s
const UPLOAD_LBA = 20_000_000; // far from the stream's chunks (which start near LBA 16,449)

/** The experiment's limits, before any work. */
export function checkRateGuarantee(o: RateGuaranteeOptions): void {
  if (o.schedulers.length === 0) throw new Error("rate-guarantee: no scheduler to run");
  if (!(o.durationNs >= 1e9)) throw new Error("rate-guarantee: the duration must be at least 1 s");
  if (!(o.writeStartNs >= 0 && o.writeStartNs < o.durationNs)) throw new Error("rate-guarantee: --write-start must come before the end of --duration");
  const w = o.writesInFlight ?? 1;
  if (!Number.isInteger(w) || w < 1 || w > MAX_WRITES_IN_FLIGHT) {
    throw new Error(`rate-guarantee: ${w} writes in flight: 1 to ${MAX_WRITES_IN_FLIGHT} (HiTactix's write slots)`);
  }
}

export async function runRateGuarantee(o: RateGuaranteeOptions): Promise<{ runs: RateGuaranteeRun[]; csv: string; svg: string }> {
  checkRateGuarantee(o);
  const dir = prepareOutDir(o.outDir);
  const seconds = Math.floor(o.durationNs / 1e9);
  const csv = join(dir, "rate-guarantee.csv");
  const svg = join(dir, "rate-guarantee.svg");
  const table = new CsvFile(csv, ["scheduler", "time_s", "sent_MBps", "write_MBps"]);
  const runs: RateGuaranteeRun[] = [];
  for (const s of o.schedulers) {
    const r = await one(s, o);
    runs.push(r);
    table.append(Array.from({ length: seconds }, (_, t) => [r.scheduler, t, r.sentMBps[t] ?? 0, r.writeMBps[t] ?? 0]));
  }
  const data = runs.flatMap((r) => Array.from({ length: seconds }, (_, t) => [
    { t, MBps: r.sentMBps[t] ?? 0, series: `${r.scheduler}: sent` },
    { t, MBps: r.writeMBps[t] ?? 0, series: `${r.scheduler}: written` },
  ]).flat());
  await writeLineChart(svg, {
    title: `Sent rate of an 18 MB/s stream, uploader from ${o.writeStartNs / 1e9} s`,
    x: { field: "t", title: "time (s)" },
    y: { field: "MBps", title: "MB/s" },
    color: { field: "series", title: "" },
    data,
  });
  return { runs, csv, svg };
}

async function one(scheduler: "cyclic" | "fifo", o: RateGuaranteeOptions): Promise<RateGuaranteeRun> {
  // 47 whole chunks (~12 s), looped: no partial chunk at the loop point.
  const costs = costModel(o.costModel ?? "flat");
  const rig = await StreamRig.create({
    files: [{ name: "stream18", bytes: chunkBytes(STREAM_RATE, PERIOD_NS) * 47, rateBps: STREAM_RATE }], policy: scheduler, seed: o.seed,
    edit: (cfg) => { cfg.costs = costs; },
    driver: o.driver, bsdBusy: o.bsdBusy,
  });
  try {
    return measure(rig, scheduler, o);
  } finally {
    rig.machine.close();
  }
}

function measure(rig: StreamRig, scheduler: "cyclic" | "fifo", o: RateGuaranteeOptions): RateGuaranteeRun {
  const log = o.log ?? (() => {});
  rig.boot(); // SCSI, mount, calibration, link
  const s = rig.start(0, 6000, { loop: true });
  const writeBytes = o.writeBytes ?? 10_000_000;
  const writesPerSecond: number[] = [];
  let written = 0;
  rig.run(o.writeStartNs, scheduler);
  rig.upload({ bytes: writeBytes, inFlight: o.writesInFlight ?? 1, lba: UPLOAD_LBA, disks: 3, untilNs: o.durationNs }, (ok, bytes, t) => {
    if (!ok) return;
    written += bytes;
    const sec = Math.floor(t / 1e9);
    writesPerSecond[sec] = (writesPerSecond[sec] ?? 0) + bytes / 1e6;
  });
  rig.run(o.durationNs, scheduler);
  const flow = rig.machine.client!.flow("10.0.0.2:6000");
  const started = rig.streams[s].id >= 0;
  const stats = rig.stats();
  const chunk = rig.chunkBytes(s);
  const udpPerChunk = chunk + STREAM_HEADER_BYTES * Math.ceil(chunk / STREAM_DATA_PER_FRAME);
  const perSecond = udpPerChunk / (PERIOD_NS / 1e9);
  const s1 = flow ? flow.seriesOf(1) : new Float64Array(0);
  const s10 = flow ? flow.seriesOf(0) : new Float64Array(0);
  const from1 = Math.ceil(o.writeStartNs / 1e9);
  const to1 = Math.floor(o.durationNs / 1e9);
  const from10 = Math.ceil(o.writeStartNs / 1e7);
  const to10 = Math.floor(o.durationNs / 1e7);
  const pad = (a: Float64Array, n: number): Float64Array => { const b = new Float64Array(n); b.set(a.subarray(0, n)); return b; };
  const J1s = jitterJ(pad(s1, to1).subarray(from1, to1), perSecond);
  const J10ms = jitterJ(pad(s10, to10).subarray(from10, to10), perSecond / 100);
  const J1sBeforeWriter = jitterJ(pad(s1, to1).subarray(3, from1), perSecond);
  const run: RateGuaranteeRun = {
    scheduler,
    J1s, J10ms, J1sBeforeWriter,
    sentMBps: Array.from(pad(s1, to1), (b) => b / 1e6),
    writeMBps: Array.from({ length: to1 }, (_, t) => writesPerSecond[t] ?? 0),
    bytesWritten: written,
    mismatches: flow?.mismatches ?? 0,
    lost: flow?.lost ?? 0,
    streamStarted: started,
    ...(rig.streams[s].id === -2 ? { refusedReason: refusalReason(rig.streams[s].reason) } : {}),
    readErrors: stats?.readErrors ?? 0,
    lateReads: stats?.lateReads ?? 0,
    skippedPeriods: stats?.skippedPeriods ?? 0,
  };
  if (run.refusedReason) log(`${scheduler}: HiTactix refused the stream: ${run.refusedReason}`);
  log(`${scheduler}: J(1 s) = ${J1s.toFixed(3)} %, J(10 ms) = ${J10ms.toFixed(3)} %, before the writer J(1 s) = ${J1sBeforeWriter.toFixed(3)} %, ${(written / 1e6).toFixed(0)} MB written, ` +
    `payload mismatches ${run.mismatches}, late reads ${run.lateReads}, read errors ${run.readErrors}, skipped periods ${run.skippedPeriods}`);
  return run;
}
