// Node's WASI is the reference (issue 11, item 7): every case of the conformance table
// run as a BSD process must give what node:wasi gives: stdout, exit status and the
// files written (stderr may differ in wording and is not compared).
import { describe, expect, it } from "vitest";
import { conformanceCases, nodeWasiRunner, diffResults } from "./wasi-conformance.js";
import { bsdRunner } from "./wasi-bsd-runner.js";

describe("WASI programs as BSD processes give what node:wasi gives", () => {
  for (const c of conformanceCases()) {
    it(c.name, async () => {
      const ref = await nodeWasiRunner.run(c);
      const got = await bsdRunner.run(c);
      expect(diffResults(ref, got)).toEqual([]);
    }, 120_000);
  }
});
