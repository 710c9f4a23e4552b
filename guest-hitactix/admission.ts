// Admission control: a stream is started only if every disk can still read its share
// of every period in time. HiTactix budgets from MEASURED disk times (PAPER.md section
// 6, against the Delta-L scheduler's predicted worst case): at mount the kernel times
// reads on each disk (calibrate.ts): a worst-case positioning (full-stroke seek and
// rotation) and the transfer time per byte at NPOINT places across the zones. A
// stream's chunk is costed at the zone where its file's chunks actually lie.
//
// Because chunks are striped round-robin and every stream moves to the next disk each
// period, the streams fall into NDISK fixed groups: each period each group reads from
// one disk, and the groups rotate. A disk's load in a period is therefore one group's
// load; admission puts a new stream in the group with the most room and refuses it if
// even that group would exceed RT_UTILIZATION_PERCENT of the period.
//
// Memory comes first: before admission, the mailbox service refuses a stream whose
// ring buffers cannot fit HiTactix's free heap (distribRingFits, ERR_NO_MEMORY), also
// for streams started past admission (FLAG_NO_ADMISSION): the disks' limit may be
// explored, the partition's may not.
//
// Interface:
//   admitSetDisk(disk, positionNs, capacity), admitSetRate(disk, point, psPerByte)
//   admitChunkNs(chunkBytes, maxLba)   worst service time of one chunk of a file
//   admit(chunkBytes, maxLba) -> group, or -1;  admitRelease(group, cost)
//   admitGroupLoadNs(g)

import { NDISK, PERIOD_NS } from "./param";

/** Share of each period the real-time reads of one disk may take; the rest is for
 *  non-real-time pieces (one of which may delay the next period's reads). */
export const RT_UTILIZATION_PERCENT: u64 = 90;
export const NPOINT: u32 = 3;

let positionNs: u64 = 0; // worst over the disks
let capacity: u64 = 0; // smallest disk, sectors
const psPerByte = new StaticArray<u64>(NPOINT); // worst over the disks, per point
const groupLoad = new StaticArray<u64>(NDISK);
export let calibrated: bool = false;

export function admitSetDisk(disk: u32, posNs: u64, cap: u64): void {
  if (posNs > positionNs) positionNs = posNs;
  if (capacity == 0 || cap < capacity) capacity = cap;
}

export function admitSetRate(disk: u32, point: u32, ps: u64): void {
  if (ps > psPerByte[point]) psPerByte[point] = ps;
  calibrated = true;
}

/** Transfer cost per byte at an LBA, interpolated between the measured points (zones
 *  slow down steadily from the outer edge inward). */
function psAt(lba: u64): u64 {
  if (capacity == 0) return psPerByte[NPOINT - 1];
  let x = (lba * <u64>(NPOINT - 1) * 1000) / capacity; // point index x 1000
  let p = <u32>(x / 1000);
  if (p >= NPOINT - 1) return psPerByte[NPOINT - 1];
  let f = x % 1000;
  let a = psPerByte[p], b = psPerByte[p + 1];
  return b >= a ? a + ((b - a) * f + 999) / 1000 : a; // never below the slower side's share
}

export function admitChunkNs(chunkBytes: u32, maxLba: u64): u64 {
  return positionNs + (<u64>chunkBytes * psAt(maxLba)) / 1000;
}

export function admitGroupLoadNs(g: u32): u64 {
  return groupLoad[g];
}

/** Reserve `cost` ns per period in the group with the most room: the group, or -1. */
export function admit(cost: u64): i32 {
  if (!calibrated) return -1;
  let limit = (PERIOD_NS * RT_UTILIZATION_PERCENT) / 100;
  let best: i32 = -1;
  for (let g: u32 = 0; g < NDISK; g++) {
    if (groupLoad[g] + cost <= limit && (best < 0 || groupLoad[g] < groupLoad[best])) best = <i32>g;
  }
  if (best >= 0) groupLoad[best] += cost;
  return best;
}

export function admitRelease(g: u32, cost: u64): void {
  groupLoad[g] = groupLoad[g] > cost ? groupLoad[g] - cost : 0;
}
