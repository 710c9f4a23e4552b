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
// images, sizes that are not a whole number of sectors, images over MAX_IMAGE_SECTORS
// (the emulated disk speaks READ(10) / READ CAPACITY(10): 32-bit block addresses).
//
// An image in use is locked (host/image-lock.ts): openImage takes the lock, close()
// releases it, so a second process gets "in use by pid N" instead of sharing it.
//
// Interface:
//   BlockBackend                  sectors; read/write(lba, count, buf, off); flush; close
//   new MemoryBackend(sectors)    allocatedBytes: memory held by written chunks
//   createImage(path, bytes, {overwrite})   a sparse image of that size, or nothing
//   openImage(path)               an ImageFileBackend, after checking the file; locked
//   MAX_IMAGE_SECTORS             the largest image a disk can be (2^32 - 1 sectors)
//   parseSize("18G")              bytes; K/M/G/T are powers of 1024
//   DiskImageError                what is wrong with which image file

import * as fs from "node:fs";
import { lockImage, type ImageLock } from "../host/image-lock.js";

export const SECTOR = 512;

/** READ(10) carries a 32-bit LBA, and READ CAPACITY(10) reports the last LBA with
 *  0xFFFFFFFF reserved for "too large" (SBC-3 5.16): 2^32 - 1 sectors, 2 TiB - 512 B. */
export const MAX_IMAGE_SECTORS = 0xffffffff;

function tooLarge(path: string, bytes: number): string {
  return `${path}: ${bytes} bytes is more than the emulated disk can address: it speaks READ(10), whose 32-bit block addresses reach ${MAX_IMAGE_SECTORS} sectors (${MAX_IMAGE_SECTORS * SECTOR} bytes, 2 TiB less one sector)`;
}

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

const imageTemplates = new Map<string, MemoryBackend>();
const ZERO_CHUNK = Buffer.alloc(128 * 512);

/** Chunk size of the sparse memory store: 128 sectors = 64 KiB. */
const CHUNK_SECTORS = 128;
const CHUNK_BYTES = CHUNK_SECTORS * SECTOR;

export class MemoryBackend implements BlockBackend {
  /** Written chunks by chunk number; absent = all zeros. */
  private chunks = new Map<number, Uint8Array>();
  /** Chunks shared with an image's template (fromImage): copied before a write. */
  private shared: Set<number> | undefined;
  private closed = false;

  constructor(readonly sectors: number) {
    if (!Number.isSafeInteger(sectors) || sectors <= 0) throw new RangeError(`memory disk of ${sectors} sectors`);
  }

  /**
   * A memory disk holding a copy of an image file (its chunks that are not all zeros):
   * a run on it leaves the file as it was.
   */
  static fromImage(path: string): MemoryBackend {
    // The image's chunks are read once per file version and shared by every copy;
    // a copy's write copies the chunk it changes first (shared).
    const st = fs.statSync(path);
    const key = `${path}:${st.size}:${st.mtimeMs}:${st.ino}`;
    let tpl = imageTemplates.get(key);
    if (!tpl) {
      const file = openImage(path, { readOnly: true });
      try {
        tpl = new MemoryBackend(file.sectors);
        const buf = Buffer.alloc(CHUNK_BYTES);
        for (let c = 0; c * CHUNK_SECTORS < file.sectors; c++) {
          const n = Math.min(CHUNK_SECTORS, file.sectors - c * CHUNK_SECTORS);
          file.read(c * CHUNK_SECTORS, n, buf, 0);
          if (n === CHUNK_SECTORS ? !buf.equals(ZERO_CHUNK) : buf.subarray(0, n * SECTOR).some((b) => b !== 0)) {
            tpl.write(c * CHUNK_SECTORS, n, buf, 0);
          }
        }
      } finally {
        file.close();
      }
      imageTemplates.clear(); // keep one: the image a run boots from
      imageTemplates.set(key, tpl);
    }
    const m = new MemoryBackend(tpl.sectors);
    for (const [k, v] of tpl.chunks) m.chunks.set(k, v);
    m.shared = new Set(tpl.chunks.keys());
    return m;
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
      else if (this.shared?.delete(chunk)) this.chunks.set(chunk, (c = c.slice()));
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

  constructor(readonly path: string, fd: number, readonly sectors: number, private readonly lock?: ImageLock) {
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
    this.lock?.release();
  }

  private open(): number {
    if (this.fd < 0) throw new Error(`disk image ${this.path} used after close()`);
    return this.fd;
  }
}

/**
 * Make a sparse image file of `bytes` bytes (a positive multiple of 512, at most
 * MAX_IMAGE_SECTORS sectors). An existing file is an error unless overwrite is set; an
 * image in use (locked) is never replaced. Either the whole image is made or nothing
 * is left behind: a new file is removed when sizing it fails, and an overwrite is
 * built beside the old image and renamed over it only when complete.
 */
export function createImage(path: string, bytes: number, opts: { overwrite?: boolean } = {}): void {
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % SECTOR !== 0) {
    throw new DiskImageError(`cannot create ${path}: size ${bytes} is not a positive multiple of ${SECTOR} bytes`);
  }
  if (bytes / SECTOR > MAX_IMAGE_SECTORS) throw new DiskImageError(`cannot create ${tooLarge(path, bytes)}`);
  const exists = fs.existsSync(path);
  if (exists && !opts.overwrite) throw new DiskImageError(`cannot create ${path}: the file exists (add --force to replace it)`);
  let lock: ImageLock | undefined;
  if (exists) {
    if (!fs.statSync(path).isFile()) throw new DiskImageError(`cannot create ${path}: it exists and is not a regular file`);
    try {
      lock = lockImage(path);
    } catch (e) {
      throw new DiskImageError(`cannot replace ${path}: ${(e as Error).message}`);
    }
  }
  const target = exists ? `${path}.new-${process.pid}` : path;
  let fd: number;
  try {
    fd = fs.openSync(target, "wx");
  } catch (e) {
    lock?.release();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new DiskImageError(`cannot create ${path}: the file exists (add --force to replace it)`);
    throw new DiskImageError(`cannot create ${path}: ${(e as Error).message}`);
  }
  try {
    try {
      fs.ftruncateSync(fd, bytes);
    } finally {
      fs.closeSync(fd);
    }
    if (exists) fs.renameSync(target, path);
  } catch (e) {
    fs.rmSync(target, { force: true }); // ours: never leave a 0-byte or half-made image
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "EFBIG" ? `the file system (or ulimit -f) does not allow a ${bytes}-byte file` : (e as Error).message;
    throw new DiskImageError(`cannot create ${path}: ${why}${exists ? " (the old image is untouched)" : ""}`);
  } finally {
    lock?.release();
  }
}

/** Open an existing image after checking it: a regular, non-empty file of whole
 *  sectors that a disk can address, not in use by another process (it is locked
 *  until close()). readOnly: opened for reading only and not locked (a copy is made
 *  of it, as MemoryBackend.fromImage does; writes through it fail). */
export function openImage(path: string, opts: { readOnly?: boolean } = {}): ImageFileBackend {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DiskImageError(`disk image ${path} does not exist (create one first, e.g. hitactix disk create ${path} --size 18G)`);
    throw new DiskImageError(`cannot read disk image ${path}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new DiskImageError(`disk image ${path} is not a regular file`);
  if (st.size === 0) throw new DiskImageError(`disk image ${path} is empty (0 bytes)`);
  if (st.size % SECTOR !== 0) {
    throw new DiskImageError(`disk image ${path} is ${st.size} bytes, not a whole number of ${SECTOR}-byte sectors (truncated or not a raw image?)`);
  }
  if (st.size / SECTOR > MAX_IMAGE_SECTORS) throw new DiskImageError(`disk image ${tooLarge(path, st.size)}`);
  if (opts.readOnly) {
    try {
      return new ImageFileBackend(path, fs.openSync(path, "r"), st.size / SECTOR);
    } catch (e) {
      throw new DiskImageError(`cannot open disk image ${path} for reading: ${(e as Error).message}`);
    }
  }
  let lock: ImageLock;
  try {
    lock = lockImage(path);
  } catch (e) {
    throw new DiskImageError(`disk image ${(e as Error).message}`);
  }
  let fd: number;
  try {
    fd = fs.openSync(path, "r+");
  } catch (e) {
    lock.release();
    throw new DiskImageError(`cannot open disk image ${path} for reading and writing: ${(e as Error).message}`);
  }
  return new ImageFileBackend(path, fd, st.size / SECTOR, lock);
}

/** Sizes as people write them ("18G"): host/units.ts, re-exported for the CLI and tests. */
export { parseSize } from "../host/units.js";
