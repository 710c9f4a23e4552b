// The SCSI driver (guest-lib/drivers/sym53c8xx.ts) as HiTactix's BlockDevice: disk i
// is SCSI target i; a request's cookie is its slot in a small table, so the driver's
// completion upcall finds the BlkReq again. REQ_CAPACITY is READ CAPACITY(10): the
// reply (last LBA and block length, big-endian) becomes the sector count at r.buf.

import { BlkReq, BlockDevice, REQ_WRITE, REQ_CAPACITY, BLK_ERR_REFUSED, BLK_ERR_BLOCK_SIZE, blkComplete } from "./blkdev";
import { symRead, symWrite, symSubmit, symSetDone } from "../guest-lib/drivers/sym53c8xx";
import { dmaAlloc } from "../guest-lib/dma";
import { OP_READ_CAPACITY_10 } from "../common/scsi-defs";


const NSLOT: u32 = 256;
const slots = new StaticArray<BlkReq | null>(NSLOT);
let nextSlot: u32 = 0;
export let scsiErrors: u32 = 0;

function done(cookie: u32, status: u32, senseKey: u32, asc: u32, ascq: u32, info: u32): void {
  let r = slots[cookie];
  slots[cookie] = null;
  if (r == null) return;
  r.status = status == 0 ? 0 : (status << 24) | (senseKey << 16) | (asc << 8) | ascq;
  if (r.status == 0 && r.op == REQ_CAPACITY) capacityReply(r);
  if (r.status != 0) scsiErrors++;
  blkComplete(r);
}

/** READ CAPACITY(10) data: last LBA (0xFFFFFFFF = more than READ(10) can address,
 *  reported as 2^32 sectors) and block length, both big-endian. */
function capacityReply(r: BlkReq): void {
  let last = bswap<u32>(load<u32>(r.buf));
  let blockLen = bswap<u32>(load<u32>(r.buf + 4));
  if (blockLen != 512) { r.status = BLK_ERR_BLOCK_SIZE; return; }
  store<u64>(r.buf, <u64>last + 1);
  if (r.disk < 8) capacities[r.disk] = <u64>last + 1;
}

const capacities = new StaticArray<u64>(8);
let cdb: usize = 0;

export class SymBlock extends BlockDevice {
  constructor() {
    super();
    symSetDone(done);
    if (cdb == 0) cdb = dmaAlloc(16, 16);
  }
  /** Known after a REQ_CAPACITY of that disk (0 before). */
  sectors(disk: u32): u64 { return disk < 8 ? capacities[disk] : 0; }
  submit(r: BlkReq): void {
    let c = nextSlot;
    while (slots[c] != null) c = (c + 1) % NSLOT; // at most NSLOT outstanding (diskio keeps far fewer)
    nextSlot = (c + 1) % NSLOT;
    slots[c] = r;
    let ok: bool;
    if (r.op == REQ_CAPACITY) {
      store<u64>(cdb, <u64>OP_READ_CAPACITY_10);
      store<u64>(cdb + 8, 0);
      ok = symSubmit(r.disk, cdb, 10, r.buf, 8, false, c);
    } else {
      ok = r.op == REQ_WRITE ? symWrite(r.disk, r.lba, r.sectors, r.buf, c) : symRead(r.disk, r.lba, r.sectors, r.buf, c);
    }
    if (!ok) { slots[c] = null; r.status = BLK_ERR_REFUSED; scsiErrors++; blkComplete(r); }
  }
}
