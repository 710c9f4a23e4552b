// A power loss at every write (and every flush) of `disk import` (issue 9, item 3).
// The disks are wrapped so that the k-th operation of an import fails, and what it
// was writing lands in part or not at all:
//   lost     the failing write lands not at all
//   prefix   its first sectors land (SCSI disks write whole sectors, in order)
//   torn     its first sectors land and the next one only in part (bytes)
//   cached   writes land only at flush (a write-back cache); at the power loss a
//            seeded subset of the unflushed writes lands, in any order
// After each, the volume must open, every file committed before reads back byte for
// byte, the interrupted file is either absent or whole, and the next import works and
// overwrites nothing.
import { describe, it, expect } from "vitest";
import { formatVolume, openVolume, openOrFormat, importFile, readFile, findFile, bytesSource, SfsError, type SfsDisk, type SfsVolume } from "../host/sfs.js";
import { SFS_MIN_SECTORS } from "../common/sfs.js";
import { Rng } from "../host/rng.js";
import { RamDisk } from "./sfs-helpers.js";


class PowerLoss extends Error {}

type Mode = "lost" | "prefix" | "torn" | "cached";

/** The power supply of a set of disks: it fails at operation `failAt` (writes and
 *  flushes of all disks, counted together). */
class Power {
  ops = 0;
  dead = false;
  /** Cached mode: writes not yet flushed, per disk. */
  pending = new Map<RamDisk, Array<{ lba: number; data: Uint8Array }>>();
  constructor(readonly failAt: number, readonly mode: Mode, readonly rng: Rng) {}

  /** The failing operation: the cache's random part, then part of this write. */
  fail(disk: RamDisk, w?: { lba: number; data: Uint8Array }): never {
    this.dead = true;
    if (this.mode === "cached") {
      const all = [...this.pending].flatMap(([d, ws]) => ws.map((x) => ({ d, ...x })));
      for (const x of all) if (this.rng.below(2) === 0) x.d.write(x.lba, x.data.length / 512, x.data, 0);
      if (w && this.rng.below(2) === 0) disk.write(w.lba, w.data.length / 512, w.data, 0);
    } else if (w && this.mode !== "lost") {
      const n = w.data.length / 512;
      const whole = this.rng.below(n); // sectors that land whole
      if (whole > 0) disk.write(w.lba, whole, w.data, 0);
      if (this.mode === "torn") {
        const s = disk.data.subarray((w.lba + whole) * 512, (w.lba + whole + 1) * 512);
        s.set(w.data.subarray(whole * 512, whole * 512 + 1 + this.rng.below(511)));
      }
    }
    throw new PowerLoss(`power lost at operation ${this.failAt}`);
  }
}

class CrashDisk implements SfsDisk {
  constructor(readonly inner: RamDisk, readonly power: Power) {}
  get sectors(): number {
    return this.inner.sectors;
  }
  read(lba: number, count: number, dst: Uint8Array, off: number): void {
    if (this.power.dead) throw new PowerLoss("read after the power loss");
    // a read sees the cache first
    this.inner.read(lba, count, dst, off);
    for (const w of this.power.pending.get(this.inner) ?? []) {
      for (let k = 0; k < w.data.length / 512; k++) {
        const s = w.lba + k;
        if (s >= lba && s < lba + count) dst.set(w.data.subarray(k * 512, (k + 1) * 512), off + (s - lba) * 512);
      }
    }
  }
  write(lba: number, count: number, src: Uint8Array, off: number): void {
    const w = { lba, data: src.slice(off, off + count * 512) };
    if (this.power.dead) throw new PowerLoss("write after the power loss");
    if (this.power.ops++ === this.power.failAt) this.power.fail(this.inner, w);
    if (this.power.mode === "cached") {
      const list = this.power.pending.get(this.inner) ?? [];
      list.push(w);
      this.power.pending.set(this.inner, list);
    } else {
      this.inner.write(lba, count, w.data, 0);
    }
  }
  flush(): void {
    if (this.power.dead) throw new PowerLoss("flush after the power loss");
    if (this.power.ops++ === this.power.failAt) this.power.fail(this.inner);
    for (const w of this.power.pending.get(this.inner) ?? []) this.inner.write(w.lba, w.data.length / 512, w.data, 0);
    this.power.pending.delete(this.inner);
  }
}

const content = (n: number, seed: number): Uint8Array => {
  const r = new Rng(seed);
  return new Uint8Array(n).map(() => r.u32() & 0xff);
};

const PERIOD = 1_000_000_000;
const files = { a: content(20_000, 1), b: content(7_777, 2), c: content(30_001, 3), d: content(12_345, 4) };

function expectFiles(vol: SfsVolume, want: Record<string, Uint8Array>): void {
  expect(vol.files.map((f) => f.name)).toEqual(Object.keys(want));
  for (const [name, data] of Object.entries(want)) {
    const back = new Uint8Array(data.length);
    readFile(vol, findFile(vol, name), 0, back);
    expect(Buffer.compare(back, data), `${name} reads back`).toBe(0);
  }
}

const MODES: Mode[] = ["lost", "prefix", "torn", "cached"];

describe("disk import survives a power loss at any write", () => {
  it("into a volume that holds files: the old files stay, the new one is all or nothing", () => {
    const disks = [0, 1, 2].map(() => new RamDisk(SFS_MIN_SECTORS + 400));
    const vol = formatVolume(disks, 0xc0ffeen);
    importFile(vol, "a", bytesSource(files.a), 8 * 1024, PERIOD); // 1 KiB chunks: 20 writes
    importFile(vol, "b", bytesSource(files.b), 8 * 2048, PERIOD);
    const snapshot = disks.map((d) => d.data.slice());
    // How many operations does importing c take?
    const counter = new Power(-1, "lost", new Rng(1));
    importFile(openVolume(disks.map((d) => new CrashDisk(d, counter))), "c", bytesSource(files.c), 8 * 1024, PERIOD);
    const ops = counter.ops;
    expect(ops).toBeGreaterThan(30); // 30 chunks, the extent table, the entry, flushes, the commit
    let withC = 0;
    let withoutC = 0;
    for (let k = 0; k < ops; k++) {
      for (const mode of MODES) {
        disks.forEach((d, i) => d.data.set(snapshot[i]));
        const power = new Power(k, mode, new Rng(1000 + k * 7 + MODES.indexOf(mode)));
        const v = openVolume(disks.map((d) => new CrashDisk(d, power)));
        expect(() => importFile(v, "c", bytesSource(files.c), 8 * 1024, PERIOD), `op ${k} ${mode}`).toThrow(PowerLoss);
        // Power back: the volume opens with a, b and maybe a whole c.
        const after = openVolume(disks);
        const hasC = after.files.length === 3;
        if (hasC) withC++;
        else withoutC++;
        expectFiles(after, hasC ? { a: files.a, b: files.b, c: files.c } : { a: files.a, b: files.b });
        // The next import works and overwrites nothing that was committed.
        importFile(after, "d", bytesSource(files.d), 8 * 1536, PERIOD);
        expectFiles(openVolume(disks), hasC ? { a: files.a, b: files.b, c: files.c, d: files.d } : { a: files.a, b: files.b, d: files.d });
      }
    }
    // Only the commit record decides: before it c is absent, once it lands c is whole.
    expect(withoutC).toBeGreaterThan(ops * MODES.length - 8);
    expect(withC).toBeGreaterThan(0);
    console.log(`power loss at each of ${ops} operations x ${MODES.length} modes: ${withoutC} kept the old volume, ${withC} the new one`);
  });

  it("during the first import, which formats: the images stay usable as fresh ones", () => {
    const disks = [0, 1, 2].map(() => new RamDisk(SFS_MIN_SECTORS + 200));
    const labels = ["d0", "d1", "d2"];
    const counter = new Power(-1, "lost", new Rng(1));
    const cd = disks.map((d) => new CrashDisk(d, counter));
    importFile(openOrFormat(cd, labels, () => 1n).vol, "a", bytesSource(files.a), 8 * 4096, PERIOD);
    const ops = counter.ops;
    let refused = 0;
    for (let k = 0; k < ops; k++) {
      for (const mode of MODES) {
        disks.forEach((d) => d.data.fill(0));
        const power = new Power(k, mode, new Rng(k * 13 + MODES.indexOf(mode)));
        const wrapped = disks.map((d) => new CrashDisk(d, power));
        expect(() => importFile(openOrFormat(wrapped, labels, () => 2n).vol, "a", bytesSource(files.a), 8 * 4096, PERIOD)).toThrow(PowerLoss);
        let vol: SfsVolume;
        try {
          vol = openOrFormat(disks, labels, () => 3n).vol;
        } catch (e) {
          // Only a member superblock torn inside a sector makes an image unrecognisable;
          // it is refused (never taken as a volume), and the user recreates it.
          expect(`${k} ${mode}: ${(e as Error).message}`).toMatch(/ torn: /);
          expect(e).toBeInstanceOf(SfsError);
          refused++;
          continue;
        }
        if (vol.files.length === 0) importFile(vol, "a", bytesSource(files.a), 8 * 4096, PERIOD);
        expectFiles(openVolume(disks), { a: files.a });
      }
    }
    expect(refused).toBeLessThan(ops);
  });
});
