// Builds the AssemblyScript userland (userland/asconfig.json) into build/userland/.
// These are WASI preview 1 programs, not guests of the board: the config extends
// @assemblyscript/wasi-shim's, which makes asc use WASI imports (fd_write, args_get,
// proc_exit, ...) for console, process and abort instead of the Web APIs. The C
// userland is built separately by scripts/build-userland-c.sh (it needs clang) and
// committed under userland/prebuilt/.
//
// Usage: node scripts/build-userland.mjs [TARGET ...]   (default: every target)
import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { main } from "assemblyscript/asc";

const configPath = "userland/asconfig.json";
const config = JSON.parse(readFileSync(configPath, "utf8"));
mkdirSync("build/userland", { recursive: true });
mkdirSync("build/test-userland", { recursive: true }); // programs only the tests use (not in the system image)
const only = process.argv.slice(2);
let failed = false;
for (const [name, target] of Object.entries(config.targets)) {
  if (only.length && !only.includes(name)) continue;
  // Entries are relative to the config file; asc takes them only on the command line.
  const entries = target.entries.map((e) => join("userland", e));
  const { error, stderr } = await main([...entries, "--config", configPath, "--target", name]);
  if (error) {
    console.error(`userland ${name}: ${error.message}\n${stderr.toString()}`);
    failed = true;
  } else {
    console.log(`userland ${name}: ${join("userland", target.outFile)}`);
  }
}
process.exit(failed ? 1 : 0);
