// The system disk: SCSI target 0 on BSD's own LSI53C895 (the board's second
// controller, SCSI2_BASE, interrupting CPU 0), driven by the shared guest-lib
// sym53c8xx driver, as the file system's block device (guest-bsd/fs/blkio.ts). A
// second controller rather than another target on HiTactix's bus: each kernel owns its
// controller and its interrupt, and neither's commands queue behind the other's.
//
// One FS block (4 KiB) is one READ(10) / WRITE(10) of 8 sectors; a flush is
// SYNCHRONIZE CACHE(10). Requests wait in a queue while the driver's command slots are
// all in use. At bring-up the disk's capacity comes from READ CAPACITY(10).
//
// Interface: sdInit(base, onReady(ok)) (base: the controller's register window,
// SCSI2_BASE in the kernel; test/guests/bsdfs-test.ts uses the first controller),
// sdIntr() from irq(IRQ_SCSI), sd (the BlockDevice), sdBlocks, sdErrors

import { BlockDevice, BlkReq, blkDone, BLK_READ, BLK_WRITE } from "../fs/blkio";
import { BSIZE } from "../../common/bsdfs";
import { symInitAt, symIntr, symSetDone, symRead, symWrite, symSubmit } from "../../guest-lib/drivers/sym53c8xx";
import { cputs, cputu, kprint } from "../../guest-lib/console";

const TARGET: u32 = 0;
const SECTORS_PER_BLOCK: u32 = BSIZE / 512;
const NSLOT: u32 = 48; // the driver's command slots
const CAP_COOKIE: u32 = 0xffff;

export let sdBlocks: u32 = 0;
export let sdErrors: u64 = 0;
const slots = new StaticArray<BlkReq | null>(NSLOT);
let queueHead: BlkReq | null = null;
let queueTail: BlkReq | null = null;
let syncCdb: usize = 0;
let capCdb: usize = 0;
let capData: usize = 0;
function noReady(ok: bool): void {}
let onReady: (ok: bool) => void = noReady;

class SdDevice extends BlockDevice {
  capacity(): u32 { return sdBlocks; }
  start(req: BlkReq): void {
    req.next = null;
    if (queueTail) queueTail!.next = req; else queueHead = req;
    queueTail = req;
    pump();
  }
}

export const sd = new SdDevice();

export function sdInit(base: u32, ready: (ok: bool) => void): void {
  onReady = ready;
  syncCdb = heap.alloc(16);
  memory.fill(syncCdb, 0, 16);
  store<u8>(syncCdb, 0x35); // SYNCHRONIZE CACHE(10)
  capCdb = heap.alloc(16);
  memory.fill(capCdb, 0, 16);
  store<u8>(capCdb, 0x25); // READ CAPACITY(10)
  capData = heap.alloc(16);
  symSetDone(scsiDone);
  symInitAt(base, busReady);
}

export function sdIntr(): void {
  symIntr();
}

function busReady(): void {
  if (!symSubmit(TARGET, capCdb, 10, capData, 8, false, CAP_COOKIE)) { kprint("bsd: sd0: cannot ask the disk's capacity"); onReady(false); }
}

function be32(p: usize): u32 {
  return (<u32>load<u8>(p) << 24) | (<u32>load<u8>(p + 1) << 16) | (<u32>load<u8>(p + 2) << 8) | <u32>load<u8>(p + 3);
}

/** Hand queued requests to the driver while it has free slots. */
function pump(): void {
  while (queueHead) {
    let req = queueHead!;
    let c: u32 = 0;
    while (c < NSLOT && unchecked(slots[c]) != null) c++;
    if (c == NSLOT) return;
    unchecked(slots[c] = req);
    let lba = <u64>req.block * SECTORS_PER_BLOCK;
    let ok = req.op == BLK_READ ? symRead(TARGET, lba, SECTORS_PER_BLOCK, req.data, c)
      : req.op == BLK_WRITE ? symWrite(TARGET, lba, SECTORS_PER_BLOCK, req.data, c)
      : symSubmit(TARGET, syncCdb, 10, 0, 0, false, c);
    if (!ok) { unchecked(slots[c] = null); return; } // the driver is full: later
    queueHead = req.next;
    if (!queueHead) queueTail = null;
  }
}

function scsiDone(cookie: u32, status: u32, key: u32, asc: u32, ascq: u32, info: u32): void {
  if (cookie == CAP_COOKIE) {
    if (status != 0) {
      cputs("bsd: sd0: no system disk (status "); cputu(status); kprint(")");
      onReady(false);
      return;
    }
    let last = be32(capData);
    let blockLen = be32(capData + 4);
    sdBlocks = <u32>((<u64>last + 1) * <u64>blockLen / <u64>BSIZE);
    cputs("bsd: sd0: "); cputu(<u64>sdBlocks * BSIZE / 1048576); kprint(" MiB system disk");
    onReady(true);
    return;
  }
  let req = unchecked(slots[cookie]);
  unchecked(slots[cookie] = null);
  if (!req) return;
  if (status != 0) sdErrors++;
  req.status = status;
  blkDone(req);
  pump();
}
