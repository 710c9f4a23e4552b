// Shared by the test suites: paths of the built guests, a board with chosen guests.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Board, type BoardOptions } from "../host/board.js";
import { defaultBoard, packageRoot, type BoardConfig } from "../host/config.js";

export const root = packageRoot();
export const guest = (name: string): string => join(root, "build", `${name}.wasm`);
export const guestBytes = (name: string): Uint8Array => readFileSync(guest(name));

/** The default board with changes applied by `edit`. */
export function board(edit: (c: BoardConfig) => void = () => {}, opts: BoardOptions = {}): Board {
  const c = defaultBoard();
  edit(c);
  return Board.create(c, opts);
}
