// What a disk scheduling policy is (STYLE.md practice 8: a policy is one file that
// implements this). The disk I/O control thread (diskio.ts) keeps one policy object
// per disk, hands it every request, and asks it what to issue next.

import { BlkReq } from "./blkdev";

export abstract class DiskPolicy {
  /** Name for reports ("cyclic", "fifo"). */
  abstract name(): string;
  /** Largest piece a non-real-time request is split into, bytes (0 = never split). */
  abstract splitBytes(): u32;
  /** A request (or a split piece) arrives. */
  abstract enqueue(r: BlkReq, now: u64): void;
  /** The next request to issue now, with `outstanding` already at the disk; or null. */
  abstract pick(now: u64, outstanding: u32): BlkReq | null;
  /** A time at which pick() may have something new without any other event (0 = none). */
  abstract wakeAt(): u64;
  /** Counters for reports: index -> value, name via counterName. */
  abstract counters(): u32;
  abstract counterName(i: u32): string;
  abstract counter(i: u32): u64;
}
