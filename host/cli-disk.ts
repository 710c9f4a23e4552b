// `hitactix disk ...`: disk images on the host.
//   disk create <file> --size 18G          a sparse raw image
//   disk import <image...> <name> <file> --rate 8.8Mbps [--period 256ms]
//                                          write a file into the stream file system
//                                          (formats fresh images as one volume)
//   disk ls <image...>                     list the volume's files

import { Command, InvalidArgumentError } from "commander";
import { openSync, readSync, closeSync, fstatSync } from "node:fs";
import { createImage, openImage } from "../devices/block-backend.js";
import { parseRate, parseSize, parseTime } from "./units.js";
import { formatVolume, openVolume, importFile, SfsError, type SfsDisk, type SfsSource } from "./sfs.js";
import { SFS_MAGIC_LO } from "../common/sfs.js";

const arg = <T>(f: (s: string) => T) => (v: string): T => {
  try {
    return f(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

function fileSource(path: string): SfsSource & { close(): void } {
  const fd = openSync(path, "r");
  const length = fstatSync(fd).size;
  return {
    length,
    read: (off, dst) => {
      let done = 0;
      while (done < dst.length) {
        const n = readSync(fd, dst, done, dst.length - done, off + done);
        if (n <= 0) throw new Error(`${path}: short read at ${off + done}`);
        done += n;
      }
    },
    close: () => closeSync(fd),
  };
}

/** A fresh image is all zeros at sector 0: no superblock yet. */
function isBlank(d: SfsDisk): boolean {
  const s = new Uint8Array(512);
  d.read(0, 1, s, 0);
  return new DataView(s.buffer).getUint32(0, true) !== SFS_MAGIC_LO && s.every((b) => b === 0);
}

export function diskCommand(): Command {
  const disk = new Command("disk").description("disk images and the stream file system on them");

  disk
    .command("create <file>")
    .description("create a sparse raw disk image")
    .requiredOption("--size <size>", "capacity, e.g. 18G (powers of 1024)", arg(parseSize))
    .action((file: string, o: { size: number }) => {
      createImage(file, o.size);
      console.log(`${file}: ${o.size} bytes (${o.size / 512} sectors), sparse`);
    });

  disk
    .command("import <args...>")
    .description("write <file> into the volume on <image...> as <name>: disk import a.img b.img c.img movie movie.mpg --rate 8.8Mbps")
    .requiredOption("--rate <rate>", "the stream's nominal rate, e.g. 8.8Mbps or 18MB/s", arg(parseRate))
    .option("--period <time>", "period of the distribution thread (sets the chunk size)", arg(parseTime), 256_000_000)
    .option("--volume-id <n>", "volume id when formatting fresh images", arg(Number), 1)
    .action((args: string[], o: { rate: number; period: number; volumeId: number }) => {
      if (args.length < 3) throw new Error("disk import needs at least one image, a name and a file");
      const file = args[args.length - 1];
      const name = args[args.length - 2];
      const images = args.slice(0, -2);
      const disks = images.map((p) => openImage(p));
      try {
        const blank = disks.map(isBlank);
        let vol;
        if (blank.every((b) => b)) {
          vol = formatVolume(disks, o.volumeId);
          console.log(`formatted a ${disks.length}-disk stream volume`);
        } else if (blank.some((b) => b)) {
          throw new SfsError(`some images are blank and some are not (${images.filter((_, i) => blank[i]).join(", ")} blank): give the images of one volume`);
        } else {
          vol = openVolume(disks, images);
        }
        const src = fileSource(file);
        try {
          const f = importFile(vol, name, src, o.rate, o.period);
          console.log(`${name}: ${f.size} bytes at ${(f.rateBps / 1e6).toFixed(3)} Mbit/s, ${f.chunks} chunks of ${f.chunk} bytes, striped over ${disks.length} disks`);
        } finally {
          src.close();
        }
      } finally {
        disks.forEach((d) => d.close());
      }
    });

  disk
    .command("ls <images...>")
    .description("list the files of the volume on the images")
    .action((images: string[]) => {
      const disks = images.map((p) => openImage(p));
      try {
        const vol = openVolume(disks, images);
        console.log(`volume ${vol.volumeId}, ${vol.disks.length} disks, ${vol.files.length} files`);
        for (const f of vol.files) {
          const secs = (f.size * 8) / f.rateBps;
          console.log(`${f.name.padEnd(24)} ${String(f.size).padStart(12)} B  ${(f.rateBps / 1e6).toFixed(3).padStart(9)} Mbit/s  ${secs.toFixed(1).padStart(7)} s  ${f.chunks} x ${f.chunk} B`);
        }
      } finally {
        disks.forEach((d) => d.close());
      }
    });

  return disk;
}
