// Shared by the stream file system suites (host/sfs.ts).
import type { SfsDisk } from "../host/sfs.js";

/** A small in-memory disk whose bytes a test can reach (the real backends are in devices/). */
export class RamDisk implements SfsDisk {
  readonly data: Uint8Array;
  constructor(readonly sectors: number) {
    this.data = new Uint8Array(sectors * 512);
  }
  read(lba: number, count: number, dst: Uint8Array, off: number): void {
    dst.set(this.data.subarray(lba * 512, (lba + count) * 512), off);
  }
  write(lba: number, count: number, src: Uint8Array, off: number): void {
    this.data.set(src.subarray(off, off + count * 512), lba * 512);
  }
  flush(): void {}
}
