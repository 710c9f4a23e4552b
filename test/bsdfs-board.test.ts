// BSDFS inside a guest on the whole board (test/guests/bsdfs-test.ts): the file system
// over the sym53c8xx driver, the LSI53C895 model and a timed SCSI disk holding an image
// the host made, every completion arriving from an interrupt. The guest mounts, reads
// and checks two files, writes, renames, unlinks, syncs, runs fsck and unmounts; the
// host then checks the image with fstool.wasm.
import { describe, it, expect } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { guest } from "./helpers.js";
import { defaultBoard } from "../host/config.js";
import { buildMachine } from "../host/machine.js";
import { BOOT_PING_TOTAL } from "../common/platform.js";
import { BsdFs, FileBackend, createImageFile } from "../host/fs-image.js";

const pat = (n: number, seed: number) => {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = (i * 7 + (i >> 8) + seed) & 0xff;
  return a;
};

describe("bsdfs on the board", () => {
  it("runs in a guest over the SCSI driver with completions from interrupts", () => {
    const dir = mkdtempSync(join(tmpdir(), "bsdfs-board-"));
    const img = join(dir, "sys.img");
    createImageFile(img, 64 << 20);
    const mk = new BsdFs(new FileBackend(img), { clock: () => 0n });
    mk.mkfs({ zeroed: true, created: 0n });
    mk.mount();
    mk.mkdir("/etc");
    mk.writeFile("/etc/motd", pat(4000, 1));
    mk.writeFile("/big", pat(2_000_000, 2));
    mk.unmount();
    mk.release();

    const c = defaultBoard();
    c.cpus[1] = { ...c.cpus[1], name: "bsdfs-test", wasm: guest("test-bsdfs") };
    c.cpus[0].bootArgs[BOOT_PING_TOTAL] = 0;
    c.scsi = { cpu: 1, disks: [{ image: img }] };
    const values: Record<string, number> = {};
    const fails: string[] = [];
    let done: string | undefined;
    const m = buildMachine(c, {
      onConsole: (l) => {
        if (l.cpu !== 1) return;
        const v = /^ktest: VALUE (\S+) (\d+)$/.exec(l.text);
        if (v) values[v[1]] = Number(v[2]);
        if (l.text.startsWith("ktest: FAIL")) fails.push(l.text);
        if (l.text.startsWith("ktest: DONE")) { done = l.text; m.board.sched.stop(); }
      },
    });
    while (done === undefined && m.board.sched.now < 60e9) m.board.run(60e9);
    m.close();
    expect(m.board.cpus[1].report, "the guest CPU stopped on a fault").toBeUndefined();
    expect(fails).toEqual([]);
    expect(done).toBe("ktest: DONE 15 0");
    console.log("bsdfs in a guest (virtual time):", values);
    expect(values.waits).toBeGreaterThan(10); // the calls really waited for the disk
    expect(values.commits).toBeGreaterThanOrEqual(1);

    const fs = new BsdFs(new FileBackend(img), {});
    fs.mount();
    expect(fs.fsck().problems).toBe(0);
    expect(fs.exists("/etc/motd")).toBe(false);
    expect(Buffer.compare(fs.readFile("/out/final"), pat(1 << 20, 3))).toBe(0);
    fs.release();
  });
});
