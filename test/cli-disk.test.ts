// `hitactix disk create / import / ls` end to end, and the units people type.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./helpers.js";
import { parseRate, parseSize, parseTime } from "../host/units.js";
import { openImage } from "../devices/block-backend.js";
import { openVolume, findFile, readFile } from "../host/sfs.js";

const cli = (args: string[], cwd: string) => spawnSync("node", [join(root, "bin/hitactix.js"), ...args], { cwd, encoding: "utf8" });

describe("units", () => {
  it("reads times, sizes and rates", () => {
    expect(parseTime("250ms")).toBe(250_000_000);
    expect(parseTime("1.5us")).toBe(1500);
    expect(parseSize("18G")).toBe(18 * 2 ** 30);
    expect(parseRate("8.8Mbps")).toBe(8_800_000);
    expect(parseRate("18MB/s")).toBe(144_000_000);
    expect(() => parseRate("fast")).toThrow(/cannot read the rate/);
    expect(() => parseTime("10 parsecs")).toThrow(/cannot read the time|unknown time unit/);
  });
});

describe("hitactix disk", () => {
  it("creates sparse images, imports a file striped over them, lists and reads it back", () => {
    const dir = mkdtempSync(join(tmpdir(), "htx-disk-"));
    for (const i of [0, 1, 2]) expect(cli(["disk", "create", `d${i}.img`, "--size", "1G"], dir).status).toBe(0);
    expect(statSync(join(dir, "d0.img")).size).toBe(2 ** 30);
    const data = Buffer.alloc(3_000_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
    writeFileSync(join(dir, "movie.bin"), data);
    const imp = cli(["disk", "import", "d0.img", "d1.img", "d2.img", "movie", "movie.bin", "--rate", "8.8Mbps"], dir);
    expect(imp.stdout).toContain("movie: 3000000 bytes at 8.800 Mbit/s, 11 chunks of 281600 bytes, striped over 3 disks");
    const ls = cli(["disk", "ls", "d2.img", "d1.img", "d0.img"], dir);
    expect(ls.status).toBe(0);
    expect(ls.stdout).toMatch(/movie\s+3000000 B\s+8\.800 Mbit\/s/);
    const disks = [0, 1, 2].map((i) => openImage(join(dir, `d${i}.img`)));
    const vol = openVolume(disks);
    const back = new Uint8Array(data.length);
    readFile(vol, findFile(vol, "movie"), 0, back);
    expect(Buffer.compare(back, data)).toBe(0);
    disks.forEach((d) => d.close());
    // refusals, each with its reason and a non-zero exit code
    const two = cli(["disk", "ls", "d0.img", "d1.img"], dir);
    expect(two.status).not.toBe(0);
    expect(two.stderr).toContain("the volume has 3 disks but 2 images were given");
    writeFileSync(join(dir, "junk.img"), Buffer.alloc(1 << 20, 0x5a));
    expect(cli(["disk", "ls", "junk.img"], dir).stderr).toContain("junk.img: not a stream file system disk");
    expect(cli(["disk", "create", "d0.img", "--size", "1G"], dir).stderr).toContain("exists");
    expect(cli(["disk", "create", "odd.img", "--size", "1000"], dir).stderr).toContain("not a positive multiple of 512");
  });
});
