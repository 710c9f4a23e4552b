// Fault injection as people ask for it on the command line, onto the board
// description, and afterwards the question whether each fault could have mattered.
//
//   --nic-drop p          each frame through the NIC is lost with probability p, in BOTH
//                         directions (seeded): frames from the wire (an FCS error) and
//                         frames the guest sends (lost on the link). In `run` the guests
//                         only send, so a receive-only fault had no effect at all.
//   --disk-slowdown f     every disk's mechanical times x f
//   --medium-error d:l:n  blocks l .. l+n-1 of disk d cannot be read or written; the
//                         range must lie on the disk (its size from the description:
//                         the in-memory size, or the image file's size)
//
// After a run, faultWarnings() names each fault that can have had no effect: no frame
// crossed the NIC, no command hit a bad block of that disk, no disk I/O at all.
//
// Interface:
//   applyFaults(cfg, options)              throws a clear Error on a range off the disk
//   faultCounters(machine) -> { nic, disks }   frames and drops, disk commands and errors
//   faultWarnings(machine, options) -> string[]

import { statSync } from "node:fs";
import type { BoardConfig, DiskConfig } from "./config.js";
import type { Machine } from "./machine.js";
import { checkMediumError, type MediumErrorSpec } from "./units.js";

export interface FaultOptions {
  nicDrop?: number;
  diskSlowdown?: number;
  mediumError?: MediumErrorSpec[];
}

/** Size in blocks of a disk of the description (reads the image's size, not its data). */
function diskSectors(d: DiskConfig, i: number): number {
  if (d.image) {
    try {
      return Math.floor(statSync(d.image).size / 512);
    } catch (e) {
      throw new Error(`disk ${i}: cannot open the image ${d.image} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  return Math.floor((d.sizeBytes ?? 0) / 512);
}

export function applyFaults(cfg: BoardConfig, o: FaultOptions): void {
  if (o.nicDrop !== undefined) {
    if (!(o.nicDrop >= 0 && o.nicDrop <= 1)) throw new Error(`--nic-drop must be a probability between 0 and 1 (got ${o.nicDrop})`);
    if (cfg.nic) {
      cfg.nic.rxDropProbability = o.nicDrop;
      cfg.nic.txDropProbability = o.nicDrop;
    }
  }
  const disks = cfg.scsi?.disks ?? [];
  if (o.diskSlowdown !== undefined) {
    if (!(o.diskSlowdown >= 1)) throw new Error(`--disk-slowdown must be a factor of 1 or more (got ${o.diskSlowdown})`);
    for (const d of disks) d.faults = { ...d.faults, slowdown: o.diskSlowdown };
  }
  if (o.mediumError?.length) {
    const sectors = disks.map(diskSectors);
    for (const spec of o.mediumError) {
      checkMediumError(spec, sectors);
      const d = disks[spec.disk];
      d.faults = { ...d.faults, mediumErrors: [...(d.faults?.mediumErrors ?? []), { lba: spec.lba, count: spec.count, kind: "both" }] };
    }
  }
}

export interface FaultCounters {
  nic?: { framesSent: number; framesReceived: number; txDropped: number; rxDropped: number };
  disks: Array<{ reads: number; writes: number; mediumErrors: number }>;
}

export function faultCounters(m: Machine): FaultCounters {
  const out: FaultCounters = { disks: m.disks.map((d) => ({ reads: d.stats.reads, writes: d.stats.writes, mediumErrors: d.stats.mediumErrors })) };
  if (m.nic && m.wire) {
    // Wire side 0 is the NIC: what it put on the wire, and what came to it.
    out.nic = {
      framesSent: m.wire.stats(0).frames,
      framesReceived: m.wire.stats(1).frames,
      txDropped: m.nic.faults.txDropped,
      rxDropped: m.nic.faults.rxDropped,
    };
  }
  return out;
}

export function faultWarnings(m: Machine, o: FaultOptions): string[] {
  const c = faultCounters(m);
  const w: string[] = [];
  if (o.nicDrop !== undefined && o.nicDrop > 0) {
    const n = c.nic;
    const crossed = n ? n.framesSent + n.framesReceived + n.txDropped : 0;
    if (crossed === 0) w.push(`--nic-drop ${o.nicDrop} had no effect: no frame crossed the NIC in this run`);
    else if (n && n.txDropped + n.rxDropped === 0) w.push(`--nic-drop ${o.nicDrop} dropped no frame (${crossed} crossed the NIC)`);
  }
  if (o.diskSlowdown !== undefined && o.diskSlowdown !== 1 && c.disks.every((d) => d.reads + d.writes === 0)) {
    w.push(`--disk-slowdown ${o.diskSlowdown} had no effect: no disk read or wrote anything in this run`);
  }
  for (const spec of o.mediumError ?? []) {
    const d = c.disks[spec.disk];
    if (d && d.mediumErrors === 0) w.push(`--medium-error ${spec.text} had no effect: no disk I/O touched a bad block of disk ${spec.disk}`);
  }
  return w;
}
