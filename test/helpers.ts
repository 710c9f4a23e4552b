// Shared by the test suites: paths of the built guests, a board with chosen guests.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Board } from "../host/board.js";
import { buildMachine, type MachineOptions } from "../host/machine.js";
import { defaultBoard, packageRoot, type BoardConfig } from "../host/config.js";
import { BOOT_TICK_NS, BOOT_PING_BURST, BOOT_PING_TOTAL, BOOT_SPIN, BOOT_REPORT_TICKS } from "../common/platform.js";

export const root = packageRoot();
export const guest = (name: string): string => join(root, "build", `${name}.wasm`);
export const guestBytes = (name: string): Uint8Array => readFileSync(guest(name));

/** The default machine's board (devices included) with changes applied by `edit`. */
export function board(edit: (c: BoardConfig) => void = () => {}, opts: MachineOptions = {}): Board {
  const c = defaultBoard();
  edit(c);
  return buildMachine(c, opts).board;
}

/** CPU 0 runs the ping/pong test guest (test/guests/pingpong.ts) instead of the BSD
 *  kernel: the board tests of mailboxes, IPIs and load use it. */
export function pingGuest(c: BoardConfig): void {
  c.cpus[0] = {
    ...c.cpus[0],
    wasm: guest("test-pingpong"),
    processes: false,
    bootArgs: {
      [BOOT_TICK_NS]: 10_000_000,
      [BOOT_PING_BURST]: 16,
      [BOOT_PING_TOTAL]: 10_000,
      [BOOT_SPIN]: 0,
      [BOOT_REPORT_TICKS]: 100,
    },
  };
}
