// WebAssembly/wasi-testsuite (third_party/wasi-testsuite: its prebuilt WASI preview 1
// tests in AssemblyScript, C and Rust) on the BSD kernel, each test run through
// `hitactix bsd exec` as the suite's own runner runs a runtime (its adapter for us is
// tools/wasi-testsuite/hitactix.py): the spec's env and args, its "root" directory as
// the preopened "/" (a fresh copy per test, as the runner's *.cleanup files are not
// wanted in the tree), standard input a pipe left open while the expected standard
// output is read, then closed; the exit status must be the spec's. Every test passes.
import { describe, it, expect } from "vitest";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, existsSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { root } from "./helpers.js";

const SUITE = join(root, "third_party", "wasi-testsuite");
const bin = join(root, "bin", "hitactix.js");

interface Spec { args: string[]; env: Record<string, string>; exit_code: number; stdout: string; root: string | null }
interface Case { name: string; dir: string; wasm: string; spec: Spec }

function cases(): Case[] {
  const out: Case[] = [];
  for (const lang of ["assemblyscript", "c", "rust"]) {
    const dir = join(SUITE, lang);
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".wasm")).sort()) {
      const base = f.slice(0, -5);
      const json = join(dir, `${base}.json`);
      const given = existsSync(json) ? (JSON.parse(readFileSync(json, "utf8")) as Partial<Spec>) : {};
      out.push({ name: `${lang}/${base}`, dir, wasm: join(dir, f), spec: { args: [], env: {}, exit_code: 0, stdout: "", root: null, ...given } });
    }
  }
  return out;
}

interface Result { status: number | null; stdout: string; stderr: string }

/** One test as the suite's runner does it. */
function runCase(c: Case): Promise<Result> {
  const argv = [bin, "bsd", "exec"];
  for (const [k, v] of Object.entries(c.spec.env)) argv.push("--env", `${k}=${v}`);
  let scratch: string | undefined;
  if (c.spec.root) {
    scratch = mkdtempSync(join(tmpdir(), "wasi-testsuite-"));
    cpSync(join(c.dir, c.spec.root), join(scratch, c.spec.root), { recursive: true });
    argv.push("--dir", join(scratch, c.spec.root));
  } else {
    argv.push("--no-root");
  }
  argv.push("--", c.wasm, ...c.spec.args);
  return new Promise((resolve) => {
    const p = spawn("node", argv, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    p.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
      if (stdout.length >= c.spec.stdout.length) p.stdin.end(); // the runner's read, then communicate()
    });
    p.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    if (c.spec.stdout.length === 0) p.stdin.end();
    p.on("close", (status) => {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      resolve({ status, stdout, stderr });
    });
  });
}

describe("WebAssembly/wasi-testsuite (WASI preview 1) on the BSD kernel", () => {
  it("passes every test, through `hitactix bsd exec`", async () => {
    const all = cases();
    expect(all.length).toBe(72);
    const results = new Map<string, Result>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < all.length) {
        const c = all[next++];
        results.set(c.name, await runCase(c));
      }
    };
    await Promise.all([worker(), worker()]);
    const failed: string[] = [];
    for (const c of all) {
      const r = results.get(c.name)!;
      const ok = r.status === c.spec.exit_code && r.stdout.startsWith(c.spec.stdout);
      if (!ok) {
        failed.push(`${c.name}: status ${r.status} (want ${c.spec.exit_code}), stdout ${JSON.stringify(r.stdout.slice(0, 80))}: ${r.stderr.trim().split("\n").slice(-4).join(" | ")}`);
      }
    }
    console.log(`wasi-testsuite: ${all.length - failed.length} passed, ${failed.length} failed`);
    expect(failed).toEqual([]);
  }, 900_000);
});
