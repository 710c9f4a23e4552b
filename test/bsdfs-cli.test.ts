// `hitactix fs ...` end to end, and the system image that `npm run build` makes.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { BsdFs, FileBackend, createImageFile } from "../host/fs-image.js";
import { root } from "./helpers.js";
import { pattern } from "./bsdfs-helpers.js";

const cli = (args: string[], cwd: string, input?: Buffer) =>
  spawnSync("node", [join(root, "bin/hitactix.js"), "fs", ...args], { cwd, input, encoding: "buffer", maxBuffer: 1 << 26 });
const text = (b: Buffer) => b.toString("utf8");


describe("hitactix fs", () => {
  it("makes an image, puts, gets, lists, moves, removes and checks files", () => {
    // every spawn pays node's start-up (~1 s here): the command code is the same in
    // process, so the rest of the checks read the image with BsdFs
    const dir = mkdtempSync(join(tmpdir(), "bsdfs-cli-"));
    const mk = cli(["mkfs", "sys.img", "--size", "16M"], dir);
    expect(text(mk.stdout)).toContain("sys.img: 4096 blocks of 4 KiB");
    expect(statSync(join(dir, "sys.img")).size).toBe(16 << 20);
    const big = pattern(3_000_000, 1);
    writeFileSync(join(dir, "prog.wasm"), big);
    const steps = [
      ["mkdir", "sys.img", "/usr/local/bin", "-p"],
      ["put", "sys.img", "prog.wasm", "/usr/local/bin/", "--mode", "0755"],
      ["put", "sys.img", "-", "/usr/motd"],
      ["mv", "sys.img", "/usr/motd", "/motd"],
    ];
    for (const s of steps) {
      const r = cli(s, dir, s[2] === "-" ? Buffer.from("welcome\n") : undefined);
      expect(text(r.stderr), s.join(" ")).toBe("");
      expect(r.status).toBe(0);
    }
    const ls = text(cli(["ls", "sys.img", "/usr/local/bin", "-l"], dir).stdout);
    expect(ls).toMatch(/^-rwxr-xr-x\s+1\s+0\s+0\s+3000000 \d{4}-\d\d-\d\d \d\d:\d\d prog\.wasm\n$/);
    const got = cli(["get", "sys.img", "/usr/local/bin/prog.wasm"], dir); // to standard output
    expect(Buffer.compare(got.stdout, big)).toBe(0);
    const fs = new BsdFs(new FileBackend(join(dir, "sys.img")), {});
    fs.mount();
    expect(new TextDecoder().decode(fs.readFile("/motd"))).toBe("welcome\n");
    expect(fs.list("/").map((e) => e.name).sort()).toEqual(["motd", "usr"]);
    expect(fs.fsck().problems).toBe(0);
    fs.release();
    // refusals, each with its reason and status 1
    const missing = cli(["get", "sys.img", "/usr/nothing"], dir);
    expect(missing.status).toBe(1);
    expect(text(missing.stderr)).toContain("/usr/nothing: no such file or directory (ENOENT)");
    const notEmpty = cli(["rm", "sys.img", "/usr"], dir);
    expect(notEmpty.status).toBe(1);
    expect(text(notEmpty.stderr)).toContain("/usr: directory not empty (ENOTEMPTY)");
    const check = cli(["fsck", "sys.img"], dir);
    expect(check.status).toBe(0);
    expect(text(check.stdout)).toMatch(/sys\.img: clean, 2 files, 4 directories/);
    // fsck lists damage and exits 1: the root's link count, changed behind its back
    const img = readFileSync(join(dir, "sys.img"));
    const inodeStart = img.readUInt32LE(40);
    img.writeUInt16LE(9, inodeStart * 4096 + 128 + 2);
    writeFileSync(join(dir, "bad.img"), img);
    const bad = cli(["fsck", "bad.img"], dir);
    expect(bad.status).toBe(1);
    expect(text(bad.stdout)).toContain("inode 1: link count 9, but 3 directory entries name it");
    expect(text(bad.stdout)).toContain("bad.img: 1 problems");
  });

  it("refuses to overwrite an image without --force", () => {
    const dir = mkdtempSync(join(tmpdir(), "bsdfs-cli-"));
    createImageFile(join(dir, "a.img"), 1 << 20);
    expect(() => createImageFile(join(dir, "a.img"), 1 << 20)).toThrow(/a\.img: exists \(use --force to overwrite it\)/);
  });
});

describe("system image", () => {
  it("is built reproducibly with /bin, /etc, /var/log, /tmp and /dev", () => {
    const dir = mkdtempSync(join(tmpdir(), "bsdfs-sysimg-"));
    mkdirSync(join(dir, "userland"));
    mkdirSync(join(dir, "etc"));
    writeFileSync(join(dir, "userland", "init.wasm"), pattern(20_000, 2));
    writeFileSync(join(dir, "userland", "cron.wasm"), pattern(70_000, 3));
    writeFileSync(join(dir, "userland", "README"), "not a program");
    writeFileSync(join(dir, "etc", "rc"), "# rc\n");
    writeFileSync(join(dir, "etc", "crontab"), "*/5 * * * * /bin/stats\n");
    const build = (out: string) => spawnSync("node", [join(root, "scripts/build-sysimg.mjs"), join(dir, out), "--userland", join(dir, "userland"), "--prebuilt", join(dir, "no-prebuilt"), "--etc", join(dir, "etc")],
      { cwd: root, encoding: "utf8", env: { ...process.env, SOURCE_DATE_EPOCH: "1700000000" } });
    const a = build("a.img"), b = build("b.img");
    expect(a.stderr).toBe("");
    expect(a.stdout).toContain("/bin 2 programs, /etc 2 files");
    const md5 = (p: string) => createHash("md5").update(readFileSync(join(dir, p))).digest("hex");
    expect(md5("a.img")).toBe(md5("b.img"));
    expect(b.status).toBe(0);
    const fs = new BsdFs(new FileBackend(join(dir, "a.img")), {});
    fs.mount();
    expect(fs.list("/").map((e) => e.name).sort()).toEqual(["bin", "dev", "etc", "tmp", "var"]);
    expect(fs.list("/bin").map((e) => e.name).sort()).toEqual(["cron", "init"]);
    expect(fs.stat("/bin/cron").mode).toBe(0o755);
    expect(Buffer.compare(fs.readFile("/bin/cron"), pattern(70_000, 3))).toBe(0);
    expect(new TextDecoder().decode(fs.readFile("/etc/crontab"))).toBe("*/5 * * * * /bin/stats\n");
    expect(fs.stat("/tmp").mode).toBe(0o1777);
    expect(fs.stat("/var/log").type).toBe("dir");
    expect(fs.list("/dev")).toEqual([]);
    expect(fs.stat("/etc/rc").mtimeNs).toBe(1_700_000_000_000_000_000n);
    expect(fs.fsck().problems).toBe(0);
  });
});
