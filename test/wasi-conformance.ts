// The WASI conformance harness: a table of userland program runs and the runners that
// carry them out. Node's built-in `node:wasi` is the reference (issue 11, item 7): the
// same case run as a BSD process must give the same stdout, exit status and files.
//
// A case is a program (a .wasm path), its argv (argv[0] included), its environment,
// the bytes on its stdin and the files in its one preopened directory. The program
// sees that directory as "/" (preopen name "/"), so a relative name in argv such as
// "data.txt" is the file "data.txt" of the case, as wasi-libc resolves it with its
// working directory at "/". A runner returns what came out: stdout and stderr bytes,
// the exit status, and every regular file in the directory after the run (so files
// written, and files removed, both show).
//
// Each case also says what the reference must produce (`expect`), from sources that
// are not the program itself: bzip2's own test vectors (sample1-3 of its tarball),
// counts computed in JavaScript, documented messages. A runner under test is
// compared with node:wasi's result, not with `expect`.
//
// Interface:
//   conformanceCases()          -> ConformanceCase[] (the table; large inputs built once)
//   ConformanceRunner           { name, run(case) -> Promise<RunResult> }
//   nodeWasiRunner              the reference runner (node:wasi, preview1)
//   PREOPEN_NAME                "/": the name under which the case directory is preopened
//   USERLAND                    paths of the userland programs
//   text(bytes) / bytes(text)   UTF-8 helpers

import { setFlagsFromString } from "node:v8";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { WASI } from "node:wasi";
import { Rng } from "../host/rng.js";
import { root } from "./helpers.js";

// node:wasi in Node 20 (checked on 20.20.2) calls its WASI functions through V8's fast
// API path, which keeps using the memory's old backing store after the program grows
// its memory: a later fd_write reads freed memory, and the process dies with SIGSEGV
// (or output silently goes missing). Node issue 53087 is this family of bug. Turning
// the fast path off before the first call fixes it; the reference would be worthless
// otherwise (bzip2 grows its memory on every run). Test: "node:wasi survives memory
// growth" in wasi-conformance.test.ts.
setFlagsFromString("--no-turbo-fast-api-calls");

export const PREOPEN_NAME = "/";

export const USERLAND = {
  bzip2: join(root, "userland", "prebuilt", "bzip2.wasm"),
  lz4: join(root, "userland", "prebuilt", "lz4.wasm"),
  wc: join(root, "build", "userland", "wc.wasm"),
};

export interface ConformanceCase {
  name: string;
  program: string;
  /** argv[0] included. */
  argv: string[];
  env: Record<string, string>;
  stdin: Uint8Array;
  /** Input files: path relative to the preopened directory -> contents. */
  files: Record<string, Uint8Array>;
  /** What node:wasi must produce; omitted fields are not checked. */
  expect: {
    status: number;
    stdout?: Uint8Array;
    /** Substrings stderr must contain (empty stderr when the list is empty). */
    stderr?: string[];
    /** The whole directory after the run. */
    files?: Record<string, Uint8Array>;
  };
}

export interface RunResult {
  stdout: Uint8Array;
  stderr: Uint8Array;
  status: number;
  /** Every regular file of the preopened directory after the run, sorted by path. */
  files: Record<string, Uint8Array>;
}

export interface ConformanceRunner {
  name: string;
  run(c: ConformanceCase): Promise<RunResult>;
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

// ---- the reference runner -------------------------------------------------------

const compiled = new Map<string, WebAssembly.Module>();

/** node:wasi with a fresh temporary directory per run, stdio through temporary files. */
export const nodeWasiRunner: ConformanceRunner = {
  name: "node:wasi",
  async run(c: ConformanceCase): Promise<RunResult> {
    const work = mkdtempSync(join(tmpdir(), "wasi-conf-"));
    const dir = join(work, "root");
    mkdirSync(dir);
    const fds: number[] = [];
    try {
      for (const [path, data] of Object.entries(c.files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), data);
      }
      writeFileSync(join(work, "stdin"), c.stdin);
      const open = (name: string, flags: string): number => {
        const fd = openSync(join(work, name), flags);
        fds.push(fd);
        return fd;
      };
      const wasi = new WASI({
        version: "preview1",
        args: c.argv,
        env: c.env,
        preopens: { [PREOPEN_NAME]: dir },
        stdin: open("stdin", "r"),
        stdout: open("stdout", "w"),
        stderr: open("stderr", "w"),
        returnOnExit: true,
      });
      let mod = compiled.get(c.program);
      if (!mod) {
        mod = await WebAssembly.compile(readFileSync(c.program));
        compiled.set(c.program, mod);
      }
      const instance = await WebAssembly.instantiate(mod, wasi.getImportObject() as WebAssembly.Imports);
      const status = wasi.start(instance);
      for (const fd of fds.splice(0)) closeQuietly(fd);
      return {
        stdout: new Uint8Array(readFileSync(join(work, "stdout"))),
        stderr: new Uint8Array(readFileSync(join(work, "stderr"))),
        status,
        files: readTree(dir),
      };
    } finally {
      for (const fd of fds) closeQuietly(fd);
      rmSync(work, { recursive: true, force: true });
    }
  },
};

/**
 * Closes a stdio descriptor given to node:wasi. A program's fd_close(1) closes the
 * host descriptor too (bzip2 closes stdout when done), so it may be gone already.
 */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EBADF") throw e;
  }
}

/** Every regular file under dir, path relative to dir ("/"-separated) -> contents. */
export function readTree(dir: string, prefix = ""): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  const entries = readdirSync(join(dir, prefix), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, readTree(dir, rel));
    else if (e.isFile()) out[rel] = new Uint8Array(readFileSync(join(dir, rel)));
  }
  return out;
}

// ---- inputs ---------------------------------------------------------------------

const bzipSample = (name: string): Uint8Array => new Uint8Array(readFileSync(join(root, "third_party", "bzip2", name)));

/**
 * Deterministic English-like text of about `size` bytes: words from a small
 * vocabulary, lines of varying length, some UTF-8, so it compresses like text and
 * exercises every branch of wc's counting.
 */
export function makeText(size: number, seed: number): Uint8Array {
  const words = ["stream", "disk", "cycle", "período", "kernel", "the", "a", "of", "real-time", "bsd",
    "interrupt", "naïve", "jitter", "mailbox", "upload", "x", "HiTactix", "schedule", "rate", "µs"];
  const rng = new Rng(seed);
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const wordsInLine = rng.below(14);
    let line = "";
    for (let i = 0; i < wordsInLine; i++) line += (i ? (rng.below(8) === 0 ? "\t" : " ") : "") + words[rng.below(words.length)];
    line += "\n";
    parts.push(line);
    n += Buffer.byteLength(line);
  }
  return bytes(parts.join(""));
}

/** Pseudo-random bytes (incompressible). */
export function makeNoise(size: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4));
  new Rng(seed).fill(words);
  return new Uint8Array(words.buffer, 0, size).slice();
}

/** wc's counts computed here, independently of the program: lines, words, bytes, UTF-8 chars. */
export function countText(b: Uint8Array): { lines: number; words: number; bytes: number; chars: number } {
  let lines = 0, words = 0, chars = 0;
  let inWord = false;
  for (const c of b) {
    if (c === 0x0a) lines++;
    if ((c & 0xc0) !== 0x80) chars++;
    const space = c === 0x20 || (c >= 0x09 && c <= 0x0d);
    if (space) inWord = false;
    else if (!inWord) { inWord = true; words++; }
  }
  return { lines, words, bytes: b.length, chars };
}

/** One line of wc output as FreeBSD prints it: " %7u" per count, then " NAME". */
export function wcLine(counts: number[], name?: string): string {
  return counts.map((n) => " " + String(n).padStart(7)).join("") + (name !== undefined ? " " + name : "") + "\n";
}

/** A copy of b with byte i changed. */
function corrupt(b: Uint8Array, i: number): Uint8Array {
  const c = b.slice();
  c[i] ^= 0x55;
  return c;
}

/**
 * The lz4 frame of no data as lz4 1.9.4's command line writes it (LZ4 frame format
 * spec): magic 0x184D2204, FLG 0x64 (version 1, independent blocks, content
 * checksum), BD 0x40 (64 KiB blocks), header checksum 0xA7, end mark 0, and the
 * content checksum XXH32 of nothing, 0x02CC5D05.
 */
const EMPTY_LZ4 = Uint8Array.from([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0, 0, 0, 0, 0x05, 0x5d, 0xcc, 0x02]);

/** The 14-byte bzip2 stream of no data at block size 9 (header + end-of-stream marker + CRC 0). */
const EMPTY_BZ2 = Uint8Array.from([0x42, 0x5a, 0x68, 0x39, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0, 0, 0, 0]);

// ---- the table --------------------------------------------------------------------

let cached: ConformanceCase[] | undefined;

export function conformanceCases(): ConformanceCase[] {
  if (cached) return cached;
  const none = new Uint8Array(0);
  const base = { env: {}, stdin: none, files: {} };
  const cases: ConformanceCase[] = [];
  const bz = (c: Partial<ConformanceCase> & { name: string; argv: string[]; expect: ConformanceCase["expect"] }): void => {
    cases.push({ ...base, program: USERLAND.bzip2, ...c });
  };
  const lz4 = (c: Partial<ConformanceCase> & { name: string; argv: string[]; expect: ConformanceCase["expect"] }): void => {
    cases.push({ ...base, program: USERLAND.lz4, ...c });
  };
  const wc = (c: Partial<ConformanceCase> & { name: string; argv: string[]; expect: ConformanceCase["expect"] }): void => {
    cases.push({ ...base, program: USERLAND.wc, ...c });
  };

  // bzip2's own test (its Makefile's `make test`): sample N compressed at block size
  // -N gives the tarball's sampleN.bz2 byte for byte, and decompresses back.
  for (const n of [1, 2, 3]) {
    const ref = bzipSample(`sample${n}.ref`);
    const bz2 = bzipSample(`sample${n}.bz2`);
    bz({ name: `bzip2 -${n} sample${n} stdin->stdout`, argv: ["bzip2", `-${n}`], stdin: ref, expect: { status: 0, stdout: bz2, stderr: [] } });
    bz({ name: `bzip2 -d sample${n} stdin->stdout`, argv: ["bzip2", "-d"], stdin: bz2, expect: { status: 0, stdout: ref, stderr: [] } });
  }
  const s1ref = bzipSample("sample1.ref");
  const s1bz2 = bzipSample("sample1.bz2");
  // The environment: BZIP2 holds default options (bzip2.c reads BZIP2, then BZIP).
  bz({ name: "bzip2 with BZIP2=-1 in the environment", argv: ["bzip2"], env: { BZIP2: "-1" }, stdin: s1ref, expect: { status: 0, stdout: s1bz2 } });
  // Through files: bzip2 writes NAME.bz2 and removes NAME (and the reverse with -d).
  bz({ name: "bzip2 FILE (writes FILE.bz2, removes FILE)", argv: ["bzip2", "-1", "sample1"], files: { sample1: s1ref },
    expect: { status: 0, stdout: none, stderr: [], files: { "sample1.bz2": s1bz2 } } });
  bz({ name: "bzip2 -d FILE.bz2 (writes FILE, removes FILE.bz2)", argv: ["bzip2", "-d", "sample1.bz2"], files: { "sample1.bz2": s1bz2 },
    expect: { status: 0, stdout: none, stderr: [], files: { sample1: s1ref } } });
  bz({ name: "bzip2 -k -v FILE in a subdirectory (keeps FILE, reports on stderr)", argv: ["bzip2", "-k", "-v", "-1", "sub/dir/s1"],
    files: { "sub/dir/s1": s1ref }, expect: { status: 0, stderr: ["sub/dir/s1:", "saved"], files: { "sub/dir/s1": s1ref, "sub/dir/s1.bz2": s1bz2 } } });
  bz({ name: "bzip2 -t of a good file", argv: ["bzip2", "-t", "good.bz2"], files: { "good.bz2": s1bz2 }, expect: { status: 0, stdout: none, stderr: [] } });
  // A flipped byte inside the compressed data: bzip2 detects it (exit 2, "corrupt
  // input" in the manual's exit codes) and names the file on stderr.
  bz({ name: "bzip2 -t of a corrupt file", argv: ["bzip2", "-t", "bad.bz2"], files: { "bad.bz2": corrupt(s1bz2, 20000) },
    expect: { status: 2, stdout: none, stderr: ["bad.bz2"] } });
  bz({ name: "bzip2 -d of a truncated stream", argv: ["bzip2", "-d"], stdin: s1bz2.subarray(0, 10000), expect: { status: 2, stderr: ["ends unexpectedly"] } });
  bz({ name: "bzip2 -d of something that is not bzip2", argv: ["bzip2", "-d"], stdin: bytes("plain text, no magic\n"), expect: { status: 2, stderr: ["not a bzip2 file"] } });
  bz({ name: "bzip2 of a missing file", argv: ["bzip2", "nosuch"], expect: { status: 1, stderr: ["nosuch", "No such file"] } });
  bz({ name: "bzip2 of empty input", argv: ["bzip2"], expect: { status: 0, stdout: EMPTY_BZ2, stderr: [] } });
  bz({ name: "bzip2 -d of an empty stream", argv: ["bzip2", "-d"], stdin: EMPTY_BZ2, expect: { status: 0, stdout: none, stderr: [] } });
  // Large inputs, a few MB: several 900k blocks, text and incompressible data.
  const bigText = makeText(3_000_000, 11);
  const noise = makeNoise(1_500_000, 12);
  bz({ name: "bzip2 of 3 MB of text", argv: ["bzip2"], stdin: bigText, expect: { status: 0, stderr: [] } });
  bz({ name: "bzip2 -c FILE of 1.5 MB of noise", argv: ["bzip2", "-c", "noise"], files: { noise }, expect: { status: 0, stderr: [], files: { noise } } });

  // lz4 (its output is checked by the round trips in wasi-conformance.test.ts).
  lz4({ name: "lz4 -c of 3 MB of text", argv: ["lz4", "-c"], stdin: bigText, expect: { status: 0 } });
  lz4({ name: "lz4 -9 FILE OUT (keeps FILE)", argv: ["lz4", "-9", "-q", "sample1", "sample1.lz4"], files: { sample1: s1ref },
    expect: { status: 0, stdout: none, stderr: [] } });
  lz4({ name: "lz4 -c of 1.5 MB of noise", argv: ["lz4", "-c", "-q", "noise"], files: { noise }, expect: { status: 0, stderr: [], files: { noise } } });
  lz4({ name: "lz4 of empty input", argv: ["lz4", "-c"], expect: { status: 0, stdout: EMPTY_LZ4 } });
  lz4({ name: "lz4 -d of the empty frame", argv: ["lz4", "-d", "-c"], stdin: EMPTY_LZ4, expect: { status: 0, stdout: none } });
  lz4({ name: "lz4 -d of something that is not lz4", argv: ["lz4", "-d", "-c"], stdin: bytes("plain text\n"),
    expect: { status: 44, stdout: none, stderr: ["Unrecognized header"] } });
  lz4({ name: "lz4 -d of a truncated frame", argv: ["lz4", "-d", "-c"], stdin: EMPTY_LZ4.subarray(0, 9),
    expect: { status: 68, stderr: ["Unfinished stream"] } });

  // wc: counts computed by countText, not by the program.
  const small = bytes("héllo wörld\n  two\tthree\n\nno newline at the end");
  const k = countText(small);
  wc({ name: "wc of stdin", argv: ["wc"], stdin: small, expect: { status: 0, stdout: bytes(wcLine([k.lines, k.words, k.bytes])), stderr: [] } });
  wc({ name: "wc of empty stdin", argv: ["wc"], expect: { status: 0, stdout: bytes(wcLine([0, 0, 0])), stderr: [] } });
  wc({ name: "wc -l -w -c of one file", argv: ["wc", "-l", "-w", "-c", "a.txt"], files: { "a.txt": small },
    expect: { status: 0, stdout: bytes(wcLine([k.lines, k.words, k.bytes], "a.txt")), files: { "a.txt": small } } });
  wc({ name: "wc -m in the C locale counts bytes", argv: ["wc", "-m"], stdin: small, env: { LANG: "C" }, expect: { status: 0, stdout: bytes(wcLine([k.bytes])) } });
  wc({ name: "wc -lm in a UTF-8 locale counts characters", argv: ["wc", "-lm"], stdin: small, env: { HOME: "/", LANG: "en_US.UTF-8" },
    expect: { status: 0, stdout: bytes(wcLine([k.lines, k.chars])) } });
  wc({ name: "wc -m with LC_ALL=C over a UTF-8 LANG", argv: ["wc", "-m"], stdin: small, env: { LANG: "en_US.UTF-8", LC_ALL: "C" },
    expect: { status: 0, stdout: bytes(wcLine([k.bytes])) } });
  const t = countText(bigText);
  const noiseCounts = countText(noise);
  wc({ name: "wc of several files, one missing, and a total", argv: ["wc", "big.txt", "missing", "/dir/noise", "./a.txt"],
    files: { "big.txt": bigText, "dir/noise": noise, "a.txt": small },
    expect: {
      status: 1,
      stdout: bytes(wcLine([t.lines, t.words, t.bytes], "big.txt") + wcLine([noiseCounts.lines, noiseCounts.words, noiseCounts.bytes], "/dir/noise") +
        wcLine([k.lines, k.words, k.bytes], "./a.txt") +
        wcLine([t.lines + noiseCounts.lines + k.lines, t.words + noiseCounts.words + k.words, t.bytes + noiseCounts.bytes + k.bytes], "total")),
      stderr: ["wc: missing: No such file or directory"],
    } });
  wc({ name: "wc -w of 3 MB of text on stdin", argv: ["wc", "-w"], stdin: bigText, expect: { status: 0, stdout: bytes(wcLine([t.words])) } });
  wc({ name: "wc with an unknown option", argv: ["wc", "-x"], expect: { status: 1, stdout: none, stderr: ["illegal option -- x", "usage: wc"] } });

  cached = cases;
  return cases;
}

// ---- comparing two runs -------------------------------------------------------------

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** How a run differs from the reference run: one line per difference, empty if none. */
export function diffResults(ref: RunResult, got: RunResult): string[] {
  const out: string[] = [];
  if (got.status !== ref.status) out.push(`exit status ${got.status}, reference ${ref.status}`);
  if (!sameBytes(got.stdout, ref.stdout)) out.push(`stdout differs (${got.stdout.length} bytes, reference ${ref.stdout.length})`);
  const names = new Set([...Object.keys(ref.files), ...Object.keys(got.files)]);
  for (const name of [...names].sort()) {
    const a = ref.files[name];
    const b = got.files[name];
    if (!a) out.push(`file ${name} exists, not in the reference`);
    else if (!b) out.push(`file ${name} missing`);
    else if (!sameBytes(a, b)) out.push(`file ${name} differs (${b.length} bytes, reference ${a.length})`);
  }
  return out;
}

/** How a reference run differs from what its case expects (same format as diffResults). */
export function checkExpect(c: ConformanceCase, r: RunResult): string[] {
  const out: string[] = [];
  const e = c.expect;
  if (r.status !== e.status) out.push(`exit status ${r.status}, expected ${e.status} (stderr: ${text(r.stderr).slice(0, 200)})`);
  if (e.stdout && !sameBytes(r.stdout, e.stdout)) {
    out.push(`stdout differs (${r.stdout.length} bytes, expected ${e.stdout.length}): ${JSON.stringify(text(r.stdout.subarray(0, 200)))}`);
  }
  if (e.stderr) {
    const err = text(r.stderr);
    if (e.stderr.length === 0 && err !== "") out.push(`stderr not empty: ${JSON.stringify(err.slice(0, 200))}`);
    for (const s of e.stderr) if (!err.includes(s)) out.push(`stderr lacks ${JSON.stringify(s)}: ${JSON.stringify(err.slice(0, 200))}`);
  }
  if (e.files) out.push(...diffResults({ ...r, files: e.files }, r).filter((d) => d.startsWith("file ")).map((d) => d.replace("reference", "expected")));
  return out;
}
