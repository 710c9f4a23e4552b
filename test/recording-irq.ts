// The board stand-in's interrupt line for device tests: records every level change.
import type { IrqLine } from "../host/device.js";
import type { Scheduler } from "../host/sched.js";

export class RecordingIrq implements IrqLine {
  level = false;
  rises = 0;
  readonly changes: [number, boolean][] = [];
  onRise: (() => void) | undefined;
  constructor(private readonly sched: Scheduler) {}
  set(level: boolean): void {
    if (level === this.level) return;
    this.level = level;
    this.changes.push([this.sched.now, level]);
    if (level) {
      this.rises++;
      this.onRise?.();
    }
  }
}
