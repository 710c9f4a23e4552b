// BSDFS's symbolic links through build/fstool.wasm (unconfined resolution, as the host
// tool resolves): creation, following in every component and in the last one, "..",
// relative and absolute targets, lstat and readlink, unlink/rename/link of the link
// itself, dangling links and loops (ELOOP after 40), hostile link inodes, fsck, and a
// crash at every write of a symlink's creation.
import { describe, it, expect } from "vitest";
import { BsdFs, MemBackend, RecordingBackend, O_CREAT } from "../host/fs-image.js";
import { fresh, clean, errno, MiB } from "./bsdfs-helpers.js";

const ENOENT = 44, EEXIST = 20, ENOTDIR = 54, EINVAL = 28, ENAMETOOLONG = 37, ELOOP = 32, EIO = 29;

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

describe("bsdfs: symbolic links", () => {
  it("are followed in every component, relative to the link's directory, and in the last one", () => {
    const fs = fresh();
    fs.mkdir("/a");
    fs.mkdir("/a/b");
    fs.writeFile("/a/b/f", text("hello"));
    fs.symlink("b", "/a/lb"); // relative: from /a
    fs.symlink("/a/b/f", "/abs"); // absolute
    fs.symlink("lb/f", "/a/lf"); // through another link
    fs.symlink("../b", "/a/b/up"); // ".." after a link: the parent of where it led
    expect(str(fs.readFile("/a/lb/f"))).toBe("hello");
    expect(str(fs.readFile("/abs"))).toBe("hello");
    expect(str(fs.readFile("/a/lf"))).toBe("hello");
    expect(str(fs.readFile("/a/b/up/f"))).toBe("hello");
    expect(str(fs.readFile("/a/lb/up/up/../b/f"))).toBe("hello");
    expect(fs.stat("/a/lb").type).toBe("dir");
    expect(fs.lstat("/a/lb").type).toBe("link");
    expect(fs.lstat("/a/lb").size).toBe(1);
    expect(fs.readlink("/a/lf")).toBe("lb/f");
    expect(fs.readlink("/abs")).toBe("/a/b/f");
    expect(errno(() => fs.readlink("/a/b/f"))).toBe(EINVAL); // not a link
    expect(fs.list("/a").map((e) => `${e.name}:${e.type}`).sort()).toEqual(["b:dir", "lb:link", "lf:link"]);
    // "lb/" names the directory the link leads to
    expect(fs.stat("/a/lb/").type).toBe("dir");
    clean(fs);
  });

  it("the link itself is what unlink, rename and link act on", () => {
    const fs = fresh();
    fs.writeFile("/f", text("data"));
    fs.symlink("f", "/l");
    fs.rename("/l", "/m");
    expect(fs.readlink("/m")).toBe("f");
    fs.link("/m", "/m2"); // a second name for the link (linkat without following)
    expect(fs.lstat("/m").nlink).toBe(2);
    expect(fs.list("/").find((e) => e.name === "m2")?.type).toBe("link");
    fs.unlink("/m");
    fs.unlink("/m2");
    expect(str(fs.readFile("/f"))).toBe("data"); // the target is untouched
    expect(fs.exists("/m")).toBe(false);
    clean(fs);
    // the link's block and inode are freed with it
    const before = fs.stats();
    fs.symlink("x".repeat(1023), "/long");
    fs.unlink("/long");
    fs.sync();
    fs.service();
    const after = fs.stats();
    expect(after.freeBlocks).toBe(before.freeBlocks);
    expect(after.freeInodes).toBe(before.freeInodes);
    clean(fs);
  });

  it("dangling links, loops and bad targets give the errors Linux gives", () => {
    const fs = fresh();
    fs.symlink("nowhere", "/dangling");
    expect(errno(() => fs.readFile("/dangling"))).toBe(ENOENT);
    expect(fs.lstat("/dangling").type).toBe("link");
    fs.symlink("self", "/self");
    expect(errno(() => fs.stat("/self"))).toBe(ELOOP);
    fs.symlink("l2", "/l1");
    fs.symlink("l1", "/l2");
    expect(errno(() => fs.stat("/l1/x"))).toBe(ELOOP);
    // a chain of 40 links resolves; 41 do not
    fs.writeFile("/end", text("!"));
    fs.symlink("end", "/c0");
    for (let i = 1; i <= 40; i++) fs.symlink(`c${i - 1}`, `/c${i}`);
    expect(str(fs.readFile("/c39"))).toBe("!");
    expect(errno(() => fs.readFile("/c40"))).toBe(ELOOP);
    expect(errno(() => fs.symlink("", "/empty"))).toBe(ENOENT);
    expect(errno(() => fs.symlink("x".repeat(1024), "/toolong"))).toBe(ENAMETOOLONG);
    expect(errno(() => fs.symlink("f", "/end"))).toBe(EEXIST);
    expect(errno(() => fs.symlink("f", "/new/"))).toBe(ENOENT);
    expect(errno(() => fs.symlink("f", "/end/x"))).toBe(ENOTDIR);
    // O_CREAT through a link opens what it names; through a dangling one, ENOENT
    fs.symlink("end", "/toend");
    const ino = fs.open("/toend", O_CREAT);
    expect(fs.statIno(ino).type).toBe("file");
    fs.close(ino);
    expect(errno(() => fs.open("/dangling", O_CREAT))).toBe(ENOENT);
    clean(fs);
  });

  it("a link inode with an impossible target length is EIO with the reason, and fsck names it", () => {
    const backend = new MemBackend((16 * MiB) / 4096);
    const fs = fresh(16 * MiB, {}, backend);
    fs.symlink("target", "/l");
    const ino = fs.lookupLink("/l");
    fs.unmount();
    fs.release();
    // size 0 in the inode (128-byte inodes, 32 per block; the table's first block from the superblock)
    const sb = new Uint8Array(4096);
    backend.read(0, sb);
    const inodeStart = new DataView(sb.buffer).getUint32(40, true);
    const blk = new Uint8Array(4096);
    backend.read(inodeStart + Math.floor(ino / 32), blk);
    new DataView(blk.buffer).setBigUint64((ino % 32) * 128 + 16, 0n, true);
    backend.write(inodeStart + Math.floor(ino / 32), blk);
    const again = new BsdFs(backend, {});
    again.mount();
    expect(errno(() => again.stat("/l"))).toBe(EIO);
    const r = again.fsck();
    expect(r.problems).toBeGreaterThan(0);
    expect(r.report.join("\n")).toMatch(/symbolic link \d+: target length 0/);
    again.release();
  });

  it("a crash at any write of a link's creation leaves the link whole or absent", () => {
    const base = new MemBackend((4 * MiB) / 4096);
    const fs = fresh(4 * MiB, {}, base);
    fs.mkdir("/d");
    fs.sync();
    fs.unmount();
    fs.release();
    const rec = new RecordingBackend(base.clone());
    const w = new BsdFs(rec, { clock: () => 2_000_000_000n });
    w.mount();
    w.symlink("../some/where", "/d/link");
    w.sync();
    w.unmount();
    w.release();
    const writes = rec.log.filter((e) => e.kind === "write");
    expect(writes.length).toBeGreaterThan(4);
    let whole = 0;
    for (let k = 0; k <= writes.length; k++) {
      const img = base.clone();
      for (const e of writes.slice(0, k)) if (e.kind === "write") img.write(e.block, e.data);
      const c = new BsdFs(img, {});
      c.mount();
      expect(c.fsck().problems, `after ${k} writes`).toBe(0);
      if (errno(() => c.lstat("/d/link")) === 0) {
        expect(c.readlink("/d/link")).toBe("../some/where");
        whole++;
      }
      c.release();
    }
    expect(whole).toBeGreaterThan(0); // the link is there once its commit is on the disk
  });
});
