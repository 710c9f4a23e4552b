// Instruments every program of the system image (build/userland/*.wasm and the C
// programs in userland/prebuilt/) once, at build time, so that the first run of each
// as a BSD process does not wait for binaryen (asyncify of bzip2 takes seconds). The
// results land in build/cache/instrument/ (host/proc/instrument.ts); a run finds them
// by content. Run by `npm run build` after the host is built.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const { instrumentProcess } = await import("../dist/host/proc/instrument.js");
const dirs = ["build/userland", "userland/prebuilt", "build/test-userland"];
const t0 = performance.now();
let n = 0;
for (const dir of dirs) {
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".wasm")).sort()) {
    try {
      await instrumentProcess(new Uint8Array(readFileSync(join(dir, name))));
      n++;
    } catch (e) {
      if (!dir.includes("test-userland")) throw e; // the tests' bad programs are refused on purpose
    }
  }
}
console.log(`instrumented ${n} programs for BSD processes in ${((performance.now() - t0) / 1000).toFixed(1)} s (build/cache/instrument)`);
