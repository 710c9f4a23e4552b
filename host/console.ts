// Per-CPU console: the guest writes the physical address and then the length of a
// byte string; the device reads it from RAM (DMA) and the host collects it by lines.
// Every byte is folded into the trace hash, so console output is part of the proof of
// determinism. Registers (common/platform.ts): ADDR, LEN.

import type { Cpu } from "./cpu.js";
import type { Scheduler } from "./sched.js";
import type { PhysMem } from "./memory.js";
import type { DeviceLog, Width } from "./device.js";
import { CONSOLE_ADDR, CONSOLE_LEN } from "../common/platform.js";

export interface ConsoleLine {
  cpu: number;
  timeNs: number;
  text: string;
}

export class Console {
  readonly name = "console";
  readonly size = 0x100;
  readonly lines: ConsoleLine[] = [];
  private readonly addr: number[];
  private readonly partial: string[];
  private readonly decoder = new TextDecoder();

  constructor(cpus: Cpu[], private readonly sched: Scheduler, private readonly mem: PhysMem,
    private readonly onLine: (l: ConsoleLine) => void, private readonly log: DeviceLog,
    private readonly maxLines = 100_000) {
    this.addr = cpus.map(() => 0);
    this.partial = cpus.map(() => "");
  }

  read(cpu: Cpu, off: number, _width: Width): number {
    this.log("guest-error", `cpu${cpu.id} read of write-only register 0x${off.toString(16)}`);
    return 0;
  }

  write(cpu: Cpu, off: number, _width: Width, value: number): void {
    if (off === CONSOLE_ADDR) {
      this.addr[cpu.id] = value >>> 0;
      return;
    }
    if (off !== CONSOLE_LEN) {
      this.log("guest-error", `cpu${cpu.id} write of unknown register 0x${off.toString(16)}`);
      return;
    }
    const a = this.addr[cpu.id];
    const n = value >>> 0;
    if (n > 4096 || !this.mem.inRam(a, n)) {
      this.log("guest-error", `cpu${cpu.id} DMA of ${n} bytes at 0x${a.toString(16)} is outside RAM or too long`);
      return;
    }
    const bytes = this.mem.u8.subarray(a, a + n);
    for (let i = 0; i < n; i += 4) this.sched.mix(bytes[i], bytes[i + 1] ?? 0, (bytes[i + 2] ?? 0) | ((bytes[i + 3] ?? 0) << 8));
    let text = this.partial[cpu.id] + this.decoder.decode(bytes);
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0) {
      const line = { cpu: cpu.id, timeNs: this.sched.now, text: text.slice(0, nl) };
      if (this.lines.length < this.maxLines) this.lines.push(line);
      this.onLine(line);
      text = text.slice(nl + 1);
    }
    this.partial[cpu.id] = text;
  }
}
