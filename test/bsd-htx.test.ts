// The HiTactix driver (/dev/htx, guest-bsd/kern/htx.ts) from BSD userland (issue 11,
// item 6): streamctl starts, queries and stops a stream with one request each, and
// upload writes to HiTactix's disks as non-real-time requests. A shell on BSD's
// terminal takes the commands as an operator would type them; the measurement client
// checks every byte the stream delivers against the file.
import { describe, it, expect } from "vitest";
import { buildMachineAsync, type Machine } from "../host/machine.js";
import { defaultBoard } from "../host/config.js";
import { formatVolume, importFile, bytesSource, chunkBytes, volumeIdFromSeed } from "../host/sfs.js";
import { Rng } from "../host/rng.js";
import { BOOT_HTX_IP } from "../common/platform.js";

const S = 1e9;
const RATE = 8_800_000;

interface Rig {
  m: Machine;
  type(line: string): void;
  out(): string;
  run(ns: number): void;
  content: Uint8Array;
}

async function rig(extra: { name: string; bytes: number; rate: number }[] = []): Promise<Rig> {
  const cfg = defaultBoard();
  cfg.cpus[1].bootArgs[BOOT_HTX_IP] = 0x0a000001;
  cfg.bsd = { cmdline: ["init", "-x", "/bin/sh"], ttyAttached: true };
  const chunk = chunkBytes(RATE, 256_000_000);
  const content = new Uint8Array(chunk * 8);
  new Rng(7).fill(new Uint32Array(content.buffer));
  let out = "";
  const m = await buildMachineAsync(cfg, {
    ttyOutput: (_s, b) => { out += Buffer.from(b).toString(); },
    content: (flow) => (flow === "10.0.0.2:6000" ? content : undefined),
  });
  const vol = formatVolume(m.disks.map((d) => d.backend), volumeIdFromSeed(1));
  importFile(vol, "movie", bytesSource(content), RATE, 256_000_000);
  for (const f of extra) importFile(vol, f.name, bytesSource(new Uint8Array(f.bytes).fill(7)), f.rate, 256_000_000);
  return {
    m,
    content,
    type: (line) => m.tty!.input(new TextEncoder().encode(line + "\n")),
    out: () => out,
    run: (ns) => m.board.run(ns),
  };
}

describe("the HiTactix driver, from BSD userland", () => {
  it("streamctl starts a stream with one request, reports its stats and stops it with another", async () => {
    const r = await rig();
    r.run(3 * S); // both kernels up; HiTactix mounted and calibrated
    r.type("streamctl start 0 10.0.0.2:6000 loop mac 02:00:00:00:00:02");
    r.run(8 * S);
    r.type("streamctl stats 0");
    r.run(8.1 * S);
    r.type("streamctl stop 0");
    r.type("streamctl stop 0");
    r.run(9 * S);
    const lines = r.out().trim().split("\n");
    expect(lines[0]).toBe("ok start 0");
    expect(lines[1]).toMatch(/^ok stats 0 (\d+) 0$/);
    expect(lines[2]).toBe("ok stop 0");
    expect(lines[3]).toBe("error stop no-such-stream");
    const flow = r.m.client!.flow("10.0.0.2:6000")!;
    expect(flow.mismatches).toBe(0);
    expect(flow.lost).toBe(0);
    // About 4.7 s of the stream at 8.8 Mbit/s reached the client before the stop.
    expect(flow.dataBytes).toBeGreaterThan(4 * (RATE / 8));
    expect(flow.dataBytes).toBeLessThan(6 * (RATE / 8));
    const sent = Number(/^ok stats 0 (\d+)/.exec(lines[1])![1]);
    expect(sent).toBeGreaterThan(0);
  });

  it("malformed and impossible requests get a clear error each, and the driver and HiTactix go on", async () => {
    const r = await rig();
    r.run(3 * S);
    const bad = [
      "streamctl start 99 10.0.0.2:6000", // no such file
      "streamctl start 0 10.0.0.999:6000", // not an address
      "streamctl start 0 10.0.0.2:0",
      "streamctl start 0 10.0.0.2:6000 mac 02:00",
      "streamctl start 0 10.0.0.2:6000 sport 70000",
      "streamctl start zero 10.0.0.2:6000",
      "streamctl start",
      "streamctl frobnicate",
      "streamctl stop -1",
      "streamctl stop 7",
      "streamctl stats 99999",
      "upload -b 4096 -c 1 -d 1 -l 99999999999", // past a 32-bit LBA
      "upload -b 4096 -c 1 -d 1 -l 4000000000", // past the disk's end: HiTactix's write fails
      "upload -b 4096 -c 1 -d 1 -l 4000000000 -n 17",
    ];
    for (const l of bad) r.type(l + "; echo status $?");
    r.type("streamctl ping; echo status $?");
    r.type("streamctl start 0 10.0.0.2:6000 mac 02:00:00:00:00:02; echo status $?");
    r.run(6 * S);
    const out = r.out();
    if (process.env.SHOW) console.log(out);
    const statuses = [...out.matchAll(/status (\d+)/g)].map((x) => Number(x[1]));
    expect(statuses.length).toBe(bad.length + 2);
    // Every bad request failed (1, or 2 for a usage error), the last two succeeded.
    for (let i = 0; i < bad.length; i++) expect(statuses[i], bad[i]).toBeGreaterThan(0);
    expect(statuses.slice(-2)).toEqual([0, 0]);
    expect(out).toContain("error start no-such-file");
    expect(out).toContain("error stop no-such-stream");
    expect(out).toMatch(/streamctl: start 0 10\.0\.0\.999:6000: invalid argument/);
    expect(out).toContain("error write disk-error");
    expect(out).toContain("upload: bad -b");
    expect(out).toContain("ok ping");
    expect(out).toContain("ok start 0");
    const flow = r.m.client!.flow("10.0.0.2:6000")!;
    expect(flow.mismatches).toBe(0);
    expect(flow.dataBytes).toBeGreaterThan(0);
    expect(r.m.board.cpus.map((c) => c.report)).toEqual([undefined, undefined]);
  });

  it("files by name: streamctl ls lists the volume, file shows one, start takes a name", async () => {
    const long = "x".repeat(47);
    const r = await rig([
      { name: "trailer two", bytes: 1_000_001, rate: 4_400_000 },
      { name: "42", bytes: 4096, rate: 1_000_000 },
      { name: long, bytes: 3_000_000, rate: 17_600_000 },
    ]);
    r.type("streamctl ls; echo status $?"); // sent while HiTactix mounts: waits for it
    r.run(3 * S);
    r.type("streamctl file movie; echo status $?");
    r.type("streamctl file '#1'; echo status $?");
    r.type("streamctl file nosuch; echo status $?");
    r.type("streamctl file '#4'; echo status $?");
    r.type(`streamctl file ${long}y; echo status $?`); // 48 bytes: no name can be that long
    r.type("streamctl file 'trailer two'; echo status $?"); // quoted by streamctl
    r.type("streamctl file '\"42\"'; echo status $?"); // a name of digits, in quotes
    r.type("streamctl file '\"movie'; echo status $?"); // no closing quote
    r.type("streamctl start nosuch 10.0.0.2:6000; echo status $?");
    r.type("streamctl start movie 10.0.0.2:6000 mac 02:00:00:00:00:02; echo status $?");
    r.run(5 * S);
    const out = r.out();
    if (process.env.SHOW) console.log(out);
    const statuses = [...out.matchAll(/status (\d+)/g)].map((x) => Number(x[1]));
    expect(statuses).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0]);
    const lines = out.split("\n");
    const ls = lines.slice(0, 5);
    expect(ls).toEqual([
      "FILE BYTES BITS/S NAME",
      `#0 ${8 * chunkBytes(RATE, 256_000_000)} ${RATE} movie`,
      "#1 1000001 4400000 trailer two",
      "#2 4096 1000000 42",
      `#3 3000000 17600000 ${long}`,
    ]);
    expect(out).toContain(`ok file 0 ${8 * chunkBytes(RATE, 256_000_000)} ${RATE} movie\n`);
    expect(out.match(/ok file 1 1000001 4400000 trailer two\n/g)!.length).toBe(2);
    expect(out).toContain("ok file 2 4096 1000000 42\n");
    expect(out).toMatch(/streamctl: file "movie: invalid argument/);
    expect(out.match(/error file no-such-file/g)!.length).toBe(2);
    expect(out).toMatch(/streamctl: file x{47}y: invalid argument/);
    expect(out).toContain("error start no-such-file");
    expect(out).toContain("ok start 0");
    const flow = r.m.client!.flow("10.0.0.2:6000")!;
    expect(flow.mismatches).toBe(0);
    expect(flow.dataBytes).toBeGreaterThan(0);
    expect(r.m.board.cpus.map((c) => c.report)).toEqual([undefined, undefined]);
  });

  it("upload writes land on HiTactix's disks, in turn, as non-real-time requests", async () => {
    const r = await rig();
    r.run(3 * S);
    const bytes = 1_000_000;
    r.type(`upload -b ${bytes} -n 2 -c 4 -d 3 -l 30000000`);
    r.run(10 * S);
    const done = r.out().split("\n").filter((l) => / ok write /.test(l));
    expect(done.length).toBe(4);
    expect(r.out()).toMatch(/upload: 4 writes of 1000000 bytes in [\d.]+ s, 0 failed/);
    // Write k went to disk k % 3 at LBA 30000000 + floor(k / 3) * sectors, with upload's pattern.
    const sectors = Math.ceil(bytes / 512);
    for (let k = 0; k < 4; k++) {
      const buf = new Uint8Array(sectors * 512);
      r.m.disks[k % 3].backend.read(30_000_000 + Math.floor(k / 3) * sectors, sectors, buf, 0);
      const w = new Uint32Array(buf.buffer, 0, bytes / 4);
      for (const i of [0, 1, 12345, bytes / 4 - 1]) expect(w[i]).toBe(((i * 4) ^ 0x5a5a5a5a) >>> 0);
    }
  });
});
