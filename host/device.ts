// What a device model sees of the board, and what the board sees of a device.
// Devices (devices/*.ts) import only this file, sched.ts, memory.ts and rng.ts from
// host/ — never the CPUs, the guests, the CLI or the experiments.
//
// Interface:
//   MmioDevice     register window: read/write by offset and width, reset()
//   IrqLine        a level-triggered interrupt line into the interrupt controller
//   DeviceContext  scheduler (virtual time), RAM for DMA, its IRQ line, a seeded RNG
//                  of its own, and optional trace/log sinks (free when undefined)

import type { Scheduler } from "./sched.js";
import type { PhysMem } from "./memory.js";
import type { Rng } from "./rng.js";

export type Width = 1 | 2 | 4;

export interface MmioDevice {
  readonly name: string;
  /** Size of the register window in bytes. */
  readonly size: number;
  /** Register read at byte offset `off` (value is the zero-extended `width`-byte value). */
  read(off: number, width: Width): number;
  /** Register write at byte offset `off`. */
  write(off: number, width: Width, value: number): void;
  /** Power-on / hardware reset state. */
  reset(): void;
}

export interface IrqLine {
  /** Drive the line: true = asserted. Level-triggered; repeated calls are cheap. */
  set(level: boolean): void;
}

/** Kinds of device log lines, kept apart as QEMU does. */
export type LogKind = "guest-error" | "unimp" | "info";

export interface DeviceContext {
  readonly sched: Scheduler;
  readonly mem: PhysMem;
  readonly irq: IrqLine;
  readonly rng: Rng;
  /** Register/DMA/interrupt trace, one line per fact; undefined when tracing is off. */
  readonly trace?: (line: string) => void;
  /** Guest mistakes and unimplemented features. */
  readonly log: (kind: LogKind, msg: string) => void;
}
