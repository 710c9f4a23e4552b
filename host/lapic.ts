// Per-CPU interrupt controller and IPI sender, in the spirit of the P6 local APIC
// (simplified: 32 lines, lowest number first, no priorities or vectors table).
// Registers (common/platform.ts): ID, PENDING, MASK, DELIVERED, IPI, IPI_COUNT.
//
// Device IRQ lines are routed to one CPU by the board description. An IPI write sets
// the target's IRQ_IPI line after the cost table's IPI latency (the APIC bus message).

import type { Cpu } from "./cpu.js";
import type { Scheduler, Handler } from "./sched.js";
import type { DeviceLog, Width } from "./device.js";
import {
  IRQ_IPI, LAPIC_ID, LAPIC_PENDING, LAPIC_MASK, LAPIC_DELIVERED, LAPIC_IPI, LAPIC_IPI_COUNT,
} from "../common/platform.js";

export class Lapic {
  readonly name = "lapic";
  readonly size = 0x100;
  /** IPIs received per CPU. */
  readonly ipisReceived: number[];
  private readonly ipiH: Handler;

  constructor(private readonly cpus: Cpu[], private readonly sched: Scheduler, private readonly ipiLatencyNs: number,
    private readonly log: DeviceLog) {
    this.ipisReceived = cpus.map(() => 0);
    this.ipiH = sched.handler("lapic.ipi", (target) => {
      this.ipisReceived[target]++;
      this.cpus[target].raise(IRQ_IPI);
    });
  }

  read(cpu: Cpu, off: number, _width: Width): number {
    switch (off) {
      case LAPIC_ID: return cpu.id;
      case LAPIC_PENDING: return (cpu.pending | cpu.levels) >>> 0;
      case LAPIC_MASK: return cpu.mask >>> 0;
      case LAPIC_DELIVERED: return cpu.delivered >>> 0;
      case LAPIC_IPI_COUNT: return this.ipisReceived[cpu.id] >>> 0;
      default:
        this.log("guest-error", `cpu${cpu.id} read of unknown register 0x${off.toString(16)}`);
        return 0;
    }
  }

  write(cpu: Cpu, off: number, _width: Width, value: number): void {
    switch (off) {
      case LAPIC_MASK:
        cpu.mask = value | 0;
        cpu.kick();
        return;
      case LAPIC_IPI:
        if (value >= this.cpus.length) {
          this.log("guest-error", `cpu${cpu.id} sent an IPI to absent cpu ${value}`);
          return;
        }
        this.sched.at(this.sched.now + this.ipiLatencyNs, this.ipiH, value);
        return;
      default:
        this.log("guest-error", `cpu${cpu.id} write of unknown register 0x${off.toString(16)}`);
    }
  }
}
