// What a device model sees of the board, and what the board sees of a device.
// Devices (devices/*.ts) import only this file, sched.ts, memory.ts and rng.ts from
// host/ — never the CPUs, the guests, the CLI or the experiments.
//
// One contract for every device model. A device reaches the board only through its
// context; it reports what the guest did wrong, or what the model leaves out, through
// ctx.log, whether or not tracing is on. Kinds (as QEMU keeps LOG_GUEST_ERROR and
// LOG_UNIMP apart):
//   guest-error  the guest did something the data sheet forbids or leaves undefined:
//                an access where no register is, a write to a read-only register, a bad
//                descriptor, command or CDB, DMA outside RAM. The device goes on, as
//                the chip would.
//   unimp        the guest used a feature the real device has and the model does not.
//   info         a fact worth a line that is nobody's mistake.
// The context puts the device's name in front of each message ("acenic: ..."); a
// message never names its device itself.
//
// Interface:
//   MmioDevice     register window: read/write by offset and width, reset()
//   IrqLine        a level-triggered interrupt line into the interrupt controller
//   DeviceLog      (kind, message): the log sink a context carries
//   TargetContext  what a device behind a controller gets (a SCSI disk): the scheduler
//                  (virtual time), a seeded RNG of its own, optional trace, the log
//   DeviceContext  a device on the board's bus: the same, plus RAM for DMA and its IRQ
//                  line (the trace sink is free when undefined), and dmaWritten
//                  (what its DMA writes are, for the cost model)

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

/** Kinds of device log lines (see the header). */
export type LogKind = "guest-error" | "unimp" | "info";

export type DeviceLog = (kind: LogKind, msg: string) => void;

export interface TargetContext {
  readonly sched: Scheduler;
  readonly rng: Rng;
  /** Register/DMA/interrupt trace, one line per fact; undefined when tracing is off. */
  readonly trace?: (line: string) => void;
  /** Guest mistakes and unimplemented features; always on. */
  readonly log: DeviceLog;
}

export interface DeviceContext extends TargetContext {
  readonly mem: PhysMem;
  readonly irq: IrqLine;
  /** The device wrote RAM by DMA (cost model v2's memory model, host/dma-lines.ts):
   *  `control` for what its driver always reads (descriptors, status, event rings,
   *  producer indices), else data (disk blocks, frame payloads) that a CPU pays for
   *  only when it reads it. Undefined when the cost model has no memory system. */
  readonly dmaWritten?: (addr: number, len: number, control: boolean) => void;
}
