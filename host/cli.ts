// The command line (commander): `hitactix run` boots the board and prints the guests'
// consoles and a summary; `disk` and `experiment` join here (cli-disk.ts,
// cli-experiment.ts).
//
//   hitactix run [--until 10s] [--seed 1] [--trace file] [--pcap file] [--cost-model flat|p6] [--json] [--quiet]
//                [--disk images...] [--nic-drop p] [--disk-slowdown f] [--medium-error d:l:n...]
//
// Every value is read by one parser per kind (units.ts), which refuses what it cannot
// take with the accepted range; fault ranges are checked against the disks' sizes
// before the board is built (faults.ts). After the run, a fault option that can have
// had no effect is named on stderr.
//
// Signals: the run advances in 1 s virtual steps and yields to the event loop between
// them, so SIGINT or SIGTERM stops it at the next step: the trace and the pcap are
// flushed and closed (a pcap always has its header), the summary is printed, and the
// exit code is 128 + the signal's number (130, 143), as a shell reports a process the
// signal killed. A second signal kills at once.
//
// Exit codes: 0 done, 1 bad input or an error, 3 a guest fault stopped a CPU, 130/143
// interrupted.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { costModel, COST_MODELS, type CostModelName } from "./costs.js";
import { Command, Option } from "commander";
import { openSync, writeSync, closeSync } from "node:fs";
import { buildMachineAsync } from "./machine.js";
import { defaultBoard, packageRoot, useSystemDisk } from "./config.js";
import { cliArg, timeIn, parseSeed, parseProbability, factorIn, parseMediumError, type MediumErrorSpec } from "./units.js";
import { diskCommand } from "./cli-disk.js";
import { experimentCommand } from "./cli-experiment.js";
import { printSummary, EXIT_GUEST_FAULT } from "./cli-summary.js";
import { applyFaults, faultCounters, faultWarnings } from "./faults.js";
import { readHitactixStats } from "./htx-stats.js";
import { fsCommand } from "./cli-fs.js";
import { bsdCommand } from "./cli-bsd.js";
import type { TraceSink } from "./sched.js";

/** The longest run: 1000 virtual hours (virtual time is exact to 2^53 ns, 104 days). */
export const MAX_UNTIL_NS = 1000 * 3600e9;
/** --disk-slowdown's range: 1 (none) to 1000 (a disk that barely moves). */
const SLOWDOWN_MAX = 1000;

/** A buffered trace file: one line per event, "time_ns handler arg". */
class TraceFile {
  private fd: number;
  private chunks: string[] = [];
  private size = 0;
  constructor(path: string) {
    this.fd = openSync(path, "w");
  }
  sink: TraceSink = (t, h, a) => {
    const line = `${t} ${h.name} ${a}\n`;
    this.chunks.push(line);
    this.size += line.length;
    if (this.size > 1 << 20) this.flush();
  };
  flush(): void {
    if (this.chunks.length) writeSync(this.fd, this.chunks.join(""));
    this.chunks = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** Until stop(): remembers the first SIGINT/SIGTERM instead of dying at once. */
function catchSignals(): { signal: () => string | undefined; stop: () => void } {
  let got: string | undefined;
  const on = (sig: NodeJS.Signals): void => {
    got ??= sig;
    process.removeListener(sig, on); // a second one takes the default action: exit now
  };
  process.on("SIGINT", on);
  process.on("SIGTERM", on);
  return {
    signal: () => got,
    stop: () => {
      process.removeListener("SIGINT", on);
      process.removeListener("SIGTERM", on);
    },
  };
}

interface RunOptions {
  until: number; seed: number; trace?: string; pcap?: string; disk?: string[]; systemDisk?: string; json?: boolean; quiet?: boolean;
  nicDrop?: number; diskSlowdown?: number; mediumError?: MediumErrorSpec[]; costModel: CostModelName;
}

async function runAction(o: RunOptions): Promise<void> {
  const cfg = defaultBoard();
  cfg.seed = o.seed;
  cfg.costs = costModel(o.costModel);
  if (o.pcap && cfg.nic) cfg.nic.pcap = o.pcap;
  if (o.disk && cfg.scsi) cfg.scsi.disks = o.disk.map((image) => ({ image }));
  if (o.systemDisk) useSystemDisk(cfg, o.systemDisk);
  applyFaults(cfg, o); // checks the ranges against the disks before anything is built
  const signals = catchSignals();
  try {
    const trace = o.trace ? new TraceFile(o.trace) : undefined;
    const machine = await buildMachineAsync(cfg, {
      traceSink: trace?.sink,
      onConsole: o.quiet ? undefined : (l) => console.log(`[${(l.timeNs / 1e9).toFixed(6)}] cpu${l.cpu} ${l.text}`),
      onLog: (kind, msg) => { if (!o.quiet) console.error(`${kind}: ${msg}`); },
    });
    const board = machine.board;
    const wallStart = performance.now();
    const step = 1_000_000_000;
    let lastShown = wallStart;
    for (let t = 0; t < o.until && !signals.signal() && !board.sched.halted;) {
      t = Math.min(o.until, t + step);
      board.run(t);
      const now = performance.now();
      if (process.stderr.isTTY && now - lastShown > 2000) {
        process.stderr.write(`\r${(t / 1e9).toFixed(0)} / ${(o.until / 1e9).toFixed(0)} s virtual ...`);
        lastShown = now;
      }
      await new Promise<void>((r) => setImmediate(r)); // a signal is seen here
    }
    if (lastShown !== wallStart) process.stderr.write("\n");
    trace?.close();
    machine.close();
    const sig = signals.signal();
    if (sig) console.error(`hitactix: ${sig} at ${(board.sched.now / 1e9).toFixed(3)} s virtual: stopped, trace and capture flushed and closed`);
    const s = board.summary();
    const devices = faultCounters(machine);
    const hitactix = readHitactixStats(board.mem);
    const warnings = faultWarnings(machine, o);
    for (const w of warnings) console.error(`hitactix: warning: ${w}`);
    if (o.json) {
      const wall = (performance.now() - wallStart) / 1000;
      console.log(JSON.stringify({ ...s, costModel: cfg.costs.name, ...devices, ...(hitactix ? { hitactix } : {}), warnings, ...(sig ? { interrupted: sig } : {}), wallSeconds: wall }));
    } else {
      printSummary(s, { devices, hitactix });
    }
    if (s.cpus.some((c) => c.fault)) process.exitCode = EXIT_GUEST_FAULT;
    if (sig) process.exitCode = SIGNAL_EXIT[sig];
  } finally {
    signals.stop();
  }
}

export function buildProgram(): Command {
  const program = new Command();
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string };
  program.name("hitactix").description("Emulated testbed of the HiTactix-BSD stream server").version(pkg.version)
    .showHelpAfterError().enablePositionalOptions();

  program
    .command("run")
    .description("boot the board on its built-in defaults and run it")
    .addOption(new Option("--until <time>", "virtual time to run to (e.g. 10s, 250ms; 1ns to 1000h)").argParser(cliArg(timeIn(1, MAX_UNTIL_NS))).default(10_000_000_000, "10s"))
    .option("--seed <n>", "seed of every random choice in the simulation (0 to 4294967295)", cliArg(parseSeed), 1)
    .option("--trace <file>", "write every event (time, kind, argument) to a file")
    .option("--pcap <file>", "write every frame on the NIC's wire to a pcap file")
    .option("--disk <images...>", "disk images for the SCSI bus, in SCSI ID order (default: three 18 GiB disks in memory)")
    .option("--system-disk <image>", "BSD's system disk image, kept and changed by the run (default: a copy of build/system.img in memory)")
    .option("--nic-drop <p>", "fault injection: probability (0 to 1) that a frame through the NIC is lost, either direction (seeded)", cliArg(parseProbability))
    .option("--disk-slowdown <factor>", `fault injection: multiply every disk's mechanical times (1 to ${SLOWDOWN_MAX})`, cliArg(factorIn(1, SLOWDOWN_MAX)))
    .option("--medium-error <disk:lba:count...>", "fault injection: unreadable/unwritable block range on a disk",
      (v: string, prev: MediumErrorSpec[] | undefined) => [...(prev ?? []), cliArg(parseMediumError)(v)])
    .addOption(new Option("--cost-model <name>", "CPU cost model: flat (1 cycle per WebAssembly instruction) or p6 (cost model v2: P6 weights and DMA-line misses; host/costs.ts)").choices([...COST_MODELS]).default("flat"))
    .option("--json", "print the summary as one JSON object on the last line")
    .option("--quiet", "do not print the guests' consoles")
    .action(runAction);

  program.addCommand(diskCommand());
  program.addCommand(experimentCommand());
  program.addCommand(fsCommand());
  program.addCommand(bsdCommand());

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    console.error(`hitactix: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
