// The BSD kernel (CPU 0): boot calls each subsystem's init in order (xv6's main.c),
// then brings up the system disk (dev/sd.ts), mounts the root file system (BSDFS) and
// starts init; from then on it is entered only by interrupts (irq) and by its
// processes' system calls (syscall), both run to completion. Which process runs in
// user mode is the exported `curproc`.
//
//   timer -> clock.ts (ticks, round robin, timed waits, file system commits)
//   IPI   -> htx.ts (replies from HiTactix)
//   SCSI  -> dev/sd.ts (the system disk's completions)
//   TTY   -> tty.ts (input of the host session)
// Mounting and starting init wait for disk reads like any file system call; being the
// kernel's own work, they are retried at the end of the interrupt that made progress
// (kernelWork), not slept on.
//
// Exports for the host's process engine (host/proc/engine.ts):
//   syscall(nr, a0..a5) -> i64     a process's system call (common/bsd-abi.ts)
//   trap(pid, kind)                 a process faulted (the host's report is at sysbuf)
//   curproc                         the process to run, 0 = idle
//   sysbuf                          the kernel buffer system calls move data through

import {
  IRQ_TIMER, IRQ_IPI, IRQ_TTY, IRQ_SCSI, BOOT_TICK_NS, BOOT_CMDLINE_ADDR, BOOT_CMDLINE_LEN, BOOT_EPOCH_LO, BOOT_EPOCH_HI,
  BOOT_SEED, SYSCTL_BASE, SYSCTL_POWEROFF, SCSI2_BASE,
} from "../common/platform";
import { SYSBUF_SIZE, TRAP_STACK, TRAP_NOMEM, SIGKILL } from "../common/bsd-abi";
import { cpuId, bootArg } from "../guest-lib/cpu";
import { mmioWrite32 } from "../guest-lib/hw";
import { cputs, cputu, kprint, cputc } from "../guest-lib/console";
import { DEFAULT_HZ } from "./kern/param";
import { procInit, procMemoryInit, procByPid, procFault, procs, setPanicPowerOff } from "./kern/proc";
import { curproc as cp, setKernelJob, schedInit } from "./kern/sched";
import { clockInit, clockIntr, onTick } from "./kern/clock";
import { fileInit, fileAlloc, files, F_INODE, F_DEV } from "./kern/file";
import { pipeInit } from "./kern/pipe";
import { ttyInit, ttyIntr } from "./kern/tty";
import { htxInit, htxIntr } from "./kern/htx";
import { randomInit } from "./kern/random";
import { execInit, spawn } from "./kern/exec";
import { syscallInit, doSyscall, setPoweroff } from "./kern/syscall";
import { vfsInit, vfsRoot, vfsMount, vfsRetain, vfsProgress, clearProgress, vfsTick, vfsReasonPtr, vfsReasonLen } from "./kern/vfs";
import { sdInit, sdIntr, sd } from "./dev/sd";
import { DEV_CONSOLE, DEV_TTY, DEV_TTYERR } from "./kern/dev";

export { cp as curproc };
/** The kernel buffer every system call moves data through (common/bsd-abi.ts). */
export const sysbuf: usize = heap.alloc(SYSBUF_SIZE);

let me: u32 = 0;
let initRec: usize = 0;
let initRecLen: u32 = 0;
let initPending = false;
let mountPending = false;
let rootRef = false;
export let bootDone = false;

export function boot(): void {
  me = cpuId();
  let tickNs = bootArg(me, BOOT_TICK_NS);
  let hz: u32 = tickNs != 0 ? <u32>(1000000000 / tickNs) : DEFAULT_HZ;
  cputs("bsd: boot on cpu "); cputu(me); cputs(", hz "); cputu(hz); kprint("");
  procInit();
  schedInit();
  fileInit();
  pipeInit();
  randomInit(bootArg(me, BOOT_SEED));
  syscallInit(sysbuf);
  execInit(sysbuf);
  ttyInit();
  htxInit();
  setPoweroff(powerOff);
  setPanicPowerOff(powerOff);
  clockInit(hz, (<u64>bootArg(me, BOOT_EPOCH_HI) << 32) | <u64>bootArg(me, BOOT_EPOCH_LO));
  onTick(vfsTick);
  sdInit(SCSI2_BASE, sdReady);
}

function sdReady(ok: bool): void {
  if (!ok) { kprint("bsd: no root file system: init is not started"); return; }
  vfsInit(sd);
  procMemoryInit(1 << 20); // every kernel table is allocated: the rest is for processes
  mountPending = true;
  kernelWork();
}

/** The kernel's own waiting work: mount the root, then start init. */
function kernelWork(): void {
  clearProgress();
  if (mountPending) {
    setKernelJob(true);
    let r = vfsMount();
    setKernelJob(false);
    if (r == -1000) return; // SYS_BLOCK: reads in flight
    mountPending = false;
    if (r < 0) {
      cputs("bsd: cannot mount the root file system: "); cputCStr(vfsReasonPtr(), vfsReasonLen()); kprint("");
      return;
    }
    kprint("bsd: root file system mounted");
    startInit();
  }
  if (initPending) retryInit();
}

/**
 * Start init (pid 1) with the boot command line as its argv (default: plain "init"),
 * the log console as its standard output and error, and the host session's terminal
 * as its standard input. Descriptor 3 is the root directory, preopened ("/").
 */
function startInit(): void {
  let cmd = <usize>bootArg(me, BOOT_CMDLINE_ADDR);
  let cmdLen = bootArg(me, BOOT_CMDLINE_LEN);
  initRec = heap.alloc(cmdLen + 256);
  let p = initRec;
  let path = "/bin/init";
  store<u32>(p, <u32>path.length); p += 4;
  for (let i = 0; i < path.length; i++) store<u8>(p++, <u8>path.charCodeAt(i));
  // argv: the command line's NUL-terminated strings, or "init".
  let argc: u32 = 0;
  let argcAt = p; p += 4;
  if (cmdLen == 0) {
    store<u32>(p, 4); p += 4;
    store<u32>(p, 0x74696e69); p += 4; // "init"
    argc = 1;
  } else {
    let s = cmd;
    for (let q = cmd; q < cmd + cmdLen; q++) {
      if (load<u8>(q) != 0) continue;
      let n = <u32>(q - s);
      store<u32>(p, n); p += 4;
      memory.copy(p, s, n); p += n;
      argc++;
      s = q + 1;
    }
  }
  store<u32>(argcAt, argc);
  store<u32>(p, 0); p += 4; // no environment
  // Descriptors (the kernel passes file-table indexes): 0 tty, 1 console, 2 console, 3 /.
  let tty = fileAlloc(F_DEV); files[tty].dev = DEV_TTY; files[tty].readable = true; files[tty].writable = true;
  let con = fileAlloc(F_DEV); files[con].dev = DEV_CONSOLE; files[con].writable = true;
  let root = fileAlloc(F_INODE); files[root].ino = vfsRoot(); files[root].readable = true; files[root].preopen = true;
  files[root].isDir = true;
  store<u32>(p, 4); p += 4;
  store<i32>(p, tty); p += 4;
  store<i32>(p, con); p += 4;
  store<i32>(p, con); p += 4;
  store<i32>(p, root); p += 4;
  initRecLen = <u32>(p - initRec);
  initPending = true;
  retryInit();
}

/** Try to start init again (its image may be on the disk: reads complete later). */
function retryInit(): void {
  if (!initPending) return;
  setKernelJob(true);
  if (!rootRef) {
    // The preopened root holds a reference on its inode, as every open file does.
    let g = vfsRetain(vfsRoot());
    if (g == -1000) { setKernelJob(false); return; }
    rootRef = true;
  }
  memory.copy(sysbuf, initRec, initRecLen);
  let r = spawn(procs[0], sysbuf, initRecLen);
  setKernelJob(false);
  if (r == -1000) return; // SYS_BLOCK: the file system calls us again
  initPending = false;
  if (r < 0) { cputs("bsd: cannot start /bin/init: error "); cputu(<u64>(-r)); kprint(""); return; }
  cputs("bsd: init is pid "); cputu(<u64>r); kprint("");
  bootDone = true;
}

function powerOff(status: u32): void {
  cputs("bsd: power off, status "); cputu(status); kprint("");
  mmioWrite32(SYSCTL_BASE + SYSCTL_POWEROFF, status);
}

export function irq(vector: u32): void {
  if (vector == IRQ_TIMER) clockIntr();
  else if (vector == IRQ_IPI) htxIntr();
  else if (vector == IRQ_SCSI) sdIntr();
  else if (vector == IRQ_TTY) ttyIntr();
  if (vfsProgress && (mountPending || initPending)) kernelWork();
}

export function syscall(nr: i32, a0: i64, a1: i64, a2: i64, a3: i64, a4: i64, a5: i64): i64 {
  return doSyscall(nr, a0, a1, a2, a3, a4, a5);
}

/** The host's upcall: process `pid` faulted; its report (NUL-terminated) is at sysbuf. */
export function trap(pid: i32, kind: i32): void {
  let p = procByPid(pid);
  if (p == null) return;
  cputs("bsd: pid "); cputu(<u64>pid); cputs(" ("); cputCStr(p.name, 63); cputs(") ");
  cputs(kind == TRAP_STACK ? "stack overflow" : kind == TRAP_NOMEM ? "out of memory" : "fault");
  cputs(": "); cputCStr(sysbuf, 400); kprint("");
  procFault(p, SIGKILL);
}

function cputCStr(p: usize, max: u32): void {
  for (let i: u32 = 0; i < max; i++) {
    let c = load<u8>(p + i);
    if (c == 0) break;
    cputc(c >= 32 && c < 127 ? c : 63);
  }
}
