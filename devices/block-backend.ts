// Where a disk's blocks live (STYLE.md practice 5: device models separate from
// backends). The disk model (scsi-disk.ts) reads and writes 512-byte sectors through
// this interface and never knows whether they sit in memory or in a file.
//
//   MemoryBackend     sparse: memory is spent only on 64 KiB chunks that were written;
//                     unwritten sectors read as zeros (an 18 GiB disk costs nothing).
//   ImageFileBackend  a raw image file, one sector after another, no header; normally
//                     sparse on the host. Synchronous fs calls (the simulation is single
//                     threaded and a disk request is one call); flush() is fsync.
//
// Not provided: copy-on-write overlays, compressed formats (qcow2 etc.), read-only
// images, sizes that are not a whole number of sectors.
//
// Interface:
//   BlockBackend                  sectors; read/write(lba, count, buf, off); flush; close
//   new MemoryBackend(sectors)    allocatedBytes: memory held by written chunks
//   createImage(path, bytes, {overwrite})   a sparse image of that size
//   openImage(path)               an ImageFileBackend, after checking the file
//   parseSize("18G")              bytes; K/M/G/T are powers of 1024
//   DiskImageError                what is wrong with which image file

import * as fs from "node:fs";

export const SECTOR = 512;

export interface BlockBackend {
  /** Capacity in 512-byte sectors. */
  readonly sectors: number;
  /** Copy sectors [lba, lba+count) into dst at dstOff. */
  read(lba: number, count: number, dst: Uint8Array, dstOff: number): void;
  /** Copy count sectors from src at srcOff to [lba, lba+count). */
  write(lba: number, count: number, src: Uint8Array, srcOff: number): void;
  /** Make every write so far durable. */
  flush(): void;
  /** Release the backing store; later calls throw. */
  close(): void;
}

export class DiskImageError extends Error {}

function checkRange(b: BlockBackend, lba: number, count: number, buf: Uint8Array, off: number): void {
  if (!Number.isSafeInteger(lba) || !Number.isSafeInteger(count) || lba < 0 || count < 0 || lba + count > b.sectors) {
    throw new RangeError(`sectors [${lba}, ${lba + count}) outside a ${b.sectors}-sector disk`);
  }
  if (!(off >= 0) || off + count * SECTOR > buf.length) {
    throw new RangeError(`buffer of ${buf.length} bytes too small for ${count} sectors at offset ${off}`);
  }
}

// ---- Memory ----------------------------------------------------------------------

/** Chunk size of the sparse memory store: 128 sectors = 64 KiB. */
const CHUNK_SECTORS = 128;
const CHUNK_BYTES = CHUNK_SECTORS * SECTOR;

export class MemoryBackend implements BlockBackend {
  /** Written chunks by chunk number; absent = all zeros. */
  private chunks = new Map<number, Uint8Array>();
  private closed = false;

  constructor(readonly sectors: number) {
    if (!Number.isSafeInteger(sectors) || sectors <= 0) throw new RangeError(`memory disk of ${sectors} sectors`);
  }

  /** Bytes of memory the written chunks hold. */
  get allocatedBytes(): number {
    return this.chunks.size * CHUNK_BYTES;
  }

  read(lba: number, count: number, dst: Uint8Array, dstOff: number): void {
    this.live();
    checkRange(this, lba, count, dst, dstOff);
    this.walk(lba, count, (chunk, from, to, at) => {
      const c = this.chunks.get(chunk);
      if (c === undefined) dst.fill(0, dstOff + at, dstOff + at + (to - from));
      else dst.set(c.subarray(from, to), dstOff + at);
    });
  }

  write(lba: number, count: number, src: Uint8Array, srcOff: number): void {
    this.live();
    checkRange(this, lba, count, src, srcOff);
    this.walk(lba, count, (chunk, from, to, at) => {
      let c = this.chunks.get(chunk);
      if (c === undefined) this.chunks.set(chunk, (c = new Uint8Array(CHUNK_BYTES)));
      c.set(src.subarray(srcOff + at, srcOff + at + (to - from)), from);
    });
  }

  flush(): void {
    this.live();
  }

  close(): void {
    this.closed = true;
    this.chunks.clear();
  }

  /** Visit the chunks under [lba, lba+count): byte range [from, to) of chunk, at byte `at` of the transfer. */
  private walk(lba: number, count: number, fn: (chunk: number, from: number, to: number, at: number) => void): void {
    let at = 0;
    let s = lba;
    const end = lba + count;
    while (s < end) {
      const chunk = Math.floor(s / CHUNK_SECTORS);
      const first = s - chunk * CHUNK_SECTORS;
      const n = Math.min(end - s, CHUNK_SECTORS - first);
      fn(chunk, first * SECTOR, (first + n) * SECTOR, at);
      at += n * SECTOR;
      s += n;
    }
  }

  private live(): void {
    if (this.closed) throw new Error("memory disk used after close()");
  }
}

// ---- Image files -------------------------------------------------------------------

export class ImageFileBackend implements BlockBackend {
  private fd: number;

  constructor(readonly path: string, fd: number, readonly sectors: number) {
    this.fd = fd;
  }

  read(lba: number, count: number, dst: Uint8Array, dstOff: number): void {
    checkRange(this, lba, count, dst, dstOff);
    let done = 0;
    const len = count * SECTOR;
    while (done < len) {
      const n = fs.readSync(this.open(), dst, dstOff + done, len - done, lba * SECTOR + done);
      if (n === 0) {
        // The file shrank under us: what is missing reads as zeros, like a hole.
        dst.fill(0, dstOff + done, dstOff + len);
        return;
      }
      done += n;
    }
  }

  write(lba: number, count: number, src: Uint8Array, srcOff: number): void {
    checkRange(this, lba, count, src, srcOff);
    let done = 0;
    const len = count * SECTOR;
    while (done < len) done += fs.writeSync(this.open(), src, srcOff + done, len - done, lba * SECTOR + done);
  }

  flush(): void {
    fs.fsyncSync(this.open());
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  private open(): number {
    if (this.fd < 0) throw new Error(`disk image ${this.path} used after close()`);
    return this.fd;
  }
}

/**
 * Make a sparse image file of `bytes` bytes (a positive multiple of 512). An existing
 * file is an error unless overwrite is set. The file takes no disk space until written.
 */
export function createImage(path: string, bytes: number, opts: { overwrite?: boolean } = {}): void {
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % SECTOR !== 0) {
    throw new DiskImageError(`cannot create ${path}: size ${bytes} is not a positive multiple of ${SECTOR} bytes`);
  }
  let fd: number;
  try {
    fd = fs.openSync(path, opts.overwrite ? "w" : "wx");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new DiskImageError(`cannot create ${path}: the file exists (use overwrite to replace it)`);
    throw new DiskImageError(`cannot create ${path}: ${(e as Error).message}`);
  }
  try {
    fs.ftruncateSync(fd, bytes);
  } finally {
    fs.closeSync(fd);
  }
}

/** Open an existing image after checking it: a regular, non-empty file of whole sectors. */
export function openImage(path: string): ImageFileBackend {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DiskImageError(`disk image ${path} does not exist (create one first, e.g. 18G)`);
    throw new DiskImageError(`cannot read disk image ${path}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new DiskImageError(`disk image ${path} is not a regular file`);
  if (st.size === 0) throw new DiskImageError(`disk image ${path} is empty (0 bytes)`);
  if (st.size % SECTOR !== 0) {
    throw new DiskImageError(`disk image ${path} is ${st.size} bytes, not a whole number of ${SECTOR}-byte sectors (truncated or not a raw image?)`);
  }
  let fd: number;
  try {
    fd = fs.openSync(path, "r+");
  } catch (e) {
    throw new DiskImageError(`cannot open disk image ${path} for reading and writing: ${(e as Error).message}`);
  }
  return new ImageFileBackend(path, fd, st.size / SECTOR);
}


/** Sizes as people write them ("18G"): host/units.ts, re-exported for the CLI and tests. */
export { parseSize } from "../host/units.js";
