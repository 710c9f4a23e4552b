// build/fstool.wasm: the file system (the same code the BSD kernel runs) over a block
// device the host provides, for `hitactix fs` (host/fs-image.ts) and the tests, as
// mtools or debugfs read the real format. The host backs the device with an image
// file or memory and completes each request at once (or later, for tests of the
// restartable paths: blk_io returns -1 and the host calls toolIoDone afterwards).
//
// Imports (module "host"):
//   blk_capacity(): u32                    the device's size in 4 KiB blocks
//   blk_io(op, block, data, req): i32      do a request: the status (0 good), or -1
//                                          when the host completes it later
//   now_ns(): u64                          the time stamps' clock
//   wakeup()                               the file system's wake-up hook
// Exports: toolInit, toolIoDone, the scratch areas (toolPath1/2, toolData, toolStat,
// toolDirent, toolStats), and the file system's calls (fs.ts, mount.ts, fsck.ts).

import { BlkReq, BlockDevice, MemDevice, blkDone } from "./blkio";
import { fsInit, fsSetClock, fsSetWakeup } from "./fs";
import { FS_MAX_IO, STAT_SIZE, READDIR_SIZE, FSSTATS_SIZE } from "../../common/bsdfs";

@external("host", "blk_capacity") declare function hostCapacity(): u32;
@external("host", "blk_io") declare function hostIo(op: u32, block: u32, data: usize, req: usize): i32;
@external("host", "now_ns") declare function hostNow(): u64;
@external("host", "wakeup") declare function hostWakeup(): void;

class HostDevice extends BlockDevice {
  capacity(): u32 { return hostCapacity(); }
  start(req: BlkReq): void {
    let s = hostIo(req.op, req.block, req.data, changetype<usize>(req));
    if (s >= 0) {
      req.status = <u32>s;
      blkDone(req);
    }
  }
}

let path1: usize = 0;
let path2: usize = 0;
let data: usize = 0;
let statRec: usize = 0;
let direntRec: usize = 0;
let statsRec: usize = 0;

function clock(): u64 { return hostNow(); }
function wake(): void { hostWakeup(); }

/** memBlocks = 0: the host's device; otherwise an in-guest MemDevice of that size
 *  (blkio.ts: the synchronous device for tests). */
export function toolInit(nbuf: u32, nlog: u32, ninode: u32, memBlocks: u32): void {
  path1 = heap.alloc(4096);
  path2 = heap.alloc(4096);
  data = heap.alloc(FS_MAX_IO);
  statRec = heap.alloc(STAT_SIZE);
  direntRec = heap.alloc(READDIR_SIZE);
  statsRec = heap.alloc(FSSTATS_SIZE);
  let dev: BlockDevice = memBlocks != 0 ? new MemDevice(memBlocks) : new HostDevice();
  fsInit(nbuf, nlog, ninode, dev);
  fsSetClock(clock);
  fsSetWakeup(wake);
}

/** The heap's top (one 16-byte allocation per call): tests check that operations
 *  allocate nothing (the partition runtime never frees). */
export function toolHeapMark(): usize {
  return heap.alloc(1);
}

/** The host finished a request it deferred. */
export function toolIoDone(req: usize, status: u32): void {
  let r = changetype<BlkReq>(req);
  r.status = status;
  blkDone(r);
}

export function toolPath1(): usize { return path1; }
export function toolPath2(): usize { return path2; }
export function toolData(): usize { return data; }
export function toolStat(): usize { return statRec; }
export function toolDirent(): usize { return direntRec; }
export function toolStats(): usize { return statsRec; }

export {
  fsUnmount, fsLookup, fsOpen, fsIget, fsIput, fsRead, fsWrite, fsTruncate, fsStat, fsReaddir, fsMkdir,
  fsRmdir, fsUnlink, fsLink, fsRename, fsSetTimes, fsChmod, fsChown, fsSync, fsSyncDone, fsTick, fsService, fsStats,
  fsReasonPtr, fsReasonLen, fsSetCommitInterval, fsLookupLink, fsSymlink, fsReadlink,
} from "./fs";
export { fsMount, fsMkfs, fsNotesPtr, fsNotesLen } from "./mount";
export { fsFsck, fsReportPtr, fsReportLen, fsReportDropped, fsckFiles, fsckDirs, fsckBlocks } from "./fsck";
