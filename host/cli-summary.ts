// What the command line prints at the end of a run, shared by `run` and the
// experiments (so a guest fault during an experiment is reported exactly as `run`
// reports it): virtual time, events and trace hash; per CPU busy and idle cycles,
// load, interrupts, and the fault that stopped it; device/guest log counts; then the
// NIC's frames and fault drops, the disks' commands and medium errors, and HiTactix's
// failed reads, late reads and skipped periods (its statistics block).
//
// Interface:
//   printSummary(summary, extra?)   the text summary on stdout
//   faultText(report)               one CPU's fault, as a line
//   EXIT_GUEST_FAULT                the exit code when a guest fault stopped a CPU (3)

import type { BoardSummary } from "./board.js";
import type { CpuReport } from "./cpu.js";
import type { FaultCounters } from "./faults.js";
import { formatHitactixStats, type HitactixStats } from "./htx-stats.js";

export const EXIT_GUEST_FAULT = 3;

export function faultText(f: CpuReport): string {
  return `STOPPED: ${f.kind} in ${f.function} at ${(f.timeNs / 1e9).toFixed(6)} s: ${f.message}`;
}

export interface SummaryExtra {
  devices?: FaultCounters;
  hitactix?: HitactixStats;
}

export function printSummary(s: BoardSummary, extra: SummaryExtra = {}): void {
  console.log(`--- virtual time ${(s.simTimeNs / 1e9).toFixed(6)} s, ${s.events} events, trace ${s.traceHash}`);
  s.cpus.forEach((c, i) => {
    const fault = c.fault ? `  ${faultText(c.fault)}` : "";
    console.log(`cpu${i} ${c.name.padEnd(9)} busy ${c.busyCycles} / idle ${c.idleCycles} cycles, load ${(c.load * 100).toFixed(3)}%, ${c.interrupts} interrupts${fault}`);
  });
  const logs = Object.entries(s.logs);
  if (logs.length) console.log(`device/guest log: ${logs.map(([k, v]) => `${v} ${k}`).join(", ")}`);
  const n = extra.devices?.nic;
  if (n) console.log(`nic: ${n.framesSent} frames sent, ${n.framesReceived} received; dropped by fault injection: tx ${n.txDropped}, rx ${n.rxDropped}`);
  const disks = extra.devices?.disks ?? [];
  if (disks.length) {
    console.log(`disks: ${disks.map((d, i) => `disk${i} ${d.reads} reads, ${d.writes} writes, ${d.mediumErrors} medium errors`).join("; ")}`);
  }
  if (extra.hitactix) for (const l of formatHitactixStats(extra.hitactix)) console.log(l);
}
