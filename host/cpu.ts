// An emulated CPU: one metered WebAssembly guest kernel, run to completion per entry.
//
// Execution model (DESIGN.md "The board"): the guest exports boot() and irq(vector).
// When the CPU is idle and an interrupt line is pending, the CPU enters the guest at
// the current virtual time T. The guest runs to completion; every import it calls
// sees the CPU's local time T + cycles-so-far (metered instructions plus the cost
// table's charges; the board hands it to the scheduler, sched.setLocalTime, before
// each device access), so device accesses carry exact timestamps. When it returns, the
// CPU is busy until T + all its cycles, then takes the next pending interrupt or
// halts. Interrupts that arrive while it runs or is busy wait (pending bits).
//
// A run is atomic in event order: other events stamped inside [T, T + run] are
// processed after it. That is the one approximation of the model: shared memory
// written by a run is visible from the run's start to events processed after it.
//
// Containment: a WebAssembly trap, a guest abort(), a runaway loop (the metering
// watchdog) or a partition fault stops this CPU with a report (guest function from
// the names section, virtual time); the board and the other CPU go on. Errors that
// are not the guest's (a bug in a device model) are rethrown: they must be seen.
//
// Accounting: busy cycles in total, and busy ns per load window (load = busy/window),
// kept in bounded memory: full resolution for a recent horizon, older history
// downsampled (load-windows.ts).
//
// User mode (the BSD kernel's processes, host/proc/engine.ts): a kernel may leave a
// process selected to run when its entry returns. When the CPU would go idle with no
// interrupt deliverable, it enters user mode: the attached UserMode runs the process
// (a separate, metered WebAssembly instance) from the current time. Unlike a kernel
// run, user mode is NOT atomic in event order: the engine stops the process at the
// first metered loop head past the next event, processes the events due by the CPU's
// local time, and goes on unless an interrupt is now deliverable here, which ends user
// mode at that loop head (the process is suspended by asyncify) and the CPU enters the
// kernel's irq() as hardware would. System calls enter the kernel in the middle of user
// mode through kernelCall(), charged like any kernel entry.

import type { CostTable } from "./costs.js";
import { cyclesToNs } from "./costs.js";
import type { Scheduler, Handler } from "./sched.js";
import { CYCLES_EXPORT, LIMIT_EXPORT, type ModuleInfo } from "./meter.js";
import { LoadWindows } from "./load-windows.js";

/** A fault the guest caused (not a host bug): stops the CPU, never the host. */
export class GuestFault extends Error {
  constructor(readonly kind: "partition" | "abort" | "bad-access", message: string) {
    super(message);
  }
}

export interface CpuReport {
  cpu: number;
  guest: string;
  kind: "trap" | "runaway" | "partition" | "abort" | "bad-access";
  message: string;
  function: string;
  timeNs: number;
}

export type CpuState = "off" | "idle" | "running" | "busy" | "user" | "stopped";

/** What a CPU needs of a user-mode engine (host/proc/engine.ts). */
export interface UserMode {
  /** True when the kernel has a process selected to run. */
  wants(): boolean;
  /** Run user code from the CPU's current time. Charges go through cpu.extra (see
   *  Cpu.enterUser); it returns when the process blocks or exits with nothing else
   *  selected, or when an interrupt is deliverable here. */
  run(): void;
}

/** Thrown through user mode when the kernel itself faulted in a system call. */
export class KernelFault extends Error {}

interface GuestExports {
  boot?: () => void;
  irq?: (vector: number) => void;
  _start?: () => void;
}

export class Cpu {
  state: CpuState = "off";
  /** Pending interrupt lines (bitmask); edge lines clear on delivery. */
  pending = 0;
  /** Level lines currently asserted (bitmask); they stay pending while asserted. */
  levels = 0;
  /** Masked lines (bitmask). */
  mask = 0;
  /** Total busy cycles since power-on. */
  busyCycles = 0;
  /** Interrupts delivered, runs made. */
  delivered = 0;
  runs = 0;
  /** Set when the CPU stopped on a guest fault. */
  report: CpuReport | undefined;
  /** Busy ns per load window (window i = [i * windowNs, (i + 1) * windowNs)). */
  readonly windows: LoadWindows;

  private exports: GuestExports = {};
  private cycles!: WebAssembly.Global;
  private limit!: WebAssembly.Global;
  private info!: ModuleInfo;
  private runStart = 0;
  /** Counter units per cycle (the cost model's meter scale; 1 under flat). */
  private readonly unit: number;
  /** Cycles to charge at the start of the next run (chargeNextRun). */
  private pendingCycles = 0;
  /** Cycles charged by imports and entry costs in the current run. */
  extra = 0;
  private readonly dispatchH: Handler;
  private readonly doneH: Handler;
  private readonly resumeH: Handler;
  private dispatchQueued = false;
  /** The engine that runs this CPU's processes, if its kernel has any. */
  user: UserMode | undefined;
  /** Cycles spent in user mode (processes), and in kernel calls made from it. */
  userCycles = 0;
  kernelCalls = 0;

  constructor(
    readonly id: number,
    readonly guestName: string,
    readonly costs: CostTable,
    private readonly sched: Scheduler,
    readonly windowNs: number,
    /** Cycles one run may take before the watchdog calls it a runaway. */
    private readonly runCycleLimit: number,
  ) {
    this.unit = costs.weights?.scale ?? 1;
    this.windows = new LoadWindows(windowNs);
    this.dispatchH = sched.handler(`cpu${id}.dispatch`, () => this.dispatch());
    this.doneH = sched.handler(`cpu${id}.done`, () => this.runDone());
    this.resumeH = sched.handler(`cpu${id}.user`, () => {
      if (this.state !== "idle") return;
      if (this.user !== undefined && this.deliverable() === 0 && this.user.wants()) this.enterUser();
      else this.kick();
    });
  }

  /**
   * Make this a host-driven CPU: no guest; each interrupt calls `handler(line)` (at
   * the interrupt's time, zero cycles). Experiments use one to stand in for a kernel
   * on the mailbox (host/peer.ts).
   */
  attachHost(handler: (line: number) => void): void {
    this.exports = { boot: () => {}, irq: handler };
    this.cycles = new WebAssembly.Global({ value: "i64", mutable: true }, 0n);
    this.limit = new WebAssembly.Global({ value: "i64", mutable: true }, 0n);
    this.info = { data: [], functionNames: new Map(), importedFunctions: 0, importedGlobals: 0, definedGlobals: 0 };
    this.hostDriven = true;
  }

  /** True for a CPU attached with attachHost. */
  hostDriven = false;

  /** The guest's exports (its kernel's entry points and globals). */
  get guestExports(): WebAssembly.Exports {
    return this.exports as unknown as WebAssembly.Exports;
  }

  /** Attach the instantiated guest (exports include the metering globals). */
  attach(instance: WebAssembly.Instance, info: ModuleInfo): void {
    const ex = instance.exports as Record<string, unknown>;
    this.exports = ex as GuestExports;
    this.cycles = ex[CYCLES_EXPORT] as WebAssembly.Global;
    this.limit = ex[LIMIT_EXPORT] as WebAssembly.Global;
    this.info = info;
  }

  /** Power on: run _start (static initialisers) and boot() at time `at`. */
  powerOn(at: number): void {
    const h = this.sched.handler(`cpu${this.id}.boot`, () => {
      this.state = "idle";
      this.enter(-1);
    });
    this.sched.at(at, h);
  }

  /** Current local time: run start + cycles so far. Valid during a run. */
  localTime(): number {
    return this.runStart + cyclesToNs(this.costs, this.cyclesSoFar());
  }

  cyclesSoFar(): number {
    return this.metered() + this.extra;
  }

  /** The guest's metered cycles in this run: its counter counts 1/unit cycle (the cost
   *  model's weights, host/meter.ts; unit 1 under the flat model). */
  private metered(): number {
    const v = Number(this.cycles.value);
    return this.unit === 1 ? v : Math.floor(v / this.unit);
  }

  /** Charge cycles the CPU will spend on its next run (memory-system costs of device
   *  writes it must read: host/board.ts, cost model v2). */
  chargeNextRun(cycles: number): void {
    this.pendingCycles += cycles;
  }

  /** An interrupt controller input changed or an edge arrived. */
  raise(line: number): void {
    this.pending |= 1 << line;
    this.kick();
  }

  setLevel(line: number, level: boolean): void {
    const bit = 1 << line;
    if (level) this.levels |= bit;
    else this.levels &= ~bit;
    if (level) this.kick();
  }

  deliverable(): number {
    return (this.pending | this.levels) & ~this.mask;
  }

  /** If idle with something deliverable, dispatch at the current time (one event). */
  kick(): void {
    if (this.state === "idle" && !this.dispatchQueued && this.deliverable() !== 0) {
      this.dispatchQueued = true;
      this.sched.at(this.sched.now, this.dispatchH);
    }
  }

  private dispatch(): void {
    this.dispatchQueued = false;
    if (this.state !== "idle") return;
    const ready = this.deliverable();
    if (ready === 0) return;
    const line = 31 - Math.clz32(ready & -ready); // lowest line number first
    this.pending &= ~(1 << line);
    this.delivered++;
    this.enter(line);
  }

  /** Enter the guest: boot (line -1) or irq(line). */
  private enter(line: number): void {
    const start = this.sched.now;
    this.runStart = start;
    this.state = "running";
    this.runs++;
    this.cycles.value = 0n;
    this.limit.value = BigInt(this.runCycleLimit * this.unit);
    this.extra = this.hostDriven ? 0 : (line >= 0 ? this.costs.interruptEntryExit : 0) + this.pendingCycles;
    this.pendingCycles = 0;
    let fault: unknown;
    try {
      if (line < 0) {
        this.exports._start?.();
        this.exports.boot?.();
      } else {
        this.exports.irq?.(line);
      }
    } catch (e) {
      fault = e;
    }
    const total = this.cyclesSoFar();
    this.busyCycles += total;
    const end = start + cyclesToNs(this.costs, total);
    this.account(start, end);
    this.sched.endLocalTime(); // the run's events are stamped; time resumes from T
    if (fault !== undefined) {
      this.stop(fault, end);
      return;
    }
    this.state = "busy";
    this.sched.at(end, this.doneH);
  }

  private runDone(): void {
    if (this.state !== "busy") return;
    this.state = "idle";
    if (this.user !== undefined && this.deliverable() === 0 && this.user.wants()) this.enterUser();
    else this.kick();
  }

  /**
   * User mode from now on. The engine folds every cycle it runs into `extra`
   * (process cycles, system-call charges, kernel cycles of calls made from user mode)
   * and keeps the scheduler's events processed up to the CPU's local time. When it
   * returns, the CPU is idle at its local time and takes any deliverable interrupt.
   */
  private enterUser(): void {
    const start = this.sched.now;
    this.runStart = start;
    this.state = "user";
    this.cycles.value = 0n;
    this.extra = this.pendingCycles;
    this.pendingCycles = 0;
    let fault: unknown;
    try {
      this.user!.run();
    } catch (e) {
      fault = e;
    }
    const total = this.cyclesSoFar();
    this.busyCycles += total;
    this.userCycles += total;
    const end = start + cyclesToNs(this.costs, total);
    this.account(start, end);
    if (fault !== undefined) {
      this.stop(fault instanceof KernelFault && fault.cause !== undefined ? fault.cause : fault, end);
      return;
    }
    if (this.sched.now < end) this.sched.runUntil(end); // events due by the end of user mode
    this.state = "idle";
    // User mode stopped at the end of the run the host asked for (the scheduler's
    // horizon) with the process still selected: it resumes there, at the next run.
    if (this.deliverable() === 0 && this.user!.wants() && !this.sched.halted) this.sched.at(this.sched.now, this.resumeH);
    else this.kick();
  }

  /**
   * Enter the kernel from user mode (a system call or a fault upcall): its metered
   * counter restarts at 0, `entryCost` is charged, and its cycles are folded into the
   * user-mode run when it returns. A fault in the kernel becomes KernelFault, which
   * ends user mode and stops the CPU with the kernel's report.
   */
  kernelCall<T>(entryCost: number, fn: () => T): T {
    this.kernelCalls++;
    this.cycles.value = 0n;
    this.extra += entryCost;
    try {
      return fn();
    } catch (e) {
      if (e instanceof GuestFault || e instanceof WebAssembly.RuntimeError) throw new KernelFault("kernel fault in a system call", { cause: e });
      throw e;
    } finally {
      this.extra += this.metered();
      this.cycles.value = 0n;
    }
  }

  private stop(e: unknown, timeNs: number): void {
    const overLimit = this.metered() > this.runCycleLimit;
    let kind: CpuReport["kind"];
    let message: string;
    if (e instanceof GuestFault) {
      kind = e.kind;
      message = e.message;
    } else if (e instanceof RangeError && /call stack/i.test(e.message)) {
      kind = "trap"; // a guest's recursion overflowed the host's stack
      message = "stack overflow";
    } else if (e instanceof WebAssembly.RuntimeError) {
      kind = overLimit ? "runaway" : "trap";
      message = overLimit ? `no return after ${this.runCycleLimit} cycles (runaway loop)` : e.message;
    } else {
      throw e; // not the guest's fault: a host bug must not be hidden
    }
    this.state = "stopped";
    this.report = { cpu: this.id, guest: this.guestName, kind, message, function: this.guestFunction(e), timeNs };
  }

  /** Name of the innermost guest function on the error's stack. */
  private guestFunction(e: unknown): string {
    const stack = e instanceof Error && typeof e.stack === "string" ? e.stack : "";
    for (const line of stack.split("\n")) {
      const m = /wasm-function\[(\d+)\]/.exec(line);
      if (m) {
        const idx = Number(m[1]);
        return this.info.functionNames.get(idx) ?? `function ${idx}`;
      }
    }
    return "(host import)";
  }

  /** Add busy time [start, end) to the load windows. */
  private account(start: number, end: number): void {
    this.windows.add(start, end);
  }

  /** Load (0..1) of each window from time `from` up to time `until`. Windows older
   *  than the full-resolution horizon read as their downsampled mean. */
  loadSeries(until: number, from = 0): number[] {
    return this.windows.series(until, from);
  }
}
