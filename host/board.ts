// The board: builds the machine from a BoardConfig and runs it.
//   physical memory (one WebAssembly.Memory), the scheduler, a seeded RNG,
//   CPUs each with its metered guest, the per-CPU LAPIC / timer / console,
//   the MMIO bus that routes guest register accesses (and charges them),
//   the boot parameter blocks, and the summary the CLI prints.
//
// Interface:
//   Board.create(config, options)   load, check and meter the guests; power on
//   board.run(untilNs)              advance virtual time
//   board.addDevice(base, device)   map a device's register window (devices issue)
//   board.summary()                 time, events, trace hash, per-CPU busy/load

import { readFileSync } from "node:fs";
import type { BoardConfig } from "./config.js";
import { Scheduler, type TraceSink } from "./sched.js";
import { PhysMem } from "./memory.js";
import { Rng } from "./rng.js";
import { Cpu, GuestFault, type CpuReport } from "./cpu.js";
import { meterModule, type ModuleInfo } from "./meter.js";
import { DmaLines } from "./dma-lines.js";
import { nsToCycles } from "./costs.js";
import { Lapic } from "./lapic.js";
import { Timer } from "./timer.js";
import { Console, type ConsoleLine } from "./console.js";
import { Sysctl } from "./sysctl.js";
import type { MmioDevice, Width, LogKind, DeviceContext, DeviceLog, IrqLine, TargetContext } from "./device.js";
import {
  LAPIC_BASE, TIMER_BASE, CONSOLE_BASE, SYSCTL_BASE, BOOTINFO_BASE, BOOTINFO_SIZE, BOOT_MAGIC, BOOT_MAGIC_VALUE,
} from "../common/platform.js";

export interface BoardOptions {
  onConsole?: (line: ConsoleLine) => void;
  onLog?: (kind: LogKind, msg: string) => void;
  traceSink?: TraceSink;
  /** Guest wasm bytes by CPU index, instead of reading config.cpus[i].wasm. */
  wasmBytes?: Uint8Array[];
  /** More imports for a CPU's kernel (its env module), by CPU index: the process
   *  engine's proc_* calls for the BSD kernel. */
  kernelImports?: Array<Record<string, unknown> | undefined>;
}

export interface CpuSummary {
  name: string;
  state: string;
  busyCycles: number;
  /** Cycles elapsed with the CPU halted (powered-on time minus busy). */
  idleCycles: number;
  load: number;
  runs: number;
  interrupts: number;
  fault?: CpuReport;
}

export interface BoardSummary {
  simTimeNs: number;
  events: number;
  traceHash: string;
  cpus: CpuSummary[];
  consoleLines: number;
  logs: Record<string, number>;
}

interface Mapping {
  base: number;
  end: number;
  dev: MmioDevice;
}

type Local = Lapic | Timer | Console | Sysctl;

export class Board {
  readonly sched = new Scheduler();
  readonly mem: PhysMem;
  readonly rng: Rng;
  readonly cpus: Cpu[] = [];
  readonly lapic: Lapic;
  readonly timer: Timer;
  readonly console: Console;
  readonly sysctl: Sysctl;
  readonly logCounts: Record<string, number> = {};
  private readonly mappings: Mapping[] = [];
  private readonly locals: Array<[number, Local]>;
  /** Cost model v2's memory system (undefined under a model without one). */
  readonly dmaLines?: DmaLines;

  private constructor(readonly config: BoardConfig, private readonly opts: BoardOptions) {
    this.mem = new PhysMem(config.memoryBytes);
    this.rng = new Rng(config.seed);
    if (opts.traceSink) this.sched.sink = opts.traceSink;
    config.cpus.forEach((c, i) => {
      this.cpus.push(new Cpu(i, c.name, config.costs, this.sched, config.loadWindowNs, config.runCycleLimit));
    });
    this.lapic = new Lapic(this.cpus, this.sched, config.costs.ipiLatencyNs, this.logger("lapic"));
    this.timer = new Timer(this.cpus, this.sched, this.logger("timer"));
    this.console = new Console(this.cpus, this.sched, this.mem, (l) => opts.onConsole?.(l), this.logger("console"));
    this.sysctl = new Sysctl(this.sched, this.logger("sysctl"));
    this.locals = [[LAPIC_BASE, this.lapic], [TIMER_BASE, this.timer], [CONSOLE_BASE, this.console], [SYSCTL_BASE, this.sysctl]];
    if (config.costs.dmaLineMiss > 0) this.dmaLines = new DmaLines(config.memoryBytes, config.costs.dmaLineMiss, this.cpus);
  }

  static create(config: BoardConfig, opts: BoardOptions = {}): Board {
    const b = new Board(config, opts);
    b.writeBootInfo();
    config.cpus.forEach((c, i) => {
      if (c.wasm === "host") b.cpus[i].attachHost(() => {});
      else b.loadGuest(i, opts.wasmBytes?.[i] ?? readGuest(c.wasm));
    });
    config.cpus.forEach((c, i) => b.cpus[i].powerOn(c.bootAtNs));
    return b;
  }

  log(kind: LogKind, msg: string): void {
    this.logCounts[kind] = (this.logCounts[kind] ?? 0) + 1;
    this.opts.onLog?.(kind, msg);
  }

  /** A level-triggered line into `cpu`'s interrupt controller. */
  irqLine(cpu: number, line: number): IrqLine {
    const c = this.cpus[cpu];
    if (!c) throw new Error(`board: no cpu ${cpu} for IRQ ${line}`);
    let level = false;
    return {
      set: (l: boolean): void => {
        if (l === level) return;
        level = l;
        c.setLevel(line, l);
      },
    };
  }

  /** A device's log sink: every message goes out as "<name>: <message>". */
  logger(name: string): DeviceLog {
    return (kind, msg) => this.log(kind, `${name}: ${msg}`);
  }

  /** What a device behind a controller gets (a SCSI disk): time, its own RNG stream,
   *  trace and log. */
  targetContext(name: string, trace?: (line: string) => void): TargetContext {
    return { sched: this.sched, rng: this.rng.fork(name), trace, log: this.logger(name) };
  }

  /** What a device on the bus gets: the same, plus RAM for DMA and its IRQ line. */
  deviceContext(name: string, cpu: number, line: number, trace?: (line: string) => void): DeviceContext {
    const lines = this.dmaLines;
    return {
      ...this.targetContext(name, trace), mem: this.mem, irq: this.irqLine(cpu, line),
      ...(lines ? { dmaWritten: (addr: number, len: number, control: boolean) => lines.deviceWrote(cpu, addr, len, control) } : {}),
    };
  }

  /** Map a device's register window at `base`. */
  addDevice(base: number, dev: MmioDevice): void {
    const end = base + dev.size;
    for (const m of this.mappings) {
      if (base < m.end && m.base < end) throw new Error(`board: ${dev.name} at 0x${base.toString(16)} overlaps ${m.dev.name}`);
    }
    this.mappings.push({ base, end, dev });
  }

  run(untilNs: number): void {
    this.sched.runUntil(untilNs);
  }

  summary(): BoardSummary {
    const t = this.sched.now;
    return {
      simTimeNs: t,
      events: this.sched.events,
      traceHash: this.sched.traceHash,
      cpus: this.cpus.map((c) => ({
        name: c.guestName,
        state: c.state,
        busyCycles: c.busyCycles,
        idleCycles: Math.max(0, nsToCycles(c.costs, t) - c.busyCycles),
        load: t > 0 ? Math.min(1, c.busyCycles / nsToCycles(c.costs, t)) : 0,
        runs: c.runs,
        interrupts: c.delivered,
        ...(c.report ? { fault: c.report } : {}),
      })),
      consoleLines: this.console.lines.length,
      logs: { ...this.logCounts },
    };
  }

  private writeBootInfo(): void {
    this.config.cpus.forEach((c, i) => {
      const base = BOOTINFO_BASE + i * BOOTINFO_SIZE;
      this.mem.dv.setUint32(base + BOOT_MAGIC, BOOT_MAGIC_VALUE, true);
      for (const [off, v] of Object.entries(c.bootArgs)) {
        const o = Number(off);
        if (o <= 0 || o >= BOOTINFO_SIZE || o % 4 !== 0) throw new Error(`board: boot argument offset ${off} is invalid`);
        this.mem.dv.setUint32(base + o, v >>> 0, true);
      }
    });
  }

  private loadGuest(i: number, raw: Uint8Array): void {
    const c = this.config.cpus[i];
    const cpu = this.cpus[i];
    const costs = this.config.costs;
    const { bytes, info } = meterModule(raw, { copy: costs.copyPerByte, fill: costs.fillPerByte, weights: costs.weights });
    checkPartition(c.name, info, c.partition);
    const module = new WebAssembly.Module(bytes as BufferSource);
    const mem = this.mem;
    const imports = {
      env: {
        memory: mem.memory,
        heap_end: new WebAssembly.Global({ value: "i32", mutable: false }, c.partition.end | 0),
        heap_exhausted: (size: number, top: number): never => {
          throw new GuestFault("partition", `allocation of ${size >>> 0} bytes at 0x${(top >>> 0).toString(16)} would pass the end of partition ${c.name} (0x${c.partition.end.toString(16)})`);
        },
        abort: (msg: number, file: number, line: number, col: number): never => {
          throw new GuestFault("abort", `abort: ${readAsString(mem, msg)} at ${readAsString(mem, file)}:${line}:${col}`);
        },
        mmio_read: (addr: number, width: number): number => this.mmioRead(cpu, addr >>> 0, width),
        mmio_write: (addr: number, width: number, value: number): void => this.mmioWrite(cpu, addr >>> 0, width, value >>> 0),
        // The guest will read [addr, addr+len) that a device may have written by DMA:
        // the cold lines cost their misses (nothing under a model without memory).
        dma_sync_for_cpu: (addr: number, len: number): void => {
          if (this.dmaLines) cpu.extra += this.dmaLines.syncForCpu(i, addr >>> 0, len >>> 0);
        },
        ...(this.opts.kernelImports?.[i] ?? {}),
      },
    };
    const instance = new WebAssembly.Instance(module, imports);
    cpu.attach(instance, info);
  }

  private checkAccess(cpu: Cpu, addr: number, width: number): void {
    if ((width !== 1 && width !== 2 && width !== 4) || addr % width !== 0) {
      throw new GuestFault("bad-access", `cpu${cpu.id}: MMIO access of width ${width} at 0x${addr.toString(16)} (must be 1, 2 or 4 bytes, aligned)`);
    }
  }

  private local(addr: number): Local | undefined {
    for (const [base, dev] of this.locals) if (addr >= base && addr < base + dev.size) return dev;
    return undefined;
  }

  private mapping(addr: number): Mapping | undefined {
    for (const m of this.mappings) if (addr >= m.base && addr < m.end) return m;
    return undefined;
  }

  private mmioRead(cpu: Cpu, addr: number, width: number): number {
    this.checkAccess(cpu, addr, width);
    const local = this.local(addr);
    if (local) {
      cpu.extra += cpu.costs.localRegAccess;
      this.sched.setLocalTime(cpu.localTime()); // the device sees the access at the guest's clock
      return local.read(cpu, addr & 0xfff, width as Width) >>> 0;
    }
    cpu.extra += cpu.costs.mmioRead;
    this.sched.setLocalTime(cpu.localTime());
    const m = this.mapping(addr);
    if (!m) {
      this.log("guest-error", `cpu${cpu.id}: read of unmapped address 0x${addr.toString(16)} (master abort, all ones)`);
      return width === 4 ? 0xffffffff : width === 2 ? 0xffff : 0xff;
    }
    return m.dev.read(addr - m.base, width as Width) >>> 0;
  }

  private mmioWrite(cpu: Cpu, addr: number, width: number, value: number): void {
    this.checkAccess(cpu, addr, width);
    const local = this.local(addr);
    if (local) {
      cpu.extra += cpu.costs.localRegAccess;
      this.sched.setLocalTime(cpu.localTime());
      local.write(cpu, addr & 0xfff, width as Width, value);
      return;
    }
    cpu.extra += cpu.costs.mmioWrite;
    this.sched.setLocalTime(cpu.localTime());
    const m = this.mapping(addr);
    if (!m) {
      this.log("guest-error", `cpu${cpu.id}: write of unmapped address 0x${addr.toString(16)} ignored`);
      return;
    }
    m.dev.write(addr - m.base, width as Width, value);
  }
}

function readGuest(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`board: cannot read guest ${path} (${(e as Error).message}); run \`npm run build\``);
  }
}

/** A guest's static data must lie inside its partition (its heap is bounded by the runtime). */
export function checkPartition(name: string, info: ModuleInfo, p: { base: number; end: number }): void {
  for (const d of info.data) {
    if (d.offset < p.base || d.offset + d.size > p.end) {
      throw new Error(`board: guest ${name} has static data at 0x${d.offset.toString(16)}+${d.size}, outside its partition 0x${p.base.toString(16)}-0x${p.end.toString(16)} (compile it with --memoryBase ${p.base})`);
    }
  }
}

/** An AssemblyScript string (UTF-16, byte length at ptr - 4) from RAM, defensively. */
function readAsString(mem: PhysMem, ptr: number): string {
  ptr >>>= 0;
  if (ptr < 4 || !mem.inRam(ptr - 4, 4)) return "?";
  const len = mem.dv.getUint32(ptr - 4, true);
  if (len > 4096 || !mem.inRam(ptr, len)) return "?";
  let s = "";
  for (let i = 0; i + 1 < len; i += 2) s += String.fromCharCode(mem.dv.getUint16(ptr + i, true));
  return s;
}
