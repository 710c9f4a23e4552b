// The experiments' --out folder, checked before anything is created.
//
// Node's mkdirSync(path, { recursive: true }) loops for ever at 100 % CPU on some
// procfs paths (`--out /proc/x`), so the folder is made here level by level: resolve
// the path, refuse anything under /proc, /sys or /dev (kernel pseudo file systems and
// devices, where results cannot live), walk up to the first ancestor that exists,
// require it to be a folder we may write into, then create each missing level with a
// plain mkdirSync. An existing --out must be a writable folder. Nothing is created
// unless every check passes.
//
// Interface: prepareOutDir(path) -> the absolute folder (created), or throws OutDirError

import { accessSync, constants, mkdirSync, realpathSync, statSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";

export class OutDirError extends Error {}

const PSEUDO = ["/proc", "/sys", "/dev"];

function underPseudo(p: string): string | undefined {
  return PSEUDO.find((root) => p === root || p.startsWith(root + sep));
}

export function prepareOutDir(path: string): string {
  if (path.trim() === "") throw new OutDirError("--out: give a folder for the results (an empty path was given)");
  const abs = resolve(path);
  const refuse = (where: string): never => {
    throw new OutDirError(`--out ${path}: ${where} is a kernel pseudo file system or device tree, not a place for results; choose a folder elsewhere`);
  };
  const lexical = underPseudo(abs);
  if (lexical) refuse(lexical);
  // The first ancestor (or the path itself) that exists.
  const missing: string[] = [];
  let existing = abs;
  for (;;) {
    let st;
    try {
      st = statSync(existing);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a level above is a file; walking up finds it and says so.
      if (code !== "ENOENT" && code !== "ENOTDIR") throw new OutDirError(`--out ${path}: cannot look at ${existing} (${code ?? (e as Error).message})`);
    }
    if (st) {
      if (!st.isDirectory()) throw new OutDirError(`--out ${path}: ${existing} exists and is not a folder`);
      break;
    }
    missing.unshift(existing);
    const up = dirname(existing);
    if (up === existing) throw new OutDirError(`--out ${path}: no part of the path exists`);
    existing = up;
  }
  // A symbolic link can lead into a pseudo file system too.
  const real = realpathSync(existing);
  const viaLink = underPseudo(real);
  if (viaLink) refuse(`${existing} (${real})`);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw new OutDirError(`--out ${path}: cannot write into ${existing} (permission denied)`);
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new OutDirError(`--out ${path}: cannot create ${level} (${(e as Error).message})`);
    }
  }
  return abs;
}
