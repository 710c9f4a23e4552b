// Shared by the BSD kernel's test suites: a board booted with the BSD kernel on its
// system disk (a copy of build/system.img in memory, or a given image), its consoles
// and terminal output collected, and the system disk readable afterwards through the
// host tool's code (BsdFs over the disk's backend).
import { buildMachineAsync, type Machine, type MachineOptions } from "../host/machine.js";
import { defaultBoard, type BoardConfig } from "../host/config.js";
import { BsdFs, type FsBackend } from "../host/fs-image.js";
import type { BlockBackend } from "../devices/block-backend.js";

export interface BsdRun {
  machine: Machine;
  /** Console lines of CPU 0 ("[t] text"). */
  console: string[];
  /** Terminal output: stream 0 (out) and 1 (err). */
  out: Uint8Array[][];
  /** The system disk through the file system's own code (mounted; release() it). */
  fs(): BsdFs;
  /** Run to `ns` or until the board powers off. */
  run(ns: number): void;
  stdout(): string;
  stderr(): string;
}

export function fsBackendOf(b: BlockBackend): FsBackend {
  return {
    blocks: Math.floor(b.sectors / 8),
    read: (block, dst) => b.read(block * 8, 8, dst, 0),
    write: (block, src) => b.write(block * 8, 8, src, 0),
    flush: () => b.flush(),
  };
}

export async function bootBsd(o: {
  cmdline?: string[];
  stdin?: Uint8Array | string;
  edit?: (c: BoardConfig) => void;
  opts?: MachineOptions;
  /** Put files on the system disk before boot: path -> content. */
  files?: Record<string, Uint8Array | string>;
} = {}): Promise<BsdRun> {
  const cfg = defaultBoard();
  cfg.bsd = { cmdline: o.cmdline, ttyAttached: o.stdin !== undefined || o.cmdline?.[1] === "-x" };
  o.edit?.(cfg);
  const console: string[] = [];
  const out: Uint8Array[][] = [[], []];
  const machine = await buildMachineAsync(cfg, {
    onConsole: (l) => { if (l.cpu === 0) console.push(`[${(l.timeNs / 1e9).toFixed(6)}] ${l.text}`); },
    ttyOutput: (s, b) => out[s].push(b),
    ...o.opts,
  });
  const disk = machine.disks2[0].backend;
  if (o.files) {
    const fs = new BsdFs(fsBackendOf(disk));
    fs.mount();
    for (const [path, data] of Object.entries(o.files)) {
      const parts = path.split("/").filter((x) => x);
      for (let i = 1; i < parts.length; i++) {
        const dir = "/" + parts.slice(0, i).join("/");
        try {
          fs.lookup(dir);
        } catch {
          fs.mkdir(dir, 0o755);
        }
      }
      fs.writeFile(path, typeof data === "string" ? new TextEncoder().encode(data) : data, 0o755);
    }
    fs.unmount();
    fs.release();
  }
  if (cfg.bsd.ttyAttached) {
    const input = o.stdin === undefined ? new Uint8Array() : typeof o.stdin === "string" ? new TextEncoder().encode(o.stdin) : o.stdin;
    machine.tty!.input(input);
    machine.tty!.endInput();
  }
  const text = (s: number): string => Buffer.concat(out[s]).toString("utf8");
  return {
    machine,
    console,
    out,
    fs: () => {
      const fs = new BsdFs(fsBackendOf(disk));
      fs.mount();
      return fs;
    },
    run: (ns: number) => {
      const b = machine.board;
      while (b.sched.now < ns && !b.sched.halted && !b.cpus.some((c) => c.report)) b.run(Math.min(ns, b.sched.now + 1e9));
    },
    stdout: () => text(0),
    stderr: () => text(1),
  };
}
