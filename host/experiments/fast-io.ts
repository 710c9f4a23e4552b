// Experiment: fast I/O (PAPER.md section 5, Fig. 8-10). N streams of 8.8 Mbit/s each,
// every one from its own file (no two streams share disk blocks, so the disks' caches
// cannot flatter the result), for N over a range. Per point: the total requested rate,
// the total rate of stream data the measurement client received in a steady-state
// window, and HiTactix's CPU load over that window (cycle accounting). Then: a linear
// fit of load against requested rate (r^2, where it would reach 100 %), and the largest
// requested rate still sent in full (within 0.1 %), the fit taken over those points. Streams are started past admission
// control (FLAG_NO_ADMISSION) so the disks' own limit shows; admission's verdict for
// each point is reported beside it.

import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { StreamRig } from "./setup.js";
import { linearFit, saturation, type Fit } from "./metrics.js";
import { chunkBytes } from "../sfs.js";
import { writeCsv, writeLineChart } from "../plot.js";

export interface FastIoOptions {
  streams: number[];
  rateBps: number;
  outDir: string;
  seed: number;
  warmNs?: number;
  measureNs?: number;
  log?: (s: string) => void;
}

export interface FastIoPoint {
  streams: number;
  requestedMbps: number;
  sentMbps: number;
  cpuLoad: number;
  lateReads: number;
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

export async function runFastIo(o: FastIoOptions): Promise<FastIoResult> {
  mkdirSync(o.outDir, { recursive: true });
  const log = o.log ?? (() => {});
  const points = o.streams.map((n) => {
    const p = point(n, o);
    log(`${n} streams: requested ${p.requestedMbps.toFixed(1)} Mbit/s, sent ${p.sentMbps.toFixed(1)} Mbit/s, HiTactix load ${(p.cpuLoad * 100).toFixed(2)} %, ${p.realTimeFactor.toFixed(1)}x real time`);
    return p;
  });
  const full = points.filter((p) => p.sentMbps >= p.requestedMbps * 0.999);
  const maxFullRateMbps = full.length ? Math.max(...full.map((p) => p.requestedMbps)) : 0;
  // The load is fitted where the requested rate is actually sent: past the disk limit
  // the work stops growing with the request.
  const fitted = full.length >= 2 ? full : points;
  const fit = fitted.length >= 2
    ? linearFit(fitted.map((p) => p.requestedMbps), fitted.map((p) => p.cpuLoad))
    : { slope: NaN, intercept: NaN, r2: NaN }; // one point: no line
  const cpuFit = { ...fit, saturationMbps: saturation(fit, 1) };
  const csv = join(o.outDir, "fast-io.csv");
  const svg = join(o.outDir, "fast-io.svg");
  writeCsv(csv, ["streams", "requested_Mbps", "sent_Mbps", "cpu_load"], points.map((p) => [p.streams, p.requestedMbps, p.sentMbps, p.cpuLoad]));
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
  // 16 whole chunks each (~4 s), looped: a partial last chunk would take a whole period
  // and lower the stream's rate by its missing part at every loop.
  const fileBytes = chunkBytes(o.rateBps, 256_000_000) * 16;
  const files = Array.from({ length: n }, (_, i) => ({ name: `s${i}`, bytes: fileBytes, rateBps: o.rateBps }));
  const rig = new StreamRig({ files, policy: "cyclic", seed: o.seed });
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
  const loads = cpu.loadSeries(t0 + measure);
  const w0 = Math.floor(t0 / cpu.windowNs);
  const win = loads.slice(w0, w0 + Math.floor(measure / cpu.windowNs));
  const p: FastIoPoint = {
    streams: n,
    requestedMbps: (n * o.rateBps) / 1e6,
    sentMbps: sent,
    cpuLoad: win.reduce((a, b) => a + b, 0) / win.length,
    lateReads: 0,
    mismatches: client.flows().reduce((a, f) => a + f.mismatches, 0),
    realTimeFactor: measure / 1e9 / wall,
  };
  rig.machine.close();
  return p;
}
