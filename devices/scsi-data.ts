// The SCSI disk's data formats and buffers, apart from its command logic
// (devices/scsi-disk.ts): standard INQUIRY data (SPC-2 6.4.2), fixed-format sense data
// (SPC-2 7.20.2) and what a sense says the initiator did wrong, and ReadData, a read's
// blocks left in the backend until the controller's DMA copies them out (scsi.ts
// DataInSource). Byte helpers (big-endian fields of CDBs and sense data).
//
// Interface:
//   standardInquiry(vendor, product, revision), senseData(key, asc, ascq, info?, field?),
//   invalidField(byte, bit?), guestMistake(sense), ReadData, putAscii, be32, putBe32, hex

import {
  SK_ILLEGAL_REQUEST, SK_ABORTED_COMMAND, ASC_INVALID_OPCODE, ASC_LBA_OUT_OF_RANGE, ASC_INVALID_FIELD_IN_CDB,
  ASC_OVERLAPPED_COMMANDS, SENSE_FIXED_LEN, type DataInSource,
} from "./scsi.js";
import { type BlockBackend, SECTOR } from "./block-backend.js";

const SENSE_LEN = SENSE_FIXED_LEN;
/** Byte 7 of standard INQUIRY data: WBus16 | Sync | CmdQue. */
const INQ_FLAGS = 0x20 | 0x10 | 0x02;
/** ANSI version 3 (SPC), as the drive's Linux boot logs report (TIMING-REF A). */
const INQ_VERSION = 0x03;

/**
 * A read's blocks [lba, lba + n), left in the backend until the controller copies them
 * out (DataInSource). snapshot() takes a copy first, for a write that is about to
 * change them; `open` is false once the last byte has been copied out.
 */
export class ReadData implements DataInSource {
  readonly length: number;
  open = true;
  private snap: Uint8Array | null = null;

  constructor(private readonly backend: BlockBackend, readonly lba: number, readonly n: number) {
    this.length = n * SECTOR;
  }

  copyTo(from: number, n: number, dst: Uint8Array, dstOff: number): void {
    if (from < 0 || n < 0 || from + n > this.length) throw new RangeError(`read data: bytes [${from}, ${from + n}) of ${this.length}`);
    if (from + n === this.length) this.open = false;
    if (n === 0) return;
    if (this.snap !== null) {
      dst.set(this.snap.subarray(from, from + n), dstOff);
    } else if (from % SECTOR === 0 && n % SECTOR === 0) {
      this.backend.read(this.lba + from / SECTOR, n / SECTOR, dst, dstOff);
    } else {
      // Part of a sector (a controller's odd-sized scatter entry): read the whole ones.
      const first = Math.floor(from / SECTOR);
      const count = Math.ceil((from + n) / SECTOR) - first;
      const tmp = new Uint8Array(count * SECTOR);
      this.backend.read(this.lba + first, count, tmp, 0);
      const at = from - first * SECTOR;
      dst.set(tmp.subarray(at, at + n), dstOff);
    }
  }

  overlaps(lba: number, n: number): boolean {
    return lba < this.lba + this.n && this.lba < lba + n;
  }

  snapshot(): void {
    if (this.snap !== null) return;
    this.snap = new Uint8Array(this.length);
    this.backend.read(this.lba, this.n, this.snap, 0);
  }
}

/** Standard INQUIRY data, 36 bytes (SPC-2 6.4.2). */
export function standardInquiry(vendor: string, product: string, revision: string): Uint8Array {
  const d = new Uint8Array(36);
  d[0] = 0x00; // qualifier 0, direct-access block device
  d[2] = INQ_VERSION;
  d[3] = 0x02; // response data format 2
  d[4] = d.length - 5; // additional length
  d[7] = INQ_FLAGS;
  putAscii(d, 8, vendor, 8);
  putAscii(d, 16, product, 16);
  putAscii(d, 32, revision, 4);
  return d;
}

/**
 * Fixed-format sense data (SPC-2 7.20.2), 18 bytes: response code 70h (| VALID when
 * INFORMATION holds an LBA), sense key, INFORMATION, additional length 10, ASC, ASCQ,
 * and the sense-key-specific field pointer when given.
 */
export function senseData(key: number, asc: number, ascq: number, info?: number, field?: { byte: number; bit?: number }): Uint8Array {
  const s = new Uint8Array(SENSE_LEN);
  s[0] = 0x70 | (info !== undefined ? 0x80 : 0);
  s[2] = key & 0x0f;
  if (info !== undefined) putBe32(s, 3, info);
  s[7] = SENSE_LEN - 8;
  s[12] = asc;
  s[13] = ascq;
  if (field !== undefined) {
    s[15] = 0x80 | 0x40 | (field.bit !== undefined ? 0x08 | field.bit : 0); // SKSV, C/D = CDB, BPV
    s[16] = field.byte >> 8;
    s[17] = field.byte & 0xff;
  }
  return s;
}

/** What the guest did wrong, for a sense that reports a mistake of the initiator's
 *  (not a medium error, a unit attention or an absent LUN, which are answers). */
export function guestMistake(s: Uint8Array): string | undefined {
  const key = s[2] & 0x0f;
  const asc = s[12];
  if (key === SK_ABORTED_COMMAND && asc === ASC_OVERLAPPED_COMMANDS) return "a tag already in flight used again (overlapped commands)";
  if (key !== SK_ILLEGAL_REQUEST) return undefined;
  if (asc === ASC_INVALID_OPCODE) return "invalid opcode";
  if (asc === ASC_LBA_OUT_OF_RANGE) return "LBA out of range";
  if (asc === ASC_INVALID_FIELD_IN_CDB) return `invalid field in CDB byte ${(s[16] << 8) | s[17]}`;
  return undefined;
}

export function invalidField(byte: number, bit?: number): Uint8Array {
  return senseData(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, 0, undefined, { byte, bit });
}

export function putAscii(d: Uint8Array, off: number, text: string, len: number): void {
  for (let i = 0; i < len; i++) d[off + i] = i < text.length ? text.charCodeAt(i) & 0x7f : 0x20;
}

export function be32(d: Uint8Array, off: number): number {
  return ((d[off] << 24) >>> 0) + (d[off + 1] << 16) + (d[off + 2] << 8) + d[off + 3];
}

export function putBe32(d: Uint8Array, off: number, v: number): void {
  d[off] = (v >>> 24) & 0xff;
  d[off + 1] = (v >>> 16) & 0xff;
  d[off + 2] = (v >>> 8) & 0xff;
  d[off + 3] = v & 0xff;
}

export function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (i ? " " : "") + b[i].toString(16).padStart(2, "0");
  return s;
}
