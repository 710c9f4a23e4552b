// How a program image becomes a process: host/proc/instrument.ts (validate, meter,
// make preemptible and suspendable; cached by content in memory and under
// build/cache/instrument/), then compiled once per content. The BSD kernel asks for a
// process from inside a system call, so this runs synchronously: binaryen must have
// been loaded first (prepareLoader, which buildMachineAsync awaits).
//
// Interface: prepareLoader(), loadProgram(image, costs) -> LoadedProgram (throws with the reason)

import { createHash } from "node:crypto";
import type { LoadedProgram } from "./engine.js";
import { instrumentProcessSync, prepareInstrumenter, weightsKey } from "./instrument.js";
import { PIII_600, type CostTable } from "../costs.js";

const compiled = new Map<string, LoadedProgram>();

export async function prepareLoader(): Promise<void> {
  await prepareInstrumenter();
}

export function loadProgram(image: Uint8Array, costs: CostTable = PIII_600): LoadedProgram {
  const key = `${createHash("sha256").update(image).digest("hex")}:${weightsKey(costs.weights)}`;
  let p = compiled.get(key);
  if (!p) {
    const img = instrumentProcessSync(image, { costs });
    p = {
      module: new WebAssembly.Module(img.bytes as BufferSource),
      functionNames: img.info.functionNames,
      reservedPages: img.info.reservedPages,
    };
    compiled.set(key, p);
  }
  return p;
}
