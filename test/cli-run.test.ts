// `hitactix run` end to end (issue 9, items 13 and 15): fault counters and warnings in
// the summary, and SIGINT/SIGTERM leaving a valid pcap and a complete trace.
import { describe, it, expect } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./helpers.js";
import { PCAP_MAGIC_NS } from "../devices/pcap.js";

const bin = join(root, "bin/hitactix.js");

describe("run's summary", () => {
  it("counts NIC drops and disk errors, reports HiTactix's counters, and warns about faults that did nothing", () => {
    const r = spawnSync("node", [bin, "run", "--until", "1s", "--quiet", "--json", "--nic-drop", "0.5", "--medium-error", "2:5000:8", "--medium-error", "0:0:1"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    expect(s.nic).toEqual({ framesSent: 0, framesReceived: 0, txDropped: 0, rxDropped: 0 });
    expect(s.disks).toHaveLength(3);
    expect(s.disks[0].mediumErrors).toBe(1); // the mount's superblock read hit block 0
    expect(s.hitactix).toMatchObject({ activeStreams: 0, readErrors: 0, lateReads: 0, skippedPeriods: 0, streams: [] });
    expect(s.warnings).toEqual([
      "--nic-drop 0.5 had no effect: no frame crossed the NIC in this run",
      "--medium-error 2:5000:8 had no effect: no disk I/O touched a bad block of disk 2",
    ]);
    expect(r.stderr).toContain("hitactix: warning: --nic-drop 0.5 had no effect");
    const text = spawnSync("node", [bin, "run", "--until", "1s", "--quiet"], { encoding: "utf8" });
    expect(text.stdout).toMatch(/^nic: 0 frames sent, 0 received; dropped by fault injection: tx 0, rx 0$/m);
    expect(text.stdout).toMatch(/^hitactix: 0 streams playing, 0 started; read errors 0, late reads 0, skipped periods 0$/m);
    expect(text.stderr).not.toContain("warning");
  });
});

/** Start a long run, wait until it has run five virtual seconds, send `sig`. */
async function interrupted(sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; dir: string; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "htx-sig-"));
  const child = spawn("node", [bin, "run", "--until", "1000s", "--pcap", join(dir, "w.pcap"), "--trace", join(dir, "t.txt")], { cwd: dir });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error("the run printed nothing")); }, 30_000);
    let sent = false; // once: a second signal kills at once, by design
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (!sent && stdout.includes("hitactix: t=5000 ms")) { sent = true; clearTimeout(timer); child.kill(sig); resolve(); }
    });
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once("exit", (c, s) => r([c, s])));
  return { code, signal, dir, stdout, stderr };
}

describe("run interrupted by a signal", () => {
  it.each([["SIGINT", 130], ["SIGTERM", 143]] as const)("%s: flushes and closes the pcap and the trace, exits %i", async (sig, status) => {
    const r = await interrupted(sig);
    expect(r.signal).toBeNull(); // it exited by itself, not killed
    expect(r.code).toBe(status);
    expect(r.stderr).toMatch(new RegExp(`${sig} at \\d+\\.\\d+ s virtual: stopped, trace and capture flushed and closed`));
    const pcap = readFileSync(join(r.dir, "w.pcap"));
    expect(pcap.length).toBeGreaterThanOrEqual(24);
    expect(pcap.readUInt32LE(0)).toBe(PCAP_MAGIC_NS);
    const tshark = spawnSync("tshark", ["-r", join(r.dir, "w.pcap")], { encoding: "utf8" });
    if (!tshark.error) expect(tshark.status).toBe(0);
    const trace = readFileSync(join(r.dir, "t.txt"), "utf8");
    expect(trace.endsWith("\n")).toBe(true);
    const lines = trace.trimEnd().split("\n");
    expect(lines.every((l) => /^\d+ \S+ -?\d+$/.test(l))).toBe(true);
    // It ran past the 2 s it printed, and its summary was printed.
    expect(Number(lines.at(-1)!.split(" ")[0])).toBeGreaterThan(2e9);
    expect(r.stdout).toMatch(/^--- virtual time \d+\.\d+ s/m);
  });
});

describe("run --system-disk", () => {
  it("keeps BSD's system disk: cron's log grows from one run to the next; without it build/system.img is left as it was", () => {
    const dir = mkdtempSync(join(tmpdir(), "run-sysdisk-"));
    const img = join(dir, "sys.img");
    copyFileSync(join(root, "build", "system.img"), img);
    const pristine = readFileSync(join(root, "build", "system.img"));
    const cronJobs = (): number => {
      const g = spawnSync("node", [bin, "fs", "get", img, "/var/log/cron", "-"], { encoding: "utf8" });
      expect(g.status).toBe(0);
      return g.stdout.split("\n").filter((l) => / job \d+: /.test(l)).length;
    };
    for (const expected of [1, 2]) {
      const r = spawnSync("node", [bin, "run", "--system-disk", img, "--until", "61s", "--quiet"], { encoding: "utf8" });
      expect(r.status).toBe(0);
      expect(cronJobs()).toBe(expected); // the job of 00:01, once per run
    }
    expect(spawnSync("node", [bin, "fs", "fsck", img]).status).toBe(0);
    expect(spawnSync("node", [bin, "run", "--until", "61s", "--quiet"]).status).toBe(0);
    expect(Buffer.compare(readFileSync(join(root, "build", "system.img")), pristine)).toBe(0);
    // In use by a live process (this one): refused, and the image is not touched.
    writeFileSync(`${img}.lock`, `${process.pid}\n`);
    const before = readFileSync(img);
    const busy = spawnSync("node", [bin, "run", "--system-disk", img, "--until", "61s", "--quiet"], { encoding: "utf8" });
    expect(busy.status).toBe(1);
    expect(busy.stderr).toContain(`is in use by pid ${process.pid}`);
    expect(Buffer.compare(readFileSync(img), before)).toBe(0);
    // An init that ends (here /bin/sleep without arguments) is a panic: the board stops
    // at once, with the reason on the console (before, it idled to --until).
    rmSync(`${img}.lock`); // the live holder is gone
    spawnSync("node", [bin, "fs", "get", img, "/bin/sleep", join(dir, "sleep.wasm")]);
    expect(spawnSync("node", [bin, "fs", "put", img, join(dir, "sleep.wasm"), "/bin/init"]).status).toBe(0);
    const panic = spawnSync("node", [bin, "run", "--system-disk", img, "--until", "1h", "--json"], { encoding: "utf8" });
    expect(panic.stdout).toMatch(/cpu0 bsd: panic: init died \(status 2\)\n.*cpu0 bsd: power off, status 125\n/);
    expect(JSON.parse(panic.stdout.trim().split("\n").at(-1)!).simTimeNs).toBeLessThan(1e9);
    const missing = spawnSync("node", [bin, "run", "--system-disk", join(dir, "nope.img")], { encoding: "utf8" });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("--system-disk");
    expect(missing.stderr).toContain("no such image");
  });
});
