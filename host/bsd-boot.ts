// What the board hands the BSD kernel before it boots, as a boot loader would: init's
// command line and boot modules in the shared region, and the boot parameters that
// point at them (common/platform.ts BOOT_CMDLINE_*, BOOT_MODULES, BOOT_EPOCH_*,
// BOOT_SEED). Checked here, with messages that say what does not fit.
//
// Interface: bsdBootArgs(config, seed) -> boot parameters to merge into CPU 0's;
//            writeBsdBoot(mem, config) after the board exists.

import type { BsdBootConfig } from "./config.js";
import type { PhysMem } from "./memory.js";
import {
  BOOT_CMDLINE_ADDR, BOOT_CMDLINE_LEN, BOOT_EPOCH_LO, BOOT_EPOCH_HI, BOOT_SEED, BOOT_MODULES,
  CMDLINE_AREA, CMDLINE_MAX, MODULE_AREA, MODULE_AREA_END,
} from "../common/platform.js";

/** 2002-01-01T00:00:00Z: the default realtime at power-on (deterministic). */
export const DEFAULT_EPOCH_SEC = 1009843200;

function cmdlineBytes(c: BsdBootConfig): Uint8Array {
  const parts = (c.cmdline ?? []).map((a) => new TextEncoder().encode(a));
  const total = parts.reduce((n, p) => n + p.length + 1, 0);
  if (total > CMDLINE_MAX) throw new Error(`bsd: the command line is ${total} bytes; at most ${CMDLINE_MAX} fit`);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    if (p.includes(0)) throw new Error("bsd: a command-line argument contains a NUL byte");
    out.set(p, at);
    at += p.length + 1;
  }
  return out;
}

export function bsdBootArgs(c: BsdBootConfig, seed: number): Record<number, number> {
  const cmd = cmdlineBytes(c);
  const epoch = c.epochSec ?? DEFAULT_EPOCH_SEC;
  return {
    [BOOT_CMDLINE_ADDR]: cmd.length ? CMDLINE_AREA : 0,
    [BOOT_CMDLINE_LEN]: cmd.length,
    [BOOT_EPOCH_LO]: epoch % 2 ** 32,
    [BOOT_EPOCH_HI]: Math.floor(epoch / 2 ** 32),
    [BOOT_SEED]: seed >>> 0,
    [BOOT_MODULES]: c.modules?.length ? MODULE_AREA : 0,
  };
}

/** Module table at MODULE_AREA: u32 count, count x {name, nameLen, addr, len}, then names and files. */
export function writeBsdBoot(mem: PhysMem, c: BsdBootConfig): void {
  mem.u8.set(cmdlineBytes(c), CMDLINE_AREA);
  const mods = c.modules ?? [];
  if (mods.length === 0) return;
  let at = MODULE_AREA + 4 + mods.length * 16;
  const dv = mem.dv;
  dv.setUint32(MODULE_AREA, mods.length, true);
  mods.forEach((m, i) => {
    const name = new TextEncoder().encode(m.name.replace(/^\/+/, ""));
    const nameAt = at;
    at += name.length;
    at = (at + 7) & ~7;
    const fileAt = at;
    at += m.bytes.length;
    at = (at + 7) & ~7;
    if (at > MODULE_AREA_END) throw new Error(`bsd: boot modules need ${at - MODULE_AREA} bytes; ${MODULE_AREA_END - MODULE_AREA} fit`);
    mem.u8.set(name, nameAt);
    mem.u8.set(m.bytes, fileAt);
    const e = MODULE_AREA + 4 + i * 16;
    dv.setUint32(e, nameAt, true);
    dv.setUint32(e + 4, name.length, true);
    dv.setUint32(e + 8, fileAt, true);
    dv.setUint32(e + 12, m.bytes.length, true);
  });
}
