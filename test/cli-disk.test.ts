// `hitactix disk create / import / ls / get` end to end, and the units people type.
import { describe, it, expect, vi } from "vitest";
import { Command, CommanderError } from "commander";
import { diskCommand } from "../host/cli-disk.js";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync, statSync, readFileSync, truncateSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./helpers.js";
import { parseRate, parseSize, parseTime } from "../host/units.js";
import { openImage } from "../devices/block-backend.js";
import { openVolume, findFile, readFile, formatVolume, importFile, bytesSource, signSector } from "../host/sfs.js";
import { SFS_DIR_LBA } from "../common/sfs.js";
import { Rng } from "../host/rng.js";

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

// ---- issue 9: the disk commands refuse what would lose or corrupt data ---------------
// Most of these run the commands in this process (a CLI process costs ~0.5 s of CPU to
// start); what needs another process (locks held by someone else, ulimit, a pipe on
// stdin, `run`) spawns one.

/** `hitactix disk ...` in this process: exit status and output as the CLI gives them. */
async function disk(args: string[], cwd: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command().name("hitactix");
  program.addCommand(diskCommand());
  const quiet = (c: Command): void => {
    c.exitOverride().configureOutput({ writeOut: (t) => out.push(t), writeErr: (t) => err.push(t) });
    c.commands.forEach(quiet);
  };
  quiet(program);
  const spies = [
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(`${a.join(" ")}\n`)),
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(`${a.join(" ")}\n`)),
    vi.spyOn(process.stderr, "write").mockImplementation((t: string | Uint8Array) => (err.push(String(t)), true)),
  ];
  const home = process.cwd();
  process.chdir(cwd);
  let status = 0;
  try {
    await program.parseAsync(["node", "hitactix", "disk", ...args]);
  } catch (e) {
    status = 1;
    if (!(e instanceof CommanderError)) err.push(`hitactix: ${(e as Error).message}\n`);
  } finally {
    process.chdir(home);
    spies.forEach((s) => s.mockRestore());
  }
  return { status, stdout: out.join(""), stderr: err.join("") };
}

const sha = (p: string): string => createHash("sha256").update(readFileSync(p)).digest("hex");
const fresh = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix));
/** Sparse images made directly (faster than a CLI call each). */
const images = (dir: string, names: string[], bytes = 64 * 2 ** 20): void => names.forEach((n) => {
  writeFileSync(join(dir, n), "");
  truncateSync(join(dir, n), bytes);
});
const bytesOf = (n: number, seed: number): Buffer => {
  const r = new Rng(seed);
  return Buffer.from(new Uint8Array(n).map(() => r.u32() & 0xff));
};

describe("hitactix disk: volumes", async () => {
  it("gives every new volume its own random id, so the disks of two volumes cannot be mixed", async () => {
    const dir = fresh("htx-vol-");
    images(dir, ["d0.img", "d1.img", "d2.img", "f0.img", "f1.img", "f2.img"]);
    writeFileSync(join(dir, "a.bin"), bytesOf(400_000, 1));
    writeFileSync(join(dir, "b.bin"), bytesOf(300_000, 2));
    expect((await disk(["import", "d0.img", "d1.img", "d2.img", "movieA", "a.bin", "--rate", "8.8Mbps"], dir)).status).toBe(0);
    expect((await disk(["import", "f0.img", "f1.img", "f2.img", "other", "b.bin", "--rate", "8.8Mbps"], dir)).status).toBe(0);
    const ids: string[] = [];
    for (const v of ["d", "f"]) ids.push(/volume ([0-9a-f]{16})/.exec((await disk(["ls", `${v}0.img`, `${v}1.img`, `${v}2.img`], dir)).stdout)![1]);
    expect(ids[0]).not.toBe(ids[1]);
    const before = ["d0.img", "f1.img", "f2.img"].map((f) => sha(join(dir, f)));
    const ls = await disk(["ls", "d0.img", "f1.img", "f2.img"], dir);
    expect(ls.status).toBe(1);
    expect(ls.stderr).toContain(`f1.img: belongs to another volume (volume id or disk count differ): it is of volume ${ids[1]}`);
    const intruder = await disk(["import", "d0.img", "f1.img", "f2.img", "intruder", "a.bin", "--rate", "8.8Mbps"], dir);
    expect(intruder.status).toBe(1);
    expect(intruder.stderr).toContain("belongs to another volume");
    expect(["d0.img", "f1.img", "f2.img"].map((f) => sha(join(dir, f)))).toEqual(before);
    // --volume-id takes 64-bit numbers, and nothing that is not one
    images(dir, ["g0.img"]);
    expect((await disk(["import", "g0.img", "x", "b.bin", "--rate", "1Mbps", "--volume-id", "0xfedcba9876543210"], dir)).stdout).toContain("id fedcba9876543210");
    const bad = await disk(["import", "g0.img", "y", "b.bin", "--rate", "1Mbps", "--volume-id", "abc"], dir);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(`cannot read the volume id "abc": give a whole number from 0 to 18446744073709551615`);
    const zero = await disk(["import", "g0.img", "y", "b.bin", "--rate", "1Mbps", "--period", "0s"], dir);
    expect(zero.stderr).toContain(`the period "0s" is out of range: give a time from 1ms to 10s`);
  });

  it("locks images: a second user gets 'in use by pid N', a dead holder's lock is taken over", async () => {
    const dir = fresh("htx-lock-");
    images(dir, ["d0.img", "d1.img", "d2.img"]);
    writeFileSync(join(dir, "a.bin"), bytesOf(200_000, 3));
    // A live holder (any running process will do).
    const holder = spawn("sleep", ["30"]);
    writeFileSync(join(dir, "d1.img.lock"), `${holder.pid}\n`);
    const busy = await disk(["import", "d0.img", "d1.img", "d2.img", "a", "a.bin", "--rate", "8.8Mbps"], dir);
    expect(busy.status).toBe(1);
    expect(busy.stderr).toContain(`disk image d1.img is in use by pid ${holder.pid}`);
    expect(existsSync(join(dir, "d0.img.lock"))).toBe(false); // what it took, it gave back
    expect((await disk(["create", "d1.img", "--size", "1M", "--force"], dir)).stderr).toContain(`cannot replace d1.img: d1.img is in use by pid ${holder.pid}`);
    holder.kill("SIGKILL");
    await new Promise((r) => holder.on("exit", r));
    // Now the holder is gone: its lock is stale and is taken over.
    const ok = await disk(["import", "d0.img", "d1.img", "d2.img", "a", "a.bin", "--rate", "8.8Mbps"], dir);
    expect(ok.status).toBe(0);
    expect(ok.stderr).toContain(`note: d1.img was locked by pid ${holder.pid}, which is not running: taking the lock over`);
    expect(readdirSync(dir).filter((f) => f.endsWith(".lock"))).toEqual([]);
    // `run --disk` holds the same locks for the whole run.
    const run = spawn("node", [join(root, "bin/hitactix.js"), "run", "--disk", "d0.img", "d1.img", "d2.img", "--until", "1000s", "--quiet"], { cwd: dir });
    for (let i = 0; i < 200 && !existsSync(join(dir, "d2.img.lock")); i++) await new Promise((r) => setTimeout(r, 50));
    const during = await disk(["ls", "d0.img", "d1.img", "d2.img"], dir);
    run.kill("SIGKILL");
    await new Promise((r) => run.on("exit", r));
    expect(during.stderr).toContain(`disk image d0.img is in use by pid ${run.pid}`);
    expect((await disk(["ls", "d0.img", "d1.img", "d2.img"], dir)).stdout).toContain("1 files");
  });

  it("two imports at once: each one that succeeds is whole, none is lost or corrupt", async () => {
    const dir = fresh("htx-race-");
    images(dir, ["d0.img", "d1.img", "d2.img"], 256 * 2 ** 20);
    const run = (name: string, seed: number) => {
      writeFileSync(join(dir, `${name}.bin`), bytesOf(20_000_000, seed));
      const p = spawn("node", [join(root, "bin/hitactix.js"), "disk", "import", "d0.img", "d1.img", "d2.img", name, `${name}.bin`, "--rate", "8.8Mbps"], { cwd: dir });
      let err = "";
      p.stderr.on("data", (b) => (err += b));
      return new Promise<{ name: string; code: number; err: string }>((r) => p.on("exit", (code) => r({ name, code: code ?? -1, err })));
    };
    const results = await Promise.all([run("one", 4), run("two", 5)]);
    const won = results.filter((r) => r.code === 0).map((r) => r.name);
    for (const r of results.filter((x) => x.code !== 0)) expect(r.err).toMatch(/in use by pid \d+/);
    expect(won.length).toBeGreaterThan(0);
    const ls = (await disk(["ls", "d0.img", "d1.img", "d2.img"], dir)).stdout;
    expect(ls).toContain(`${won.length} files`);
    for (const name of won) {
      expect((await disk(["get", "d0.img", "d1.img", "d2.img", name, `${name}.out`], dir)).status).toBe(0);
      expect(sha(join(dir, `${name}.out`))).toBe(sha(join(dir, `${name}.bin`)));
    }
  });
});

describe("hitactix disk: input checked before work starts", async () => {
  it("refuses disks READ(10) cannot address (over 2^32 - 1 sectors): create, import, ls and run", async () => {
    const dir = fresh("htx-big-");
    const c = await disk(["create", "big.img", "--size", "8T"], dir);
    expect(c.status).toBe(1);
    expect(c.stderr).toContain("it speaks READ(10), whose 32-bit block addresses reach 4294967295 sectors");
    expect(existsSync(join(dir, "big.img"))).toBe(false);
    images(dir, ["huge.img"], 2 ** 41); // exactly 2^32 sectors, sparse
    writeFileSync(join(dir, "a.bin"), bytesOf(1000, 6));
    const why = "disk image huge.img: 2199023255552 bytes is more than the emulated disk can address";
    for (const args of [["import", "huge.img", "a", "a.bin", "--rate", "1Mbps"], ["ls", "huge.img"]]) {
      const r = await disk(args, dir);
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.stderr).toContain(why);
    }
    const run = cli(["run", "--disk", "huge.img", "--until", "1ms", "--quiet"], dir);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(why);
    expect(statSync(join(dir, "huge.img")).blocks).toBe(0); // nothing written
  });

  it("imports only regular files: a pipe, a FIFO or a directory is refused, not stored as 0 bytes", async () => {
    const dir = fresh("htx-pipe-");
    images(dir, ["d0.img"]);
    const before = sha(join(dir, "d0.img"));
    const piped = spawnSync("node", [join(root, "bin/hitactix.js"), "disk", "import", "d0.img", "x", "/dev/stdin", "--rate", "1Mbps"], { cwd: dir, input: "data", encoding: "utf8" });
    expect(piped.status).toBe(1);
    expect(piped.stderr).toMatch(/\/dev\/stdin is (a pipe or FIFO|a socket): disk import reads only regular files/); // node passes input through a socket
    spawnSync("mkfifo", [join(dir, "fifo")]);
    const fifo = spawnSync("node", [join(root, "bin/hitactix.js"), "disk", "import", "d0.img", "x", "fifo", "--rate", "1Mbps"], { cwd: dir, encoding: "utf8", timeout: 20_000 });
    expect(fifo.status).toBe(1); // and no hang waiting for a writer
    expect(fifo.stderr).toContain("fifo is a pipe or FIFO");
    expect((await disk(["import", "d0.img", "x", ".", "--rate", "1Mbps"], dir)).stderr).toContain(". is a directory");
    expect(sha(join(dir, "d0.img"))).toBe(before);
    // A first import that fails (no room) leaves fresh images fresh.
    images(dir, ["s0.img", "s1.img"], 16 * 2 ** 20);
    writeFileSync(join(dir, "big.bin"), Buffer.alloc(40 * 2 ** 20));
    const full = await disk(["import", "s0.img", "s1.img", "big", "big.bin", "--rate", "8.8Mbps"], dir);
    expect(full.stderr).toContain(`no room on disk`);
    for (const f of ["s0.img", "s1.img"]) expect(readFileSync(join(dir, f)).subarray(0, 4096).every((b) => b === 0)).toBe(true);
  });

  it("disk create leaves nothing behind when it fails, and --force replaces an image", async () => {
    const dir = fresh("htx-create-");
    const r = spawnSync("sh", ["-c", `ulimit -f 1000; exec node ${join(root, "bin/hitactix.js")} disk create x.img --size 1G`], { cwd: dir, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("cannot create x.img: the file system (or ulimit -f) does not allow a 1073741824-byte file");
    expect(readdirSync(dir)).toEqual([]);
    expect((await disk(["create", "y.img", "--size", "1M"], dir)).status).toBe(0);
    const again = await disk(["create", "y.img", "--size", "2M"], dir);
    expect(again.stderr).toContain("the file exists (add --force to replace it)");
    expect((await disk(["create", "y.img", "--size", "2M", "--force"], dir)).status).toBe(0);
    expect(statSync(join(dir, "y.img")).size).toBe(2 * 2 ** 20);
    expect(readdirSync(dir)).toEqual(["y.img"]);
  });
});

describe("hitactix disk: names and reading back", async () => {
  it("refuses names with control characters at import; ls escapes any that a volume holds", async () => {
    const dir = fresh("htx-name-");
    images(dir, ["d0.img", "d1.img"]);
    writeFileSync(join(dir, "a.bin"), bytesOf(5000, 7));
    const bad = await disk(["import", "d0.img", "d1.img", "red\x1b[31m\nline", "a.bin", "--rate", "1Mbps"], dir);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`file name "red\\x1b[31m\\nline" contains control characters`);
    // A volume made by another tool may hold such a name: write one in place.
    const disks = ["d0.img", "d1.img"].map((f) => openImage(join(dir, f)));
    const vol = formatVolume(disks, 5n);
    importFile(vol, "plain", bytesSource(new Uint8Array(5000)), 1e6, 256e6);
    const s = new Uint8Array(512);
    disks[0].read(SFS_DIR_LBA, 1, s, 0);
    s.set(new TextEncoder().encode("red\x1b[31m\nline\x00"), 0);
    signSector(s);
    disks[0].write(SFS_DIR_LBA, 1, s, 0);
    disks.forEach((d) => d.close());
    const ls = await disk(["ls", "d0.img", "d1.img"], dir);
    expect(ls.status).toBe(0);
    expect(ls.stdout).toContain("red\\x1b[31m\\nline");
    expect(ls.stdout).not.toMatch(/\x1b/);
  });

  it("disk get reads a file back byte for byte, to a file or to stdout, and refuses to overwrite", async () => {
    const dir = fresh("htx-get-");
    images(dir, ["d0.img", "d1.img", "d2.img"]);
    const data = bytesOf(1_234_567, 8);
    writeFileSync(join(dir, "m.bin"), data);
    expect((await disk(["import", "d0.img", "d1.img", "d2.img", "m", "m.bin", "--rate", "8.8Mbps"], dir)).status).toBe(0);
    const get = await disk(["get", "d2.img", "d0.img", "d1.img", "m", "out.bin"], dir);
    expect(get.stdout).toContain(`out.bin: 1234567 bytes, "m" read back and checked`);
    expect(Buffer.compare(readFileSync(join(dir, "out.bin")), data)).toBe(0);
    expect((await disk(["get", "d0.img", "d1.img", "d2.img", "m", "out.bin"], dir)).stderr).toContain("out.bin exists (add --force to replace it)");
    expect((await disk(["get", "d0.img", "d1.img", "d2.img", "m", "out.bin", "--force"], dir)).status).toBe(0);
    const toStdout = spawnSync("node", [join(root, "bin/hitactix.js"), "disk", "get", "d0.img", "d1.img", "d2.img", "m", "-"], { cwd: dir, maxBuffer: 1 << 24 });
    expect(Buffer.compare(toStdout.stdout, data)).toBe(0);
    expect((await disk(["get", "d0.img", "d1.img", "d2.img", "nope", "x.bin"], dir)).stderr).toContain(`no file "nope" on the volume (files: "m")`);
    // A damaged chunk is found by the content checksum, and no output is left.
    const disks = ["d0.img", "d1.img", "d2.img"].map((f) => openImage(join(dir, f)));
    const f = findFile(openVolume(disks), "m");
    const e = f.extents[2];
    const s = new Uint8Array(512);
    disks[e.disk].read(e.lba, 1, s, 0);
    s[100] ^= 0xff;
    disks[e.disk].write(e.lba, 1, s, 0);
    disks.forEach((d) => d.close());
    const damaged = await disk(["get", "d0.img", "d1.img", "d2.img", "m", "bad.bin"], dir);
    expect(damaged.status).toBe(1);
    expect(damaged.stderr).toContain(`"m" does not read back as it was imported`);
    expect(readdirSync(dir).filter((n) => n.startsWith("bad.bin"))).toEqual([]);
  });
});
