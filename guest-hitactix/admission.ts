// Admission control: a stream is started only if every disk can still read its share
// of every period in time. HiTactix budgets from MEASURED disk times (PAPER.md section
// 6, against the Delta-L scheduler's predicted worst case): at mount, the kernel times
// reads on each disk (calibrate.ts) and sets, per disk, a positioning cost (a read of
// one sector after a full-stroke seek) and a transfer cost per byte (a large read in
// the slowest, innermost zone).
//
// Because chunks are striped round-robin and every stream moves to the next disk each
// period, the streams fall into NDISK fixed groups (the disk they read in period 0 of
// the grid, minus their start): each period, each group reads from one disk, and the
// groups rotate. A disk's load in a period is therefore one group's load; admission
// puts a new stream in the group with the most room and refuses it if even that group
// would exceed RT_UTILIZATION of the period.
//
// Interface:
//   admitSetDisk(disk, positionNs, psPerByte)   calibration results
//   admitChunkNs(chunkBytes)                    worst service time of one chunk
//   admit(chunkBytes) -> group, or -1           reserve; admitRelease(group, chunkBytes)
//   admitGroupLoadNs(g)                         for reports

import { NDISK, PERIOD_NS } from "./param";

/** Share of each period the real-time reads of one disk may take (the rest is left
 *  for non-real-time requests and to absorb one NRT piece of delay). */
export const RT_UTILIZATION_PERCENT: u64 = 80;

let positionNs: u64 = 0; // worst over the disks
let psPerByte: u64 = 0; // worst over the disks, picoseconds per byte
const groupLoad = new StaticArray<u64>(NDISK);
export let calibrated: bool = false;

export function admitSetDisk(disk: u32, posNs: u64, ps: u64): void {
  if (posNs > positionNs) positionNs = posNs;
  if (ps > psPerByte) psPerByte = ps;
  calibrated = true;
}

export function admitChunkNs(chunkBytes: u32): u64 {
  return positionNs + (<u64>chunkBytes * psPerByte) / 1000;
}

export function admitGroupLoadNs(g: u32): u64 {
  return groupLoad[g];
}

/** Reserve room for a stream whose chunk is `chunkBytes`: the group, or -1. */
export function admit(chunkBytes: u32): i32 {
  if (!calibrated) return -1;
  let cost = admitChunkNs(chunkBytes);
  let limit = (PERIOD_NS * RT_UTILIZATION_PERCENT) / 100;
  let best: i32 = -1;
  for (let g: u32 = 0; g < NDISK; g++) {
    if (groupLoad[g] + cost <= limit && (best < 0 || groupLoad[g] < groupLoad[best])) best = <i32>g;
  }
  if (best >= 0) groupLoad[best] += cost;
  return best;
}

export function admitRelease(g: u32, chunkBytes: u32): void {
  let cost = admitChunkNs(chunkBytes);
  groupLoad[g] = groupLoad[g] > cost ? groupLoad[g] - cost : 0;
}
