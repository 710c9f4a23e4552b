// Shared by the BSDFS suites: a fresh file system in memory, fsck must be clean, the
// errno of a call that fails, seeded file contents.
import { expect } from "vitest";
import { BsdFs, MemBackend, FsError, type FsBackend } from "../host/fs-image.js";

export const MiB = 1 << 20;

/** A file system of `bytes` (in memory, or on `backend`), made and mounted; clock 1 s. */
export function fresh(bytes = 64 * MiB, opts: ConstructorParameters<typeof BsdFs>[1] = {}, backend?: FsBackend): BsdFs {
  const fs = new BsdFs(backend ?? new MemBackend(bytes / 4096), { clock: () => 1_000_000_000n, ...opts });
  fs.mkfs({ zeroed: true, created: 0n });
  fs.mount();
  return fs;
}

export function clean(fs: BsdFs): void {
  const r = fs.fsck();
  expect(r.report).toEqual([]);
  expect(r.problems).toBe(0);
}

/** The WASI errno a call fails with, 0 if it does not. */
export function errno(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    if (e instanceof FsError) return e.errno;
    throw e;
  }
  return 0;
}

/** n bytes of a seeded xorshift32 stream: file contents every run writes alike. */
export function pattern(n: number, seed: number): Uint8Array {
  const a = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    a[i] = x & 0xff;
  }
  return a;
}
