// Board power control: one register any CPU may write (common/platform.ts SYSCTL_*).
// Writing POWEROFF stops the board: the scheduler halts after the current event and
// the value is kept as the status the host reports (`hitactix bsd exec` exits with it).

import type { Cpu } from "./cpu.js";
import type { Scheduler } from "./sched.js";
import type { Width, DeviceLog } from "./device.js";
import { SYSCTL_POWEROFF } from "../common/platform.js";

export class Sysctl {
  readonly name = "sysctl";
  readonly size = 0x100;
  /** The status written to POWEROFF, once the board is off. */
  powerOffStatus: number | undefined;
  powerOffAtNs = 0;

  constructor(private readonly sched: Scheduler, private readonly log: DeviceLog) {}

  read(_cpu: Cpu, off: number, _width: Width): number {
    this.log("guest-error", `cpu${_cpu.id} read of write-only register 0x${off.toString(16)}`);
    return 0;
  }

  write(cpu: Cpu, off: number, _width: Width, value: number): void {
    if (off !== SYSCTL_POWEROFF) {
      this.log("guest-error", `cpu${cpu.id} write of unknown register 0x${off.toString(16)}`);
      return;
    }
    if (this.powerOffStatus !== undefined) return;
    this.powerOffStatus = value >>> 0;
    this.powerOffAtNs = cpu.localTime();
    this.sched.halt();
  }
}
