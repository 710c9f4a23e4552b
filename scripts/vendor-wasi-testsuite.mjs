// Copies WebAssembly/wasi-testsuite's prebuilt WASI preview 1 tests into
// third_party/wasi-testsuite/ (see its README.md for provenance). Each .wasm keeps its
// code and its "name" section; the other custom sections (DWARF debug info, producers)
// are dropped: 95 MB of debug info for the Rust tests, which run the same without it.
// The specs (.json), manifests and fs-tests.dir trees are copied as they are.
//
//   git -C wasi-testsuite archive prod/testsuite-base LICENSE \
//     tests/{assemblyscript,c,rust}/testsuite/wasm32-wasip1 | tar -x -C /tmp/wts
//   node scripts/vendor-wasi-testsuite.mjs /tmp/wts
import { readFileSync, writeFileSync, readdirSync, mkdirSync, cpSync, rmSync, statSync, copyFileSync } from "node:fs";
import { join } from "node:path";

const src = process.argv[2];
if (!src) { console.error("usage: node scripts/vendor-wasi-testsuite.mjs EXTRACTED_TESTSUITE_DIR"); process.exit(2); }
const dst = "third_party/wasi-testsuite";

function leb(b, i) {
  let r = 0, s = 0, x;
  do { x = b[i++]; r += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80);
  return [r, i];
}

/** The module without its custom sections, but "name". */
function strip(bytes) {
  if (bytes.length < 8 || bytes.readUInt32LE(0) !== 0x6d736100) throw new Error("not a WebAssembly module");
  const out = [bytes.subarray(0, 8)];
  let i = 8;
  while (i < bytes.length) {
    const id = bytes[i];
    const [size, j] = leb(bytes, i + 1);
    const end = j + size;
    let keep = true;
    if (id === 0) {
      const [n, k] = leb(bytes, j);
      keep = bytes.subarray(k, k + n).toString() === "name";
    }
    if (keep) out.push(bytes.subarray(i, end));
    i = end;
  }
  return Buffer.concat(out);
}

rmSync(dst, { recursive: true, force: true });
let files = 0, before = 0, after = 0;
for (const lang of ["assemblyscript", "c", "rust"]) {
  const from = join(src, "tests", lang, "testsuite", "wasm32-wasip1");
  const to = join(dst, lang);
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from).sort()) {
    const f = join(from, name);
    if (statSync(f).isDirectory()) cpSync(f, join(to, name), { recursive: true });
    else if (name.endsWith(".wasm")) {
      const b = readFileSync(f);
      const s = strip(b);
      writeFileSync(join(to, name), s);
      files++; before += b.length; after += s.length;
    } else copyFileSync(f, join(to, name));
  }
}
copyFileSync(join(src, "LICENSE"), join(dst, "LICENSE"));
console.log(`${files} tests, ${(before / 1e6).toFixed(1)} MB -> ${(after / 1e6).toFixed(1)} MB in ${dst}`);
