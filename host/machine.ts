// The whole machine: the board plus the devices its description names, wired
// together (STYLE.md practice 6: one declarative description, built here).
//   AceNIC at NIC_BASE on IRQ_NIC of its CPU <-> 1 Gb/s wire <-> measurement client,
//   with an optional pcap tap on the wire;
//   LSI53C895 at SCSI_BASE on IRQ_SCSI of its CPU, disks at SCSI IDs 0, 1, 2, ...
//   over image files or sparse memory; optionally a second one (config.scsi2, at
//   SCSI2_BASE) with disks of its own.
// The board core (board.ts) knows no device model; this file is where they meet.
//
// Interface: buildMachine(config, options) -> Machine; machine.close() flushes files.
//   buildMachineAsync(config, options): the same, after loading what BSD processes need
//   (binaryen, for the process loader): the command line uses it.

import { Board, type BoardOptions } from "./board.js";
import type { BoardConfig } from "./config.js";
import { AceNic } from "../devices/acenic.js";
import { Wire } from "../devices/wire.js";
import { PcapWriter } from "../devices/pcap.js";
import { MeasureClient, type ExpectedFn, type ContentFn } from "../devices/measure-client.js";
import { Lsi53c895 } from "../devices/lsi53c895.js";
import { ScsiDisk } from "../devices/scsi-disk.js";
import { MemoryBackend, openImage, type BlockBackend } from "../devices/block-backend.js";
import type { ScsiConfig } from "./config.js";
import { NIC_BASE, IRQ_NIC, SCSI_BASE, SCSI2_BASE, IRQ_SCSI } from "../common/platform.js";
import { TTY_BASE, IRQ_TTY } from "../common/platform.js";
import { Tty } from "../devices/tty.js";
import { ProcessEngine, type ProgramLoader } from "./proc/engine.js";
import { bsdBootArgs, writeBsdBoot } from "./bsd-boot.js";
import { loadProgram, prepareLoader } from "./proc/loader.js";

export interface MachineOptions extends BoardOptions {
  /** Device trace lines (register accesses, DMA, interrupts), by device name. */
  deviceTrace?: (device: string, line: string) => void;
  /** What the measurement client should receive (payload verification). */
  expected?: ExpectedFn;
  /** The same, as each stream's whole content (cheaper; takes precedence). */
  content?: ContentFn;
  /** Bytes BSD processes write to the terminal: stream 0 out, 1 err (bsd exec). */
  ttyOutput?: (stream: number, bytes: Uint8Array) => void;
  /** How program images become processes (default: host/proc/loader.ts). */
  programLoader?: ProgramLoader;
}

export interface Machine {
  board: Board;
  nic?: AceNic;
  wire?: Wire;
  client?: MeasureClient;
  pcap?: PcapWriter;
  scsi?: Lsi53c895;
  disks: ScsiDisk[];
  /** The second controller (config.scsi2) and its disks. */
  scsi2?: Lsi53c895;
  disks2: ScsiDisk[];
  /** The BSD side: its terminal and the engine that runs its processes. */
  tty?: Tty;
  engine?: ProcessEngine;
  close(): void;
}

export function buildMachine(config: BoardConfig, opts: MachineOptions = {}): Machine {
  // The CPU whose kernel runs processes gets the engine's imports and its boot block.
  const procCpu = config.cpus.findIndex((c) => c.processes && c.wasm !== "host");
  let engine: ProcessEngine | undefined;
  const kernelImports: Array<Record<string, unknown> | undefined> = [];
  if (procCpu >= 0) {
    const bsd = config.bsd ?? {};
    config = { ...config, cpus: config.cpus.map((c, i) => (i === procCpu ? { ...c, bootArgs: { ...c.bootArgs, ...bsdBootArgs(bsd, config.seed) } } : c)) };
    kernelImports[procCpu] = {
      proc_create: (pid: number, image: number, len: number): number => engine!.kernelCreate(pid, image, len),
      proc_destroy: (pid: number): void => engine!.kernelDestroy(pid),
      proc_cycles: (pid: number): bigint => engine!.kernelCycles(pid),
    };
  }
  const board = Board.create(config, { ...opts, kernelImports });
  const m: Machine = {
    board,
    disks: [],
    disks2: [],
    close: () => {
      m.pcap?.close();
      m.disks.forEach((d) => d.close());
      m.disks2.forEach((d) => d.close());
    },
  };
  const trace = (name: string): ((l: string) => void) | undefined =>
    opts.deviceTrace ? (l) => opts.deviceTrace!(name, l) : undefined;
  if (procCpu >= 0) {
    writeBsdBoot(board.mem, config.bsd ?? {});
    engine = new ProcessEngine(board, procCpu, opts.programLoader ?? loadProgram);
    engine.attach(board.cpus[procCpu].guestExports);
    m.engine = engine;
    m.tty = new Tty(board.deviceContext("tty", procCpu, IRQ_TTY, trace("tty")), {
      attached: config.bsd?.ttyAttached ?? false,
      terminals: config.bsd?.ttyTerminals,
      onOutput: opts.ttyOutput,
    });
    board.addDevice(TTY_BASE, m.tty);
  }
  if (config.nic) {
    const n = config.nic;
    const nic = new AceNic(board.deviceContext("acenic", n.cpu, IRQ_NIC, trace("acenic")), {
      mac: n.mac,
      rxDropProbability: n.rxDropProbability,
      txDropProbability: n.txDropProbability,
    });
    board.addDevice(NIC_BASE, nic);
    const pcap = n.pcap ? new PcapWriter(n.pcap) : undefined;
    const wire = new Wire({ propagationNs: n.propagationNs ?? 0, tap: pcap });
    const client = new MeasureClient({ windowsNs: n.clientWindowsNs, expected: opts.expected, content: opts.content });
    nic.connect(wire.attach(0, nic));
    client.connect(wire.attach(1, client));
    Object.assign(m, { nic, wire, client, pcap });
  }
  if (config.scsi) {
    [m.scsi, m.disks] = scsiBus(board, config.scsi, "lsi53c895", SCSI_BASE, "", trace);
  }
  if (config.scsi2) {
    [m.scsi2, m.disks2] = scsiBus(board, config.scsi2, "lsi53c895-2", SCSI2_BASE, "scsi2.", trace);
  }
  return m;
}

export async function buildMachineAsync(config: BoardConfig, opts: MachineOptions = {}): Promise<Machine> {
  if (config.cpus.some((c) => c.processes && c.wasm !== "host") && !opts.programLoader) await prepareLoader();
  return buildMachine(config, opts);
}

/** A controller and its disks. Names (logs, traces, RNG streams) carry `prefix` on the
 *  second bus, so the first bus's streams are the same with or without a second. */
function scsiBus(board: Board, sc: ScsiConfig, name: string, defaultBase: number, prefix: string,
  trace: (name: string) => ((l: string) => void) | undefined): [Lsi53c895, ScsiDisk[]] {
  const disks = sc.disks.map((d, id) => {
    let backend: BlockBackend;
    if (d.image) backend = d.volatile ? MemoryBackend.fromImage(d.image) : openImage(d.image);
    else if (d.sizeBytes && d.sizeBytes > 0 && d.sizeBytes % 512 === 0) backend = new MemoryBackend(d.sizeBytes / 512);
    else throw new Error(`${prefix}disk ${id}: give an image file or a size in bytes that is a multiple of 512`);
    const dn = `${prefix}disk${id}`;
    return new ScsiDisk(id, board.targetContext(dn, trace(dn)), backend, { faults: d.faults, writeCache: d.writeCache });
  });
  const base = sc.base ?? defaultBase;
  const ctrl = new Lsi53c895(board.deviceContext(name, sc.cpu, sc.irq ?? IRQ_SCSI, trace(name)), disks, { base, name });
  board.addDevice(base, ctrl);
  return [ctrl, disks];
}
