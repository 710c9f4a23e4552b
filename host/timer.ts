// Per-CPU one-shot timer (tickless): the guest reads virtual time and arms an absolute
// deadline; IRQ_TIMER is raised on that CPU at the deadline (at once if it is past).
// Registers (common/platform.ts): NOW_LO/HI (reading LO latches HI), DEADLINE_LO/HI
// (writing HI arms), CANCEL, HZ.

import type { Cpu } from "./cpu.js";
import { OneShot, type Scheduler } from "./sched.js";
import type { DeviceLog, Width } from "./device.js";
import {
  IRQ_TIMER, TIMER_NOW_LO, TIMER_NOW_HI, TIMER_DEADLINE_LO, TIMER_DEADLINE_HI, TIMER_CANCEL, TIMER_HZ,
} from "../common/platform.js";

const TWO32 = 4294967296;

export class Timer {
  readonly name = "timer";
  readonly size = 0x100;
  private readonly shots: OneShot[];
  private readonly latchedHi: number[];
  private readonly deadlineLo: number[];
  /** Timer interrupts fired per CPU. */
  readonly fired: number[];

  constructor(cpus: Cpu[], private readonly sched: Scheduler, private readonly log: DeviceLog) {
    this.latchedHi = cpus.map(() => 0);
    this.deadlineLo = cpus.map(() => 0);
    this.fired = cpus.map(() => 0);
    this.shots = cpus.map((c) => new OneShot(sched, `timer${c.id}`, () => {
      this.fired[c.id]++;
      c.raise(IRQ_TIMER);
    }));
  }

  read(cpu: Cpu, off: number, _width: Width): number {
    switch (off) {
      case TIMER_NOW_LO: {
        const t = this.sched.now;
        this.latchedHi[cpu.id] = Math.floor(t / TWO32);
        return t % TWO32;
      }
      case TIMER_NOW_HI: return this.latchedHi[cpu.id];
      case TIMER_HZ: return cpu.costs.hz;
      default:
        this.log("guest-error", `cpu${cpu.id} read of unknown register 0x${off.toString(16)}`);
        return 0;
    }
  }

  write(cpu: Cpu, off: number, _width: Width, value: number): void {
    switch (off) {
      case TIMER_DEADLINE_LO:
        this.deadlineLo[cpu.id] = value >>> 0;
        return;
      case TIMER_DEADLINE_HI: {
        const deadline = (value >>> 0) * TWO32 + this.deadlineLo[cpu.id];
        this.shots[cpu.id].armAt(Math.max(deadline, this.sched.now));
        return;
      }
      case TIMER_CANCEL:
        this.shots[cpu.id].cancel();
        return;
      default:
        this.log("guest-error", `cpu${cpu.id} write of unknown register 0x${off.toString(16)}`);
    }
  }
}
