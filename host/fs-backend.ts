// Where fstool.wasm's blocks live (one 4 KiB FS block per call), for fs-image.ts:
//   FileBackend(path)        an image file (read past its end = zeros; flush = fdatasync)
//   MemBackend(blocks)       sparse, in memory
//   RecordingBackend(inner)  passes through and records every write and flush, in
//                            order (the crash-consistency test replays prefixes of it)
//   OverlayBackend(base)     writes go to a private layer over a read-only base
//   createImageFile(path, bytes, overwrite)   a sparse image file

import { openSync, readSync, writeSync, closeSync, fstatSync, fdatasyncSync, ftruncateSync } from "node:fs";
import { BSIZE } from "../common/bsdfs.js";

export class FsError extends Error {
  constructor(message: string, readonly errno = 0) {
    super(message);
  }
}

export interface FsBackend {
  /** Capacity in 4 KiB blocks. */
  readonly blocks: number;
  read(block: number, dst: Uint8Array): void;
  write(block: number, src: Uint8Array): void;
  flush(): void;
  close?(): void;
}

export class FileBackend implements FsBackend {
  readonly blocks: number;
  private fd: number;
  constructor(readonly path: string, writable = true) {
    try {
      this.fd = openSync(path, writable ? "r+" : "r");
    } catch (e) {
      throw new FsError(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such image file" : (e as Error).message}`);
    }
    const st = fstatSync(this.fd);
    if (!st.isFile()) throw new FsError(`${path}: not a regular file`);
    this.blocks = Math.floor(st.size / BSIZE);
  }
  read(block: number, dst: Uint8Array): void {
    let done = 0;
    while (done < BSIZE) {
      const n = readSync(this.fd, dst, done, BSIZE - done, block * BSIZE + done);
      if (n <= 0) break;
      done += n;
    }
    if (done < BSIZE) dst.fill(0, done);
  }
  write(block: number, src: Uint8Array): void {
    let done = 0;
    while (done < BSIZE) done += writeSync(this.fd, src, done, BSIZE - done, block * BSIZE + done);
  }
  flush(): void {
    fdatasyncSync(this.fd);
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Create (or cut to size) a sparse image file of `bytes` bytes. */
export function createImageFile(path: string, bytes: number, overwrite = false): void {
  let fd: number;
  try {
    fd = openSync(path, overwrite ? "w" : "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new FsError(`${path}: exists (use --force to overwrite it)`);
    throw new FsError(`${path}: ${(e as Error).message}`);
  }
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

export class MemBackend implements FsBackend {
  readonly data = new Map<number, Uint8Array>();
  constructor(readonly blocks: number) {}
  read(block: number, dst: Uint8Array): void {
    const b = this.data.get(block);
    if (b) dst.set(b);
    else dst.fill(0);
  }
  write(block: number, src: Uint8Array): void {
    this.data.set(block, Uint8Array.from(src));
  }
  flush(): void {}
  /** A copy (blocks are copied on write, so sharing them is safe). */
  clone(): MemBackend {
    const m = new MemBackend(this.blocks);
    for (const [k, v] of this.data) m.data.set(k, v);
    return m;
  }
}

export type Recorded = { kind: "write"; block: number; data: Uint8Array } | { kind: "flush" };

export class RecordingBackend implements FsBackend {
  readonly log: Recorded[] = [];
  constructor(readonly inner: FsBackend) {}
  get blocks(): number {
    return this.inner.blocks;
  }
  read(block: number, dst: Uint8Array): void {
    this.inner.read(block, dst);
  }
  write(block: number, src: Uint8Array): void {
    this.log.push({ kind: "write", block, data: Uint8Array.from(src) });
    this.inner.write(block, src);
  }
  flush(): void {
    this.log.push({ kind: "flush" });
    this.inner.flush();
  }
}

export class OverlayBackend implements FsBackend {
  private layer = new Map<number, Uint8Array>();
  constructor(readonly base: FsBackend) {}
  get blocks(): number {
    return this.base.blocks;
  }
  read(block: number, dst: Uint8Array): void {
    const b = this.layer.get(block);
    if (b) dst.set(b);
    else this.base.read(block, dst);
  }
  write(block: number, src: Uint8Array): void {
    this.layer.set(block, Uint8Array.from(src));
  }
  flush(): void {}
}
