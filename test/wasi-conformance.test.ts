// The conformance table under node:wasi, the reference: each case gives what its
// `expect` says (bzip2's own test vectors, counts computed in JavaScript), and the
// comparison helpers see the differences they must see. A second runner (a BSD
// process) is compared against this one with diffResults.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkExpect, conformanceCases, countText, diffResults, makeText, nodeWasiRunner, text, USERLAND,
  type ConformanceCase, type RunResult,
} from "./wasi-conformance.js";

const cases = conformanceCases();

describe("WASI conformance cases under node:wasi (the reference)", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c: ConformanceCase) => {
    const r = await nodeWasiRunner.run(c);
    expect(checkExpect(c, r)).toEqual([]);
  });
});

describe("round trips through the reference", () => {
  it("3 MB of text compressed by bzip2 decompresses to itself, smaller by 3x or more", async () => {
    const c = cases.find((x) => x.name === "bzip2 of 3 MB of text")!;
    const packed = await nodeWasiRunner.run(c);
    expect(packed.stdout.length).toBeLessThan(c.stdin.length / 3);
    const back = await nodeWasiRunner.run({ ...c, argv: ["bzip2", "-d"], stdin: packed.stdout, expect: { status: 0 } });
    expect(back.status).toBe(0);
    expect(Buffer.compare(back.stdout, c.stdin)).toBe(0);
  });

  it("bzip2 FILE then bzip2 -d FILE.bz2 gives the file back, under another seed and size", async () => {
    const data = makeText(1_234_567, 99);
    const base = { program: USERLAND.bzip2, env: {}, stdin: new Uint8Array(0), expect: { status: 0 } };
    const a = await nodeWasiRunner.run({ ...base, name: "pack", argv: ["bzip2", "f"], files: { f: data } });
    expect(Object.keys(a.files)).toEqual(["f.bz2"]);
    const b = await nodeWasiRunner.run({ ...base, name: "unpack", argv: ["bzip2", "-d", "f.bz2"], files: a.files });
    expect(Object.keys(b.files)).toEqual(["f"]);
    expect(Buffer.compare(b.files.f, data)).toBe(0);
  });

  it("lz4 -c of 3 MB of text decompresses to itself, smaller; lz4 -9 FILE OUT too", async () => {
    const c = cases.find((x) => x.name === "lz4 -c of 3 MB of text")!;
    const packed = await nodeWasiRunner.run(c);
    expect(packed.stdout.length).toBeLessThan(c.stdin.length / 2);
    const back = await nodeWasiRunner.run({ ...c, argv: ["lz4", "-d", "-c"], stdin: packed.stdout });
    expect(Buffer.compare(back.stdout, c.stdin)).toBe(0);
    const f = cases.find((x) => x.name === "lz4 -9 FILE OUT (keeps FILE)")!;
    const out = await nodeWasiRunner.run(f);
    expect(Object.keys(out.files)).toEqual(["sample1", "sample1.lz4"]);
    const again = await nodeWasiRunner.run({ ...f, argv: ["lz4", "-d", "-c", "sample1.lz4"], files: { "sample1.lz4": out.files["sample1.lz4"] } });
    expect(Buffer.compare(again.stdout, f.files.sample1)).toBe(0);
  });

  it("wc's counts equal countText's on text of another seed", async () => {
    const data = makeText(200_000, 5);
    const k = countText(data);
    const r = await nodeWasiRunner.run({ name: "wc", program: USERLAND.wc, argv: ["wc"], env: {}, stdin: data, files: {}, expect: { status: 0 } });
    expect(text(r.stdout).trim().split(/\s+/).map(Number)).toEqual([k.lines, k.words, k.bytes]);
  });
});

describe("node:wasi survives memory growth", () => {
  // Write, grow by 1 MiB, write, 200 times, in 5 instances: without the fix at the top of
  // wasi-conformance.ts this kills the test process with SIGSEGV (or loses output).
  it("writes all its output after growing 200 times", async () => {
    const { default: binaryen } = await import("binaryen");
    const m = binaryen.parseText(`(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 100) "hello\\n")
      (func $say (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 6))
        (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
      (func (export "_start") (local $i i32)
        (call $say)
        (loop $l (drop (memory.grow (i32.const 16))) (call $say)
          (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 200))))))`);
    const dir = mkdtempSync(join(tmpdir(), "grow-"));
    try {
      const program = join(dir, "grow.wasm");
      writeFileSync(program, m.emitBinary());
      m.dispose();
      for (let k = 0; k < 5; k++) {
        const r = await nodeWasiRunner.run({ name: "grow", program, argv: ["grow"], env: {}, stdin: new Uint8Array(0), files: {}, expect: { status: 0 } });
        expect(r.stdout.length).toBe(201 * 6);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the comparison catches differences", () => {
  const ref: RunResult = { stdout: new Uint8Array([1, 2]), stderr: new Uint8Array(0), status: 0, files: { a: new Uint8Array([1]) } };
  it("finds nothing between equal runs, and ignores stderr", () => {
    expect(diffResults(ref, { ...ref, stderr: new Uint8Array([9]) })).toEqual([]);
  });
  it("names a different status, stdout, file content, missing and extra file", () => {
    const got: RunResult = { stdout: new Uint8Array([1, 3]), stderr: new Uint8Array(0), status: 2, files: { a: new Uint8Array([2]), b: new Uint8Array(0) } };
    expect(diffResults(ref, got)).toEqual([
      "exit status 2, reference 0",
      "stdout differs (2 bytes, reference 2)",
      "file a differs (1 bytes, reference 1)",
      "file b exists, not in the reference",
    ]);
    expect(diffResults(ref, { ...ref, files: {} })).toEqual(["file a missing"]);
  });
  it("checkExpect rejects a wrong reference output", async () => {
    const c = cases.find((x) => x.name === "bzip2 -d sample1 stdin->stdout")!;
    const r = await nodeWasiRunner.run(c);
    const bad = { ...r, stdout: r.stdout.subarray(1) };
    expect(checkExpect(c, bad)).toHaveLength(1);
    expect(checkExpect(c, { ...r, status: 1 })[0]).toMatch(/^exit status 1, expected 0/);
  });
});
