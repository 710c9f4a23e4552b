// The whole machine: the board plus the devices its description names, wired
// together (STYLE.md practice 6: one declarative description, built here).
//   AceNIC at NIC_BASE on IRQ_NIC of its CPU <-> 1 Gb/s wire <-> measurement client,
//   with an optional pcap tap on the wire.
// The board core (board.ts) knows no device model; this file is where they meet.
//
// Interface: buildMachine(config, options) -> Machine; machine.close() flushes files.

import { Board, type BoardOptions } from "./board.js";
import type { BoardConfig } from "./config.js";
import { AceNic } from "../devices/acenic.js";
import { Wire } from "../devices/wire.js";
import { PcapWriter } from "../devices/pcap.js";
import { MeasureClient, type ExpectedFn } from "../devices/measure-client.js";
import { NIC_BASE, IRQ_NIC } from "../common/platform.js";

export interface MachineOptions extends BoardOptions {
  /** Device trace lines (register accesses, DMA, interrupts), by device name. */
  deviceTrace?: (device: string, line: string) => void;
  /** What the measurement client should receive (payload verification). */
  expected?: ExpectedFn;
}

export interface Machine {
  board: Board;
  nic?: AceNic;
  wire?: Wire;
  client?: MeasureClient;
  pcap?: PcapWriter;
  close(): void;
}

export function buildMachine(config: BoardConfig, opts: MachineOptions = {}): Machine {
  const board = Board.create(config, opts);
  const m: Machine = { board, close: () => m.pcap?.close() };
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
    const client = new MeasureClient({ windowsNs: n.clientWindowsNs, expected: opts.expected });
    nic.connect(wire.attach(0, nic));
    client.connect(wire.attach(1, client));
    Object.assign(m, { nic, wire, client, pcap });
  }
  return m;
}
