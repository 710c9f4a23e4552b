// Crash consistency of the system disk with the kernel writing it (issue 11, item 3):
// `hitactix bsd exec --system-disk IMG` runs a program that writes files and fsyncs
// each one before it says "synced N"; the host process is killed with SIGKILL at
// several points while it writes. After each kill the image mounts (replaying its
// journal) and fsck finds it clean, and every file that was reported synced reads back
// whole: a crash loses at most the writes that were not yet synced.
import { describe, it, expect } from "vitest";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./helpers.js";
import { BsdFs, FileBackend } from "../host/fs-image.js";

const bin = join(root, "bin", "hitactix.js");
const SIZE = 30_000;

/** Run the writer on `img` and SIGKILL the host after `after` "synced" lines; the last synced index. */
function runAndKill(img: string, after: number): Promise<{ synced: number; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn("node", [bin, "bsd", "exec", "--system-disk", img, join(root, "build", "test-userland", "fswriter.wasm"), "/data", "400", String(SIZE)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let synced = -1;
    let killed = false;
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error("the writer printed too little")); }, 120_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const all = [...out.matchAll(/^synced (\d+)$/gm)];
      if (all.length) synced = Number(all.at(-1)![1]);
      if (!killed && all.length >= after) { killed = true; child.kill("SIGKILL"); }
    });
    child.on("exit", () => { clearTimeout(timer); resolve({ synced, killed }); });
  });
}

const pattern = (i: number): Uint8Array => Uint8Array.from({ length: SIZE }, (_, k) => (k * 31 + i * 7) & 0xff);

describe("kill -9 of the host while the BSD kernel writes its system disk", () => {
  it("leaves a file system that mounts and checks clean, with every synced file whole", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bsd-crash-"));
    const img = join(dir, "sys.img");
    copyFileSync(join(root, "build", "system.img"), img);
    try {
      let total = -1;
      for (const after of [3, 17, 41]) {
        const r = await runAndKill(img, after);
        expect(r.killed).toBe(true);
        const fs = new BsdFs(new FileBackend(img));
        try {
          fs.mount(); // replays a committed transaction, drops a torn one
          expect(fs.fsck()).toMatchObject({ problems: 0 });
          // Every file reported synced is there, whole. (Each run starts again at f0;
          // what the last run synced is the floor.)
          for (let i = 0; i <= r.synced; i++) expect(Buffer.compare(fs.readFile(`/data/f${i}`), pattern(i))).toBe(0);
          total = Math.max(total, r.synced);
        } finally {
          fs.release();
        }
      }
      expect(total).toBeGreaterThanOrEqual(40); // "synced 40" is the 41st line
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
