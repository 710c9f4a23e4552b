// `hitactix bsd exec` end to end: a third-party program (bzip2, untouched C) run as a
// BSD process prints exactly what the same .wasm prints under node:wasi, reads the
// piped standard input, exits with the program's status, and reports on stderr.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
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
});
