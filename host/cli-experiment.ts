// `hitactix experiment ...`: the paper's evaluation on the emulated board. Each writes
// a CSV and an SVG figure into --out, shows progress on a terminal, and with --json
// prints one JSON object on the last line.
//   experiment rate-guarantee [--scheduler cyclic|fifo|both] [--duration 90s] [--write-start 30s]
//   experiment fast-io [--server hitactix] [--streams 1..48] [--step 4] [--rate 8.8Mbps]

import { Command, InvalidArgumentError, Option } from "commander";
import { runRateGuarantee } from "./experiments/rate-guarantee.js";
import { runFastIo } from "./experiments/fast-io.js";
import { parseRate, parseTime } from "./units.js";

const arg = <T>(f: (s: string) => T) => (v: string): T => {
  try {
    return f(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

function range(text: string): [number, number] {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a count or a range like 1..48`);
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (a < 1 || b < a) throw new Error(`bad range ${text}`);
  return [a, b];
}

export function experimentCommand(): Command {
  const ex = new Command("experiment").description("run the paper's experiments on the emulated board");

  ex.command("rate-guarantee")
    .description("one 18 MB/s stream; an uploader writes 10 MB at a time from --write-start (Fig. 11-13)")
    .addOption(new Option("--scheduler <name>", "disk schedule").choices(["cyclic", "fifo", "both"]).default("both"))
    .addOption(new Option("--duration <time>", "virtual time to run").argParser(arg(parseTime)).default(90_000_000_000, "90s"))
    .addOption(new Option("--write-start <time>", "when the uploader starts").argParser(arg(parseTime)).default(30_000_000_000, "30s"))
    .option("--out <dir>", "where the CSV and SVG go", "results")
    .option("--seed <n>", "seed", arg(Number), 1)
    .option("--json", "one JSON object on the last line")
    .action(async (o: { scheduler: string; duration: number; writeStart: number; out: string; seed: number; json?: boolean }) => {
      if (o.writeStart >= o.duration) throw new Error("--write-start must come before the end of --duration");
      const schedulers = o.scheduler === "both" ? ["cyclic", "fifo"] as const : [o.scheduler as "cyclic" | "fifo"];
      const r = await runRateGuarantee({ schedulers: [...schedulers], durationNs: o.duration, writeStartNs: o.writeStart, outDir: o.out, seed: o.seed, log: (s) => console.log(s) });
      console.log(`wrote ${r.csv} and ${r.svg}`);
      if (o.json) {
        const J1s: Record<string, number> = {};
        const J10ms: Record<string, number> = {};
        for (const run of r.runs) { J1s[run.scheduler] = run.J1s; J10ms[run.scheduler] = run.J10ms; }
        console.log(JSON.stringify({ J1s, J10ms, runs: r.runs.map(({ sentMBps: _a, writeMBps: _b, ...rest }) => rest) }));
      }
    });

  ex.command("fast-io")
    .description("N streams of --rate each: requested vs sent rate and HiTactix CPU load (Fig. 8-10)")
    .addOption(new Option("--server <name>", "which server").choices(["hitactix"]).default("hitactix"))
    .option("--streams <from..to>", "stream counts", arg(range), [4, 48] as [number, number])
    .option("--step <n>", "step between stream counts", arg(Number), 4)
    .addOption(new Option("--rate <rate>", "rate of each stream").argParser(arg(parseRate)).default(8_800_000, "8.8Mbps"))
    .option("--out <dir>", "where the CSV and SVG go", "results")
    .option("--seed <n>", "seed", arg(Number), 1)
    .option("--json", "one JSON object on the last line")
    .action(async (o: { streams: [number, number]; step: number; rate: number; out: string; seed: number; json?: boolean }) => {
      const counts: number[] = [];
      for (let n = o.streams[0]; n <= o.streams[1]; n += Math.max(1, o.step)) counts.push(n);
      const r = await runFastIo({ streams: counts, rateBps: o.rate, outDir: o.out, seed: o.seed, log: (s) => console.log(s) });
      console.log(`largest requested rate sent in full: ${r.maxFullRateMbps.toFixed(1)} Mbit/s; CPU load = ${r.cpuFit.slope.toExponential(4)} x Mbit/s + ${r.cpuFit.intercept.toFixed(5)} (r2 ${r.cpuFit.r2.toFixed(5)}), 100 % at ${r.cpuFit.saturationMbps.toFixed(0)} Mbit/s`);
      console.log(`wrote ${r.csv} and ${r.svg}`);
      if (o.json) {
        console.log(JSON.stringify({
          points: r.points.map((p) => ({ requestedMbps: p.requestedMbps, sentMbps: p.sentMbps, cpuLoad: p.cpuLoad })),
          maxFullRateMbps: r.maxFullRateMbps, cpuFit: r.cpuFit,
        }));
      }
    });
  return ex;
}
