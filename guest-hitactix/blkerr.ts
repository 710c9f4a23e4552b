// A failed block request, said the way a person can act on: the SCSI status, and for
// CHECK CONDITION the sense key and the additional sense code by name (SPC-3 4.5.6 and
// Annex D), with the raw ASC/ASCQ beside them; the driver's own codes (no target, bus
// reset, ...) by meaning. The status word is BlkReq.status (blkdev.ts).
//
// Interface: blkPrintError(status)   on the console, no newline

import { cputc, cputs, cputx } from "../guest-lib/console";
import { BLK_ERR_REFUSED, BLK_ERR_BLOCK_SIZE } from "./blkdev";

function hexDigit(d: u32): void {
  cputc(d < 10 ? 48 + d : 55 + d);
}

function hex2(v: u32): void {
  hexDigit((v >> 4) & 15);
  hexDigit(v & 15);
}

function senseKeyName(key: u32): string {
  switch (key) {
    case 0x0: return "NO SENSE";
    case 0x1: return "RECOVERED ERROR";
    case 0x2: return "NOT READY";
    case 0x3: return "MEDIUM ERROR";
    case 0x4: return "HARDWARE ERROR";
    case 0x5: return "ILLEGAL REQUEST";
    case 0x6: return "UNIT ATTENTION";
    case 0x7: return "DATA PROTECT";
    case 0xb: return "ABORTED COMMAND";
  }
  return "sense key";
}

/** The additional sense codes our disks report (devices/scsi.ts), by name. */
function ascName(asc: u32, ascq: u32): string {
  let code = (asc << 8) | ascq;
  switch (code) {
    case 0x0000: return "NO ADDITIONAL SENSE INFORMATION";
    case 0x0400: return "LOGICAL UNIT NOT READY";
    case 0x0c00: return "WRITE ERROR";
    case 0x1100: return "UNRECOVERED READ ERROR";
    case 0x2000: return "INVALID COMMAND OPERATION CODE";
    case 0x2100: return "LOGICAL BLOCK ADDRESS OUT OF RANGE";
    case 0x2400: return "INVALID FIELD IN CDB";
    case 0x2500: return "LOGICAL UNIT NOT SUPPORTED";
    case 0x2900: return "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED";
  }
  return "additional sense";
}

/** The driver's codes above the SCSI status bytes (guest-lib/drivers/sym53c8xx.ts). */
function driverStatusName(st: u32): string {
  switch (st) {
    case 0xe1: return "selection timeout (no disk at that SCSI ID)";
    case 0xe2: return "ended by a SCSI bus reset";
    case 0xe3: return "SCSI protocol error";
    case 0xe4: return "the SCSI controller failed";
    case 0x08: return "BUSY";
    case 0x18: return "RESERVATION CONFLICT";
    case 0x28: return "TASK SET FULL";
  }
  return "SCSI status";
}

export function blkPrintError(status: u32): void {
  if (status == BLK_ERR_REFUSED) { cputs("refused by the driver (bad request, or the controller is down)"); return; }
  if (status == BLK_ERR_BLOCK_SIZE) { cputs("the disk's blocks are not 512 bytes"); return; }
  let st = status >> 24;
  if (st != 0x02) { cputs(driverStatusName(st)); cputs(" (status "); cputx(st); cputs(")"); return; }
  let key = (status >> 16) & 0xff;
  let asc = (status >> 8) & 0xff;
  let ascq = status & 0xff;
  cputs("CHECK CONDITION, "); cputs(senseKeyName(key)); cputs(", "); cputs(ascName(asc, ascq));
  cputs(" (sense key "); hex2(key); cputs(", ASC/ASCQ "); hex2(asc); cputs("/"); hex2(ascq); cputs(")");
}
