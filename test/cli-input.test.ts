// Input checked before work starts (issue 9, items 7-9): one parser per kind of value,
// each refusing with the accepted range; experiment limits checked before anything is
// allocated; --out checked before anything is created; CSV rows kept as points finish.
import { describe, it, expect } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync, readFileSync, symlinkSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./helpers.js";
import { Command, CommanderError } from "commander";
import { buildProgram } from "../host/cli.js";
import {
  parseSeed, countIn, rangeIn, parseProbability, factorIn, timeIn, rateIn, parseTime, parseRate,
  parseMediumError, checkMediumError,
} from "../host/units.js";
import { prepareOutDir } from "../host/experiments/out-dir.js";
import { checkFastIo, FILE_BYTES_BUDGET } from "../host/experiments/fast-io.js";

/** The program in this process: commander's exits become errors, its output captured. */
async function inProcess(args: string[]): Promise<{ stderr: string }> {
  let stderr = "";
  const program = buildProgram();
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) {
    c.exitOverride().configureOutput({ writeErr: (t) => { stderr += t; }, writeOut: () => {}, outputError: (t) => { stderr += t; } });
    c.showHelpAfterError(false);
  }
  try {
    await program.parseAsync(["node", "hitactix", ...args]);
  } catch (e) {
    if (!(e instanceof CommanderError)) stderr += (e as Error).message;
    return { stderr };
  }
  throw new Error(`accepted: ${args.join(" ")}`);
}

const cli = (args: string[], cwd = tmpdir(), timeout = 60_000) =>
  spawnSync("node", [join(root, "bin/hitactix.js"), ...args], { cwd, encoding: "utf8", timeout });

describe("value parsers", () => {
  it("seeds: whole numbers 0 .. 2^32-1, nothing else", () => {
    expect(parseSeed("0")).toBe(0);
    expect(parseSeed("4294967295")).toBe(4294967295);
    for (const bad of ["abc", "", "-1", "1.5", "1e3", "0x10", "4294967296", "4294967297", "99999999999999999999"]) {
      expect(() => parseSeed(bad), bad).toThrow(/must be a whole number from 0 to 4294967295/);
    }
  });

  it("counts and ranges: whole numbers within their limits", () => {
    const step = countIn(1, 64);
    expect(step("4")).toBe(4);
    for (const bad of ["abc", "0", "65", "", "2.5", "NaN"]) expect(() => step(bad), bad).toThrow(/whole number from 1 to 64/);
    const r = rangeIn(1, 64);
    expect(r("4..48")).toEqual([4, 48]);
    expect(r("7")).toEqual([7, 7]);
    expect(() => r("1..1e23")).toThrow(/cannot read "1\.\.1e23": give a range a\.\.b .* from 1 to 64/);
    expect(() => r("100000..100000")).toThrow(/out of range: give .* from 1 to 64/);
    expect(() => r("1..100000000000000000000000")).toThrow(/cannot read|out of range/);
    expect(() => r("9..3")).toThrow(/a <= b/);
    expect(() => r("0..3")).toThrow(/out of range/);
  });

  it("probabilities and factors: non-empty numbers in range", () => {
    expect(parseProbability("0.01")).toBe(0.01);
    expect(parseProbability("1e-3")).toBe(0.001);
    expect(parseProbability("1")).toBe(1);
    for (const bad of ["", " ", "abc", "-0.1", "1.01", "NaN", "Infinity"]) {
      expect(() => parseProbability(bad), JSON.stringify(bad)).toThrow(/probability, a number from 0 to 1/);
    }
    const f = factorIn(1, 1000);
    expect(f("2.5")).toBe(2.5);
    for (const bad of ["0.5", "", "x", "1001"]) expect(() => f(bad), bad).toThrow(/number from 1 to 1000/);
  });

  it("times, with a minimum where zero means nothing, and rates above zero", () => {
    expect(() => timeIn(1e9, 24 * 3600e9)("0s")).toThrow(/out of range: give 1s to 24h/);
    expect(timeIn(0, 3600e9)("0s")).toBe(0);
    expect(() => parseTime("99999999999999999999h")).toThrow(/too long/);
    expect(() => parseRate("0Mbps")).toThrow(/more than 0/);
    expect(() => rateIn(1e3, 10e9)("20Gbps")).toThrow(/out of range: give 1kbps to 10Gbps/);
  });

  it("medium errors: the syntax first, then the range against the disk's size", () => {
    expect(parseMediumError("1:1000:8")).toMatchObject({ disk: 1, lba: 1000, count: 8 });
    for (const bad of ["1:1000", "a:b:c", "1:1000:0", "-1:0:1", "1:2:3:4", ""]) expect(() => parseMediumError(bad), bad).toThrow(/disk:lba:count/);
    const sizes = [1000, 2000];
    expect(() => checkMediumError(parseMediumError("0:999:1"), sizes)).not.toThrow();
    expect(() => checkMediumError(parseMediumError("0:999:2"), sizes)).toThrow(/blocks 999 to 1000 are past the end of disk 0 \(blocks 0 to 999\)/);
    expect(() => checkMediumError(parseMediumError("0:99999999999999:1"), sizes)).toThrow(/past the end of disk 0/);
    expect(() => checkMediumError(parseMediumError("2:0:1"), sizes)).toThrow(/there is no disk 2 \(disks 0 to 1\)/);
  });
});

describe("the command line refuses bad values before any work", () => {
  const refused: Array<[string[], RegExp]> = [
    [["run", "--seed", "4294967297"], /--seed <n>' argument '4294967297' is invalid\. the seed .* from 0 to 4294967295/],
    [["run", "--seed", "abc"], /the seed "abc" must be a whole number/],
    [["run", "--nic-drop", ""], /--nic-drop <p>' argument '' is invalid\. "" must be a probability/],
    [["run", "--until", "0s"], /--until <time>' argument '0s' is invalid\. .*out of range: give 1ns to 1000h/],
    [["run", "--medium-error", "0:99999999999999:1"], /--medium-error 0:99999999999999:1: blocks .* past the end of disk 0 \(blocks 0 to 37748735\)/],
    [["run", "--medium-error", "7:0:1"], /there is no disk 7/],
    [["run", "--disk-slowdown", "abc"], /must be a number from 1 to 1000/],
    [["experiment", "fast-io", "--seed", "abc"], /the seed "abc"/],
    [["experiment", "fast-io", "--step", "abc"], /--step <n>' argument 'abc' is invalid\. "abc" must be a whole number from 1 to 1024/],
    [["experiment", "fast-io", "--streams", "1..1e23"], /--streams <from\.\.to>' argument '1\.\.1e23' is invalid/],
    [["experiment", "fast-io", "--streams", "100000..100000"], /out of range: give .* from 1 to 1024/],
    [["experiment", "fast-io", "--streams", "1..100000"], /out of range/],
    [["experiment", "rate-guarantee", "--duration", "0s"], /--duration <time>' argument '0s' is invalid/],
    [["experiment", "rate-guarantee", "--seed", "-3"], /the seed "-3"/],
  ];
  it.each(refused)("%j", async (args, message) => {
    const out = mkdtempSync(join(tmpdir(), "htx-in-"));
    const r = await inProcess([...args, ...(args[0] === "experiment" ? ["--out", join(out, "res")] : [])]);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(out, "res"))).toBe(false); // nothing was created
  });

  it("as a user sees it: exit 1 and the reason, from the command itself", () => {
    for (const [args, message] of [refused[0], refused[9]]) {
      const r = cli(args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
    }
  });

  it("a single 2 Gbit/s stream is refused before any file is made: its rings cannot fit HiTactix", () => {
    const out = mkdtempSync(join(tmpdir(), "htx-in-"));
    const t0 = Date.now();
    const r = cli(["experiment", "fast-io", "--streams", "1..1", "--rate", "2Gbps", "--out", join(out, "res")], out);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/1 stream of 2000\.0 Mbit\/s need 3 ring buffers of 64\.0 MB each \(192\.0 MB in all\), more than HiTactix's whole partition \(167\.8 MB\); at this rate it holds at most 0 streams/);
    expect(existsSync(join(out, "res"))).toBe(false);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe("experiment limits", () => {
  const base = { rateBps: 8.8e6, outDir: "unused", seed: 1 };
  it("counts against HiTactix's largest table and the files, rings against its partition, files against the host budget", () => {
    expect(() => checkFastIo({ ...base, streams: [4, 64] })).not.toThrow();
    expect(() => checkFastIo({ ...base, rateBps: 1e6, streams: [256] })).not.toThrow();
    expect(() => checkFastIo({ ...base, streams: [257] })).toThrow(/257 streams: each plays a file of its own, .* at most 256 files/);
    expect(() => checkFastIo({ ...base, streams: [100000] })).toThrow(/100000 streams: HiTactix's distribution table holds at most 1024 streams/);
    expect(() => checkFastIo({ ...base, streams: [] })).toThrow(/no stream counts/);
    expect(() => checkFastIo({ ...base, streams: [64], rateBps: 144e6 })).toThrow(/64 streams of 144\.0 Mbit\/s .* at most 12 streams/);
    // Rings that fit, files over the budget (long files).
    expect(() => checkFastIo({ ...base, streams: [64], chunksPerFile: Math.ceil(FILE_BYTES_BUDGET / (64 * 281_600)) + 1 }))
      .toThrow(/over the host memory budget for file contents \(2147\.5 MB\)/);
    // Files drawn up to 1.5x the mean length: the longest possible counts.
    const mean = Math.floor(FILE_BYTES_BUDGET / (64 * 281_600) / 1.4);
    expect(() => checkFastIo({ ...base, streams: [64], chunksPerFile: mean, fileLengths: "equal" })).not.toThrow();
    expect(() => checkFastIo({ ...base, streams: [64], chunksPerFile: mean })).toThrow(/over the host memory budget/);
  });
});

describe("--out", () => {
  it("refuses kernel pseudo file systems at once, without creating anything", () => {
    for (const p of ["/proc/x", "/proc", "/sys/kernel/x", "/dev/null/x", "/dev/shm/x"]) {
      const t0 = Date.now();
      expect(() => prepareOutDir(p), p).toThrow(/kernel pseudo file system or device tree/);
      expect(Date.now() - t0).toBeLessThan(1000);
    }
    const r = cli(["experiment", "fast-io", "--streams", "1..1", "--out", "/proc/x"], tmpdir(), 20_000);
    expect(r.error).toBeUndefined(); // no timeout: it used to spin at 100 % CPU for ever
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--out \/proc\/x: \/proc is a kernel pseudo file system/);
  });

  it("refuses a link into /proc, a file in the way and an empty path; creates missing levels one by one", () => {
    const d = mkdtempSync(join(tmpdir(), "htx-out-"));
    symlinkSync("/proc/self", join(d, "link"));
    expect(() => prepareOutDir(join(d, "link", "res"))).toThrow(/\/proc\/\d+\) is a kernel pseudo file system/);
    writeFileSync(join(d, "file"), "x");
    expect(() => prepareOutDir(join(d, "file", "res"))).toThrow(/file exists and is not a folder/);
    expect(() => prepareOutDir("")).toThrow(/empty path/);
    expect(prepareOutDir(join(d, "a", "b", "c"))).toBe(join(d, "a", "b", "c"));
    expect(existsSync(join(d, "a", "b", "c"))).toBe(true);
    expect(prepareOutDir(join(d, "a"))).toBe(join(d, "a")); // an existing folder is fine
  });

  it("refuses a folder it cannot write into (when not root)", () => {
    if (process.getuid?.() === 0) return; // root may write anywhere: nothing to refuse
    const d = mkdtempSync(join(tmpdir(), "htx-out-"));
    chmodSync(d, 0o500);
    expect(() => prepareOutDir(join(d, "res"))).toThrow(/cannot write into/);
  });
});

describe("experiment output as points complete", () => {
  it("the CSV holds each finished point when the sweep is killed later", async () => {
    const out = mkdtempSync(join(tmpdir(), "htx-rows-"));
    // Before, the CSV was written once at the end: killed after a point, nothing was kept.
    const child = spawn("node", [join(root, "bin/hitactix.js"), "experiment", "fast-io", "--streams", "1..30", "--step", "1", "--out", out], { cwd: out });
    let stdout = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`no point finished: ${stdout}`)); }, 60_000);
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        if (/^seed 1, 2 streams: /m.test(stdout)) { clearTimeout(timer); child.kill("SIGKILL"); resolve(); }
      });
    });
    await new Promise((r) => child.once("exit", r));
    const rows = readFileSync(join(out, "fast-io.csv"), "utf8").trim().split("\n");
    expect(rows[0]).toBe("seed,streams,requested_Mbps,started,refused,refused_reason,past_admission,sent_Mbps,cpu_load,read_errors,late_reads,skipped_periods");
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows[1].startsWith("1,1,8.8,1,0,,")).toBe(true);
    expect(rows[2].startsWith("1,2,17.6,2,0,,")).toBe(true);
  });
});
