// Hostile images: blank, foreign, truncated, a corrupt superblock, corrupt or torn log
// headers, bad inode pointers, wrong bitmaps and link counts. Each is refused at mount
// with its reason, or mounts and has fsck list the damage, or fails the one operation
// with EIO and the reason: never a trap of fstool.wasm, never a crash of the host. Then
// a seeded fuzz over thousands of mutated small images.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BsdFs, MemBackend, FsError, FileBackend } from "../host/fs-image.js";
import {
  SB_NBLOCKS, SB_VERSION, SB_CHECK, SB_DATA_START, SB_INODE_START, SB_ORPHAN, SB_BMAP_START, LH_MAGIC, LH_SEQ, LH_COUNT,
  LH_DATA_CHECK, LH_CHECK, LH_HOME, LOG_MAGIC_LO, LOG_MAGIC_HI, FNV_OFFSET, FNV_PRIME, I_DIRECT, I_NLINK, I_TYPE, I_SIZE,
  DE_INUM, DIRENT_SIZE,
} from "../common/bsdfs.js";
import { root } from "./helpers.js";
import { pattern } from "./bsdfs-helpers.js";


function fnv(d: Uint8Array, words: number, h = FNV_OFFSET >>> 0): number {
  const dv = new DataView(d.buffer, d.byteOffset);
  for (let i = 0; i < words; i++) h = Math.imul((h ^ dv.getUint32(i * 4, true)) >>> 0, FNV_PRIME) >>> 0;
  return h;
}

/** A small file system with directories, a file past the direct blocks, and links. */
function sample(blocks = 2048): MemBackend {
  const mem = new MemBackend(blocks);
  const fs = new BsdFs(mem, { clock: () => 0n, nbuf: 192, nlog: 48 });
  fs.mkfs({ zeroed: true, created: 0n });
  fs.mount();
  fs.mkdir("/etc");
  fs.mkdir("/var");
  fs.writeFile("/etc/rc", pattern(700, 1));
  fs.writeFile("/var/big", pattern(70_000, 2));
  fs.writeFile("/hello", pattern(10, 3));
  fs.unmount();
  return mem;
}

const block = (m: MemBackend, b: number): Uint8Array => {
  let d = m.data.get(b);
  if (!d) { d = new Uint8Array(4096); m.data.set(b, d); }
  return d;
};
const dv = (m: MemBackend, b: number) => new DataView(block(m, b).buffer);
const sb = (m: MemBackend, off: number) => dv(m, 0).getUint32(off, true);
const resealSb = (m: MemBackend) => dv(m, 0).setUint32(SB_CHECK, fnv(block(m, 0), SB_CHECK / 4), true);

function inodeAt(m: MemBackend, ino: number): [DataView, number] {
  return [dv(m, sb(m, SB_INODE_START) + Math.floor(ino / 32)), (ino % 32) * 128];
}

function mountError(m: { blocks: number } & MemBackend | FileBackend): string {
  const fs = new BsdFs(m, { nbuf: 192, nlog: 48 });
  try {
    fs.mount();
  } catch (e) {
    expect(e).toBeInstanceOf(FsError);
    return (e as Error).message;
  }
  return "mounted";
}

function writeLogHeader(m: MemBackend, seq: number, homes: number[], dataCheck: number): void {
  const h = new Uint8Array(4096);
  const v = new DataView(h.buffer);
  v.setUint32(LH_MAGIC, LOG_MAGIC_LO, true);
  v.setUint32(LH_MAGIC + 4, LOG_MAGIC_HI, true);
  v.setBigUint64(LH_SEQ, BigInt(seq), true);
  v.setUint32(LH_COUNT, homes.length, true);
  v.setUint32(LH_DATA_CHECK, dataCheck, true);
  homes.forEach((b, i) => v.setUint32(LH_HOME + i * 4, b, true));
  v.setUint32(LH_CHECK, fnv(h, 1024), true); // the check field is 0 while summing
  m.data.set(1, h);
}

describe("bsdfs: images that must be refused", () => {
  it("refuses blank, foreign, tiny and truncated images with the reason", () => {
    expect(mountError(new MemBackend(256))).toContain("no file system: block 0 is all zeros");
    const foreign = new MemBackend(256);
    block(foreign, 0).set(new TextEncoder().encode("HTXSFS01 a stream disk"));
    expect(mountError(foreign)).toContain("not a BSD file system image (bad magic in block 0)");
    expect(mountError(new MemBackend(0))).toContain("the device is empty");
    const m = sample();
    const cut = m.clone();
    (cut as { blocks: number }).blocks = 1024;
    expect(mountError(cut)).toContain("truncated image: the file system has 2048 blocks of 4 KiB but the device holds only 1024");
  });

  it("refuses a corrupt superblock: checksum, version, geometry", () => {
    const a = sample();
    dv(a, 0).setUint32(SB_NBLOCKS, 4096, true);
    expect(mountError(a)).toContain("corrupt superblock: checksum mismatch");
    const b = sample();
    dv(b, 0).setUint32(SB_VERSION, 2, true);
    resealSb(b);
    expect(mountError(b)).toContain("unsupported file system version 2");
    const c = sample();
    dv(c, 0).setUint32(SB_DATA_START, sb(c, SB_DATA_START) + 1, true);
    resealSb(c);
    expect(mountError(c)).toMatch(/corrupt superblock: the data area start is \d+, the layout needs \d+/);
    const d = sample();
    dv(d, 0).setUint32(SB_NBLOCKS, 100, true);
    resealSb(d);
    expect(mountError(d)).toContain("corrupt superblock: impossible geometry");
  });

  it("refuses a corrupt log header, replays a good one, drops a torn one", () => {
    const a = sample();
    block(a, 1).fill(0x5a);
    expect(mountError(a)).toContain("corrupt log header (bad magic)");
    const b = sample();
    writeLogHeader(b, 9, [0], 0);
    expect(mountError(b)).toMatch(/logged block 0 belongs at block 0, outside the journaled blocks/);
    const c = sample();
    writeLogHeader(c, 9, [sb(c, SB_ORPHAN)], 12345);
    expect(mountError(c)).toContain("corrupt log: committed transaction 9 (1 blocks) does not match its checksum");
    // a good header whose logged block rewrites /hello's inode size: replayed
    const d = sample();
    const fs0 = new BsdFs(d.clone(), {});
    fs0.mount();
    const ino = fs0.lookup("/hello");
    const [iv, off] = inodeAt(d, ino);
    const home = sb(d, SB_INODE_START) + Math.floor(ino / 32);
    const logged = Uint8Array.from(block(d, home));
    new DataView(logged.buffer).setBigUint64(off + I_SIZE, 5n, true);
    d.data.set(2, logged);
    writeLogHeader(d, 9, [home], fnv(logged, 1024));
    void iv;
    const fs = new BsdFs(d, {});
    fs.mount();
    expect(fs.notes).toContain("replayed committed transaction 9 (1 blocks)");
    expect(fs.readFile("/hello").length).toBe(5);
    // torn: the same header with a wrong check field
    const e = sample();
    writeLogHeader(e, 9, [sb(e, SB_ORPHAN)], 0);
    dv(e, 1).setUint32(LH_CHECK, 1, true);
    const t = new BsdFs(e, {});
    t.mount();
    expect(t.notes).toContain("dropped a torn log header (seq 9)");
    expect(t.fsck().problems).toBe(0);
  });

  it("refuses a root that is not a directory", () => {
    const m = sample();
    const [v, off] = inodeAt(m, 1);
    v.setUint16(off + I_TYPE, 1, true);
    expect(mountError(m)).toContain("the root inode is not a directory");
  });

  it("gives the reason on the command line, with exit status 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "bsdfs-hostile-"));
    const m = sample();
    const bytes = new Uint8Array(1024 * 4096);
    for (const [b, d] of m.data) if (b < 1024) bytes.set(d, b * 4096);
    writeFileSync(join(dir, "cut.img"), bytes); // the first half of an 8 MiB file system
    const r = spawnSync("node", [join(root, "bin/hitactix.js"), "fs", "ls", join(dir, "cut.img")], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("cut.img: cannot mount: truncated image: the file system has 2048 blocks of 4 KiB but the device holds only 1024");
    const n = spawnSync("node", [join(root, "bin/hitactix.js"), "fs", "fsck", join(dir, "none.img")], { encoding: "utf8" });
    expect(n.status).toBe(1);
    expect(n.stderr).toContain("none.img: no such image file");
  });
});

describe("bsdfs: damage inside a mountable image", () => {
  const open = (m: MemBackend) => { const fs = new BsdFs(m, { nbuf: 192, nlog: 48 }); fs.mount(); return fs; };

  it("refuses a block pointer into the metadata with EIO and the reason, and fsck lists it", () => {
    const m = sample();
    const ino = open(m.clone()).lookup("/etc/rc");
    const [v, off] = inodeAt(m, ino);
    v.setUint32(off + I_DIRECT, 3, true);
    const fs = open(m);
    let err: FsError | undefined;
    try { fs.readFile("/etc/rc"); } catch (e) { err = e as FsError; }
    expect(err?.errno).toBe(29);
    expect(err?.message).toContain(`inode ${ino}: block pointer 3 is outside the data area`);
    const r = fs.fsck();
    expect(r.problems).toBeGreaterThan(0);
    expect(r.report).toContain(`inode ${ino}: block pointer 3 is outside the data area`);
    expect(r.report.some((l) => /marked in use, but nothing refers to it/.test(l))).toBe(true);
  });

  it("lists shared blocks, wrong bitmaps, wrong link counts and bad entries", () => {
    const m = sample();
    const probe = open(m.clone());
    const rc = probe.lookup("/etc/rc"), hello = probe.lookup("/hello"), etc = probe.lookup("/etc");
    const [rv, ro] = inodeAt(m, rc);
    const [hv, ho] = inodeAt(m, hello);
    hv.setUint32(ho + I_DIRECT, rv.getUint32(ro + I_DIRECT, true), true); // two files, one block
    const [ev, eo] = inodeAt(m, etc);
    ev.setUint16(eo + I_NLINK, 7, true);
    const bmap = sb(m, SB_BMAP_START);
    const bits = block(m, bmap);
    const data = sb(m, SB_DATA_START);
    bits[data >> 3] &= ~(1 << (data & 7)); // the root directory's block marked free
    const rootBlock = new DataView(block(m, data).buffer);
    rootBlock.setUint32(4 * DIRENT_SIZE + DE_INUM, 99999, true); // entries: . .. etc var hello
    const r = open(m).fsck();
    const text = r.report.join("\n");
    expect(text).toContain(`inode ${hello}: block ${rv.getUint32(ro + I_DIRECT, true)} is also used by another inode`);
    expect(text).toContain(`inode ${etc}: link count 7, but 2 directory entries name it`);
    expect(text).toContain(`block ${data}: in use, but marked free`);
    expect(text).toContain("directory 1: entry 4 is invalid (inode 99999)");
    expect(text).toContain(`inode ${hello}: link count 1, but 0 directory entries name it`);
    expect(r.problems).toBeGreaterThanOrEqual(5);
  });

  it("turns a trap inside fstool.wasm into an error that says so", () => {
    const fs = open(sample());
    const wasm = fs as unknown as { call: <T>(n: string, f: () => T) => T; x: { fsStat(ino: number, out: number): number } };
    expect(() => wasm.call("fsStat", () => wasm.x.fsStat(1, 0xfffffff0))).toThrow(/fstool.wasm trapped in fsStat \(memory access out of bounds\)/);
    expect(() => fs.list("/")).toThrow(/stopped earlier/);
  });
});

describe("bsdfs: fuzz", () => {
  it("never traps or crashes on thousands of mutated small images (seeded)", () => {
    const base = sample(128); // 512 KiB: every block is interesting
    const blocks = [...base.data.keys()];
    let seed = 0x9e3779b9;
    const rand = (n: number) => {
      seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
      return seed % n;
    };
    const interesting = [0, 1, 2, 3, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 127, 128, 4096];
    const outcomes = { refused: 0, mounted: 0, clean: 0, damaged: 0, opErrors: 0 };
    const traps: string[] = [];
    const t0 = performance.now();
    let n = 0;
    for (; n < 3000 && performance.now() - t0 < 10_000; n++) {
      const m = base.clone();
      const edits = 1 + rand(8);
      for (let k = 0; k < edits; k++) {
        const b = rand(4) === 0 ? rand(2) : blocks[rand(blocks.length)]; // the superblock and log header often
        const d = Uint8Array.from(block(m, b));
        const v = new DataView(d.buffer);
        // most of what is used sits at the start of a block: the superblock's 128 bytes,
        // the header's first homes, the first inodes and entries
        const span = b === 0 ? 128 : b === 1 ? 64 : rand(4) ? 1024 : 4096;
        const at = rand(span - 4) & ~3;
        if (rand(2)) v.setUint32(at, interesting[rand(interesting.length)], true);
        else d[rand(span)] ^= 1 << rand(8);
        if (b === 0 && rand(2)) v.setUint32(SB_CHECK, fnv(d, SB_CHECK / 4), true); // get past the checksum
        m.data.set(b, d);
      }
      const fs = new BsdFs(m, { nbuf: 192, nlog: 48, clock: () => 0n });
      try {
        try { fs.mount(); } catch (e) { if (!(e instanceof FsError)) throw e; outcomes.refused++; continue; }
        outcomes.mounted++;
        const r = fs.fsck();
        if (r.problems === 0) outcomes.clean++; else outcomes.damaged++;
        const steps: (() => void)[] = [
          () => { for (const e of fs.list("/")) if (e.type === "file") fs.readInto(`/${e.name}`, () => {}); },
          () => fs.readInto("/var/big", () => {}),
          () => fs.list("/etc"),
          () => fs.writeFile("/new", pattern(9000, n)),
          () => fs.mkdir("/d"),
          () => fs.rename("/etc/rc", "/var/rc"),
          () => fs.unlink("/hello"),
          () => fs.truncate("/var/big", 100),
          () => fs.service(),
          () => fs.unmount(),
        ];
        for (const step of steps) {
          try { step(); } catch (e) {
            if (!(e instanceof FsError)) throw e;
            if (/trapped|aborted|stopped earlier/.test(e.message)) throw e;
            outcomes.opErrors++;
          }
        }
      } catch (e) {
        traps.push(`image ${n}: ${(e as Error).message}`);
        if (traps.length > 5) break;
      }
    }
    console.log(`fuzz: ${n} images in ${((performance.now() - t0) / 1000).toFixed(1)} s`, outcomes);
    expect(traps).toEqual([]);
    expect(n).toBeGreaterThan(1000);
    expect(outcomes.refused).toBeGreaterThan(50);
    expect(outcomes.damaged).toBeGreaterThan(50);
    expect(outcomes.clean).toBeGreaterThan(50);
  });
});
