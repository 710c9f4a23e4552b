// The board description: one declarative object the board is built from (STYLE.md
// practice 6). CPUs with their guest, partition and boot parameters; memory; the cost
// table; devices with their register base, IRQ line and owner CPU (added by the
// devices issue). defaultBoard() is what `npm start` boots.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PIII_600, type CostTable } from "./costs.js";
import { BSD_BASE, BSD_END, HTX_BASE, HTX_END, RAM_SIZE } from "../common/memmap.js";
import { BOOT_TICK_NS, BOOT_REPORT_TICKS, BOOT_HTX_POLICY, BOOT_HTX_IP } from "../common/platform.js";

export interface CpuConfig {
  /** Guest name used in reports. */
  name: string;
  /** Path of the guest's .wasm file; "host" for a host-driven CPU (no guest). */
  wasm: string;
  /** The guest's partition of RAM: static data and heap must stay in [base, end). */
  partition: { base: number; end: number };
  /** Virtual time of power-on for this CPU, ns. */
  bootAtNs: number;
  /** Boot parameters written to the CPU's BOOTINFO block: offset -> u32 value. */
  bootArgs: Record<number, number>;
  /** This CPU's kernel runs WASI processes (the BSD kernel): the board gives it the
   *  host's process engine (host/proc/engine.ts). */
  processes?: boolean;
}

/** What the BSD kernel is given at boot (host/bsd-boot.ts writes it). */
export interface BsdBootConfig {
  /** init's argv (default: just "init"). `init -x PROG ARGS` runs one program and
   *  powers off with its exit status (hitactix bsd exec). */
  cmdline?: string[];
  /** Files loaded into RAM for the kernel (a root file system of boot modules, used
   *  when there is no system disk). */
  modules?: Array<{ name: string; bytes: Uint8Array }>;
  /** Realtime at power-on, seconds since 1970 (default 2002-01-01, the paper's year). */
  epochSec?: number;
  /** A host session is attached to the terminal (its standard input and output). */
  ttyAttached?: boolean;
  /** Which of that session's streams are terminals (programs' isatty() tells). */
  ttyTerminals?: { in?: boolean; out?: boolean; err?: boolean };
}

/** The AceNIC, its wire and what is at the other end (the measurement client). */
export interface NicConfig {
  /** CPU whose interrupt controller gets the NIC's line. */
  cpu: number;
  mac: string;
  /** Write every frame on the wire to this pcap file. */
  pcap?: string;
  rxDropProbability?: number;
  txDropProbability?: number;
  /** Measurement client windows, ns. */
  clientWindowsNs?: number[];
  /** Wire propagation delay, ns. */
  propagationNs?: number;
}

/** One disk on the SCSI bus: an image file, or sparse memory of a size. */
export interface DiskConfig {
  /** Sparse raw image (hitactix disk create); written data survives the run. */
  image?: string;
  /** With `image`: copy the image into memory at power-on; the run's writes stay in
   *  memory and the file is left as it was (the default system disk). */
  volatile?: boolean;
  /** Size of an in-memory disk, bytes (when there is no image). */
  sizeBytes?: number;
  /** Fault injection: medium-error LBA ranges, mechanical slow-down factor. */
  faults?: { mediumErrors?: Array<{ lba: number; count: number; kind: "read" | "write" | "both" }>; slowdown?: number };
  /** Write cache enabled (default true). */
  writeCache?: boolean;
}

/** An LSI53C895-style controller and the disks on its bus (SCSI IDs 0, 1, 2, ...). */
export interface ScsiConfig {
  /** CPU whose interrupt controller gets the controller's line. */
  cpu: number;
  disks: DiskConfig[];
  /** Bus address of its register window: SCSI_BASE for `scsi`, SCSI2_BASE for `scsi2`. */
  base?: number;
  /** Its interrupt line on that CPU (default IRQ_SCSI). */
  irq?: number;
}

export interface BoardConfig {
  seed: number;
  memoryBytes: number;
  costs: CostTable;
  /** Width of a CPU-load window, ns. */
  loadWindowNs: number;
  /** Cycles one guest run may take before the watchdog stops the CPU (runaway). */
  runCycleLimit: number;
  cpus: CpuConfig[];
  nic?: NicConfig;
  scsi?: ScsiConfig;
  /** A second controller with its own disks (the BSD side's, at SCSI2_BASE by default). */
  scsi2?: ScsiConfig;
  bsd?: BsdBootConfig;
}

/** The package's root folder (where package.json is), from source or from dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = resolve(dir, "..");
  }
  throw new Error("cannot find the package root (package.json)");
}

export function defaultBoard(): BoardConfig {
  const root = packageRoot();
  return {
    seed: 1,
    memoryBytes: RAM_SIZE,
    costs: PIII_600,
    loadWindowNs: 10_000_000,
    runCycleLimit: 600_000_000, // one second of CPU in one entry is a runaway
    cpus: [
      {
        name: "bsd",
        wasm: join(root, "build", "bsd.wasm"),
        partition: { base: BSD_BASE, end: BSD_END },
        bootAtNs: 0,
        bootArgs: {
          [BOOT_TICK_NS]: 10_000_000, // hz = 100, as BSD's default clock
        },
        processes: true,
      },
      {
        name: "hitactix",
        wasm: join(root, "build", "hitactix.wasm"),
        partition: { base: HTX_BASE, end: HTX_END },
        bootAtNs: 0,
        bootArgs: {
          [BOOT_HTX_POLICY]: 0, // cyclic disk I/O scheduling
          [BOOT_HTX_IP]: 0x0a000001, // 10.0.0.1
          [BOOT_REPORT_TICKS]: 5000, // a status report every 5 s
        },
      },
    ],
    nic: { cpu: 1, mac: "02:48:54:58:00:01", clientWindowsNs: [10_000_000, 1_000_000_000] },
    // Three 18 GiB disks (the paper's three Ultra2 disks), in sparse memory by default.
    scsi: { cpu: 1, disks: [0, 1, 2].map(() => ({ sizeBytes: 18 * 2 ** 30 })) },
    // BSD's system disk on its own controller (interrupting CPU 0): the image npm
    // install builds, copied into memory so that a run leaves it as it was.
    scsi2: { cpu: 0, disks: [{ image: join(root, "build", "system.img"), volatile: true }] },
  };
}

/** BSD's system disk from an image file, kept and changed by the run (run and bsd exec
 *  --system-disk), instead of defaultBoard's copy of build/system.img in memory. */
export function useSystemDisk(cfg: BoardConfig, image: string): void {
  if (!existsSync(image)) throw new Error(`--system-disk ${image}: no such image (copy build/system.img, or make one with hitactix fs mkfs)`);
  cfg.scsi2 = { cpu: 0, disks: [{ image }] };
}
