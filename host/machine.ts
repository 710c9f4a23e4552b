// The whole machine: the board plus the devices its description names, wired
// together (STYLE.md practice 6: one declarative description, built here).
//   AceNIC at NIC_BASE on IRQ_NIC of its CPU <-> 1 Gb/s wire <-> measurement client,
//   with an optional pcap tap on the wire;
//   LSI53C895 at SCSI_BASE on IRQ_SCSI of its CPU, disks at SCSI IDs 0, 1, 2, ...
//   over image files or sparse memory.
// The board core (board.ts) knows no device model; this file is where they meet.
//
// Interface: buildMachine(config, options) -> Machine; machine.close() flushes files.

import { Board, type BoardOptions } from "./board.js";
import type { BoardConfig } from "./config.js";
import { AceNic } from "../devices/acenic.js";
import { Wire } from "../devices/wire.js";
import { PcapWriter } from "../devices/pcap.js";
import { MeasureClient, type ExpectedFn, type ContentFn } from "../devices/measure-client.js";
import { Lsi53c895 } from "../devices/lsi53c895.js";
import { ScsiDisk } from "../devices/scsi-disk.js";
import { MemoryBackend, openImage, type BlockBackend } from "../devices/block-backend.js";
import { NIC_BASE, IRQ_NIC, SCSI_BASE, IRQ_SCSI } from "../common/platform.js";

export interface MachineOptions extends BoardOptions {
  /** Device trace lines (register accesses, DMA, interrupts), by device name. */
  deviceTrace?: (device: string, line: string) => void;
  /** What the measurement client should receive (payload verification). */
  expected?: ExpectedFn;
  /** The same, as each stream's whole content (cheaper; takes precedence). */
  content?: ContentFn;
}

export interface Machine {
  board: Board;
  nic?: AceNic;
  wire?: Wire;
  client?: MeasureClient;
  pcap?: PcapWriter;
  scsi?: Lsi53c895;
  disks: ScsiDisk[];
  close(): void;
}

export function buildMachine(config: BoardConfig, opts: MachineOptions = {}): Machine {
  const board = Board.create(config, opts);
  const m: Machine = {
    board,
    disks: [],
    close: () => {
      m.pcap?.close();
      m.disks.forEach((d) => d.close());
    },
  };
  const trace = (name: string): ((l: string) => void) | undefined =>
    opts.deviceTrace ? (l) => opts.deviceTrace!(name, l) : undefined;
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
    const sc = config.scsi;
    m.disks = sc.disks.map((d, id) => {
      let backend: BlockBackend;
      if (d.image) backend = openImage(d.image);
      else if (d.sizeBytes && d.sizeBytes > 0 && d.sizeBytes % 512 === 0) backend = new MemoryBackend(d.sizeBytes / 512);
      else throw new Error(`disk ${id}: give an image file or a size in bytes that is a multiple of 512`);
      return new ScsiDisk(id, board.targetContext(`disk${id}`, trace(`disk${id}`)), backend, { faults: d.faults, writeCache: d.writeCache });
    });
    m.scsi = new Lsi53c895(board.deviceContext("lsi53c895", sc.cpu, IRQ_SCSI, trace("lsi53c895")), m.disks, { base: SCSI_BASE });
    board.addDevice(SCSI_BASE, m.scsi);
  }
  return m;
}
