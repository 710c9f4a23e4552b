// `hitactix experiment ...`: the paper's evaluation on the emulated board. Each writes
// a CSV (row by row, as results come) and an SVG figure into --out, shows progress on
// a terminal, and with --json prints one JSON object on the last line.
//   experiment rate-guarantee [--scheduler cyclic|fifo|both] [--duration 90s] [--write-start 30s]
//                             [--writes-in-flight 1] [--cost-model flat|p6]
//   experiment fast-io [--server hitactix] [--streams 4..80] [--step 4] [--rate 8.8Mbps]
//                      [--seeds 1..8] [--stream-table N] [--tx-path fast|2002]
//                      [--cost-model flat|p6] [--file-lengths uniform|equal]
//
// Before any work: every value through its parser (units.ts: seeds 0..2^32-1, stream
// counts 1..HTX_MAX_STREAMS, steps, rates, durations), the experiment's own limits
// (checkFastIo: HiTactix's table and memory, the host memory budget for files), then
// the --out folder (out-dir.ts: no /proc, /sys or /dev; created level by level).
// A guest fault during an experiment prints the fault report as `run` does (the
// board's summary with the stopped CPU) and exits 3; a stream HiTactix refuses is
// reported with its reason and ends the experiment with exit 1.

import { Command, Option } from "commander";
import { runRateGuarantee, checkRateGuarantee, MAX_WRITES_IN_FLIGHT } from "./experiments/rate-guarantee.js";
import { runFastIo, checkFastIo } from "./experiments/fast-io.js";
import { GuestFaultError } from "./experiments/setup.js";
import { cliArg, parseSeed, countIn, rangeIn, rateIn, timeIn } from "./units.js";
import { printSummary, faultText, EXIT_GUEST_FAULT } from "./cli-summary.js";
import { HTX_MAX_STREAMS, HTX_DEFAULT_STREAMS } from "../common/platform.js";
import { COST_MODELS, type CostModelName } from "./costs.js";

const costModelOption = (): Option =>
  new Option("--cost-model <name>", "CPU cost model: flat (1 cycle per WebAssembly instruction) or p6 (cost model v2)").choices([...COST_MODELS]).default("flat");

/** Longest rate-guarantee run: a day of virtual time (its series grow with it). */
const MAX_DURATION_NS = 24 * 3600e9;
/** Rates a stream may ask for: 1 kbit/s (a one-sector chunk) to 10 Gbit/s (past the
 *  wire; HiTactix's memory and the checks below say the rest). */
const RATE_MIN = 1e3;
const RATE_MAX = 10e9;

/** A guest fault stops the experiment with the fault report, as `run` prints it. */
export async function reportingFaults(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    if (!(e instanceof GuestFaultError)) throw e;
    printSummary(e.summary);
    console.error(`hitactix: the experiment stopped: a guest fault stopped cpu${e.report.cpu} (${e.report.guest}): ${faultText(e.report)}`);
    process.exitCode = EXIT_GUEST_FAULT;
  }
}

export function experimentCommand(): Command {
  const ex = new Command("experiment").description("run the paper's experiments on the emulated board");

  ex.command("rate-guarantee")
    .description("one 18 MB/s stream; an uploader writes 10 MB at a time from --write-start (Fig. 11-13)")
    .addOption(new Option("--scheduler <name>", "disk schedule").choices(["cyclic", "fifo", "both"]).default("both"))
    .addOption(new Option("--duration <time>", "virtual time to run (1s to 24h)").argParser(cliArg(timeIn(1e9, MAX_DURATION_NS))).default(90_000_000_000, "90s"))
    .addOption(new Option("--write-start <time>", "when the uploader starts (before --duration)").argParser(cliArg(timeIn(0, MAX_DURATION_NS))).default(30_000_000_000, "30s"))
    .option("--writes-in-flight <n>", `upload writes of 10 MB kept in flight (1 to ${MAX_WRITES_IN_FLIGHT})`, cliArg(countIn(1, MAX_WRITES_IN_FLIGHT)), 1)
    .option("--bsd-busy", "BSD also runs a CPU-bound process and cron (HiTactix's guarantee should not change)")
    .addOption(costModelOption())
    .option("--out <dir>", "where the CSV and SVG go", "results")
    .option("--seed <n>", "seed (0 to 4294967295)", cliArg(parseSeed), 1)
    .option("--json", "one JSON object on the last line")
    .action((o: { scheduler: string; duration: number; writeStart: number; writesInFlight: number; costModel: CostModelName; out: string; seed: number; json?: boolean;
      bsdBusy?: boolean }) => reportingFaults(async () => {
      const schedulers = o.scheduler === "both" ? ["cyclic", "fifo"] as const : [o.scheduler as "cyclic" | "fifo"];
      const opts = { schedulers: [...schedulers], durationNs: o.duration, writeStartNs: o.writeStart, writesInFlight: o.writesInFlight, costModel: o.costModel,
        outDir: o.out, seed: o.seed, bsdBusy: o.bsdBusy, log: (s: string) => console.log(s) };
      checkRateGuarantee(opts);
      const r = await runRateGuarantee(opts);
      console.log(`wrote ${r.csv} and ${r.svg}`);
      if (o.json) {
        const J1s: Record<string, number> = {};
        const J10ms: Record<string, number> = {};
        for (const run of r.runs) { J1s[run.scheduler] = run.J1s; J10ms[run.scheduler] = run.J10ms; }
        console.log(JSON.stringify({ writesInFlight: o.writesInFlight, costModel: o.costModel, J1s, J10ms, runs: r.runs.map(({ sentMBps: _a, writeMBps: _b, ...rest }) => rest) }));
      }
    }));

  ex.command("fast-io")
    .description("N streams of --rate each: requested vs sent rate and HiTactix CPU load (Fig. 8-10)")
    .addOption(new Option("--server <name>", "which server").choices(["hitactix"]).default("hitactix"))
    .option("--streams <from..to>", `stream counts (1 to ${HTX_MAX_STREAMS}; past --stream-table they are refused and reported)`, cliArg(rangeIn(1, HTX_MAX_STREAMS)), [4, 80] as [number, number])
    .option("--step <n>", `step between stream counts (1 to ${HTX_MAX_STREAMS})`, cliArg(countIn(1, HTX_MAX_STREAMS)), 4)
    .addOption(new Option("--rate <rate>", "rate of each stream").argParser(cliArg(rateIn(RATE_MIN, RATE_MAX))).default(8_800_000, "8.8Mbps"))
    .option("--seeds <from..to>", "repeat the sweep on these seeds: the limit as median, min and max (0 to 4294967295)", cliArg(rangeIn(0, 0xffffffff)))
    .option("--stream-table <n>", `HiTactix's distribution table (1 to ${HTX_MAX_STREAMS}; default ${HTX_DEFAULT_STREAMS})`, cliArg(countIn(1, HTX_MAX_STREAMS)))
    .addOption(new Option("--tx-path <path>", "HiTactix's transmit path: fast (a doorbell per tick, checksum offload) or 2002 (a doorbell per frame, software UDP checksum)").choices(["fast", "2002"]).default("fast"))
    .addOption(new Option("--file-lengths <kind>", "file lengths: uniform (drawn, 0.5-1.5x 16 chunks, uploaded in random order) or equal (back to back in stream order)").choices(["uniform", "equal"]).default("uniform"))
    .option("--bsd-busy", "BSD also runs a CPU-bound process and cron (HiTactix's sent rates should not change)")
    .addOption(costModelOption())
    .option("--out <dir>", "where the CSV and SVG go", "results")
    .option("--seed <n>", "seed (0 to 4294967295)", cliArg(parseSeed), 1)
    .option("--json", "one JSON object on the last line")
    .action((o: { streams: [number, number]; step: number; rate: number; seeds?: [number, number]; streamTable?: number; txPath: "fast" | "2002";
      fileLengths: "uniform" | "equal"; costModel: CostModelName; out: string; seed: number; json?: boolean; bsdBusy?: boolean }) => reportingFaults(async () => {
      const counts: number[] = [];
      for (let n = o.streams[0]; n <= o.streams[1]; n += o.step) counts.push(n);
      const seeds = o.seeds ? Array.from({ length: o.seeds[1] - o.seeds[0] + 1 }, (_, i) => o.seeds![0] + i) : undefined;
      if (seeds && seeds.length > 64) throw new Error(`fast-io: ${seeds.length} seeds: at most 64 in one run`);
      const opts = { streams: counts, rateBps: o.rate, outDir: o.out, seed: o.seed, seeds, streamTable: o.streamTable, txPath: o.txPath,
        fileLengths: o.fileLengths, costModel: o.costModel, bsdBusy: o.bsdBusy, log: (s: string) => console.log(s) };
      checkFastIo(opts);
      const r = await runFastIo(opts);
      const f = (s: { median: number; min: number; max: number }): string => `${s.median.toFixed(1)} Mbit/s (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`;
      if (r.seeds.length > 1) {
        console.log(`over ${r.seeds.length} seeds: largest requested rate sent in full ${f(r.fullRate)}; plateau ${f(r.plateau)}`);
      } else {
        console.log(`largest requested rate sent in full: ${r.maxFullRateMbps.toFixed(1)} Mbit/s; plateau ${r.plateau.median.toFixed(1)} Mbit/s; admission control admits up to ${r.seeds[0].admittedMbps.toFixed(1)} Mbit/s`);
      }
      console.log(`CPU load (${o.costModel}) = ${r.cpuFit.slope.toExponential(4)} x Mbit/s + ${r.cpuFit.intercept.toFixed(5)} (r2 ${r.cpuFit.r2.toFixed(5)}), 100 % at ${r.cpuFit.saturationMbps.toFixed(0)} Mbit/s; ${r.cpuFit.cyclesPerFrame.toFixed(0)} cycles per frame`);
      const refused = r.points.filter((p) => p.refused > 0);
      if (refused.length) console.log(`${refused.length} point${refused.length === 1 ? "" : "s"} had refused streams (${refused[0].refusedReason}): not counted as sent below requested`);
      console.log(`wrote ${r.csv} and ${r.svg}`);
      if (o.json) {
        console.log(JSON.stringify({
          costModel: o.costModel, txPath: o.txPath,
          points: r.points.map((p) => ({
            seed: p.seed, streams: p.streams, requestedMbps: p.requestedMbps, started: p.started, refused: p.refused,
            ...(p.refusedReason ? { refusedReason: p.refusedReason } : {}), pastAdmission: p.pastAdmission,
            sentMbps: p.sentMbps, cpuLoad: p.cpuLoad,
            readErrors: p.readErrors, lateReads: p.lateReads, skippedPeriods: p.skippedPeriods,
          })),
          seeds: r.seeds, fullRateMbps: r.fullRate, plateauMbps: r.plateau,
          maxFullRateMbps: r.maxFullRateMbps, cpuFit: r.cpuFit,
        }));
      }
    }));
  return ex;
}
