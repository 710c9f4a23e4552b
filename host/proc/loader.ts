// How a program image becomes a process: host/proc/instrument.ts (validate, meter,
// make preemptible and suspendable), then compile. Cached by content there.
//
// Interface: loadProgram(image) -> LoadedProgram (throws with the reason)

import type { LoadedProgram } from "./engine.js";

export function loadProgram(image: Uint8Array): LoadedProgram {
  throw new Error(`the program loader is not built yet (${image.length} bytes)`);
}
