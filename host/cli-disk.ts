// `hitactix disk ...`: disk images on the host.
//   disk create <file> --size 18G [--force]   a sparse raw image (at most 2 TiB - 512 B:
//                                          the emulated disk speaks READ(10))
//   disk import <image...> <name> <file> --rate 8.8Mbps [--period 256ms] [--volume-id N]
//                                          write a file into the stream file system
//                                          (formats fresh images as one new volume with
//                                          a random 64-bit id)
//   disk ls <image...>                     list the volume's files (names escaped)
//   disk get <image...> <name> <out> [--force]   a file back, byte for byte ("-": stdout)
//
// Every image is locked while a command uses it (devices/block-backend.ts openImage):
// a second command on the same images gets "in use by pid N". The input of an import
// must be a regular file: its size must be known before anything is written (the
// chunk count sizes the extent table), so pipes, FIFOs and devices are refused
// rather than read to an unknown end.

import { Command, InvalidArgumentError } from "commander";
import { randomBytes } from "node:crypto";
import { openSync, readSync, writeSync, closeSync, fstatSync, statSync, existsSync, renameSync, rmSync, constants, type Stats } from "node:fs";
import { createImage, openImage, type ImageFileBackend } from "../devices/block-backend.js";
import { parseRate, parseSize, parsePeriod, parseVolumeId } from "./units.js";
import {
  openVolume, openOrFormat, importFile, checkImport, findFile, readFile, escapeName, volumeIdHex, fnvWords, FNV_INIT,
  unformat, SfsError, type SfsSource,
} from "./sfs.js";

const arg = <T>(f: (s: string) => T) => (v: string): T => {
  try {
    return f(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

function kindOf(st: Stats): string {
  if (st.isFIFO()) return "a pipe or FIFO";
  if (st.isDirectory()) return "a directory";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/** The input of an import: a regular file, opened without blocking (a FIFO with no
 *  writer would block an ordinary open for ever). */
function fileSource(path: string): SfsSource & { close(): void } {
  const refuse = (st: Stats) => new Error(`${path} is ${kindOf(st)}: disk import reads only regular files, whose size is known before it writes (save the data to a file first)`);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw refuse(st);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const fst = fstatSync(fd);
  if (!fst.isFile()) {
    closeSync(fd);
    throw refuse(fst);
  }
  return {
    length: fst.size,
    read: (off, dst) => {
      let done = 0;
      while (done < dst.length) {
        const n = readSync(fd, dst, done, dst.length - done, off + done);
        if (n <= 0) throw new Error(`${path} became shorter while it was being imported (at byte ${off + done})`);
        done += n;
      }
    },
    close: () => closeSync(fd),
  };
}

/** Open (and lock) every image, closing the ones opened so far if one fails. */
function openAll(images: string[]): ImageFileBackend[] {
  const disks: ImageFileBackend[] = [];
  try {
    for (const p of images) disks.push(openImage(p));
  } catch (e) {
    disks.forEach((d) => d.close());
    throw e;
  }
  return disks;
}

function withImages<T>(images: string[], fn: (disks: ImageFileBackend[]) => T): T {
  const disks = openAll(images);
  try {
    return fn(disks);
  } finally {
    disks.forEach((d) => d.close());
  }
}

/** All of buf to fd (a pipe may take it in pieces, or say "later"). */
function writeAll(fd: number, buf: Uint8Array): void {
  let done = 0;
  while (done < buf.length) {
    try {
      done += writeSync(fd, buf, done, buf.length - done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

export function diskCommand(): Command {
  const disk = new Command("disk").description("disk images and the stream file system on them");

  disk
    .command("create <file>")
    .description("create a sparse raw disk image (at most 2 TiB less one sector: the disk speaks READ(10))")
    .requiredOption("--size <size>", "capacity, e.g. 18G (powers of 1024)", arg(parseSize))
    .option("--force", "replace an existing image (not one in use)")
    .action((file: string, o: { size: number; force?: boolean }) => {
      createImage(file, o.size, { overwrite: o.force });
      console.log(`${file}: ${o.size} bytes (${o.size / 512} sectors), sparse`);
    });

  disk
    .command("import <args...>")
    .description("write <file> into the volume on <image...> as <name>: disk import a.img b.img c.img movie movie.mpg --rate 8.8Mbps")
    .requiredOption("--rate <rate>", "the stream's nominal rate, e.g. 8.8Mbps or 18MB/s", arg(parseRate))
    .option("--period <time>", "period of the distribution thread (sets the chunk size), 1ms to 10s", arg(parsePeriod), 256_000_000)
    .option("--volume-id <n>", "volume id when formatting fresh images, 0 to 2^64-1 (default: random)", arg(parseVolumeId))
    .action((args: string[], o: { rate: number; period: number; volumeId?: bigint }) => {
      if (args.length < 3) throw new Error("disk import needs at least one image, a name and a file");
      const file = args[args.length - 1];
      const name = args[args.length - 2];
      const images = args.slice(0, -2);
      const src = fileSource(file);
      try {
        checkImport(name, src.length, o.rate, o.period); // before any image is touched
        withImages(images, (disks) => {
          const newId = () => o.volumeId ?? randomBytes(8).readBigUInt64LE(0);
          const { vol, formatted } = openOrFormat(disks, images, newId);
          if (formatted) console.log(`formatted a ${disks.length}-disk stream volume, id ${volumeIdHex(vol.volumeId)}`);
          let f;
          try {
            f = importFile(vol, name, src, o.rate, o.period);
          } catch (e) {
            if (formatted) unformat(disks); // fresh images stay fresh
            throw e;
          }
          console.log(`${escapeName(name)}: ${f.size} bytes at ${(f.rateBps / 1e6).toFixed(3)} Mbit/s, ${f.chunks} chunks of ${f.chunk} bytes, striped over ${disks.length} disks`);
        });
      } finally {
        src.close();
      }
    });

  disk
    .command("ls <images...>")
    .description("list the files of the volume on the images")
    .action((images: string[]) => {
      withImages(images, (disks) => {
        const vol = openVolume(disks, images);
        console.log(`volume ${volumeIdHex(vol.volumeId)}, ${vol.disks.length} disks, ${vol.files.length} files`);
        for (const f of vol.files) {
          const secs = (f.size * 8) / f.rateBps;
          console.log(`${escapeName(f.name).padEnd(24)} ${String(f.size).padStart(12)} B  ${(f.rateBps / 1e6).toFixed(3).padStart(9)} Mbit/s  ${secs.toFixed(1).padStart(7)} s  ${f.chunks} x ${f.chunk} B`);
        }
      });
    });

  disk
    .command("get <args...>")
    .description("copy file <name> of the volume on <image...> to <out> byte for byte (\"-\": standard output): disk get a.img b.img c.img movie movie.mpg")
    .option("--force", "replace <out> if it exists")
    .action((args: string[], o: { force?: boolean }) => {
      if (args.length < 3) throw new Error("disk get needs at least one image, a name and an output file");
      const out = args[args.length - 1];
      const name = args[args.length - 2];
      const images = args.slice(0, -2);
      if (out !== "-" && existsSync(out) && !o.force) throw new Error(`${out} exists (add --force to replace it)`);
      withImages(images, (disks) => {
        const vol = openVolume(disks, images);
        const f = findFile(vol, name);
        // Into a file beside <out>, renamed over it only when complete and verified.
        const part = `${out}.part-${process.pid}`;
        const fd = out === "-" ? 1 : openSync(part, "wx");
        let ok = false;
        try {
          const buf = new Uint8Array(f.chunk);
          let check = FNV_INIT;
          for (let off = 0; off < f.size; off += f.chunk) {
            const piece = buf.subarray(0, Math.min(f.chunk, f.size - off));
            readFile(vol, f, off, piece);
            check = fnvWords(check, piece);
            writeAll(fd, piece);
          }
          if (check !== f.check) {
            throw new SfsError(`"${escapeName(name)}" does not read back as it was imported (content checksum ${check.toString(16)}, recorded ${f.check.toString(16)}): the volume's data is damaged`);
          }
          ok = true;
        } finally {
          if (fd !== 1) {
            closeSync(fd);
            if (ok) renameSync(part, out);
            else rmSync(part, { force: true });
          }
        }
        if (out !== "-") console.log(`${out}: ${f.size} bytes, "${escapeName(name)}" read back and checked`);
      });
    });

  return disk;
}
