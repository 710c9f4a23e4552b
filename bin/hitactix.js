#!/usr/bin/env node
// The `hitactix` command. The host is TypeScript compiled to dist/ by `npm run build`
// (run automatically by `npm install`).
import { existsSync } from "node:fs";
const cli = new URL("../dist/host/cli.js", import.meta.url);
if (!existsSync(cli)) {
  console.error("hitactix: dist/ is missing; run `npm run build` (npm install does it)");
  process.exit(1);
}
const { main } = await import(cli.href);
await main(process.argv);
