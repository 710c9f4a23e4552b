// The BSD kernel with its userland on the board (issue 11): processes and the
// scheduler, system calls, bad programs, the system disk at boot, cron on virtual time.
// Programs run through init's one-program mode (`init -x`), as `hitactix bsd exec`
// does, or as the system boots (`init` running /etc/rc).
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bootBsd, type BsdRun } from "./bsd-helpers.js";
import { root } from "./helpers.js";

const testProgram = (name: string): Uint8Array => new Uint8Array(readFileSync(join(root, "build", "test-userland", `${name}.wasm`)));
const S = 1e9;

/** Run `sh -c script` as the one program; returns the run after power-off. */
async function sh(script: string, files: Record<string, Uint8Array | string> = {}, until = 60 * S): Promise<BsdRun & { status: number | undefined }> {
  const r = await bootBsd({ cmdline: ["init", "-x", "/bin/sh", "-c", script], stdin: "", files });
  r.run(until);
  return Object.assign(r, { status: r.machine.board.sysctl.powerOffStatus });
}

describe("processes", () => {
  it("a pipeline: sh spawns both ends, the pipe carries the bytes, wait gives the status", async () => {
    const r = await sh("cat /etc/crontab | wc -l; exit 3");
    const lines = new TextDecoder().decode(r.fs().readFile("/etc/crontab")).split("\n").length - 1;
    expect(r.stdout().trim()).toBe(String(lines));
    expect(r.status).toBe(3);
  });

  it("two CPU-bound processes share the CPU by round robin and both finish", async () => {
    const r = await sh("spin -f -s 0.4 & spin -f -s 0.4 & wait; echo done");
    const out = r.stdout().trim().split("\n");
    expect(out.filter((l) => l.startsWith("spin:")).length).toBe(2);
    expect(out.at(-1)).toBe("done");
    // Each had 0.4 s of CPU: together at least 0.8 s, and they ran side by side (the
    // second did not wait for the first to end).
    const t = r.machine.board.sysctl.powerOffAtNs;
    expect(t).toBeGreaterThan(0.8 * S);
    expect(t).toBeLessThan(1.2 * S);
    expect(r.machine.engine!.stats.contextSwitches).toBeGreaterThan(8);
  });

  it("a process in an endless loop cannot stop the kernel or the others; kill ends it", async () => {
    const r = await sh("spin & sleep 2; echo alive; kill $!; wait $!; echo status $?");
    expect(r.stdout()).toBe("alive\nstatus 143\n");
    expect(r.status).toBe(0);
    // `sleep 2` woke on time although spin never gave up the CPU by itself.
    const t = r.machine.board.sysctl.powerOffAtNs;
    expect(t).toBeGreaterThan(2.2 * S);
    expect(t).toBeLessThan(2.4 * S);
  });

  it("memory: a refused memory.grow is seen by the program; one that dies of it is reported and the kernel goes on", async () => {
    const r = await sh("/tmp/memhog grow; /tmp/memhog alloc; echo after $?", { "/tmp/memhog": testProgram("memhog") });
    expect(r.stdout()).toMatch(/^memhog: memory.grow refused after \d+ MiB\n/);
    expect(r.stdout()).toMatch(/memhog: 48 MiB\n/);
    expect(r.stdout()).toMatch(/after 137\n$/);
    expect(r.console.some((l) => /bsd: pid \d+ \(\/tmp\/memhog\) fault: unreachable in /.test(l))).toBe(true);
    expect(r.machine.board.cpus[0].report).toBeUndefined();
  });
});

describe("bad programs get a clear report and harm nothing else", () => {
  it("not WebAssembly, a trap, a stack overflow, an unknown import", async () => {
    const r = await sh("/tmp/junk; echo s1 $?; /tmp/trapper unreachable; echo s2 $?; /tmp/trapper stack; echo s3 $?; /tmp/badimport; echo s4 $?", {
      "/tmp/junk": "#!/bin/sh\necho this is not WebAssembly\n",
      "/tmp/trapper": testProgram("trapper"),
      "/tmp/badimport": testProgram("badimport"),
    });
    expect(r.stdout()).toContain("s1 126\n");
    expect(r.stdout()).toContain("s2 137\n");
    expect(r.stdout()).toContain("s3 137\n");
    expect(r.stdout()).toContain("s4 126\n");
    const con = r.console.join("\n");
    expect(con).toMatch(/bsd: spawn \/tmp\/junk: not a WebAssembly module/);
    expect(con).toMatch(/bsd: pid \d+ \(\/tmp\/trapper\) fault: unreachable in /);
    expect(con).toMatch(/bsd: pid \d+ \(\/tmp\/trapper\) stack overflow: stack overflow in /);
    expect(con).toMatch(/bsd: spawn \/tmp\/badimport: import "env"."no_such_call" \(function\): a program may import only from wasi_snapshot_preview1 and bsd/);
    expect(r.status).toBe(0);
  });
});

describe("the system disk at boot", () => {
  it("a truncated image is refused at mount with the reason, and the rest of the board runs", async () => {
    const r = await bootBsd({
      edit: (c) => {
        c.scsi2 = { cpu: 0, disks: [{ sizeBytes: 64 << 20 }] }; // blank: no file system at all
      },
    });
    r.run(2 * S);
    const con = r.console.join("\n");
    expect(con).toMatch(/bsd: cannot mount the root file system: .+/);
    expect(con).not.toMatch(/init is pid/);
    expect(r.machine.board.cpus.every((c) => !c.report)).toBe(true);
  });

  it("a corrupt superblock is refused at mount with the reason", async () => {
    const r = await bootBsd();
    // Flip a byte of the superblock (block 0) in the disk's backend before it boots.
    const disk = r.machine.disks2[0].backend;
    const sb = new Uint8Array(512);
    disk.read(0, 1, sb, 0);
    sb[40] ^= 0xff;
    disk.write(0, 1, sb, 0);
    r.run(2 * S);
    expect(r.console.join("\n")).toMatch(/bsd: cannot mount the root file system: .*superblock/i);
  });
});

describe("cron", () => {
  it("logs and skips a corrupt crontab line, and runs the good ones on the minute", async () => {
    const r = await bootBsd({
      files: {
        "/etc/crontab": "# test\n* * * * * echo every-minute\n61 * * * * echo bad-minute\n*/2 * * * * echo even-minutes\nnot a line at all\n",
      },
    });
    r.run(181 * S);
    const log = new TextDecoder().decode(r.fs().readFile("/var/log/cron"));
    expect(log).toContain("line 3: bad minute field '61': skipped");
    expect(log).toContain("line 5: needs five time fields and a command: skipped");
    expect(log).toContain("cron: 2 jobs from /etc/crontab");
    expect(log.match(/^every-minute$/gm)?.length).toBe(3);
    expect(log.match(/^even-minutes$/gm)?.length).toBe(1); // 00:02 only
  });

  it("over ten virtual minutes, a CPU-bound process and a once-a-minute job both make progress", async () => {
    const r = await bootBsd({
      files: {
        "/etc/rc": "cron &\nspin -f > /var/log/spin &\n",
        "/etc/crontab": "* * * * * cat /dev/kstat >> /var/log/kstat\n",
      },
    });
    r.run(605 * S);
    const fs = r.fs();
    const cron = new TextDecoder().decode(fs.readFile("/var/log/cron"));
    const kstat = new TextDecoder().decode(fs.readFile("/var/log/kstat")).trim().split("\n");
    fs.release();
    // Ten job starts, each within one clock tick (10 ms) of its minute.
    const starts = [...cron.matchAll(/^cron: 2002-01-01 00:(\d\d):(\d\d)\.(\d\d\d) job/gm)];
    expect(starts.length).toBe(10);
    starts.forEach((m, i) => {
      expect(Number(m[1])).toBe(i + 1);
      expect(Number(m[2])).toBe(0);
      expect(Number(m[3])).toBeLessThan(10);
    });
    expect(kstat.length).toBe(10);
    // The hog had the CPU the rest of the time: busy ticks ~ all of them.
    const busy = Number(/ticks_busy=(\d+)/.exec(kstat.at(-1)!)![1]);
    expect(busy).toBeGreaterThan(59_000);
    expect(r.machine.board.summary().cpus[0].load).toBeGreaterThan(0.99);
  }, 300_000);
});

describe("determinism", () => {
  it("the same program, input and seed give the same trace hash", async () => {
    const run = async () => {
      const r = await bootBsd({ cmdline: ["init", "-x", "/bin/bzip2", "-c"], stdin: "hello ".repeat(5000) });
      r.run(60 * S);
      return [r.machine.board.summary().traceHash, Buffer.concat(r.out[0]).toString("hex")];
    };
    expect(await run()).toEqual(await run());
  });
});
