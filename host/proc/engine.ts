// The host's side of BSD processes: the "MMU and trap hardware" of the CPU the BSD
// kernel runs on. The kernel (guest-bsd/) owns the process table and makes every
// scheduling decision; this engine only carries them out:
//   - proc_create(pid, image): instantiate a WASI program the kernel read from its
//     disk (instrumented by host/proc/instrument.ts: metered, preemptible, asyncified)
//     as its own WebAssembly instance with its own memory (its address space);
//   - user mode (Cpu.user): run the process the kernel selected (its exported global
//     `curproc`) until an interrupt is deliverable, it blocks, or it exits;
//   - system calls: every WASI import enters the kernel (host/proc/wasi.ts marshals
//     the arguments; the kernel's export `syscall` does the work);
//   - faults: a trap in a process is reported to the kernel (export `trap`), which
//     kills it; the board and the kernel go on.
//
// Suspending a process in the middle of a call is asyncify's unwind/rewind (DESIGN.md
// "Blocking code in a guest"): at a blocked system call (the kernel answered
// SYS_BLOCK: the call is re-issued when the process runs again), at a metered loop
// head when an interrupt is due (bsd.preempt), or after a system call when the kernel
// switched to another process (the call's result is kept and returned on rewind).
// The metered instruction count is identical whether or not a process is suspended:
// asyncify's own code is added after metering and is never charged.
//
// Time in user mode: a process runs until the first loop head past the board's next
// event (its __preempt_at global); there the engine processes every event due by the
// CPU's local time, and the process goes on unless one of them made an interrupt
// deliverable on this CPU. So interrupts reach the kernel within one loop iteration of
// their time, and a process can never hold the CPU against the kernel's clock.
//
// Costs (host/costs.ts): syscallEntryExit per WASI call, contextSwitch each time user
// mode resumes a different process than the last, copyPerByte for every byte moved
// between a process's memory and the kernel's SYSBUF. Per process the engine keeps
// the cycles it ran itself and the cycles the kernel spent on its behalf.
//
// Interface:
//   new ProcessEngine(board, cpuIndex, loader)
//   kernelCreate/kernelDestroy/kernelCycles      the kernel's env.proc_* imports
//   engine.attach(kernelExports)                 after the kernel is instantiated
//   engine.procs, engine.stats                   for reports (bsd exec, tests)

import type { Board } from "../board.js";
import { type Cpu, type UserMode, KernelFault } from "../cpu.js";
import { copyCycles, cyclesToNs, nsToCycles, type CostTable } from "../costs.js";
import { makeWasiImports, type ProcImports } from "./wasi.js";
import { asyncifyData } from "./instrument.js";
import { SYSBUF_SIZE, SYS_BLOCK, SYS_EXIT, TRAP_TRAP, TRAP_STACK } from "../../common/bsd-abi.js";

/** A system call's argument: a number, or a bigint where 64 bits matter (times). */
type Arg = number | bigint;
const SYS_BLOCK_BIG = BigInt(SYS_BLOCK);

/** A compiled, instrumented program and what the engine needs to know of it. */
export interface LoadedProgram {
  module: WebAssembly.Module;
  /** Function index -> name (the names section), for fault reports. */
  functionNames: Map<number, string>;
  /** Pages at the top of its memory the program never sees: asyncify's buffer. */
  reservedPages: number;
}

/** Turns a program image into a LoadedProgram metered under the CPU's cost model
 *  (host/costs.ts), or throws an Error whose message says why not. */
export type ProgramLoader = (image: Uint8Array, costs: CostTable) => LoadedProgram;

/** The call was refused with SYS_BLOCK: unwind; re-issue it when the process runs again.
 *  Not an Error: it is thrown at every blocking call, and an Error would capture a
 *  stack trace each time (that was most of a context switch's host time). */
export class WouldBlock {}
const WOULD_BLOCK = new WouldBlock();
/** The process called exit (or _start returned): its instance is done. */
export class ProcExit extends Error {}

/** The kernel's exports the engine uses. */
interface KernelExports {
  syscall(nr: number, a0: bigint, a1: bigint, a2: bigint, a3: bigint, a4: bigint, a5: bigint): bigint;
  trap(pid: number, kind: number): void;
  curproc: WebAssembly.Global;
  sysbuf: WebAssembly.Global;
}

/** A process's exports after instrumentation. */
interface ProcExports {
  memory: WebAssembly.Memory;
  _start(): void;
  __cycles: WebAssembly.Global;
  __preempt_at: WebAssembly.Global;
  asyncify_start_unwind(p: number): void;
  asyncify_stop_unwind(): void;
  asyncify_start_rewind(p: number): void;
  asyncify_stop_rewind(): void;
  asyncify_get_state(): number;
}

const ASYNC_UNWINDING = 1;
const ASYNC_REWINDING = 2;
const MAX_PREEMPT = 2n ** 62n;

export class Proc {
  status: "new" | "running" | "suspended" | "dead" = "new";
  /** The asyncify data structure of the current suspension (in the reserved pages). */
  asyncPtr = 0;
  /** A finished call's result, returned when the process is rewound into it. */
  stash: number | undefined;
  /** Cycles the process ran itself, and the kernel's on its behalf (entry, copies, kernel code). */
  userCycles = 0;
  kernelCycles = 0;
  syscalls = 0;
  /** Metered count at the start of the current stretch (folded into the CPU as it goes). */
  segStart = 0;
  /** Inside one import call: bytes already moved (a blocking call may only block before any). */
  moved = 0;
  readonly exports: ProcExports;
  readonly imports: ProcImports;

  /** Counter units per cycle: the cost model's meter scale (1 under flat, 4 under p6). */
  readonly unit: number;

  constructor(readonly pid: number, readonly program: LoadedProgram, engine: ProcessEngine) {
    this.unit = engine.unit;
    this.imports = makeWasiImports(engine, this);
    const instance = new WebAssembly.Instance(program.module, this.imports.object as WebAssembly.Imports);
    this.exports = instance.exports as unknown as ProcExports;
    this.imports.attach(this.exports.memory);
  }

  get memory(): WebAssembly.Memory {
    return this.exports.memory;
  }
  /** Cycles the process has run (its counter counts 1/unit cycle). */
  get cycles(): number {
    const v = Number(this.exports.__cycles.value);
    return this.unit === 1 ? v : Math.floor(v / this.unit);
  }
}

/** What a process cost, kept when it ends. */
export interface ProcRecord {
  pid: number;
  userCycles: number;
  kernelCycles: number;
  syscalls: number;
  /** How it ended: "exit", "fault" or "killed" (ended by the kernel while suspended). */
  end: string;
}

export interface EngineStats {
  created: number;
  exited: number;
  faults: number;
  refused: number;
  suspensions: number;
  contextSwitches: number;
  syscalls: number;
}

export class ProcessEngine implements UserMode {
  readonly procs = new Map<number, Proc>();
  /** Processes that have ended, by pid. */
  readonly ended = new Map<number, ProcRecord>();
  readonly stats: EngineStats = { created: 0, exited: 0, faults: 0, refused: 0, suspensions: 0, contextSwitches: 0, syscalls: 0 };
  /** The last load failure's message (also written to the kernel's SYSBUF). */
  lastError = "";
  readonly cpu: Cpu;
  readonly costs: CostTable;
  /** Counter units per cycle of the processes' meters. */
  readonly unit: number;
  private kernel!: KernelExports;
  private current: Proc | undefined;
  private lastPid = 0;

  constructor(readonly board: Board, cpuIndex: number, private readonly loader: ProgramLoader) {
    this.cpu = board.cpus[cpuIndex];
    this.costs = this.cpu.costs;
    this.unit = this.costs.weights?.scale ?? 1;
  }

  // The kernel's imports (env.proc_*; host/machine.ts forwards them here).
  kernelCreate(pid: number, image: number, len: number): number {
    return this.create(pid, image >>> 0, len >>> 0);
  }
  kernelDestroy(pid: number): void {
    this.destroy(pid);
  }
  kernelCycles(pid: number): bigint {
    return BigInt(this.procs.get(pid)?.userCycles ?? 0);
  }

  attach(kernel: WebAssembly.Exports): void {
    this.kernel = kernel as unknown as KernelExports;
    for (const name of ["syscall", "trap", "curproc", "sysbuf"]) {
      if (!(name in kernel)) throw new Error(`process engine: the kernel does not export ${name}`);
    }
    this.cpu.user = this;
  }

  // ---- the kernel's requests --------------------------------------------------------

  private create(pid: number, image: number, len: number): number {
    const mem = this.board.mem;
    if (!mem.inRam(image, len) || this.procs.has(pid)) return -1;
    let prog: LoadedProgram;
    let proc: Proc;
    try {
      prog = this.loader(mem.u8.slice(image, image + len), this.costs);
      proc = new Proc(pid, prog, this);
    } catch (e) {
      this.stats.refused++;
      this.reportToKernel((e as Error).message);
      return -1;
    }
    this.procs.set(pid, proc);
    this.stats.created++;
    // Instantiation copies the data segments into the new address space.
    this.cpu.extra += copyCycles(this.costs, len);
    return proc.memory.buffer.byteLength / 65536;
  }

  private destroy(pid: number): void {
    const p = this.procs.get(pid);
    if (!p) return;
    const end = p.status === "running" ? "exit" : p.status === "dead" ? "fault" : "killed";
    p.status = "dead";
    this.procs.delete(pid);
    this.ended.set(pid, { pid, userCycles: p.userCycles, kernelCycles: p.kernelCycles, syscalls: p.syscalls, end });
  }

  /** A process's costs so far, live or ended. */
  record(pid: number): ProcRecord | undefined {
    const p = this.procs.get(pid);
    if (p) return { pid, userCycles: p.userCycles, kernelCycles: p.kernelCycles, syscalls: p.syscalls, end: "running" };
    return this.ended.get(pid);
  }

  /** Text for the kernel to print (a load failure, a fault): NUL-terminated at SYSBUF. */
  private reportToKernel(text: string): void {
    this.lastError = text;
    const bytes = new TextEncoder().encode(text.slice(0, 400));
    const at = this.sysbuf;
    this.board.mem.u8.set(bytes, at);
    this.board.mem.u8[at + bytes.length] = 0;
  }

  get sysbuf(): number {
    return Number(this.kernel.sysbuf.value) >>> 0;
  }

  // ---- user mode ------------------------------------------------------------------------

  wants(): boolean {
    return this.kernel !== undefined && this.curproc() !== 0;
  }

  private curproc(): number {
    return this.kernel.curproc.value as number;
  }

  run(): void {
    for (;;) {
      const pid = this.curproc();
      if (pid === 0 || this.cpu.deliverable() !== 0 || this.board.sched.halted || this.cpu.localTime() > this.board.sched.horizon) return;
      const p = this.procs.get(pid);
      if (!p || p.status === "dead") throw new Error(`process engine: the kernel selected pid ${pid}, which has no live address space`);
      if (pid !== this.lastPid) {
        if (this.lastPid !== 0) {
          this.cpu.extra += this.costs.contextSwitch;
          p.kernelCycles += this.costs.contextSwitch;
          this.stats.contextSwitches++;
        }
        this.lastPid = pid;
      }
      this.resume(p);
    }
  }

  private resume(p: Proc): void {
    const ex = p.exports;
    this.current = p;
    p.segStart = p.cycles;
    ex.__preempt_at.value = this.preemptAt(p);
    try {
      if (p.status === "suspended") ex.asyncify_start_rewind(p.asyncPtr);
      p.status = "running";
      ex._start();
      this.fold(p);
      if (ex.asyncify_get_state() === ASYNC_UNWINDING) {
        ex.asyncify_stop_unwind();
        p.status = "suspended";
        this.stats.suspensions++;
        return;
      }
      // _start returned: WASI says that is exit(0).
      this.sys(p, SYS_EXIT, 0);
      this.finish(p);
    } catch (e) {
      this.fold(p);
      if (e instanceof ProcExit) this.finish(p);
      else if (e instanceof KernelFault) throw e;
      else if (e instanceof WebAssembly.RuntimeError || isStackOverflow(e)) this.fault(p, e as Error);
      else throw e;
    } finally {
      this.current = undefined;
    }
  }

  private finish(p: Proc): void {
    p.status = "dead";
    this.stats.exited++;
  }

  private fault(p: Proc, e: Error): void {
    const where = faultFunction(e, p.program.functionNames);
    const kind = isStackOverflow(e) ? TRAP_STACK : TRAP_TRAP;
    this.stats.faults++;
    this.reportToKernel(`${kind === TRAP_STACK ? "stack overflow" : e.message} in ${where}`);
    this.kernelCall(p, () => this.kernel.trap(p.pid, kind));
    p.status = "dead";
  }

  // ---- system calls ----------------------------------------------------------------------

  /** Add the process's cycles since the last fold to the CPU's run and to its own account. */
  fold(p: Proc): void {
    const c = p.cycles;
    const d = c - p.segStart;
    if (d > 0) {
      this.cpu.extra += d;
      p.userCycles += d;
    }
    p.segStart = c;
  }

  /** Process every board event due by the CPU's local time (nested in user mode). */
  catchUp(): void {
    const t = this.cpu.localTime();
    if (this.board.sched.nextTime <= t) this.board.sched.runUntil(t);
  }

  /** Whether user mode must stop now: an interrupt is due here, the kernel chose
   *  another process, the board is off, or the run the host asked for has reached its
   *  end (the scheduler's horizon: user mode resumes there at the next run). */
  private mustStop(p: Proc): boolean {
    const s = this.board.sched;
    return this.cpu.deliverable() !== 0 || this.curproc() !== p.pid || s.halted || this.cpu.localTime() > s.horizon;
  }

  /** The metered count at which the process must look at the board again. */
  private preemptAt(p: Proc): bigint {
    const next = Math.min(this.board.sched.nextTime, this.board.sched.horizon);
    if (next === Infinity) return MAX_PREEMPT;
    const now = this.cpu.localTime();
    const ahead = next > now ? nsToCycles(this.costs, next - now) + 1 : 1;
    return p.exports.__cycles.value + BigInt(ahead * this.unit);
  }

  /** Run fn as a kernel entry on behalf of p (kernel cycles charged to p). */
  kernelCall<T>(p: Proc, fn: () => T): T {
    const before = this.cpu.extra;
    try {
      return this.cpu.kernelCall(0, fn);
    } finally {
      p.kernelCycles += this.cpu.extra - before;
    }
  }

  /** One system call into the kernel; throws WouldBlock on SYS_BLOCK. */
  sys(p: Proc, nr: number, a0: Arg = 0, a1: Arg = 0, a2: Arg = 0, a3: Arg = 0, a4: Arg = 0, a5: Arg = 0): number {
    return Number(this.sys64(p, nr, a0, a1, a2, a3, a4, a5));
  }

  /** The same, with the 64-bit result (times in ns need all their bits). */
  sys64(p: Proc, nr: number, a0: Arg = 0, a1: Arg = 0, a2: Arg = 0, a3: Arg = 0, a4: Arg = 0, a5: Arg = 0): bigint {
    const r = this.kernelCall(p, () => this.kernel.syscall(nr, BigInt(a0), BigInt(a1), BigInt(a2), BigInt(a3), BigInt(a4), BigInt(a5)));
    if (r === SYS_BLOCK_BIG) throw WOULD_BLOCK;
    return r;
  }

  /** Charge a copy of n bytes between p and the kernel. */
  copy(p: Proc, n: number): void {
    const c = copyCycles(this.costs, n);
    this.cpu.extra += c;
    p.kernelCycles += c;
  }

  /**
   * Wrap a WASI (or bsd.*) import: the rewind protocol, the entry cost, blocking, and
   * the switch after the call. `impl` returns the import's result.
   */
  wrap<A extends unknown[]>(p: Proc, impl: (...args: A) => number, opts: { entry?: boolean } = {}): (...args: A) => number {
    return (...args: A): number => {
      const ex = p.exports;
      if (ex.asyncify_get_state() === ASYNC_REWINDING) {
        ex.asyncify_stop_rewind();
        if (p.stash !== undefined) {
          const r = p.stash;
          p.stash = undefined;
          this.afterCall(p);
          return r;
        }
      }
      this.fold(p);
      this.catchUp();
      if (opts.entry !== false) {
        this.cpu.extra += this.costs.syscallEntryExit;
        p.kernelCycles += this.costs.syscallEntryExit;
        p.syscalls++;
        this.stats.syscalls++;
      }
      p.moved = 0;
      let r: number;
      try {
        r = impl(...args);
      } catch (e) {
        if (e instanceof WouldBlock) {
          this.suspend(p);
          return 0;
        }
        throw e;
      }
      if (p.status === "dead") throw new ProcExit(); // the call killed its own process
      if (this.mustStop(p)) {
        p.stash = r;
        this.suspend(p);
        return 0;
      }
      this.afterCall(p);
      return r;
    };
  }

  private afterCall(p: Proc): void {
    p.exports.__preempt_at.value = this.preemptAt(p);
  }

  /** bsd.preempt, called by the metered loop heads past __preempt_at. */
  preempt(p: Proc): void {
    const ex = p.exports;
    if (ex.asyncify_get_state() === ASYNC_REWINDING) {
      ex.asyncify_stop_rewind();
      ex.__preempt_at.value = this.preemptAt(p);
      return;
    }
    this.fold(p);
    this.catchUp();
    if (this.mustStop(p)) {
      this.suspend(p);
      return;
    }
    ex.__preempt_at.value = this.preemptAt(p);
  }

  /** Start unwinding p out of the import it is in: its call stack goes into the
   *  reserved pages at the top of its memory (instrument.ts), which it never sees. */
  private suspend(p: Proc): void {
    p.asyncPtr = asyncifyData(p.memory, p.program.reservedPages);
    p.exports.asyncify_start_unwind(p.asyncPtr);
  }

  /** The process whose call is in progress (for the WASI layer). */
  get running(): Proc | undefined {
    return this.current;
  }

  /** Local time of the CPU, ns (for reports). */
  localTimeNs(): number {
    return this.cpu.localTime();
  }

  cyclesToNs(c: number): number {
    return cyclesToNs(this.costs, c);
  }

  /** Bytes of the kernel's SYSBUF, as a view of RAM. */
  sysbufView(): Uint8Array {
    const at = this.sysbuf;
    return this.board.mem.u8.subarray(at, at + SYSBUF_SIZE);
  }
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** The innermost process function on a fault's stack, by the names section. */
function faultFunction(e: Error, names: Map<number, string>): string {
  for (const line of (e.stack ?? "").split("\n")) {
    const m = /wasm-function\[(\d+)\]/.exec(line);
    if (m) return names.get(Number(m[1])) ?? `function ${m[1]}`;
  }
  return "(unknown function)";
}
