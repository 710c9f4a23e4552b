// Locks that keep two processes off one disk image: two `disk import`s on the same
// images at once lost one file and corrupted the other, and a `run` reading an image
// while an import writes it sees half a volume. Whoever opens an image for use
// (devices/block-backend.ts openImage: disk import / ls / get, and `run --disk`) holds
// its lock until it closes the image or exits.
//
// The lock is a file beside the image, `<image>.lock`, created exclusively (O_EXCL)
// with the holder's pid in it: portable, visible to people (`cat d0.img.lock`), and
// kept by a crash. A lock whose pid is no longer running is stale: it is taken over,
// with a note on stderr. Not handled: images shared between machines (the pid means
// nothing there), a pid reused by an unrelated process (the lock then looks held: the
// message says which file to remove), and two processes taking over one stale lock in
// the same instant (both may believe they hold it; a crash AND a race at once).
//
// Interface:
//   lockImage(path) -> ImageLock      throws ImageLockError "in use by pid N"
//   lock.release()                    idempotent; every lock is released at exit too

import * as fs from "node:fs";

export class ImageLockError extends Error {}

export interface ImageLock {
  readonly path: string;
  release(): void;
}

/** Locks this process holds, released at exit (a crash leaves them stale, not held). */
const held = new Set<string>();
let exitHook = false;

function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
}

function tryCreate(lockPath: string): boolean {
  try {
    const fd = fs.openSync(lockPath, "wx");
    try {
      fs.writeSync(fd, `${process.pid}\n`);
    } finally {
      fs.closeSync(fd);
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new ImageLockError(`cannot lock ${lockPath.slice(0, -5)}: ${(e as Error).message}`);
  }
}

export function lockImage(path: string): ImageLock {
  const lockPath = `${path}.lock`;
  for (let attempt = 0; ; attempt++) {
    if (tryCreate(lockPath)) break;
    let text = "";
    try {
      text = fs.readFileSync(lockPath, "utf8");
    } catch {
      continue; // released between our create and our read: try again
    }
    if (text === "" && attempt < 2) { // its creator has not written its pid yet
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    const pid = /^\s*(\d+)\s*$/.test(text) ? Number(text) : NaN;
    if (pid === process.pid && held.has(lockPath)) throw new ImageLockError(`${path} is already open in this process (given twice?)`);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && pidRunning(pid)) {
      throw new ImageLockError(`${path} is in use by pid ${pid} (lock file ${lockPath}; remove it only if that process does not use the image)`);
    }
    if (attempt >= 3) throw new ImageLockError(`cannot take the lock ${lockPath} (it keeps changing)`);
    // Stale: its holder is gone. Remove it only if it is still the one we read.
    try {
      if (fs.readFileSync(lockPath, "utf8") === text) fs.unlinkSync(lockPath);
    } catch {
      // gone already
    }
    process.stderr.write(`hitactix: note: ${path} was locked by ${Number.isNaN(pid) ? "an unreadable lock" : `pid ${pid}`}, which is not running: taking the lock over\n`);
  }
  held.add(lockPath);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const p of held) {
        try {
          fs.unlinkSync(p);
        } catch {
          // nothing to do at exit
        }
      }
    });
  }
  let released = false;
  return {
    path: lockPath,
    release: () => {
      if (released) return;
      released = true;
      held.delete(lockPath);
      try {
        fs.unlinkSync(lockPath);
      } catch {
        // removed by someone else: nothing to release
      }
    },
  };
}
