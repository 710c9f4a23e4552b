// The stream file system format (host side): format, import, list, read back, and
// refusal of corrupt or foreign images with clear messages.
import { describe, it, expect } from "vitest";
import { formatVolume, openVolume, importFile, readFile, findFile, bytesSource, chunkBytes, fnvWords, SfsError } from "../host/sfs.js";
import { SFS_DATA_START } from "../common/sfs.js";
import { Rng } from "../host/rng.js";
import { RamDisk } from "./sfs-helpers.js";


const content = (n: number, seed: number): Uint8Array => {
  const r = new Rng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = r.u32() & 0xff;
  return b;
};

describe("stream file system", () => {
  const period = 256_000_000;

  it("stripes one period's chunk per disk, round-robin, and reads back exactly", () => {
    const disks = [0, 1, 2].map(() => new RamDisk(40_000));
    formatVolume(disks, 0x1234n);
    const vol = openVolume(disks);
    const data = content(3_000_123, 1);
    const f = importFile(vol, "movie.mpg", bytesSource(data), 8_800_000, period);
    expect(f.chunk).toBe(chunkBytes(8_800_000, period));
    expect(f.chunk).toBe(281_600); // 8.8 Mbit/s * 0.256 s / 8 = 281,600 B, a whole number of sectors
    expect(f.chunks).toBe(Math.ceil(3_000_123 / 281_600));
    expect(f.extents.map((e) => e.disk).slice(0, 6)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(f.extents[0].lba).toBe(SFS_DATA_START);
    const again = openVolume([disks[2], disks[0], disks[1]]); // any order
    const g = findFile(again, "movie.mpg");
    expect(g).toMatchObject({ size: 3_000_123, rateBps: 8_800_000, chunk: 281_600, check: f.check });
    const back = new Uint8Array(data.length);
    readFile(again, g, 0, back);
    expect(Buffer.compare(back, data)).toBe(0);
    const mid = new Uint8Array(1000);
    readFile(again, g, 281_000, mid); // across a chunk (and disk) boundary
    expect(Buffer.compare(mid, data.subarray(281_000, 282_000))).toBe(0);
  });

  it("fnvWords reads the same little-endian words from aligned and unaligned buffers", () => {
    const raw = new Uint8Array(1031).map((_, i) => (i * 97 + 13) & 0xff);
    const aligned = raw.slice(0, 1027); // offset 0: read as whole words
    const odd = new Uint8Array(1030);
    odd.set(aligned, 3);
    const h = fnvWords(0x811c9dc5, aligned);
    expect(fnvWords(0x811c9dc5, odd.subarray(3, 3 + 1027))).toBe(h);
    // The definition, word by word, zero-padding the last partial word.
    let r = 0x811c9dc5;
    for (let i = 0; i < 1027; i += 4) r = Math.imul(r ^ (aligned[i] | (aligned[i + 1] << 8) | ((aligned[i + 2] ?? 0) << 16) | ((aligned[i + 3] ?? 0) << 24)), 0x01000193);
    expect(h).toBe(r);
  });

  it("a second stream starts on the next disk", () => {
    const disks = [0, 1, 2].map(() => new RamDisk(40_000));
    const vol = formatVolume(disks, 1n);
    importFile(vol, "a", bytesSource(content(100_000, 2)), 18e6 * 8, period);
    const b = importFile(vol, "b", bytesSource(content(100_000, 3)), 8_800_000, period);
    expect(b.extents[0].disk).toBe(1);
    expect(openVolume(disks).files.map((f) => f.name)).toEqual(["a", "b"]);
  });

  it("refuses foreign, corrupt, mixed or incomplete volumes with a clear message", () => {
    const disks = [0, 1, 2].map(() => new RamDisk(40_000));
    expect(() => openVolume(disks)).toThrow(/disk 0: not a stream file system disk/);
    formatVolume(disks, 7n);
    expect(() => openVolume(disks.slice(0, 2))).toThrow(/the volume has 3 disks but 2 images were given/);
    expect(() => openVolume([disks[0], disks[0], disks[1]])).toThrow(/are both disk 0/);
    const other = [0, 1, 2].map(() => new RamDisk(40_000));
    formatVolume(other, 8n);
    expect(() => openVolume([disks[0], other[1], disks[2]])).toThrow(/belongs to another volume/);
    disks[1].data[100] ^= 0xff;
    expect(() => openVolume(disks)).toThrow(/disk 1: corrupt superblock/);
    expect(() => formatVolume([new RamDisk(100)], 1n)).toThrow(SfsError);
  });

  it("refuses bad names, duplicates and files that do not fit, leaving the volume as it was", () => {
    const disks = [0, 1].map(() => new RamDisk(SFS_DATA_START + 2000));
    const vol = formatVolume(disks, 1n);
    expect(() => importFile(vol, "", bytesSource(new Uint8Array(10)), 1e6, period)).toThrow(/file name/);
    importFile(vol, "x", bytesSource(new Uint8Array(10)), 1e6, period);
    expect(() => importFile(vol, "x", bytesSource(new Uint8Array(10)), 1e6, period)).toThrow(/already exists/);
    expect(() => importFile(vol, "big", bytesSource(new Uint8Array(5_000_000)), 1e6, period)).toThrow(/no room on disk/);
    expect(openVolume(disks).files.map((f) => f.name)).toEqual(["x"]);
  });
});
