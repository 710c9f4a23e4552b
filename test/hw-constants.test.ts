// One source for every hardware constant: the files in common/ that the device models,
// the guests' drivers and the tests share. This suite fails when a copy creeps back in
// or the two sides could disagree:
//   - each model's register table names exactly the registers of its constants file,
//     at the same offsets, and writes no offset of its own;
//   - the drivers reach registers only by the constants file's names;
//   - no other source file defines a constant under a name the shared files own;
//   - AssemblyScript, compiling the shared files, sees every constant with the value
//     TypeScript sees, typed u32 (untyped, it would make some i32, some u32, some i64).
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import asc from "assemblyscript/asc";
import * as LSI from "../common/lsi-regs.js";
import * as ACE from "../common/acenic-regs.js";
import * as SCSI from "../common/scsi-defs.js";
import * as SYM from "../common/sym-layout.js";
import { REGS as LSI_REGS } from "../devices/lsi53c895.js";
import { REGS as ACE_REGS } from "../devices/acenic.js";
import { packageRoot } from "../host/config.js";

const ROOT = packageRoot();
const SHARED: Record<string, Record<string, number>> = {
  "common/lsi-regs.ts": LSI as unknown as Record<string, number>,
  "common/acenic-regs.ts": ACE as unknown as Record<string, number>,
  "common/scsi-defs.ts": SCSI as unknown as Record<string, number>,
  "common/sym-layout.ts": SYM as unknown as Record<string, number>,
};

/** Every source file under the project's code folders (not node_modules, dist, build). */
function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mjs|js)$/.test(e) && !e.endsWith(".d.ts")) out.push(p);
    }
  };
  for (const d of ["common", "devices", "host", "guest-lib", "guest-hitactix", "guest-bsd", "test", "bench", "scripts"]) {
    try {
      walk(join(ROOT, d));
    } catch {
      // a folder this checkout does not have
    }
  }
  return out;
}

describe("hardware constants are written down once (common/)", () => {
  it("the LSI53C895 model's register table is common/lsi-regs.ts's registers, at its offsets", () => {
    const regs = Object.keys(LSI).filter((k) => /^[A-Z][A-Z0-9]*$/.test(k)); // no underscore: a register
    expect(LSI_REGS.map((r) => r.name).sort()).toEqual(regs.sort());
    for (const r of LSI_REGS) expect(r.off, r.name).toBe((LSI as Record<string, number>)[r.name]);
  });

  it("the AceNIC model's register table is common/acenic-regs.ts's registers, at its offsets", () => {
    const regs = Object.keys(ACE).filter((k) => /[a-z]/.test(k)); // struct ace_regs's CamelCase names
    expect(ACE_REGS.map((r) => r.name).sort()).toEqual(regs.sort());
    for (const r of ACE_REGS) expect(r.off, r.name).toBe((ACE as Record<string, number>)[r.name]);
  });

  it("the models' tables take their offsets from common/, writing none of their own", () => {
    for (const f of ["devices/lsi53c895-data.ts", "devices/acenic-data.ts"]) {
      const text = readFileSync(join(ROOT, f), "utf8");
      const rows = text.split("\n").filter((l) => /^\s*\{ name: "/.test(l));
      expect(rows.length, f).toBeGreaterThan(50);
      for (const row of rows) expect(row, f).toMatch(/off: [LA]\.\w+/);
    }
  });

  it("the drivers reach the chips' registers only by the shared names", () => {
    const cases: Array<[string, Record<string, number>, RegExp]> = [
      ["guest-lib/drivers/sym53c8xx.ts", LSI, /\b(?:rd|wr)(?:8|16|32)\(([^,)]+)/g],
      ["guest-lib/drivers/acenic.ts", ACE, /\b(?:rd|wr)\(([^,)]+)/g],
    ];
    for (const [file, names, access] of cases) {
      const text = readFileSync(join(ROOT, file), "utf8");
      const calls = text.split("\n").filter((l) => !/\bfunction\b/.test(l)); // not the accessors' own definitions
      const used = calls.flatMap((l) => [...l.matchAll(access)].map((m) => m[1].trim().split(/\s*\+\s*/)[0]));
      expect(used.length, file).toBeGreaterThan(20);
      for (const u of used) expect(u in names, `${file}: register ${u}`).toBe(true);
    }
  });

  it("no other file defines a constant under a name the shared files own", () => {
    const owned = new Map<string, string>();
    for (const [file, mod] of Object.entries(SHARED)) for (const k of Object.keys(mod)) owned.set(k, file);
    const found: string[] = [];
    for (const p of sources()) {
      const rel = relative(ROOT, p);
      if (rel in SHARED) continue;
      const text = readFileSync(p, "utf8");
      for (const m of text.matchAll(/(?:^|\n)\s*(?:export\s+)?(?:const|let)\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*\w+\s*)?=/g)) {
        if (owned.has(m[1])) found.push(`${rel}: ${m[1]} (owned by ${owned.get(m[1])})`);
      }
    }
    expect(found).toEqual([]);
  });

  it("AssemblyScript sees every shared constant as a u32 with the value TypeScript sees", async () => {
    const mods = Object.entries(SHARED);
    const lines: string[] = [];
    const expected: Array<[string, number]> = [];
    mods.forEach(([file, mod], i) => {
      lines.push(`import * as M${i} from "./${file.replace(/\.ts$/, "")}";`);
      for (const [k, v] of Object.entries(mod)) {
        lines.push(`export function c${expected.length}(): u64 { return <u64>M${i}.${k}; }`);
        lines.push(`export function t${expected.length}(): i32 { return nameof(M${i}.${k}) == "u32" ? 1 : 0; }`);
        expected.push([`${file} ${k}`, v]);
      }
    });
    const entry = lines.join("\n");
    const files: Record<string, Uint8Array | string> = {};
    const { error, stderr } = await asc.main(["__hw_constants.ts", "--outFile", "out.wasm", "--runtime", "stub", "-O0"], {
      readFile: (name: string, baseDir: string) => {
        if (name === "__hw_constants.ts") return entry;
        if (name.endsWith("asconfig.json")) return null; // the project's guest targets are not wanted here
        try {
          return readFileSync(join(baseDir, name), "utf8");
        } catch {
          return null;
        }
      },
      writeFile: (name: string, contents: Uint8Array | string) => {
        files[name] = contents;
      },
      listFiles: () => [],
    });
    expect(error, stderr.toString()).toBeNull();
    const module = new WebAssembly.Module(files["out.wasm"] as BufferSource);
    const instance = new WebAssembly.Instance(module, { env: { abort: () => {} } });
    const ex = instance.exports as Record<string, () => bigint | number>;
    expected.forEach(([name, v], i) => {
      expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, `${name} is a u32 in TypeScript`).toBe(true);
      expect(ex[`c${i}`](), name).toBe(BigInt(v));
      expect(ex[`t${i}`](), `${name} is typed u32 in AssemblyScript`).toBe(1);
    });
    expect(expected.length).toBeGreaterThan(400);
  }, 60_000);
});

describe("the shared region's layout (issue 12)", () => {
  it("HiTactix's statistics block, sized for its largest table, ends below the BSD command line", async () => {
    const p = await import("../common/platform.js");
    expect(p.HTX_STATS_BASE + p.HTX_STATS_SIZE).toBeLessThanOrEqual(p.CMDLINE_AREA);
    expect(p.HTX_STATS_SIZE).toBe(p.HTXS_RECORDS + p.HTX_MAX_STREAMS * p.HTX_STATS_RECORD);
    expect(p.HTX_DEFAULT_STREAMS).toBeLessThanOrEqual(p.HTX_MAX_STREAMS);
    expect(p.CMDLINE_AREA + p.CMDLINE_MAX).toBeLessThanOrEqual(p.MODULE_AREA);
  });
});
