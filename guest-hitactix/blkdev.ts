// The block device as the disk I/O control thread sees it (STYLE.md practice 8): a
// request record, submit, and a completion callback. The SCSI driver implements it;
// tests implement it with a fake disk. No registers here.
//
// Interface:
//   BlkReq                   one request: disk, LBA, sectors, buffer, direction, class
//   BlockDevice.submit(r)    start r (the device calls blkComplete(r) when done)
//   blkComplete(r)           the device's completion upcall (set by diskio.ts)

export const REQ_READ: u32 = 0;
export const REQ_WRITE: u32 = 1;
/** Ask the disk its capacity (READ CAPACITY): `sectors` is 0 and the device stores
 *  the number of 512-byte sectors, a u64, at `buf` (8 bytes). */
export const REQ_CAPACITY: u32 = 2;

// Request status words (BlkReq.status): 0 = good; otherwise the SCSI status byte (or
// the driver's SYM_ST_* code) in bits 31..24, then sense key, ASC and ASCQ; these two
// are the block layer's own.
export const BLK_ERR_REFUSED: u32 = 0xff000000; // the driver would not take the request
export const BLK_ERR_BLOCK_SIZE: u32 = 0xfe000000; // the disk's blocks are not 512 bytes

export const CLASS_RT: u32 = 0; // real-time: the distribution thread's periodic reads
export const CLASS_NRT: u32 = 1; // everything else (upload writes, management reads)

@final
export class BlkReq {
  disk: u32 = 0;
  lba: u64 = 0;
  sectors: u32 = 0;
  buf: usize = 0; // physical address of the data
  op: u32 = REQ_READ;
  cls: u32 = CLASS_RT;
  /** Never split (a measurement that must reach the disk as one command). */
  whole: bool = false;
  status: u32 = 0; // 0 = good, else a status word (see BLK_ERR_* above)
  enqueuedAt: u64 = 0;
  issuedAt: u64 = 0;
  doneAt: u64 = 0;
  /** The request this piece was split from (NRT), or null. */
  parent: BlkReq | null = null;
  /** Pieces of this request still outstanding (split parents). */
  pending: u32 = 0;
  /** Who to tell when the whole request is done (a thread's handler). */
  done: (r: BlkReq) => void = nop;
  /** Caller's cookie (stream index, chunk number...). */
  cookie: u32 = 0;
  next: BlkReq | null = null; // queue link
}

function nop(r: BlkReq): void {}

export abstract class BlockDevice {
  abstract submit(r: BlkReq): void;
  abstract sectors(disk: u32): u64;
}

/** A FIFO of requests linked through BlkReq.next. */
@final
export class ReqQueue {
  head: BlkReq | null = null;
  tail: BlkReq | null = null;
  count: u32 = 0;
  push(r: BlkReq): void {
    r.next = null;
    let t = this.tail;
    if (t) t.next = r; else this.head = r;
    this.tail = r;
    this.count++;
  }
  shift(): BlkReq | null {
    let h = this.head;
    if (h) {
      this.head = h.next;
      if (!this.head) this.tail = null;
      h.next = null;
      this.count--;
    }
    return h;
  }
}

function nocomplete(r: BlkReq): void {}
/** The completion upcall a block device calls (diskio.ts installs it). */
export let blkComplete: (r: BlkReq) => void = nocomplete;
export function setBlkComplete(fn: (r: BlkReq) => void): void {
  blkComplete = fn;
}
