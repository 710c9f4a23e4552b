// FIFO: every request goes to the disk in arrival order, unsplit, with up to
// FIFO_DEPTH outstanding (tagged queueing; the disk keeps the order). This is the
// general-purpose OS of PAPER.md Fig. 4 and the paper's "without" case, where upload
// writes bypass the cyclic schedule.

import { BlkReq, ReqQueue } from "./blkdev";
import { DiskPolicy } from "./diskpolicy";

export const FIFO_DEPTH: u32 = 4;

export class FifoPolicy extends DiskPolicy {
  q: ReqQueue = new ReqQueue();
  issued: u64 = 0;
  name(): string { return "fifo"; }
  splitBytes(): u32 { return 0; }
  enqueue(r: BlkReq, now: u64): void { this.q.push(r); }
  pick(now: u64, outstanding: u32): BlkReq | null {
    if (this.q.count == 0 || outstanding >= FIFO_DEPTH) return null;
    this.issued++;
    return this.q.shift();
  }
  wakeAt(): u64 { return 0; }
  counters(): u32 { return 1; }
  counterName(i: u32): string { return "issued"; }
  counter(i: u32): u64 { return this.issued; }
}
