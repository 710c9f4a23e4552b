// `hitactix bsd ...`: the BSD side of the board.
//
//   hitactix bsd exec [--seed 1] [--until 1h] [--system-disk IMG] [--disk D0 D1 D2 --]
//                     [--dir HOSTDIR | --no-root] [--env NAME=VALUE]... [--verbose] [--json] PROG [ARGS...]
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
// Standard input (--stdin): a regular file is read whole before the board boots and
// given to the program, then end of file, so the run is reproducible ("whole", which
// --stdin whole also asks of a pipe). A pipe or a terminal is streamed ("stream"): bytes
// reach the program as they arrive, at the virtual time the board has then reached, and
// while the host's input is open the board runs no faster than real time (a program
// waiting for input must not see its timers race ahead); at its end the board runs at
// full speed. A terminal is then interactive (`bsd exec /bin/sh`).
// The system disk is a copy of build/system.img in memory unless --system-disk names an
// image file, which the run then changes (its /tmp, what the program writes). --disk
// gives HiTactix's stream disks, as `run --disk` does (end the list with --).
// --dir HOSTDIR gives the program a host directory as its preopened "/" (wasmtime's
// `--dir HOSTDIR::/`): the tree is copied into the system disk (/mnt/NAME) before boot,
// and the program's descriptor 3 is that directory (init -r); when the program has
// ended, what it left there is copied back: files written or created, directories
// made, links made, entries removed (symbolic links are copied as links, their targets
// as they are). Special files are not copied and are left alone on the host. --no-root runs the program with no preopened
// directory at all (descriptor 3 closed), as wasmtime runs one without --dir.
// The run's own report goes to stderr: the virtual time, the cycles the program ran,
// those the kernel spent on its behalf, and its system calls (--json: one JSON object).
// Exit 124 if the program is still running at --until; 3 if a CPU stopped on a fault.

import { Command, Option, InvalidArgumentError } from "commander";
import {
  readFileSync, existsSync, statSync, fstatSync, lstatSync, readdirSync, writeFileSync, mkdirSync, rmSync, readlinkSync, symlinkSync,
  type Stats,
} from "node:fs";
import { basename, join } from "node:path";
import { buildMachineAsync } from "./machine.js";
import { defaultBoard, useSystemDisk } from "./config.js";
import { cliArg, timeIn, parseSeed } from "./units.js";
import { BsdFs, FsError, FileBackend, OverlayBackend, type FsBackend } from "./fs-image.js";
import type { BlockBackend } from "../devices/block-backend.js";
import { EXIT_GUEST_FAULT } from "./cli-summary.js";
import { costModel, COST_MODELS, type CostModelName } from "./costs.js";

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

/** Whether the system disk image holds `path` (read without changing the image). An
 * image that does not mount is an error of its own, not a reason to look on the host. */
function systemDiskHas(image: string, path: string): boolean {
  let fs: BsdFs | undefined;
  try {
    fs = new BsdFs(new OverlayBackend(new FileBackend(image, false))); // a replay stays in memory
    try {
      fs.mount();
    } catch (e) {
      throw new Error(`system disk ${image}: ${(e as Error).message}`);
    }
    try {
      fs.lookup(path);
      return true;
    } catch {
      return false;
    }
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

/** Whether standard input is a regular file (a redirect from one). */
function stdinIsFile(): boolean {
  try {
    return fstatSync(0).isFile();
  } catch {
    return false;
  }
}

/** How far virtual time may run ahead of the wall clock while input is streamed. */
const PACE_NS = 10_000_000;

/** All of standard input (a pipe may be non-blocking: read it as a stream). */
async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** The system disk's path for --dir's tree. */
const MNT = "/mnt";

/** Copy a host directory tree into the system disk at `target`; entries it skips (links,
 *  devices, sockets) are named on stderr. */
function copyTreeIn(disk: BlockBackend, hostDir: string, target: string): void {
  const fs = new BsdFs(fsBackendOf(disk));
  try {
    fs.mount();
    if (!fs.exists(MNT)) fs.mkdir(MNT);
    if (fs.exists(target)) throw new Error(`${target} exists on the system disk`);
    const walk = (host: string, guest: string): void => {
      fs.mkdir(guest);
      for (const name of readdirSync(host).sort()) {
        const h = join(host, name);
        const st = lstatSync(h);
        if (st.isDirectory()) walk(h, `${guest}/${name}`);
        else if (st.isFile()) fs.writeFile(`${guest}/${name}`, readFileSync(h), st.mode & 0o7777);
        else if (st.isSymbolicLink()) fs.symlink(readlinkSync(h), `${guest}/${name}`); // its target as it is
        else process.stderr.write(`bsd exec: --dir: ${h} not copied (not a file, directory or link)\n`);
      }
    };
    walk(hostDir, target);
    fs.unmount();
  } catch (e) {
    throw new Error(`--dir ${hostDir}: cannot copy it to the system disk: ${(e as Error).message}`);
  } finally {
    fs.release();
  }
}

/** Make the host directory what the program left at `target` on the system disk. */
function copyTreeOut(disk: BlockBackend, target: string, hostDir: string): void {
  const fs = new BsdFs(new OverlayBackend(fsBackendOf(disk))); // a journal replay stays in memory
  try {
    fs.mount();
    const walk = (guest: string, host: string): void => {
      const inGuest = new Map(fs.list(guest).map((e) => [e.name, e.type]));
      const kind = (st: Stats): string => (st.isDirectory() ? "dir" : st.isSymbolicLink() ? "link" : "file");
      for (const name of readdirSync(host)) {
        const h = join(host, name);
        const st = lstatSync(h);
        if (!st.isFile() && !st.isDirectory() && !st.isSymbolicLink()) continue; // never copied in: not ours
        const t = inGuest.get(name);
        if (t === undefined || t !== kind(st)) rmSync(h, { recursive: true, force: true });
      }
      for (const [name, type] of inGuest) {
        const h = join(host, name);
        if (type === "dir") {
          if (!existsSync(h)) mkdirSync(h);
          walk(`${guest}/${name}`, h);
        } else if (type === "link") {
          const target = fs.readlink(`${guest}/${name}`);
          let now: string | undefined;
          try { now = readlinkSync(h); } catch { /* absent */ }
          if (now !== target) {
            if (now !== undefined) rmSync(h, { force: true });
            symlinkSync(target, h);
          }
        } else {
          const data = fs.readFile(`${guest}/${name}`);
          if (!existsSync(h) || Buffer.compare(readFileSync(h), data) !== 0) writeFileSync(h, data);
        }
      }
    };
    walk(target, hostDir);
  } catch (e) {
    throw new Error(`--dir ${hostDir}: cannot copy the program's changes back: ${(e as Error).message}`);
  } finally {
    fs.release();
  }
}

interface ExecOptions {
  stdin?: "whole" | "stream";
  seed: number; until: number; systemDisk?: string; disk?: string[]; dir?: string; root: boolean; verbose?: boolean; json?: boolean; env: string[];
  costModel: CostModelName;
}

async function execAction(prog: string, args: string[], o: ExecOptions): Promise<void> {
  const cfg = defaultBoard();
  cfg.seed = o.seed;
  cfg.costs = costModel(o.costModel);
  if (o.systemDisk) useSystemDisk(cfg, o.systemDisk);
  if (o.disk && cfg.scsi) {
    for (const d of o.disk) if (!existsSync(d)) throw new Error(`--disk ${d}: no such image (make one with hitactix disk create)`);
    cfg.scsi.disks = o.disk.map((image) => ({ image }));
  }
  const image = o.systemDisk ?? cfg.scsi2!.disks[0].image!;
  const onDisk = prog.startsWith("/") && systemDiskHas(image, prog);
  const path = onDisk ? prog : tmpPath(prog);
  if (o.dir !== undefined && !o.root) throw new Error("--dir and --no-root exclude each other");
  if (o.dir !== undefined && !(existsSync(o.dir) && statSync(o.dir).isDirectory())) throw new Error(`--dir ${o.dir}: not a directory`);
  const dirTarget = o.dir === undefined ? undefined : `${MNT}/${basename(o.dir).replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 50) || "dir"}`;
  const stdinMode = o.stdin ?? (stdinIsFile() ? "whole" : "stream");
  const input = stdinMode === "whole" ? await readStdin() : new Uint8Array();
  cfg.bsd = {
    ttyAttached: true,
    cmdline: ["init", "-x", ...o.env.flatMap((e) => ["-e", e]), ...(dirTarget ? ["-r", dirTarget] : o.root ? [] : ["-r", "-"]), path, ...args],
    ttyTerminals: { in: !!process.stdin.isTTY, out: !!process.stdout.isTTY, err: !!process.stderr.isTTY },
  };
  const out: Array<[number, Uint8Array]> = [];
  const machine = await buildMachineAsync(cfg, {
    ttyOutput: (stream, bytes) => { (stream === 0 ? process.stdout : process.stderr).write(bytes); out.push([stream, bytes]); },
    // The kernel's reports on processes (a fault, a refused program) always show.
    onConsole: (l) => {
      if (o.verbose || (l.cpu === 0 && /^bsd: (pid \d+ |spawn |panic)/.test(l.text))) process.stderr.write(`[${(l.timeNs / 1e9).toFixed(6)}] cpu${l.cpu} ${l.text}\n`);
    },
    onLog: o.verbose ? (kind, msg) => process.stderr.write(`${kind}: ${msg}\n`) : undefined,
  });
  try {
    if (!onDisk) copyIn(machine.disks2[0].backend, prog, path);
    if (dirTarget) copyTreeIn(machine.disks2[0].backend, o.dir!, dirTarget);
    const tty = machine.tty!;
    let stdinOpen = false;
    if (stdinMode === "whole") {
      tty.input(input);
      tty.endInput();
    } else {
      stdinOpen = true;
      process.stdin.on("data", (b: Buffer) => { if (stdinOpen) tty.input(new Uint8Array(b)); });
      const end = (): void => { if (stdinOpen) { stdinOpen = false; tty.endInput(); } };
      process.stdin.on("end", end);
      process.stdin.on("error", end);
    }
    const board = machine.board;
    const wall0 = performance.now();
    for (let t = 0; t < o.until && !board.sched.halted;) {
      if (stdinOpen) {
        // Paced: virtual time at most 10 ms ahead of the wall clock since boot.
        const allowed = (performance.now() - wall0) * 1e6 + PACE_NS;
        if (t >= allowed) {
          await new Promise((r) => setTimeout(r, Math.max(1, Math.min(10, (t - allowed) / 1e6))));
          continue;
        }
        t = Math.min(o.until, t + PACE_NS);
      } else {
        t = Math.min(o.until, t + 1_000_000_000);
      }
      board.run(t);
      if (board.cpus.some((c) => c.report)) break;
      await new Promise((r) => setImmediate(r)); // let stdout drain, and input arrive
    }
    if (stdinMode === "stream") { stdinOpen = false; process.stdin.destroy(); }
    const s = board.summary();
    const status = board.sysctl.powerOffStatus;
    // Only a board that powered off has its file system committed (reboot syncs first).
    if (dirTarget && status !== undefined) copyTreeOut(machine.disks2[0].backend, dirTarget, o.dir!);
    else if (dirTarget) process.stderr.write(`bsd exec: --dir ${o.dir}: not copied back (the program did not end)\n`);
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
      const at = `at ${(report.simTimeNs / 1e9).toFixed(6)} s virtual`;
      const how = status === undefined ? `still running at ${(s.simTimeNs / 1e9).toFixed(6)} s virtual (--until)`
        : rec === undefined ? `did not start: the board powered off with status ${status} ${at}` : `exited with status ${status} ${at}`;
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
    .option("--dir <hostdir>", "give the program this host directory as its \"/\" (copied in, and its changes back)")
    .addOption(new Option("--stdin <mode>", "whole: read standard input before boot (reproducible); stream: as it arrives (default for a pipe or terminal)").choices(["whole", "stream"]))
    .option("--no-root", "give the program no preopened directory (its descriptor 3 is closed)")
    .option("--env <NAME=VALUE>", "an environment variable for the program (repeatable)", (v: string, acc: string[]) => {
      if (!/^[^=]+=/.test(v)) throw new InvalidArgumentError(`"${v}" is not NAME=VALUE`);
      return [...acc, v];
    }, [] as string[])
    .addOption(new Option("--cost-model <name>", "CPU cost model of the kernels and the program: flat or p6 (host/costs.ts)").choices([...COST_MODELS]).default("flat"))
    .option("--verbose", "show the kernels' consoles on stderr")
    .option("--json", "the run's report as one JSON object on stderr")
    .passThroughOptions()
    .action((prog: string, args: string[], o: ExecOptions) => execAction(prog, args, o));
  return bsd;
}
