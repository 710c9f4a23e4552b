// `hitactix bsd ...`: the BSD side of the board.
//
//   hitactix bsd exec [--seed 1] [--until 1h] [--system-disk IMG] [--disk D0 D1 D2 --]
//                     [--env NAME=VALUE]... [--verbose] [--json] PROG [ARGS...]
//
// Boots the board (BSD on CPU 0 with its system disk, HiTactix on CPU 1) with init in
// its one-program mode (`init -x PROG ARGS`): PROG runs as a BSD process with the
// host's standard input, output and error as its own (through the board's terminal
// device), and the board powers off when it ends. The exit status is the program's
// (128 + the signal if one ended it; 127 when the program is not found, 126 when it
// cannot run). PROG is a path on the system disk (e.g. /bin/bzip2) when it is absolute
// and the system disk has it; otherwise it names a host file, which is copied to the
// system disk's /tmp and run from there (./prog.wasm, /home/me/prog.wasm).
//
// Standard input: when it is not a terminal, it is read whole before the board boots
// and given to the program, then end of file (virtual time must not depend on when a
// host's bytes arrive). A terminal gives end of file at once.
// The system disk is a copy of build/system.img in memory unless --system-disk names an
// image file, which the run then changes (its /tmp, what the program writes). --disk
// gives HiTactix's stream disks, as `run --disk` does (end the list with --).
// The run's own report goes to stderr: the virtual time, the cycles the program ran,
// those the kernel spent on its behalf, and its system calls (--json: one JSON object).
// Exit 124 if the program is still running at --until; 3 if a CPU stopped on a fault.

import { Command, Option, InvalidArgumentError } from "commander";
import { readFileSync, existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import { buildMachineAsync } from "./machine.js";
import { defaultBoard } from "./config.js";
import { cliArg, timeIn, parseSeed } from "./units.js";
import { BsdFs, FsError, FileBackend, OverlayBackend, type FsBackend } from "./fs-image.js";
import type { BlockBackend } from "../devices/block-backend.js";
import { EXIT_GUEST_FAULT } from "./cli-summary.js";

const MAX_UNTIL_NS = 1000 * 3600e9;
const BLOCK_SECTORS = 8;

/** The file system's view (4 KiB blocks) of a disk's backend (512-byte sectors). */
function fsBackendOf(b: BlockBackend): FsBackend {
  return {
    blocks: Math.floor(b.sectors / BLOCK_SECTORS),
    read: (block, dst) => b.read(block * BLOCK_SECTORS, BLOCK_SECTORS, dst, 0),
    write: (block, src) => b.write(block * BLOCK_SECTORS, BLOCK_SECTORS, src, 0),
    flush: () => b.flush(),
  };
}

/** Whether the system disk image holds `path` (read without changing the image). */
function systemDiskHas(image: string, path: string): boolean {
  let fs: BsdFs | undefined;
  try {
    fs = new BsdFs(new OverlayBackend(new FileBackend(image, false))); // a replay stays in memory
    fs.mount();
    fs.lookup(path);
    return true;
  } catch {
    return false;
  } finally {
    fs?.release();
  }
}

/** Where a host file goes on the system disk. */
function tmpPath(hostPath: string): string {
  let st;
  try {
    st = statSync(hostPath);
  } catch {
    throw new Error(`${hostPath}: no such file on the system disk or on the host`);
  }
  if (!st.isFile()) throw new Error(`${hostPath}: not a regular file`);
  return `/tmp/${basename(hostPath).replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 50) || "prog"}`;
}

/** Copy a host file into the system disk (before the board runs). */
function copyIn(disk: BlockBackend, hostPath: string, target: string): void {
  const fs = new BsdFs(fsBackendOf(disk));
  try {
    fs.mount();
    fs.writeFile(target, readFileSync(hostPath), 0o755);
    fs.unmount();
  } catch (e) {
    throw new Error(`cannot copy ${hostPath} to the system disk: ${(e as FsError).message}`);
  } finally {
    fs.release();
  }
}

/** All of standard input (a pipe may be non-blocking: read it as a stream). */
async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

interface ExecOptions { seed: number; until: number; systemDisk?: string; disk?: string[]; verbose?: boolean; json?: boolean; env: string[] }

async function execAction(prog: string, args: string[], o: ExecOptions): Promise<void> {
  const cfg = defaultBoard();
  cfg.seed = o.seed;
  if (o.systemDisk) {
    if (!existsSync(o.systemDisk)) throw new Error(`--system-disk ${o.systemDisk}: no such image (build one with hitactix fs mkfs, or omit the option)`);
    cfg.scsi2 = { cpu: 0, disks: [{ image: o.systemDisk }] };
  }
  if (o.disk && cfg.scsi) {
    for (const d of o.disk) if (!existsSync(d)) throw new Error(`--disk ${d}: no such image (make one with hitactix disk create)`);
    cfg.scsi.disks = o.disk.map((image) => ({ image }));
  }
  const image = o.systemDisk ?? cfg.scsi2!.disks[0].image!;
  const onDisk = prog.startsWith("/") && systemDiskHas(image, prog);
  const path = onDisk ? prog : tmpPath(prog);
  const input = process.stdin.isTTY ? new Uint8Array() : await readStdin();
  cfg.bsd = {
    ttyAttached: true,
    cmdline: ["init", "-x", ...o.env.flatMap((e) => ["-e", e]), path, ...args],
    ttyTerminals: { in: !!process.stdin.isTTY, out: !!process.stdout.isTTY, err: !!process.stderr.isTTY },
  };
  const out: Array<[number, Uint8Array]> = [];
  const machine = await buildMachineAsync(cfg, {
    ttyOutput: (stream, bytes) => { (stream === 0 ? process.stdout : process.stderr).write(bytes); out.push([stream, bytes]); },
    // The kernel's reports on processes (a fault, a refused program) always show.
    onConsole: (l) => {
      if (o.verbose || (l.cpu === 0 && /^bsd: (pid \d+ |spawn )/.test(l.text))) process.stderr.write(`[${(l.timeNs / 1e9).toFixed(6)}] cpu${l.cpu} ${l.text}\n`);
    },
    onLog: o.verbose ? (kind, msg) => process.stderr.write(`${kind}: ${msg}\n`) : undefined,
  });
  try {
    if (!onDisk) copyIn(machine.disks2[0].backend, prog, path);
    machine.tty!.input(input);
    machine.tty!.endInput();
    const board = machine.board;
    for (let t = 0; t < o.until && !board.sched.halted;) {
      t = Math.min(o.until, t + 1_000_000_000);
      board.run(t);
      if (board.cpus.some((c) => c.report)) break;
      await new Promise((r) => setImmediate(r)); // let stdout drain
    }
    const s = board.summary();
    const status = board.sysctl.powerOffStatus;
    const rec = machine.engine!.record(2);
    const fault = s.cpus.find((c) => c.fault)?.fault;
    const report = {
      program: path,
      status: status ?? null,
      simTimeNs: board.sysctl.powerOffAtNs || s.simTimeNs,
      userCycles: rec?.userCycles ?? 0,
      kernelCycles: rec?.kernelCycles ?? 0,
      syscalls: rec?.syscalls ?? 0,
      traceHash: s.traceHash,
      ...(fault ? { fault } : {}),
    };
    if (o.json) process.stderr.write(`${JSON.stringify(report)}\n`);
    else {
      const how = status === undefined ? `still running at ${(s.simTimeNs / 1e9).toFixed(6)} s virtual (--until)` : `exited with status ${status} at ${(report.simTimeNs / 1e9).toFixed(6)} s virtual`;
      process.stderr.write(`bsd exec: ${path} ${how}; ${report.userCycles} cycles in the process, ${report.kernelCycles} in the kernel on its behalf, ${report.syscalls} system calls\n`);
      if (fault) process.stderr.write(`bsd exec: cpu${fault.cpu} STOPPED: ${fault.kind} in ${fault.function}: ${fault.message}\n`);
    }
    process.exitCode = fault ? EXIT_GUEST_FAULT : status === undefined ? 124 : status;
  } finally {
    machine.close();
  }
}

export function bsdCommand(): Command {
  const bsd = new Command("bsd").description("the BSD side: run programs as BSD processes").enablePositionalOptions();
  bsd
    .command("exec")
    .description("boot the board and run PROG as a BSD process with this terminal's stdin/stdout; exit with its status")
    .argument("<prog>", "program: a path on the system disk (/bin/bzip2), or a host file (copied to /tmp)")
    .argument("[args...]", "its arguments (put -- before them if they start with -)")
    .option("--seed <n>", "seed of every random choice in the simulation", cliArg(parseSeed), 1)
    .addOption(new Option("--until <time>", "virtual time to give up at").argParser(cliArg(timeIn(1, MAX_UNTIL_NS))).default(3600e9, "1h"))
    .option("--system-disk <image>", "use this system disk image (changed by the run) instead of a copy of build/system.img")
    .option("--disk <images...>", "HiTactix's stream disk images, in SCSI ID order (end the list with --)")
    .option("--env <NAME=VALUE>", "an environment variable for the program (repeatable)", (v: string, acc: string[]) => {
      if (!/^[^=]+=/.test(v)) throw new InvalidArgumentError(`"${v}" is not NAME=VALUE`);
      return [...acc, v];
    }, [] as string[])
    .option("--verbose", "show the kernels' consoles on stderr")
    .option("--json", "the run's report as one JSON object on stderr")
    .passThroughOptions()
    .action((prog: string, args: string[], o: ExecOptions) => execAction(prog, args, o));
  return bsd;
}
