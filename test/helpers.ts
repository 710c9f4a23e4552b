// Shared by the test suites: paths of the built guests, a board with chosen guests.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Board } from "../host/board.js";
import { buildMachine, type MachineOptions } from "../host/machine.js";
import { defaultBoard, packageRoot, type BoardConfig } from "../host/config.js";

export const root = packageRoot();
export const guest = (name: string): string => join(root, "build", `${name}.wasm`);
export const guestBytes = (name: string): Uint8Array => readFileSync(guest(name));

/** The default machine's board (devices included) with changes applied by `edit`. */
export function board(edit: (c: BoardConfig) => void = () => {}, opts: MachineOptions = {}): Board {
  const c = defaultBoard();
  edit(c);
  return buildMachine(c, opts).board;
}
