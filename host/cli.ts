// The command line (commander): `hitactix run` boots the board and prints the guests'
// consoles and a summary. More commands (disk, experiment) join here.
//
//   hitactix run [--until 10s] [--seed 1] [--trace file] [--json] [--quiet]

import { Command, InvalidArgumentError, Option } from "commander";
import { openSync, writeSync, closeSync } from "node:fs";
import type { BoardSummary } from "./board.js";
import { buildMachine } from "./machine.js";
import { defaultBoard, type BoardConfig } from "./config.js";
import { parseTime } from "./units.js";
import { diskCommand } from "./cli-disk.js";
import { experimentCommand } from "./cli-experiment.js";
import { fsCommand } from "./cli-fs.js";
import type { TraceSink } from "./sched.js";

function timeArg(v: string): number {
  try {
    return parseTime(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function intArg(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`"${v}" is not a non-negative integer`);
  return n;
}

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

function printSummary(s: BoardSummary): void {
  console.log(`--- virtual time ${(s.simTimeNs / 1e9).toFixed(6)} s, ${s.events} events, trace ${s.traceHash}`);
  s.cpus.forEach((c, i) => {
    const fault = c.fault ? `  STOPPED: ${c.fault.kind} in ${c.fault.function} at ${(c.fault.timeNs / 1e9).toFixed(6)} s: ${c.fault.message}` : "";
    console.log(`cpu${i} ${c.name.padEnd(9)} busy ${c.busyCycles} / idle ${c.idleCycles} cycles, load ${(c.load * 100).toFixed(3)}%, ${c.interrupts} interrupts${fault}`);
  });
  const logs = Object.entries(s.logs);
  if (logs.length) console.log(`device/guest log: ${logs.map(([k, v]) => `${v} ${k}`).join(", ")}`);
}

/** Fault-injection options onto the board description, with clear errors. */
function applyFaults(cfg: BoardConfig, o: { nicDrop?: number; diskSlowdown?: number; mediumError?: string[] }): void {
  if (o.nicDrop !== undefined) {
    if (!(o.nicDrop >= 0 && o.nicDrop <= 1)) throw new Error(`--nic-drop must be a probability between 0 and 1 (got ${o.nicDrop})`);
    if (cfg.nic) cfg.nic.rxDropProbability = o.nicDrop;
  }
  const disks = cfg.scsi?.disks ?? [];
  if (o.diskSlowdown !== undefined) {
    if (!(o.diskSlowdown >= 1)) throw new Error(`--disk-slowdown must be a factor of 1 or more (got ${o.diskSlowdown})`);
    for (const d of disks) d.faults = { ...d.faults, slowdown: o.diskSlowdown };
  }
  for (const spec of o.mediumError ?? []) {
    const m = /^(\d+):(\d+):(\d+)$/.exec(spec);
    if (!m || Number(m[1]) >= disks.length) throw new Error(`--medium-error "${spec}" must be disk:lba:count with disk < ${disks.length}`);
    const d = disks[Number(m[1])];
    d.faults = { ...d.faults, mediumErrors: [...(d.faults?.mediumErrors ?? []), { lba: Number(m[2]), count: Number(m[3]), kind: "both" }] };
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program.name("hitactix").description("Emulated testbed of the HiTactix-BSD stream server").showHelpAfterError();

  program
    .command("run")
    .description("boot the board on its built-in defaults and run it")
    .addOption(new Option("--until <time>", "virtual time to run to (e.g. 10s, 250ms)").argParser(timeArg).default(10_000_000_000, "10s"))
    .option("--seed <n>", "seed of every random choice in the simulation", intArg, 1)
    .option("--trace <file>", "write every event (time, kind, argument) to a file")
    .option("--pcap <file>", "write every frame on the NIC's wire to a pcap file")
    .option("--disk <images...>", "disk images for the SCSI bus, in SCSI ID order (default: three 18 GiB disks in memory)")
    .option("--nic-drop <p>", "fault injection: probability that a frame from the wire is lost (seeded)", Number)
    .option("--disk-slowdown <factor>", "fault injection: multiply every disk's mechanical times", Number)
    .option("--medium-error <disk:lba:count...>", "fault injection: unreadable/unwritable LBA range on a disk")
    .option("--json", "print the summary as one JSON object on the last line")
    .option("--quiet", "do not print the guests' consoles")
    .action((o: { until: number; seed: number; trace?: string; pcap?: string; disk?: string[]; json?: boolean; quiet?: boolean;
      nicDrop?: number; diskSlowdown?: number; mediumError?: string[] }) => {
      const cfg = defaultBoard();
      cfg.seed = o.seed;
      if (o.pcap && cfg.nic) cfg.nic.pcap = o.pcap;
      if (o.disk && cfg.scsi) cfg.scsi.disks = o.disk.map((image) => ({ image }));
      applyFaults(cfg, o);
      const trace = o.trace ? new TraceFile(o.trace) : undefined;
      const machine = buildMachine(cfg, {
        traceSink: trace?.sink,
        onConsole: o.quiet ? undefined : (l) => console.log(`[${(l.timeNs / 1e9).toFixed(6)}] cpu${l.cpu} ${l.text}`),
        onLog: (kind, msg) => { if (!o.quiet) console.error(`${kind}: ${msg}`); },
      });
      const board = machine.board;
      const wallStart = performance.now();
      const step = 1_000_000_000;
      let lastShown = wallStart;
      for (let t = 0; t < o.until;) {
        t = Math.min(o.until, t + step);
        board.run(t);
        const now = performance.now();
        if (process.stderr.isTTY && now - lastShown > 2000) {
          process.stderr.write(`\r${(t / 1e9).toFixed(0)} / ${(o.until / 1e9).toFixed(0)} s virtual ...`);
          lastShown = now;
        }
      }
      if (lastShown !== wallStart) process.stderr.write("\n");
      trace?.close();
      machine.close();
      const s = board.summary();
      if (o.json) {
        const wall = (performance.now() - wallStart) / 1000;
        console.log(JSON.stringify({ ...s, wallSeconds: wall }));
      } else {
        printSummary(s);
      }
      if (s.cpus.some((c) => c.fault)) process.exitCode = 3;
    });

  program.addCommand(diskCommand());
  program.addCommand(experimentCommand());
  program.addCommand(fsCommand());

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
