// Builds every AssemblyScript guest named in asconfig.json: asc reads the shared
// options and the target's options from the file; the entry file of each target is
// the target's "entries" list (asc itself takes entries only on the command line).
import { readFileSync, mkdirSync } from "node:fs";
import { main } from "assemblyscript/asc";
import { fileURLToPath } from "node:url";

const config = JSON.parse(readFileSync("asconfig.json", "utf8"));
mkdirSync("build", { recursive: true });
const only = process.argv.slice(2);
let failed = false;
for (const [name, target] of Object.entries(config.targets)) {
  if (only.length && !only.includes(name)) continue;
  // "noShadowStack" (our key; asc ignores it): build with scripts/as-no-shadow-stack.mjs.
  const extra = target.noShadowStack ? ["--transform", fileURLToPath(new URL("./as-no-shadow-stack.mjs", import.meta.url))] : [];
  const { error, stderr } = await main([...target.entries, "--config", "asconfig.json", "--target", name, ...extra]);
  if (error) {
    console.error(`guest ${name}: ${error.message}\n${stderr.toString()}`);
    failed = true;
  } else {
    console.log(`guest ${name}: ${target.outFile}`);
  }
}
process.exit(failed ? 1 : 0);
