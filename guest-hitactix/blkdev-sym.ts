// The SCSI driver (guest-lib/drivers/sym53c8xx.ts) as HiTactix's BlockDevice: disk i
// is SCSI target i; a request's cookie is its slot in a small table, so the driver's
// completion upcall finds the BlkReq again.

import { BlkReq, BlockDevice, REQ_WRITE, blkComplete } from "./blkdev";
import { symRead, symWrite, symSetDone } from "../guest-lib/drivers/sym53c8xx";

const NSLOT: u32 = 256;
const slots = new StaticArray<BlkReq | null>(NSLOT);
let nextSlot: u32 = 0;
export let scsiErrors: u32 = 0;

function done(cookie: u32, status: u32, senseKey: u32, asc: u32, ascq: u32, info: u32): void {
  let r = slots[cookie];
  slots[cookie] = null;
  if (r == null) return;
  r.status = status == 0 ? 0 : (status << 24) | (senseKey << 16) | (asc << 8) | ascq;
  if (r.status != 0) scsiErrors++;
  blkComplete(r);
}

export class SymBlock extends BlockDevice {
  capacity: StaticArray<u64> = new StaticArray<u64>(8);
  constructor() {
    super();
    symSetDone(done);
  }
  sectors(disk: u32): u64 { return this.capacity[disk]; }
  submit(r: BlkReq): void {
    let c = nextSlot;
    while (slots[c] != null) c = (c + 1) % NSLOT; // at most NSLOT outstanding (diskio keeps far fewer)
    nextSlot = (c + 1) % NSLOT;
    slots[c] = r;
    let ok = r.op == REQ_WRITE ? symWrite(r.disk, r.lba, r.sectors, r.buf, c) : symRead(r.disk, r.lba, r.sectors, r.buf, c);
    if (!ok) { slots[c] = null; r.status = 0xff000000; scsiErrors++; blkComplete(r); }
  }
}
