// `hitactix bsd exec` end to end: a third-party program (bzip2, untouched C) run as a
// BSD process prints exactly what the same .wasm prints under node:wasi, reads the
// piped standard input, exits with the program's status, and reports on stderr.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { mkdtempSync, writeFileSync, mkdirSync, symlinkSync, readFileSync, readlinkSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { root } from "./helpers.js";
import { nodeWasiRunner, makeText, USERLAND } from "./wasi-conformance.js";

const bin = join(root, "bin", "hitactix.js");

describe("hitactix bsd exec", () => {
  it("bzip2 -c of 200 KB on stdin: the same bytes as under node:wasi, status 0, a report on stderr", async () => {
    const input = makeText(200_000, 5);
    const ref = await nodeWasiRunner.run({ name: "ref", program: USERLAND.bzip2, argv: ["bzip2", "-c"], env: {}, stdin: input, files: {}, expect: { status: 0 } });
    const r = spawnSync("node", [bin, "bsd", "exec", "/bin/bzip2", "-c"], { input });
    expect(r.status).toBe(0);
    expect(Buffer.compare(r.stdout, Buffer.from(ref.stdout))).toBe(0);
    expect(r.stderr.toString()).toMatch(/^bsd exec: \/bin\/bzip2 exited with status 0 at [\d.]+ s virtual; \d+ cycles in the process, \d+ in the kernel on its behalf, \d+ system calls\n$/);
  });

  it("--cost-model p6 meters the program with the P6 weights, in cycles: same output, fewer cycles than flat's", () => {
    const input = makeText(50_000, 3);
    const run = (model: string) => {
      const r = spawnSync("node", [bin, "bsd", "exec", "--cost-model", model, "--json", "/bin/bzip2", "-c"], { input });
      expect(r.status).toBe(0);
      return { out: r.stdout, report: JSON.parse(r.stderr.toString().trim().split("\n").at(-1)!) };
    };
    const flat = run("flat"), p6 = run("p6"), again = run("p6");
    expect(Buffer.compare(p6.out, flat.out)).toBe(0);
    expect(again.report).toEqual(p6.report); // deterministic
    // bzip2 is mostly locals, constants and ALU work: the P6 weights charge locals and
    // constants nothing (host/costs-p6.ts). A count left in quarter cycles would be ~1.4x flat's.
    const ratio = p6.report.userCycles / flat.report.userCycles;
    expect(ratio).toBeGreaterThan(0.2);
    expect(ratio).toBeLessThan(0.7);
  });

  it("exits with the program's own status; a host file is copied to /tmp and run; --json reports", () => {
    const r = spawnSync("node", [bin, "bsd", "exec", "--json", "/bin/sh", "-c", "echo to-stderr >&2; exit 42"], { input: "" });
    expect(r.status).toBe(42);
    const report = JSON.parse(r.stderr.toString().trim().split("\n").at(-1)!);
    expect(report).toMatchObject({ program: "/bin/sh", status: 42 });
    expect(report.syscalls).toBeGreaterThan(0);
    const w = spawnSync("node", [bin, "bsd", "exec", join(root, "build", "userland", "wc.wasm"), "-l"], { input: "a\nb\nc\n" });
    expect(w.stdout.toString().trim()).toBe("3");
    expect(w.stderr.toString()).toContain("bsd exec: /tmp/wc.wasm exited with status 0");
    const missing = spawnSync("node", [bin, "bsd", "exec", "/bin/no-such-program"], { input: "" });
    expect(missing.status).toBe(1);
    expect(missing.stderr.toString()).toContain("/bin/no-such-program: no such file on the system disk or on the host");
  });

  it("arguments and environment outside ASCII reach the program byte for byte; init takes no signals", () => {
    const long = "é".repeat(49) + " 映画";
    const r = spawnSync("node", [bin, "bsd", "exec", "--until", "10s", "--env", "NAME=ü映 x", "--", "/bin/sh", "-c", `echo ${long}; echo $NAME; kill -9 1; echo after $?`], { input: "" });
    // (browser_wasi_shim sized argv in UTF-16 units: init's buffer overran and it died)
    expect(r.stdout.toString()).toBe(`${long}\nü映 x\nafter 1\n`);
    expect(r.stderr.toString()).toContain("sh: kill 1: operation not permitted");
    expect(r.status).toBe(0);
  });

  it("a system disk that does not mount is refused with the reason, and left as it was", () => {
    const dir = mkdtempSync(join(tmpdir(), "bsd-exec-sysdisk-"));
    const good = readFileSync(join(root, "build", "system.img"));
    const corrupt = Buffer.from(good);
    corrupt.writeUInt32LE(0xffffffff, 16); // inside the superblock: its checksum no longer holds
    writeFileSync(join(dir, "corrupt.img"), corrupt);
    writeFileSync(join(dir, "short.img"), good.subarray(0, 1 << 20));
    for (const [img, reason] of [["corrupt.img", "corrupt superblock"], ["short.img", "truncated image"]]) {
      const r = spawnSync("node", [bin, "bsd", "exec", "--system-disk", join(dir, img), "/bin/cat"], { input: "" });
      expect(r.status).toBe(1);
      expect(r.stderr.toString()).toMatch(new RegExp(`^hitactix: system disk .*${img}: cannot mount: ${reason}`));
    }
    expect(Buffer.compare(readFileSync(join(dir, "corrupt.img")), corrupt)).toBe(0);
    expect(readFileSync(join(dir, "short.img")).length).toBe(1 << 20);
  });

  it("--disk gives HiTactix stream disks: a start made before HiTactix has mounted them waits, stats follow the stream", () => {
    const dir = mkdtempSync(join(tmpdir(), "bsd-exec-disk-"));
    const disks = ["d0.img", "d1.img", "d2.img"].map((d) => join(dir, d));
    for (const d of disks) expect(spawnSync("node", [bin, "disk", "create", d, "--size", "256M"]).status).toBe(0);
    writeFileSync(join(dir, "movie.mpg"), Buffer.alloc(3_000_000, 7));
    expect(spawnSync("node", [bin, "disk", "import", ...disks, "movie", join(dir, "movie.mpg"), "--rate", "8.8Mbps"]).status).toBe(0);
    const script = "streamctl stats 0; streamctl start 0 10.0.0.2:6000; sleep 1; streamctl stats 0; streamctl stop 0; streamctl stats 0; streamctl stats 1";
    const r = spawnSync("node", [bin, "bsd", "exec", "--disk", ...disks, "--", "/bin/sh", "-c", script], { input: "" });
    const lines = r.stdout.toString().trim().split("\n");
    expect(lines[0]).toBe("error stats no-such-stream"); // answered at once: nothing has used slot 0
    expect(lines[1]).toBe("ok start 0"); // sent at ~0.3 s, answered once HiTactix is ready
    const during = Number(/^ok stats 0 (\d+) 0$/.exec(lines[2])![1]);
    expect(during).toBeGreaterThan(0.2 * 1.1e6); // its first chunk takes a period to read: ~0.45 s of the 1 s
    expect(lines[3]).toBe("ok stop 0");
    const after = Number(/^ok stats 0 (\d+) 0$/.exec(lines[4])![1]); // kept after the stop
    expect(after).toBeGreaterThanOrEqual(during);
    expect(lines[5]).toBe("error stats no-such-stream");
    expect(r.status).toBe(1); // the failed stats
  });

  it("--dir: a host tree is the program's /, links included, and what it leaves is copied back; --no-root gives none", () => {
    const dir = mkdtempSync(join(tmpdir(), "bsd-exec-dir-"));
    const tree = join(dir, "tree");
    mkdirSync(join(tree, "sub"), { recursive: true });
    writeFileSync(join(tree, "sub", "f"), "from the host\n");
    writeFileSync(join(tree, "gone"), "removed by the program\n");
    symlinkSync("sub/f", join(tree, "link"));
    const r = spawnSync("node", [bin, "bsd", "exec", "--dir", tree, "--", "/bin/sh", "-c",
      "cat /link; echo made > /sub/new; cat /sub/new"], { input: "" });
    expect(r.stdout.toString()).toBe("from the host\nmade\n");
    expect(r.status).toBe(0);
    expect(readFileSync(join(tree, "sub", "new"), "utf8")).toBe("made\n");
    expect(readlinkSync(join(tree, "link"))).toBe("sub/f");
    expect(existsSync(join(tree, "gone"))).toBe(true); // untouched: the program left it
    // absolute paths and ".." cannot leave the directory the program was given
    const esc = spawnSync("node", [bin, "bsd", "exec", "--dir", tree, "--", "/bin/cat", "../../etc/rc"], { input: "" });
    expect(esc.status).toBe(1);
    expect(esc.stderr.toString()).toMatch(/not capable|ENOTCAPABLE|capab/i);
    const none = spawnSync("node", [bin, "bsd", "exec", "--no-root", "--", "/bin/cat", "/etc/rc"], { input: "" });
    expect(none.status).not.toBe(0);
  });
});
