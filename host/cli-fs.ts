// `hitactix fs ...`: BSD's system disk image on the host, without booting, as mtools or
// debugfs do: every command loads build/fstool.wasm (the kernel's own file system code,
// see fs-image.ts), mounts the image (replaying its journal), does its work, commits
// and unmounts.
//
//   fs mkfs IMAGE --size 64M [--inodes N] [--log BLOCKS] [--force]
//   fs ls IMAGE [PATH] [-l]
//   fs get IMAGE PATH [OUT|-]              (default: standard output)
//   fs put IMAGE HOSTFILE|- PATH [--mode 0755]   (PATH an existing directory: into it)
//   fs rm IMAGE PATH                       (a file, or an empty directory)
//   fs mkdir IMAGE PATH [--mode 0755] [-p]
//   fs mv IMAGE FROM TO
//   fs fsck IMAGE                          exit 0 clean, 1 with the problems listed
// A missing path, a corrupt, truncated or foreign image: a clear message, exit 1.

import { Command, InvalidArgumentError, Option } from "commander";
import { openSync, readSync, writeSync, closeSync, fstatSync, statSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseSize } from "./units.js";
import { BsdFs, FileBackend, FsError, createImageFile, openFs, BSIZE, type FsStat } from "./fs-image.js";

const arg = <T>(f: (s: string) => T) => (v: string): T => {
  try {
    return f(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

function parseMode(text: string): number {
  if (!/^0?[0-7]{1,4}$/.test(text)) throw new Error(`"${text}" is not an octal mode like 0755`);
  return parseInt(text, 8);
}

/** Mount, run, commit and unmount; the image is closed whatever happens. */
function withFs<T>(image: string, f: (fs: BsdFs) => T): T {
  const fs = openFs(image);
  try {
    const r = f(fs);
    fs.service();
    fs.unmount();
    return r;
  } finally {
    fs.release();
  }
}

function modeString(st: FsStat): string {
  const rwx = (m: number) => `${m & 4 ? "r" : "-"}${m & 2 ? "w" : "-"}${m & 1 ? "x" : "-"}`;
  let s = (st.type === "dir" ? "d" : st.type === "link" ? "l" : "-") + rwx(st.mode >> 6) + rwx(st.mode >> 3) + rwx(st.mode);
  if (st.mode & 0o1000) s = s.slice(0, 9) + (st.mode & 1 ? "t" : "T");
  return s;
}

function timeString(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 16).replace("T", " ");
}

function longLine(st: FsStat, name: string, target?: string): string {
  return `${modeString(st)} ${String(st.nlink).padStart(3)} ${String(st.uid).padStart(4)} ${String(st.gid).padStart(4)} ` +
    `${String(st.size).padStart(10)} ${timeString(st.mtimeNs)} ${name}${st.type === "dir" ? "/" : ""}` +
    (target !== undefined ? ` -> ${target}` : "");
}

function readHostFile(path: string): { size: number; fill: (off: number, dst: Uint8Array) => void; close: () => void } {
  if (path === "-") {
    const data = readFileSync(0);
    return { size: data.length, fill: (off, dst) => dst.set(data.subarray(off, off + dst.length)), close: () => {} };
  }
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new FsError(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such host file" : (e as Error).message}`);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) { closeSync(fd); throw new FsError(`${path}: not a regular file`); }
  return {
    size: st.size,
    fill: (off, dst) => {
      let done = 0;
      while (done < dst.length) {
        const n = readSync(fd, dst, done, dst.length - done, off + done);
        if (n <= 0) throw new FsError(`${path}: changed size while being read`);
        done += n;
      }
    },
    close: () => closeSync(fd),
  };
}

export function fsCommand(): Command {
  const fsc = new Command("fs").description("BSD's system disk image: mkfs, ls, get, put, rm, mkdir, ln, mv, fsck (no boot needed)");

  fsc
    .command("mkfs <image>")
    .description("create an image file holding an empty file system")
    .requiredOption("--size <size>", "capacity, e.g. 64M (powers of 1024; at least 512K)", arg(parseSize))
    .option("--inodes <n>", "number of inodes (default one per 16 KiB)", arg(Number))
    .option("--log <blocks>", "journal size in 4 KiB blocks (default size/32, 40..1017)", arg(Number))
    .option("--force", "overwrite an existing file")
    .action((image: string, o: { size: number; inodes?: number; log?: number; force?: boolean }) => {
      if (o.size % BSIZE !== 0) throw new FsError(`--size ${o.size} is not a multiple of 4096 bytes`);
      if (o.size < 512 * 1024) throw new FsError(`--size ${o.size}: the smallest file system is 512 KiB`);
      if (o.size / BSIZE > 0xffffffff) throw new FsError(`--size: at most 2^32 blocks of 4 KiB`);
      const inodes = o.inodes === undefined ? 0 : Math.ceil(o.inodes / 32) * 32;
      createImageFile(image, o.size, o.force);
      const fs = new BsdFs(new FileBackend(image));
      try {
        fs.mkfs({ ninodes: inodes, logBlocks: o.log ?? 0, zeroed: true });
        fs.mount();
        const s = fs.stats();
        fs.unmount();
        console.log(`${image}: ${o.size / BSIZE} blocks of 4 KiB, ${s.freeBlocks} free, ${s.freeInodes} free inodes`);
      } finally {
        fs.release();
      }
    });

  fsc
    .command("ls <image> [path]")
    .description("list a directory (or show a file)")
    .option("-l, --long", "mode, links, owner, size, modification time")
    .action((image: string, path: string | undefined, o: { long?: boolean }) => {
      withFs(image, (fs) => {
        const p = path ?? "/";
        const st = p.endsWith("/") ? fs.stat(p) : fs.lstat(p); // a link is shown, not followed
        if (st.type !== "dir") {
          console.log(o.long ? longLine(st, p, st.type === "link" ? fs.readlink(p) : undefined) : p);
          return;
        }
        const entries = fs.list(p).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        const dir = p.replace(/\/*$/, "");
        for (const e of entries) {
          const target = e.type === "link" ? fs.readlink(`${dir}/${e.name}`) : undefined;
          if (o.long) console.log(longLine(fs.statIno(e.ino, e.name), e.name, target));
          else console.log(e.name + (e.type === "dir" ? "/" : "") + (target !== undefined ? ` -> ${target}` : ""));
        }
      });
    });

  fsc
    .command("get <image> <path> [out]")
    .description("copy a file out of the image (to OUT, or - / nothing for standard output)")
    .action((image: string, path: string, out: string | undefined) => {
      withFs(image, (fs) => {
        let target = out ?? "-";
        if (target !== "-") {
          try {
            if (statSync(target).isDirectory()) target = join(target, basename(path));
          } catch { /* a new file */ }
        }
        const fd = target === "-" ? 1 : openSync(target, "w");
        try {
          fs.readInto(path, (chunk) => {
            for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done, chunk.length - done);
          });
        } finally {
          if (fd !== 1) closeSync(fd);
        }
      });
    });

  fsc
    .command("put <image> <hostfile> <path>")
    .description("copy a host file (or - for standard input) into the image, replacing PATH")
    .addOption(new Option("--mode <octal>", "permission bits").argParser(arg(parseMode)).default(0o644, "0644"))
    .action((image: string, hostfile: string, path: string, o: { mode: number }) => {
      const src = readHostFile(hostfile);
      try {
        withFs(image, (fs) => {
          let target = path;
          if (target.endsWith("/") || (fs.exists(target) && fs.stat(target).type === "dir")) {
            if (hostfile === "-") throw new FsError(`${path}: is a directory (give a file name)`);
            target = target.replace(/\/*$/, "/") + basename(hostfile);
          }
          fs.writeFrom(target, src.size, src.fill, o.mode);
        });
      } finally {
        src.close();
      }
    });

  fsc
    .command("rm <image> <path>")
    .description("remove a file or an empty directory")
    .action((image: string, path: string) => {
      withFs(image, (fs) => {
        if (fs.lstat(path).type === "dir") fs.rmdir(path);
        else fs.unlink(path); // a link itself, not what it names
      });
    });

  fsc
    .command("mkdir <image> <path>")
    .description("make a directory")
    .addOption(new Option("--mode <octal>", "permission bits").argParser(arg(parseMode)).default(0o755, "0755"))
    .option("-p, --parents", "make missing parents too; no error if it exists")
    .action((image: string, path: string, o: { mode: number; parents?: boolean }) => {
      withFs(image, (fs) => {
        if (!o.parents) return fs.mkdir(path, o.mode);
        let at = "";
        for (const part of path.split("/").filter((s) => s.length > 0)) {
          at += "/" + part;
          if (!fs.exists(at)) fs.mkdir(at, o.mode);
          else if (fs.stat(at).type !== "dir") throw new FsError(`${at}: not a directory (ENOTDIR)`);
        }
      });
    });

  fsc
    .command("ln <image> <target> <path>")
    .description("make a link: with -s a symbolic link to TARGET (kept as given), else a second name for it")
    .option("-s, --symbolic", "a symbolic link")
    .action((image: string, target: string, path: string, o: { symbolic?: boolean }) => {
      withFs(image, (fs) => (o.symbolic ? fs.symlink(target, path) : fs.link(target, path)));
    });

  fsc
    .command("mv <image> <from> <to>")
    .description("rename (atomically, also across directories)")
    .action((image: string, from: string, to: string) => {
      withFs(image, (fs) => fs.rename(from, to));
    });

  fsc
    .command("fsck <image>")
    .description("check the whole file system: exit 0 when clean, 1 with the problems listed")
    .action((image: string) => {
      const fs = openFs(image);
      try {
        if (fs.notes) process.stderr.write(fs.notes);
        const r = fs.fsck();
        for (const line of r.report) console.log(line);
        if (r.problems === 0) console.log(`${image}: clean, ${r.files} files, ${r.dirs} directories, ${r.blocks} data blocks in use`);
        else {
          console.log(`${image}: ${r.problems} problems`);
          process.exitCode = 1;
        }
        fs.unmount();
      } finally {
        fs.release();
      }
    });

  return fsc;
}
