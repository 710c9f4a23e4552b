// The conformance harness's second runner (test/wasi-conformance.ts): the same case as
// a BSD process on the board. The program file goes to the system disk's /tmp, the
// case's files to the root (the program's "/", as under node:wasi), and init runs it
// alone (`init -x`) with the case's argv, environment and stdin on the terminal
// device, which is not a terminal here (like node:wasi's files). After the board
// powers off, `files` is every regular file of the root outside the system's own
// directories (bin, etc, var, tmp, dev), read through the file system's own code.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { bootBsd } from "./bsd-helpers.js";
import type { ConformanceCase, ConformanceRunner, RunResult } from "./wasi-conformance.js";
import type { BsdFs } from "../host/fs-image.js";

const SYSTEM_DIRS = new Set(["bin", "etc", "var", "tmp", "dev"]);

function tree(fs: BsdFs, dir: string, prefix: string, out: Record<string, Uint8Array>): void {
  for (const e of fs.list(dir).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name === "." || e.name === "..") continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (!prefix && SYSTEM_DIRS.has(e.name)) continue;
    const path = `${dir === "/" ? "" : dir}/${e.name}`;
    if (e.type === "dir") tree(fs, path, rel, out);
    else out[rel] = new Uint8Array(fs.readFile(path));
  }
}

export const bsdRunner: ConformanceRunner = {
  name: "BSD process",
  async run(c: ConformanceCase): Promise<RunResult> {
    const prog = `/tmp/${basename(c.program)}`;
    const env = Object.entries(c.env).map(([k, v]) => `${k}=${v}`);
    const files: Record<string, Uint8Array> = { [prog]: new Uint8Array(readFileSync(c.program)) };
    for (const [p, d] of Object.entries(c.files)) files[`/${p}`] = d;
    const r = await bootBsd({
      cmdline: ["init", "-x", ...env.flatMap((e) => ["-e", e]), "-0", c.argv[0], prog, ...c.argv.slice(1)],
      stdin: c.stdin,
      files,
    });
    try {
      r.run(3600e9);
      const b = r.machine.board;
      const fault = b.cpus.find((x) => x.report)?.report;
      if (fault) throw new Error(`cpu${fault.cpu} stopped: ${fault.kind} in ${fault.function}: ${fault.message}`);
      const status = b.sysctl.powerOffStatus;
      if (status === undefined) throw new Error(`${c.name}: the program did not end within an hour of virtual time`);
      const fs = r.fs();
      const out: Record<string, Uint8Array> = {};
      try {
        tree(fs, "/", "", out);
      } finally {
        fs.release();
      }
      return { stdout: new Uint8Array(Buffer.concat(r.out[0])), stderr: new Uint8Array(Buffer.concat(r.out[1])), status, files: out };
    } finally {
      r.machine.close();
    }
  },
};
