// BSDFS through build/fstool.wasm (the kernel's file system code): files of every size
// class, directories, rename, unlink of open files, a full disk, name limits, the
// commit interval, and the same workload with every request completed later and in a
// random order (the restartable paths the kernel relies on). fsck must be clean after
// each step.
import { describe, it, expect } from "vitest";
import { BsdFs, MemBackend, RecordingBackend, FsError, O_CREAT, O_EXCL, type FsBackend } from "../host/fs-image.js";
import { fresh, clean, errno, MiB, pattern } from "./bsdfs-helpers.js";



const ENOENT = 44, EEXIST = 20, ENOTDIR = 54, EISDIR = 31, ENOSPC = 51, ENOTEMPTY = 55, EINVAL = 28, ENAMETOOLONG = 37;

describe("bsdfs: files", () => {
  it("puts and gets files byte-identical at every size class (direct, indirect, double indirect)", () => {
    const fs = fresh();
    // 48 KiB = the 12 direct blocks; +4 MiB = the single indirect block's reach
    const sizes = [0, 1, 4095, 4096, 4097, 49152, 49153, 4_243_456, 4_243_457, 9 * MiB + 123];
    sizes.forEach((n, i) => {
      const data = pattern(n, i + 1);
      fs.writeFile(`/f${n}`, data);
      expect(fs.stat(`/f${n}`).size).toBe(n);
      expect(Buffer.compare(fs.readFile(`/f${n}`), data)).toBe(0);
      clean(fs);
    });
    // the block counts include the indirect blocks
    expect(fs.stat("/f4096").blocks).toBe(1);
    expect(fs.stat("/f49153").blocks).toBe(12 + 1 + 1);
    expect(fs.stat("/f4243457").blocks).toBe(1037 + 1 + 1 + 1); // + indirect, double indirect, its first child
    // everything survives an unmount and a fresh instance
    fs.unmount();
    const again = new BsdFs(fs.backend, {});
    again.mount();
    sizes.forEach((n, i) => expect(Buffer.compare(again.readFile(`/f${n}`), pattern(n, i + 1))).toBe(0));
    clean(again);
  });

  it("overwrites in place, extends with a hole, truncates, and reads zeros past the old end", () => {
    const fs = fresh();
    fs.writeFile("/a", pattern(10000, 7));
    fs.pwrite("/a", 5000, pattern(3000, 8));
    const want = pattern(10000, 7);
    want.set(pattern(3000, 8), 5000);
    expect(Buffer.compare(fs.readFile("/a"), want)).toBe(0);
    fs.pwrite("/a", 200_000, new Uint8Array([1, 2, 3])); // a hole from 10000 to 200000
    const got = fs.readFile("/a");
    expect(got.length).toBe(200_003);
    expect(got.subarray(10000, 200_000).every((b) => b === 0)).toBe(true);
    expect(fs.stat("/a").blocks).toBe(5); // 3 blocks, then block 48 (past the direct ones) + the indirect block
    clean(fs);
    fs.truncate("/a", 4500);
    fs.truncate("/a", 9000); // grow again: 4500..9000 must read as zeros
    const t = fs.readFile("/a");
    expect(Buffer.compare(t.subarray(0, 4500), want.subarray(0, 4500))).toBe(0);
    expect(t.subarray(4500).every((b) => b === 0)).toBe(true);
    expect(fs.stat("/a").blocks).toBe(2);
    clean(fs);
  });

  it("keeps an unlinked file readable while it is open, and frees it at the last close", () => {
    const fs = fresh();
    const data = pattern(300_000, 3);
    fs.writeFile("/tmpfile", data);
    const free0 = fs.stats().freeBlocks;
    const ino = fs.open("/tmpfile");
    fs.unlink("/tmpfile");
    fs.service(); // must not reclaim: still open
    expect(fs.exists("/tmpfile")).toBe(false);
    expect(Buffer.compare(fs.readAt(ino, 0, data.length), data)).toBe(0);
    clean(fs); // an orphan with no links is consistent
    fs.close(ino);
    fs.service();
    expect(fs.stats().freeBlocks).toBe(free0 + 75); // 74 data blocks + the indirect block
    clean(fs);
  });

  it("finishes reclaiming an unlinked open file after a crash (the orphan table)", () => {
    const mem = new MemBackend(16384);
    const fs = fresh(0, {}, mem);
    fs.writeFile("/log", pattern(100_000, 4));
    const free0 = fs.stats().freeBlocks;
    const ino = fs.open("/log");
    fs.unlink("/log");
    fs.sync(); // the unlink is durable; the process still holds the file... and the host dies
    void ino;
    const after = new BsdFs(mem.clone(), {});
    after.mount();
    expect(after.notes).toContain("1 unlinked inodes to reclaim");
    clean(after);
    after.service();
    expect(after.stats().freeBlocks).toBe(free0 + 26); // 25 data blocks + the indirect block
    clean(after);
  });
});

describe("bsdfs: directories", () => {
  it("holds many files in one directory (past the direct blocks) and removes them", () => {
    const fs = fresh();
    fs.mkdir("/many");
    for (let i = 0; i < 1000; i++) fs.writeFile(`/many/file-${i}`, pattern(i % 50, i));
    const names = fs.list("/many").map((e) => e.name);
    expect(names.length).toBe(1000);
    expect(new Set(names).size).toBe(1000);
    expect(fs.stat("/many").size).toBe(1002 * 64); // ".", ".." and 1000 entries: 16 blocks
    for (let i = 0; i < 1000; i += 7) expect(Buffer.compare(fs.readFile(`/many/file-${i}`), pattern(i % 50, i))).toBe(0);
    clean(fs);
    for (let i = 0; i < 1000; i += 2) fs.unlink(`/many/file-${i}`);
    fs.service();
    expect(fs.list("/many").length).toBe(500);
    fs.writeFile("/many/new", pattern(5, 5)); // reuses a free slot: the size does not grow
    expect(fs.stat("/many").size).toBe(1002 * 64);
    clean(fs);
  });

  it("nests directories, keeps link counts, and refuses what it must", () => {
    const fs = fresh();
    let p = "";
    for (let d = 0; d < 20; d++) { p += `/d${d}`; fs.mkdir(p); }
    fs.writeFile(`${p}/leaf`, pattern(10, 1));
    expect(fs.stat("/d0").nlink).toBe(3);
    expect(fs.stat("/").nlink).toBe(3);
    expect(fs.lookup(`${p}/../../d18/d19/./leaf`)).toBe(fs.lookup(`${p}/leaf`));
    expect(fs.readFile(`//d0///d1/d2/../d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/leaf`).length).toBe(10);
    expect(errno(() => fs.rmdir("/d0"))).toBe(ENOTEMPTY);
    expect(errno(() => fs.unlink("/d0"))).toBe(EISDIR);
    expect(errno(() => fs.rmdir(`${p}/leaf`))).toBe(ENOTDIR);
    expect(errno(() => fs.mkdir("/d0"))).toBe(EEXIST);
    expect(errno(() => fs.mkdir("/nope/x"))).toBe(ENOENT);
    expect(errno(() => fs.mkdir(`${p}/leaf/x`))).toBe(ENOTDIR);
    expect(errno(() => fs.readFile("/missing"))).toBe(ENOENT);
    expect(errno(() => fs.readFile("/d0"))).toBe(EISDIR);
    expect(errno(() => fs.open("/d0/d1", O_CREAT | O_EXCL))).toBe(EEXIST);
    expect(errno(() => fs.rmdir("/"))).toBe(10);
    fs.unlink(`${p}/leaf`);
    for (let d = 19; d >= 0; d--) { fs.rmdir(p); p = p.slice(0, p.lastIndexOf("/")); }
    expect(fs.list("/")).toEqual([]);
    expect(fs.stat("/").nlink).toBe(2);
    clean(fs);
  });

  it("renames files and directories, within and across directories, atomically", () => {
    const fs = fresh();
    fs.mkdir("/a");
    fs.mkdir("/b");
    fs.mkdir("/a/sub");
    fs.writeFile("/a/sub/x", pattern(5000, 1));
    fs.writeFile("/a/f", pattern(100, 2));
    fs.writeFile("/b/old", pattern(70000, 3));
    const free0 = fs.stats().freeBlocks;
    fs.rename("/a/f", "/b/old"); // replaces /b/old, whose blocks are freed
    fs.service();
    expect(fs.stats().freeBlocks).toBe(free0 + 18 + 1);
    expect(Buffer.compare(fs.readFile("/b/old"), pattern(100, 2))).toBe(0);
    expect(fs.exists("/a/f")).toBe(false);
    fs.rename("/a/sub", "/b/moved"); // a directory to another parent: its ".." follows
    expect(fs.lookup("/b/moved/..")).toBe(fs.lookup("/b"));
    expect(fs.stat("/a").nlink).toBe(2);
    expect(fs.stat("/b").nlink).toBe(3);
    expect(fs.readFile("/b/moved/x").length).toBe(5000);
    fs.rename("/b/moved/x", "/b/moved/y"); // same directory
    expect(errno(() => fs.rename("/b", "/b/moved/inside"))).toBe(EINVAL);
    fs.mkdir("/c");
    fs.writeFile("/c/keep", pattern(1, 1));
    expect(errno(() => fs.rename("/b/moved", "/c"))).toBe(ENOTEMPTY);
    expect(errno(() => fs.rename("/b/old", "/c"))).toBe(EISDIR);
    expect(errno(() => fs.rename("/c", "/b/old"))).toBe(ENOTDIR);
    expect(errno(() => fs.rename("/nothing", "/x"))).toBe(ENOENT);
    fs.mkdir("/empty");
    fs.rename("/b/moved", "/empty"); // over an empty directory
    expect(fs.readFile("/empty/y").length).toBe(5000);
    fs.service();
    clean(fs);
    fs.link("/empty/y", "/c/hard");
    expect(fs.stat("/c/hard").nlink).toBe(2);
    fs.unlink("/empty/y");
    expect(fs.readFile("/c/hard").length).toBe(5000);
    clean(fs);
  });

  it("takes names up to 58 bytes and refuses longer ones", () => {
    const fs = fresh();
    const ok = "x".repeat(58);
    fs.writeFile(`/${ok}`, pattern(3, 3));
    fs.mkdir(`/${"d".repeat(58)}`);
    expect(fs.list("/").map((e) => e.name).sort()).toEqual(["d".repeat(58), ok]);
    expect(errno(() => fs.writeFile(`/${"y".repeat(59)}`, pattern(1, 1)))).toBe(ENAMETOOLONG);
    expect(errno(() => fs.mkdir(`/${"é".repeat(30)}`))).toBe(ENAMETOOLONG); // 60 bytes of UTF-8
    fs.writeFile(`/${"é".repeat(29)}`, pattern(1, 1)); // 58 bytes
    expect(errno(() => fs.lookup(`/${"z".repeat(300)}/a`))).toBe(ENAMETOOLONG);
    clean(fs);
  });

  it("answers ENOSPC when the disk is full, stays consistent, and recovers the space", () => {
    const fs = fresh(MiB); // 256 blocks: ~190 for data
    let i = 0;
    let code = 0;
    for (; i < 100 && code === 0; i++) code = errno(() => fs.writeFile(`/f${i}`, pattern(20000, i)));
    expect(code).toBe(ENOSPC);
    clean(fs);
    const full = fs.stats().freeBlocks;
    expect(full).toBeLessThan(5);
    // inodes run out too: 64 of them
    fs.unlink(`/f${i - 1}`); // the short one
    for (let k = 0; k < i - 1; k++) fs.unlink(`/f${k}`);
    fs.service();
    clean(fs);
    let made = 0;
    code = 0;
    while (code === 0 && made < 200) code = errno(() => fs.writeFile(`/e${made++}`, new Uint8Array(0)));
    expect(code).toBe(ENOSPC);
    expect(fs.stats().freeInodes).toBe(0);
    clean(fs);
  });
});

describe("bsdfs: journal", () => {
  it("commits a transaction after the interval of virtual time, or at sync", () => {
    let now = 0n;
    const fs = fresh(64 * MiB, { clock: () => now });
    const seq0 = fs.stats().durableSeq;
    fs.writeFile("/a", pattern(100, 1));
    now = 4_999_999_999n;
    fs.tick(now);
    expect(fs.stats().durableSeq).toBe(seq0); // younger than 5 s
    expect(fs.stats().txBlocks).toBeGreaterThan(0);
    now = 5_000_000_001n; // the first block joined at t = 0
    fs.tick(now);
    expect(fs.stats().durableSeq).toBe(seq0 + 1);
    expect(fs.stats().txBlocks).toBe(0);
    fs.setCommitInterval(1_000_000_000n);
    fs.writeFile("/b", pattern(100, 2));
    now += 1_000_000_000n;
    fs.tick(now);
    expect(fs.stats().durableSeq).toBe(seq0 + 2);
    fs.writeFile("/c", pattern(100, 3));
    expect(fs.sync()).toBe(seq0 + 3);
  });

  it("logs 5 blocks for a small-file create (directory, inodes, two bitmaps, data)", () => {
    const fs = fresh();
    fs.sync();
    const before = fs.stats();
    fs.writeFile("/etc-rc", pattern(100, 1));
    fs.sync();
    const after = fs.stats();
    // the root's directory block, the inode-table block (root and the new inode share
    // it), the inode bitmap, the block bitmap, the data block
    expect(after.blocksLogged - before.blocksLogged).toBe(5);
    expect(after.commits - before.commits).toBe(1);
    // and a commit writes each block twice, plus the header and the empty header
    expect(after.writes - before.writes).toBe(5 * 2 + 2);
  });

  it("gives the same result when every request completes later, in a random order", () => {
    const run = (deferred: boolean, seed: number) => {
      const mem = new MemBackend(4096);
      const fs = fresh(0, { deferred, seed, nbuf: 256, nlog: 64 }, mem);
      fs.mkdir("/d");
      for (let i = 0; i < 30; i++) fs.writeFile(`/d/f${i}`, pattern(i * 3001, i));
      fs.rename("/d/f3", "/d/g3");
      for (let i = 0; i < 30; i += 3) if (i !== 3) fs.unlink(`/d/f${i}`);
      fs.writeFile("/big", pattern(2 * MiB + 5, 99));
      fs.service();
      clean(fs);
      const listing = fs.list("/d").map((e) => e.name).sort().join(",");
      const big = fs.readFile("/big");
      fs.unmount();
      expect(fs.inFlight).toBe(0);
      return { listing, big, waits: fs.stats().waits, journalWaits: fs.stats().journalWaits, wakeups: fs.wakeups, data: mem };
    };
    const sync = run(false, 1);
    for (const seed of [1, 2, 3]) {
      const d = run(true, seed);
      expect(d.listing).toBe(sync.listing);
      expect(Buffer.compare(d.big, sync.big)).toBe(0);
      expect(d.waits).toBeGreaterThan(100); // the restartable paths were taken
      expect(d.journalWaits).toBeGreaterThan(0); // ... including "the log is full, a commit is in flight"
      expect(d.wakeups).toBeGreaterThan(d.waits / 2); // completions called the kernel's hook
      const again = new BsdFs(d.data, {});
      again.mount();
      clean(again);
      expect(Buffer.compare(again.readFile("/d/g3"), pattern(9003, 3))).toBe(0);
    }
    expect(sync.waits).toBe(0);
  });

  it("mounts and replays with every request completed later (the kernel's asynchronous mount)", () => {
    const mem = new MemBackend(4096);
    const rec = new RecordingBackend(mem);
    const fs = fresh(0, { nlog: 64 }, rec);
    fs.writeFile("/x", pattern(100_000, 9));
    fs.sync();
    // the media just after the commit point of the last commit: installation pending
    const lastHeader = rec.log.map((e, i) => (e.kind === "write" && e.block === 1 && new DataView(e.data.buffer).getUint32(16, true) > 0 ? i : -1))
      .filter((i) => i >= 0).pop()!;
    const disk = new MemBackend(4096);
    for (let i = 0; i <= lastHeader; i++) { const e = rec.log[i]; if (e.kind === "write") disk.write(e.block, e.data); }
    const later = new BsdFs(disk, { deferred: true, seed: 5, nbuf: 256, nlog: 40 });
    later.mount();
    expect(later.notes).toMatch(/replayed committed transaction/);
    clean(later);
    expect(Buffer.compare(later.readFile("/x"), pattern(100_000, 9))).toBe(0);
    expect(later.stats().waits).toBeGreaterThan(0);
  });
});

describe("bsdfs: the orphan table", () => {
  it("does not fill up when many files are removed between ticks (requests completing later)", () => {
    const fs = fresh(64 * MiB, { deferred: true, seed: 3, nbuf: 256, nlog: 64 });
    fs.mkdir("/spool");
    for (let i = 0; i < 1100; i++) fs.writeFile(`/spool/m${i}`, pattern(i % 3 === 0 ? 5000 : 10, i));
    const free = fs.stats().freeInodes;
    for (let i = 0; i < 1100; i++) fs.unlink(`/spool/m${i}`); // more than the table's 1024 slots
    expect(fs.stats().freeInodes).toBeGreaterThan(free + 1000); // reclaimed as they went
    fs.service();
    expect(fs.stats().freeInodes).toBe(free + 1100);
    clean(fs);
  });
});

describe("bsdfs: inside the guest", () => {
  it("runs over the guest's own synchronous memory device (blkio.ts MemDevice)", () => {
    const fs = new BsdFs(new MemBackend(0), { guestMemoryBlocks: 4096, clock: () => 0n, nbuf: 512 });
    fs.mkfs({ zeroed: true, created: 0n });
    fs.mount();
    fs.mkdir("/etc");
    fs.writeFile("/etc/motd", pattern(123_456, 1));
    fs.unmount();
    fs.mount();
    expect(Buffer.compare(fs.readFile("/etc/motd"), pattern(123_456, 1))).toBe(0);
    clean(fs);
  });

  it("allocates nothing per operation (the partition runtime never frees)", () => {
    const fs = fresh(64 * MiB, { nbuf: 512 });
    fs.fsck(); // fsck sizes its tables once, at its first run
    const a = fs.heapMark();
    const b = fs.heapMark();
    const step = b - a; // one mark's own allocation
    for (let round = 0; round < 3; round++) {
      fs.mkdir(`/d${round}`);
      for (let i = 0; i < 20; i++) fs.writeFile(`/d${round}/f${i}`, pattern(i * 5000, i));
      fs.rename(`/d${round}/f1`, `/d${round}/g1`);
      fs.readFile(`/d${round}/f19`);
      fs.list(`/d${round}`);
      fs.stat(`/d${round}/g1`);
      fs.chmod(`/d${round}/g1`, 0o600);
      fs.truncate(`/d${round}/f10`, 3);
      fs.unlink(`/d${round}/f2`);
      fs.service();
      fs.sync();
      fs.tick(10_000_000_000n);
      fs.fsck();
    }
    fs.unmount();
    fs.mount();
    expect(fs.heapMark() - b).toBe(step);
  });
});
