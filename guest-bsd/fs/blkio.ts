// The block device under the file system (STYLE.md practice 8: the file system sees a
// request record and a completion upcall, never a register). One request moves one
// 4 KiB FS block (8 sectors: LBA = block * 8 + the device's own offset) or flushes the
// device's write cache (SCSI SYNCHRONIZE CACHE). xv6 style: the file system hands the
// device a request header, the device calls blkDone(req) when it is finished.
//
// Rules for an implementation:
//   - start() may complete at once (call blkDone before returning: the host tool, the
//     in-memory device below) or later, from an interrupt (the kernel's SCSI adapter).
//     The file system works with both.
//   - Any number of requests may be outstanding; the device queues what it cannot
//     start yet. The file system never has two requests for one block outstanding,
//     and waits for every write of a stage before it issues the next stage, so the
//     device may complete the requests of one stage in any order.
//   - req.status = 0 when the transfer is good, anything else for an error (the file
//     system reports EIO; a failed write during a commit stops all later writes).
//   - req.data is a physical address in the kernel's memory (4 KiB aligned), usable as
//     the DMA address.
// A working adapter over guest-lib/drivers/sym53c8xx.ts (a queue for when the
// driver's 48 slots are taken, SYNCHRONIZE CACHE(10) for BLK_FLUSH, the slot number as
// the driver's cookie) is SymFsDevice in test/guests/bsdfs-test.ts.
//
// Interface:
//   BlkReq                         op, block, data, status, owner/index (the file
//                                  system's), driver (free for the device's use)
//   BlockDevice                    capacity(): u32 blocks; start(req)
//   blkSetDone(fn)                 the completion upcall (set by bio.ts: bioDone)
//   blkDone(req)                   what a device calls when req is finished
//   MemDevice(blocks)              a synchronous device in memory, for tests

import { BSIZE } from "../../common/bsdfs";

export const BLK_READ: u32 = 0;
export const BLK_WRITE: u32 = 1;
export const BLK_FLUSH: u32 = 2;

@final
export class BlkReq {
  op: u32 = BLK_READ;
  /** FS block number (unused for BLK_FLUSH). */
  block: u32 = 0;
  /** Address of the BSIZE bytes read into / written from. */
  data: usize = 0;
  /** 0 = good; set by the device before blkDone. */
  status: u32 = 0;
  /** Who issued it (bio.ts's REQ_* owners) and its index there. */
  owner: u32 = 0;
  index: u32 = 0;
  /** Free for the device's use (a queue link, a driver slot...). */
  driver: u32 = 0;
  /** Also free for the device's use. */
  next: BlkReq | null = null;
}

export abstract class BlockDevice {
  /** Capacity in FS blocks (the device's bytes / BSIZE, rounded down). */
  abstract capacity(): u32;
  /** Start req; the device calls blkDone(req) when finished (possibly at once). */
  abstract start(req: BlkReq): void;
}

function noDone(req: BlkReq): void {}

let doneFn: (req: BlkReq) => void = noDone;

export function blkSetDone(fn: (req: BlkReq) => void): void {
  doneFn = fn;
}

export function blkDone(req: BlkReq): void {
  doneFn(req);
}

/** A device in kernel memory that completes every request before start() returns. */
export class MemDevice extends BlockDevice {
  blocks: u32;
  base: usize;
  /** Requests seen, by kind (tests look at them). */
  reads: u32 = 0;
  writes: u32 = 0;
  flushes: u32 = 0;

  constructor(blocks: u32) {
    super();
    this.blocks = blocks;
    this.base = heap.alloc(<usize>blocks * BSIZE); // zero: the partition heap is never reused
  }

  capacity(): u32 { return this.blocks; }

  start(req: BlkReq): void {
    req.status = 0;
    if (req.op == BLK_FLUSH) {
      this.flushes++;
    } else if (req.block >= this.blocks) {
      req.status = 1;
    } else if (req.op == BLK_READ) {
      this.reads++;
      memory.copy(req.data, this.base + (<usize>req.block << 12), BSIZE);
    } else {
      this.writes++;
      memory.copy(this.base + (<usize>req.block << 12), req.data, BSIZE);
    }
    blkDone(req);
  }
}
