// LSI53C895-style SCSI controller: the chip's registers, its SCRIPTS processor, and
// the initiator side of one Ultra2 wide SCSI bus shared by the attached targets.
//
// What it models. A host driver programs the chip the way Linux's sym53c8xx and
// NetBSD's siop do: reset through ISTAT.SRST, set SCID/DIEN/SIEN/DCNTL/STIME0, load a
// SCRIPTS program into the on-chip SCRIPTS RAM (or leave it in host memory), write
// DSP, and from then on talk to the SCRIPTS through memory, ISTAT.SIGP and interrupts.
//   - Registers 0x00-0xFF as the 53C895A lays them out (895A extras included: ISTAT1,
//     MBOX0/1, SCRATCHK-R, CCNTL0/1, PMJAD1/2 and the 64-bit selector registers, which
//     are stored). Byte, word and dword accesses; multi-byte registers (DSA, TEMP, DSP,
//     DSPS, DNAD, DBC+DCMD, SCRATCHx) assemble from their bytes, so a 32-bit access at
//     0x0C is DSTAT..SSTAT2 and a 16-bit access at 0x42 is SIST0/SIST1, as Linux uses.
//   - SCRIPTS RAM, 4 KiB, at window offset 0x1000 (and at bus address base + 0x1000
//     for the SCRIPTS themselves: DMA to the chip's own BAR reaches its RAM and its
//     registers, which Linux relies on).
//   - The SCRIPTS processor: block moves (MOVE/CHMOV, direct, indirect, table indirect),
//     I/O (SELECT [ATN] with the reselection alternate jump, table-indirect SELECT, WAIT
//     DISCONNECT, WAIT RESELECT with the SIGP alternate jump, SET/CLEAR ATN ACK carry),
//     register read-modify-write (classes 5/6/7, MOV SHL OR XOR AND SHR ADD ADC),
//     transfer control (JUMP CALL RETURN INT INTFLY, relative, phase/data/carry tests,
//     WHEN/IF), memory move, LOAD/STORE (absolute and DSA relative), single step
//     (DCNTL.SSM), manual start (DMODE.MAN + DCNTL.STD), the phase-mismatch jump
//     (CCNTL0.ENPMJ, PMJAD1/2). Illegal instructions set DSTAT.IID, DMA outside RAM
//     DSTAT.BF. Interrupts halt the SCRIPTS as the manual says (all DMA interrupts, and
//     the fatal SCSI ones; CMP/SEL/RSL/GEN/HTH only when enabled; INTFLY never).
//   - The bus and its phases (initiator flow of SCSI-2; devices/scsi.ts is the contract
//     with the targets): arbitration and (re)selection, MSG OUT (IDENTIFY, SIMPLE/HEAD/
//     ORDERED tags; SDTR/WDTR/PPR and other messages the targets do not take answered
//     with MESSAGE REJECT), COMMAND (CDB length from the group code), DATA IN/OUT,
//     STATUS, MSG IN (COMMAND COMPLETE, SAVE DATA POINTER, DISCONNECT), ACK held on the
//     last MSG IN byte of a move until CLEAR ACK (or the next move), ATN to send a
//     message. Disconnect/reselect with tagged queueing: many tasks per target,
//     reconnections queue for the one bus and arbitration takes the highest SCSI ID.
//     Reselection: SSID = 0x80|id, MSG IN IDENTIFY [+ SIMPLE + tag]; the SCRIPTS find
//     the task (SIDL holds the last MSG IN byte, as sym relies on).
// Sources (DEVICES-REF.md section A): [S7] LSI53C895A/53C8xx technical manual pages
// (register and SCRIPTS chapters), [S1] QEMU hw/scsi/lsi53c895a.c (read for facts; no
// code taken), [S2,S3] Linux sym53c8xx_2 (sym_defs.h encodings, sym_hipd.c bring-up,
// sym_fw2.h scripts), [S6] NetBSD siop.ss.
//
// Time. SCRIPTS run in a loop, each instruction advancing the processor's own clock
// (`t`) by its fetch/execute and DMA costs; the loop stops only when the SCRIPTS must
// wait for the bus or for something another party can change (selection, WAIT
// RESELECT, a target's answer to a COMMAND or DATA OUT phase, registers the CPU
// writes, INTFLY), and then one event is scheduled. Interrupts are raised at the
// processor's clock, not earlier. Bus time: arbitration/selection, async bytes
// (messages, CDB, status) and synchronous data at the Ultra2 wide rate; the end of a
// DATA IN phase is max(bus finish, connection.paceEndNs). Every constant is in
// LSI_TIMING with its source. Memory reads and writes of the SCRIPTS take effect when
// the loop runs them (up to the next wait point early): drivers synchronise with the
// SCRIPTS through SIGP and interrupts, so none can tell. A CPU register access first
// runs whatever the chip had due by the CPU's local time (catchUp), so a driver that
// polls ISTAT (sym's snooptest) sees the SCRIPTS finish.
//
// Not emulated: target mode, low-level mode (STEST2.LOW, SOCL driving), SCNTL0.START,
// immediate arbitration, the DMA and SCSI FIFOs (DFE always 1, FIFO counts 0; CTEST3
// CLF/FLF accepted), parity (PAR, MDPE never set), SGE, SBMC, HTH (STIME0 7:4 logged),
// interrupt stacking, 64-bit and 40-bit addressing (selectors stored, unused: RAM is
// 32-bit), DMODE.SIOM/DIOM (I/O space), sync/wide negotiation (data always moves at the
// Ultra2 wide rate; SDTR/WDTR/PPR are rejected), IGNORE WIDE RESIDUE, LUN > 0 beyond
// passing the IDENTIFY LUN to the target, ABORT/ABORT TAG/CLEAR QUEUE (the target
// contract has no per-task abort: the bus goes free, BUS DEVICE RESET and CLEAR QUEUE
// become target.busReset()), disconnect privilege (the targets decide).
//
// Length. One file of about 2,000 lines, far over the usual 600: the register file,
// the SCRIPTS processor and the bus engine share every register and every timing
// decision, and splitting them would put the halt and interrupt rules in three places.
// Read it in its sections: register table, bits, timing, state, reset, register
// read/write, SCRIPTS processor (loop, then one method per instruction class), DMA,
// bus and phase engine, timers, updateIrq.
//
// Interface:
//   new Lsi53c895(ctx, targets, opts)  MmioDevice, size 0x2000 (registers 0x000-0x0FF,
//                                      SCRIPTS RAM 0x1000-0x1FFF); ctx.irq = INTA
//   REGS, R, LSI_TIMING, bit constants exported for drivers and tests
//   stats, busBusyNs()                 bus occupancy and counters for reports
//   selectionTimeoutNs(code)           STIME0/STIME1 timer code -> ns

import type { DeviceContext, MmioDevice, Width } from "../host/device.js";
import { DmaFault, type PhysMem } from "../host/memory.js";
import { OneShot, type Scheduler } from "../host/sched.js";
import { SCSI_BASE } from "../common/platform.js";
import {
  MSG_COMMAND_COMPLETE, MSG_DEVICE_RESET, MSG_DISCONNECT, MSG_HEAD_TAG, MSG_IDENTIFY, MSG_NOP, MSG_ORDERED_TAG, MSG_REJECT,
  MSG_SAVE_DATA_POINTER, MSG_SIMPLE_TAG, MSG_ABORT,
  type Connection, type ScsiPort, type ScsiTarget, type ScsiTask,
} from "./scsi.js";

// ---------------------------------------------------------------------------------
// Register table (53C895A layout [S7], names as Linux's sym_defs.h). Reset values are
// what a read returns after reset; trace names and reset() derive from this table.
// access: rw, ro (writes ignored), read-clear (a read returns and clears), w1c (bits
// written 1 clear; ISTAT: INTF is w1c, SIGP/SEM/ABRT/SRST r/w, CON/SIP/DIP ro).

export type Access = "rw" | "ro" | "read-clear" | "w1c";
interface RegSpec {
  readonly name: string;
  readonly off: number;
  readonly width?: 1 | 2 | 3 | 4;
  readonly reset?: number;
  readonly access?: Access;
}
export interface RegDef {
  readonly name: RegName;
  readonly off: number;
  readonly width: number;
  readonly reset: number;
  readonly access: Access;
}

const REG_TABLE = [
  { name: "SCNTL0", off: 0x00, reset: 0xc0 }, // full arbitration
  { name: "SCNTL1", off: 0x01 }, // RST asserts SCSI RST; CON (0x10) reads the connection
  { name: "SCNTL2", off: 0x02 },
  { name: "SCNTL3", off: 0x03 },
  { name: "SCID", off: 0x04 }, // 0x40 RRE, 3:0 own ID
  { name: "SXFER", off: 0x05 },
  { name: "SDID", off: 0x06 },
  { name: "GPREG", off: 0x07, reset: 0x7f }, // no pins wired: stored (sym's LED writes land here)
  { name: "SFBR", off: 0x08 },
  { name: "SOCL", off: 0x09 },
  { name: "SSID", off: 0x0a, access: "ro" },
  { name: "SBCL", off: 0x0b, access: "ro" }, // bus lines, computed
  { name: "DSTAT", off: 0x0c, reset: 0x80, access: "read-clear" }, // DFE stays 1
  { name: "SSTAT0", off: 0x0d, access: "ro" },
  { name: "SSTAT1", off: 0x0e, access: "ro" }, // 2:0 phase, FIFO count 0
  { name: "SSTAT2", off: 0x0f, reset: 0x02, access: "ro" }, // LDSC while disconnected
  { name: "DSA", off: 0x10, width: 4 },
  { name: "ISTAT", off: 0x14, access: "w1c" },
  { name: "ISTAT1", off: 0x15, access: "ro" }, // 02 SRUN
  { name: "MBOX0", off: 0x16 },
  { name: "MBOX1", off: 0x17 },
  { name: "CTEST0", off: 0x18 },
  { name: "CTEST1", off: 0x19, reset: 0xf0, access: "ro" }, // DMA FIFO empty
  { name: "CTEST2", off: 0x1a, reset: 0x11, access: "ro" }, // CM|DACK; 40 SIGP (read clears ISTAT.SIGP)
  { name: "CTEST3", off: 0x1b },
  { name: "TEMP", off: 0x1c, width: 4 },
  { name: "DFIFO", off: 0x20 },
  { name: "CTEST4", off: 0x21 },
  { name: "CTEST5", off: 0x22 },
  { name: "CTEST6", off: 0x23 },
  { name: "DBC", off: 0x24, width: 3 },
  { name: "DCMD", off: 0x27 },
  { name: "DNAD", off: 0x28, width: 4 },
  { name: "DSP", off: 0x2c, width: 4 }, // writing the MSB starts SCRIPTS (unless DMODE.MAN)
  { name: "DSPS", off: 0x30, width: 4 },
  { name: "SCRATCHA", off: 0x34, width: 4 },
  { name: "DMODE", off: 0x38 },
  { name: "DIEN", off: 0x39 },
  { name: "SBR", off: 0x3a },
  { name: "DCNTL", off: 0x3b },
  { name: "ADDER", off: 0x3c, width: 4, access: "ro" },
  { name: "SIEN0", off: 0x40 },
  { name: "SIEN1", off: 0x41 },
  { name: "SIST0", off: 0x42, access: "read-clear" },
  { name: "SIST1", off: 0x43, access: "read-clear" },
  { name: "SLPAR", off: 0x44 },
  { name: "SWIDE", off: 0x45, access: "ro" },
  { name: "MACNTL", off: 0x46 },
  { name: "GPCNTL", off: 0x47, reset: 0x0f },
  { name: "STIME0", off: 0x48 }, // 7:4 HTH (not emulated), 3:0 selection timeout
  { name: "STIME1", off: 0x49 }, // 3:0 general purpose timer -> SIST1.GEN
  { name: "RESPID0", off: 0x4a },
  { name: "RESPID1", off: 0x4b },
  { name: "STEST0", off: 0x4c, access: "ro" },
  { name: "STEST1", off: 0x4d },
  { name: "STEST2", off: 0x4e },
  { name: "STEST3", off: 0x4f },
  { name: "SIDL", off: 0x50, width: 2, access: "ro" }, // last MSG IN byte
  { name: "STEST4", off: 0x52, reset: 0xe0, access: "ro" }, // LVD mode, clock doubler locked
  { name: "SODL", off: 0x54, width: 2 },
  { name: "CCNTL0", off: 0x56 }, // 80 ENPMJ, 40 PMJCTL
  { name: "CCNTL1", off: 0x57 },
  { name: "SBDL", off: 0x58, width: 2, access: "ro" },
  { name: "SCRATCHB", off: 0x5c, width: 4 },
  { name: "SCRATCHC", off: 0x60, width: 4 },
  { name: "SCRATCHD", off: 0x64, width: 4 },
  { name: "SCRATCHE", off: 0x68, width: 4 },
  { name: "SCRATCHF", off: 0x6c, width: 4 },
  { name: "SCRATCHG", off: 0x70, width: 4 },
  { name: "SCRATCHH", off: 0x74, width: 4 },
  { name: "SCRATCHI", off: 0x78, width: 4 },
  { name: "SCRATCHJ", off: 0x7c, width: 4 },
  { name: "SCRATCHK", off: 0x80, width: 4 },
  { name: "SCRATCHL", off: 0x84, width: 4 },
  { name: "SCRATCHM", off: 0x88, width: 4 },
  { name: "SCRATCHN", off: 0x8c, width: 4 },
  { name: "SCRATCHO", off: 0x90, width: 4 },
  { name: "SCRATCHP", off: 0x94, width: 4 },
  { name: "SCRATCHQ", off: 0x98, width: 4 },
  { name: "SCRATCHR", off: 0x9c, width: 4 },
  { name: "MMRS", off: 0xa0, width: 4 },
  { name: "MMWS", off: 0xa4, width: 4 },
  { name: "SFS", off: 0xa8, width: 4 },
  { name: "DRS", off: 0xac, width: 4 },
  { name: "SBMS", off: 0xb0, width: 4 },
  { name: "DBMS", off: 0xb4, width: 4 },
  { name: "DNAD64", off: 0xb8, width: 4 },
  { name: "PMJAD1", off: 0xc0, width: 4 },
  { name: "PMJAD2", off: 0xc4, width: 4 },
  { name: "RBC", off: 0xc8, width: 4 },
  { name: "UA", off: 0xcc, width: 4 },
  { name: "ESA", off: 0xd0, width: 4 },
  { name: "IA", off: 0xd4, width: 4 },
  { name: "SBC", off: 0xd8, width: 4, access: "ro" },
  { name: "CSBC", off: 0xdc, width: 4 },
] as const satisfies readonly RegSpec[];

export type RegName = (typeof REG_TABLE)[number]["name"];
export const REGS: readonly RegDef[] = REG_TABLE.map((s: RegSpec) => ({
  name: s.name as RegName,
  off: s.off,
  width: s.width ?? 1,
  reset: s.reset ?? 0,
  access: s.access ?? "rw",
}));
/** Byte offset of each register, by name. */
export const R = Object.fromEntries(REGS.map((d) => [d.name, d.off])) as { readonly [K in RegName]: number };
/** Register-table index of each byte offset 0x00-0xFF, -1 where nothing is mapped. */
const REG_AT = new Int16Array(256).fill(-1);
REGS.forEach((d, i) => {
  for (let b = 0; b < d.width; b++) REG_AT[d.off + b] = i;
});

/** Register name (with +byte) for traces and logs. */
export function regName(off: number): string {
  const i = off >= 0 && off < 256 ? REG_AT[off] : -1;
  if (i < 0) return `0x${off.toString(16)}`;
  const d = REGS[i];
  return off === d.off ? d.name : `${d.name}+${off - d.off}`;
}

/** Registers whose value the CPU or the bus changes behind the SCRIPTS' back: a SCRIPTS
 *  access to one meets the clock first. */
const SYNC_REG = new Uint8Array(256);
for (const n of ["SCNTL1", "SSID", "SBCL", "DSTAT", "SSTAT0", "SSTAT1", "SSTAT2", "ISTAT", "ISTAT1", "MBOX0", "MBOX1", "CTEST2", "SIST0", "SIST1", "STIME1"] as const) {
  const d = REGS.find((x) => x.name === n)!;
  for (let b = 0; b < d.width; b++) SYNC_REG[d.off + b] = 1;
}

// ---------------------------------------------------------------------------------
// Bit constants [S7, S2]

export const SCNTL0_START = 0x20;
export const SCNTL1_RST = 0x08;
export const SCNTL1_CON = 0x10;
export const SCNTL1_IARB = 0x02;
export const SCID_RRE = 0x40;
export const ISTAT_ABRT = 0x80;
export const ISTAT_SRST = 0x40;
export const ISTAT_SIGP = 0x20;
export const ISTAT_SEM = 0x10;
export const ISTAT_CON = 0x08;
export const ISTAT_INTF = 0x04;
export const ISTAT_SIP = 0x02;
export const ISTAT_DIP = 0x01;
export const ISTAT1_SRUN = 0x02;
export const DSTAT_DFE = 0x80;
export const DSTAT_MDPE = 0x40;
export const DSTAT_BF = 0x20;
export const DSTAT_ABRT = 0x10;
export const DSTAT_SSI = 0x08;
export const DSTAT_SIR = 0x04;
export const DSTAT_IID = 0x01;
export const SIST0_MA = 0x80;
export const SIST0_CMP = 0x40;
export const SIST0_SEL = 0x20;
export const SIST0_RSL = 0x10;
export const SIST0_SGE = 0x08;
export const SIST0_UDC = 0x04;
export const SIST0_RST = 0x02;
export const SIST0_PAR = 0x01;
export const SIST1_SBMC = 0x10;
export const SIST1_STO = 0x04;
export const SIST1_GEN = 0x02;
export const SIST1_HTH = 0x01;
/** SCSI interrupts that halt the SCRIPTS and set SIP even when masked [S7]. */
const SIST0_FATAL = SIST0_MA | SIST0_SGE | SIST0_UDC | SIST0_RST | SIST0_PAR;
const SIST1_FATAL = SIST1_SBMC | SIST1_STO;
export const SSTAT0_RST = 0x02;
export const SSTAT0_WOA = 0x04;
export const SSTAT2_LDSC = 0x02;
export const SBCL_REQ = 0x80;
export const SBCL_ACK = 0x40;
export const SBCL_BSY = 0x20;
export const SBCL_SEL = 0x10;
export const SBCL_ATN = 0x08;
export const CTEST2_SIGP = 0x40;
export const CTEST3_FLF = 0x08;
export const CTEST3_CLF = 0x04;
export const CTEST5_BL2 = 0x04;
export const DMODE_MAN = 0x01;
export const DCNTL_SSM = 0x10;
export const DCNTL_STD = 0x04;
export const DCNTL_IRQD = 0x02;
export const DCNTL_COM = 0x01;
export const STEST2_LOW = 0x01;
export const CCNTL0_ENPMJ = 0x80;
export const CCNTL0_PMJCTL = 0x40;
export const SCNTL2_WSR = 0x01;

// SCSI phases (MSG, C/D, I/O)
export const PH_DATA_OUT = 0;
export const PH_DATA_IN = 1;
export const PH_COMMAND = 2;
export const PH_STATUS = 3;
export const PH_MSG_OUT = 6;
export const PH_MSG_IN = 7;
const PHASE_NAMES = ["DATA OUT", "DATA IN", "COMMAND", "STATUS", "res4", "res5", "MSG OUT", "MSG IN"];

// SCRIPTS instruction fields (dword 0)
const BM_INDIRECT = 1 << 29;
const BM_TABLE = 1 << 28;
const IO_RELATIVE = 1 << 26;
const IO_TABLE = 1 << 25;
const IO_SEL_ATN = 1 << 24;
const IO_CARRY = 1 << 10;
const IO_TARGET = 1 << 9;
const IO_ACK = 1 << 6;
const IO_ATN = 1 << 3;
const TC_RELATIVE = 1 << 23;
const TC_CARRY = 1 << 21;
const TC_INTFLY = 1 << 20;
const TC_TRUE = 1 << 19;
const TC_DATA = 1 << 18;
const TC_PHASE = 1 << 17;
const TC_WAIT = 1 << 16;
const MM_LOADSTORE = 1 << 29;
const LS_DSA_REL = 1 << 28;
const LS_LOAD = 1 << 24;

// ---------------------------------------------------------------------------------
// Timing. Every number: a source, or [est] with the reasoning.

export interface LsiTiming {
  /** PCI clock period: 33.33 MHz = 30 ns (PCI Local Bus Spec 2.1). The SCRIPTS
   *  processor and the DMA engine run on the PCI clock [S7]. */
  pciClockNs: number;
  /** Clocks to fetch an instruction (2 dwords) from host memory: a PCI read burst,
   *  ~10 clocks of address phase + bridge latency [est, as ACENIC_TIMING] + 2 data. */
  fetchHostClocks: number;
  /** Clocks to fetch 2 dwords from the on-chip SCRIPTS RAM (internal path, no PCI
   *  transaction) [est]. */
  fetchRamClocks: number;
  /** Clocks to decode and execute an instruction, apart from its bus and DMA work [est:
   *  the manual's instruction timings are a few clocks]. */
  executeClocks: number;
  /** Setup clocks of a PCI read burst (table-indirect fetch, LOAD, memory move) [est]. */
  dmaReadSetupClocks: number;
  /** Setup clocks of a posted PCI write burst (STORE, memory move) [est]. */
  dmaWriteSetupClocks: number;
  /** Arbitration: bus free delay 800 ns + arbitration delay 2.4 us (SCSI-2 X3.131
   *  timing values) [est: the spec minimums; a free bus is won first time]. A SELECT
   *  completes when arbitration is won; the SCRIPTS go on while selection proceeds
   *  (sym_fw2.h SELECT comment [S3]). */
  arbitrationNs: number;
  /** Selection after arbitration: bus clear 800 ns + bus settle 400 ns (SCSI-2) + the
   *  target's response 400 ns [est]. Reselection costs arbitrationNs + selectionNs. */
  selectionNs: number;
  /** A target changes phase and asserts REQ a bus settle delay later (SCSI-2 400 ns)
   *  [est]. Also the delay from (re)selection to the first REQ. */
  phaseChangeNs: number;
  /** One asynchronous byte (messages, CDB, status: always async in SCSI-2): REQ/ACK
   *  handshake over a short LVD cable, 5 MB/s [est: 100-250 ns on real buses]. */
  asyncByteNs: number;
  /** From the last ACK release of COMMAND COMPLETE/DISCONNECT to bus free: SCSI-2
   *  disconnection delay 200 ns [est]. */
  busFreeNs: number;
  /** Synchronous data: picoseconds per byte. Ultra2 wide = 40 MT/s x 2 B = 80 MB/s =
   *  12,500 ps/byte (TIMING-REF A notes: 6.4 us per 512-B sector). */
  dataPsPerByte: number;
  /** From an ISTAT.SIGP write to the SCRIPTS leaving WAIT RESELECT: 2 clocks [est]. */
  sigpWakeNs: number;
  /** Runaway guard: after this many instructions without waiting on the bus the SCRIPTS
   *  pause (QEMU LSI_MAX_INSN 10000 [S8]) ... */
  guardInsns: number;
  /** ... for this long, then resume (QEMU's scripts timer: 500 us [S8]). */
  guardPauseNs: number;
}

export const LSI_TIMING: Readonly<LsiTiming> = {
  pciClockNs: 30,
  fetchHostClocks: 12,
  fetchRamClocks: 2,
  executeClocks: 2,
  dmaReadSetupClocks: 10,
  dmaWriteSetupClocks: 4,
  arbitrationNs: 3200,
  selectionNs: 1600,
  phaseChangeNs: 400,
  asyncByteNs: 200,
  busFreeNs: 200,
  dataPsPerByte: 12_500,
  sigpWakeNs: 60,
  guardInsns: 10_000,
  guardPauseNs: 500_000,
};

/** STIME0.SEL / STIME1.GEN timer code -> ns: 0 = disabled, n = 125 us << (n-1) with
 *  the 40 MHz SCSI clock [S7]; Linux writes STIME0 = 0x0C, "STO 0.25 sec" (256 ms). */
export function selectionTimeoutNs(code: number): number {
  code &= 0xf;
  return code === 0 ? 0 : 125_000 * 2 ** (code - 1);
}

/** CDB length from the group code (SCSI-2 7.2): groups 0: 6, 1-2: 10, 4: 16, 5: 12;
 *  3 (reserved) and 6-7 (vendor) taken as 10 [est]. */
export function cdbLength(op: number): number {
  const g = op >>> 5;
  return g === 0 ? 6 : g === 4 ? 16 : g === 5 ? 12 : 10;
}

export interface Lsi53c895Options {
  /** Bus address of the chip's register window (its BAR): DMA inside
   *  [base, base + 0x2000) reaches the chip's registers and SCRIPTS RAM. */
  base?: number;
  timing?: Partial<LsiTiming>;
}

/** Counters for reports. Times in ns. */
export interface LsiStats {
  /** SCSI bus occupied (arbitration through bus free), closed spans; see busBusyNs(). */
  busBusyNs: number;
  /** Of which moving DATA bytes at the synchronous rate. */
  busDataNs: number;
  dataInBytes: number;
  dataOutBytes: number;
  selections: number;
  selectionTimeouts: number;
  reselections: number;
  commands: number;
  disconnects: number;
  completions: number;
  instructions: number;
  interrupts: number;
  guardPauses: number;
}

// ---------------------------------------------------------------------------------
// State

/** The register file: one field per hardware register (values as the chip holds them;
 *  computed registers are completed when read). reset() loads them from REGS. */
class Regs {
  SCNTL0 = 0; SCNTL1 = 0; SCNTL2 = 0; SCNTL3 = 0;
  SCID = 0; SXFER = 0; SDID = 0; GPREG = 0;
  SFBR = 0; SOCL = 0; SSID = 0; SBCL = 0;
  DSTAT = 0; SSTAT0 = 0; SSTAT1 = 0; SSTAT2 = 0;
  DSA = 0; ISTAT = 0; ISTAT1 = 0; MBOX0 = 0; MBOX1 = 0;
  CTEST0 = 0; CTEST1 = 0; CTEST2 = 0; CTEST3 = 0;
  TEMP = 0; DFIFO = 0; CTEST4 = 0; CTEST5 = 0; CTEST6 = 0;
  DBC = 0; DCMD = 0; DNAD = 0; DSP = 0; DSPS = 0; SCRATCHA = 0;
  DMODE = 0; DIEN = 0; SBR = 0; DCNTL = 0; ADDER = 0;
  SIEN0 = 0; SIEN1 = 0; SIST0 = 0; SIST1 = 0;
  SLPAR = 0; SWIDE = 0; MACNTL = 0; GPCNTL = 0;
  STIME0 = 0; STIME1 = 0; RESPID0 = 0; RESPID1 = 0;
  STEST0 = 0; STEST1 = 0; STEST2 = 0; STEST3 = 0;
  SIDL = 0; STEST4 = 0; SODL = 0; CCNTL0 = 0; CCNTL1 = 0; SBDL = 0;
  SCRATCHB = 0; SCRATCHC = 0; SCRATCHD = 0; SCRATCHE = 0; SCRATCHF = 0; SCRATCHG = 0;
  SCRATCHH = 0; SCRATCHI = 0; SCRATCHJ = 0; SCRATCHK = 0; SCRATCHL = 0; SCRATCHM = 0;
  SCRATCHN = 0; SCRATCHO = 0; SCRATCHP = 0; SCRATCHQ = 0; SCRATCHR = 0;
  MMRS = 0; MMWS = 0; SFS = 0; DRS = 0; SBMS = 0; DBMS = 0; DNAD64 = 0;
  PMJAD1 = 0; PMJAD2 = 0; RBC = 0; UA = 0; ESA = 0; IA = 0; SBC = 0; CSBC = 0;
}
// The table and the state name the same registers (checked by the compiler).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _sameRegs: Same<keyof Regs, RegName> = true;
void _sameRegs;

// SCRIPTS processor states
const S_IDLE = 0; // halted: after reset, after an interrupt
const S_RUN = 1; // running; the script timer is armed for the next batch
const S_WAIT_BUS = 2; // blocked on the bus (see waitKind)
const S_WAIT_RESEL = 3; // WAIT RESELECT: until reselected or SIGP
const S_HALTING = 4; // an interrupt is due at `t` (the script timer fires it)
const W_RETRY = 0; // re-execute the instruction at DSP when the bus event comes
const W_MOVE_END = 1; // finish the block move (residual -> MA) after a target's answer
const W_FOREVER = 2; // nothing will wake it (guest error); ABRT/reset ends it

// Bus ownership
const BUS_FREE = 0;
const BUS_SEL = 1; // our selection of an absent ID, until the selection timeout
const BUS_RESEL = 2; // a target reselects us (until reselDoneAt)
const BUS_CONN = 3; // a nexus is connected (from connAt)

// What a target does once its MSG IN bytes are taken
const A_COMMAND = 0; // go to COMMAND (selection)
const A_PLAN = 1; // continue the connection (data, status)
const A_DISCONNECT = 2; // release the bus, task stays with the target
const A_COMPLETE = 3; // release the bus, task done

// Bus events (busTimer)
const EV_NONE = 0;
const EV_STO = 1;
const EV_RESEL_DONE = 2;
const EV_COMMAND = 3;
const EV_DATA_OUT = 4;

const WINDOW = 0x2000;
const RAM_OFF = 0x1000;
const RAM_SIZE = 0x1000;

const sext24 = (x: number): number => (x << 8) >> 8;
const hex = (v: number, w = 8): string => "0x" + (v >>> 0).toString(16).padStart(w, "0");

/** A one-shot whose due time is known (for catchUp). */
class Timer {
  due = Infinity;
  private readonly shot: OneShot;
  constructor(sched: Scheduler, name: string, readonly fire: () => void) {
    this.shot = new OneShot(sched, name, () => {
      this.due = Infinity;
      fire();
    });
  }
  arm(now: number, at: number): void {
    this.due = Math.max(at, now);
    this.shot.armAt(this.due);
  }
  cancel(): void {
    this.due = Infinity;
    this.shot.cancel();
  }
}

interface Reconnect {
  readonly id: number;
  readonly conn: Connection;
}

export class Lsi53c895 implements MmioDevice {
  readonly name = "lsi53c895";
  readonly size = WINDOW;
  readonly timing: Readonly<LsiTiming>;
  readonly stats: LsiStats = {
    busBusyNs: 0, busDataNs: 0, dataInBytes: 0, dataOutBytes: 0, selections: 0, selectionTimeouts: 0, reselections: 0,
    commands: 0, disconnects: 0, completions: 0, instructions: 0, interrupts: 0, guardPauses: 0,
  };

  private readonly sched: Scheduler;
  private readonly mem: PhysMem;
  private readonly trace: ((line: string) => void) | undefined;
  private readonly base: number;
  /** Register file (see REGS). */
  private readonly r = new Regs();
  /** SCRIPTS RAM (4 KiB). */
  private readonly ram = new Uint8Array(RAM_SIZE);
  private readonly ramDv = new DataView(this.ram.buffer);
  /** Targets by SCSI ID, and the port each one calls. */
  private readonly targetById: (ScsiTarget | undefined)[] = new Array<ScsiTarget | undefined>(16).fill(undefined);
  private readonly ports: ScsiPort[] = [];

  // SCRIPTS processor
  private state = S_IDLE;
  /** The processor's clock: the time the current instruction takes effect. */
  private t = 0;
  private waitKind = W_RETRY;
  /** DSP of the instruction a wait or a sync will re-execute (STO reports it + 8). */
  private waitPc = 0;
  /** Re-executing an instruction whose fetch was already paid for. */
  private resync = false;
  private yielded = false;
  /** Inside an instruction: a SCRIPTS write to DSP is a jump, not a start. */
  private inStep = false;
  private carry = false;
  /** Instructions since the SCRIPTS last waited on the bus (runaway guard). */
  private sinceWait = 0;
  private guardLogged = false;
  /** Interrupt bits due at `t` (S_HALTING). */
  private pendDstat = 0;
  private pendSist0 = 0;
  private pendSist1 = 0;
  /** Block move waiting for a target's answer: residual count and address. */
  private moveResid = 0;
  private moveAddr = 0;
  private movePhase = 0;
  private irqLevel = false;

  // SCSI bus
  private bus = BUS_FREE;
  /** BUS_FREE: free from this time. */
  private busFreeAt = 0;
  /** Start of the current ownership (busy accounting). */
  private busOwnedAt = 0;
  /** BUS_CONN: CON from this time. BUS_RESEL: reselection completes at reselDoneAt. */
  private connAt = 0;
  private reselDoneAt = 0;
  /** A reselection the SCRIPTS have not yet taken (by WAIT RESELECT or SELECT). */
  private reselPending = false;
  private phase = -1;
  /** REQ for the next byte of the current phase is asserted from this time. */
  private reqAt = 0;
  private ack = false;
  private atn = false;
  private busEvent = EV_NONE;
  /** Reconnection requests waiting for the bus. */
  private readonly waiting: Reconnect[] = [];

  // The nexus on the bus
  private nxId = -1;
  private nxLun = 0;
  private nxTag = -1;
  private nxTask: ScsiTask | undefined;
  private nxConn: Connection | undefined;
  /** Bytes of the connection's data phase moved so far. */
  private nxDataOff = 0;
  private nxStatusSent = false;
  /** Data moved during this connection (the target sends SAVE DATA POINTER). */
  private nxMoved = false;
  private readonly cdb = new Uint8Array(16);
  private cdbLen = 0;
  private cdbGot = 0;
  private readonly msgOut = new Uint8Array(16);
  private readonly msgIn = new Uint8Array(16);
  private msgInLen = 0;
  private msgInPos = 0;
  private after = A_COMMAND;
  /** DATA OUT bytes gathered for the target (grown, reused). */
  private outBuf = new Uint8Array(65536);
  /** DATA IN from a DataInSource bound for the chip's own RAM or registers. */
  private inBuf = new Uint8Array(4096);
  /** Target ID inside our command()/dataOut() call, and its continuation. */
  private inCall = -1;
  private cont: Connection | undefined;
  /** Staging for memory moves that touch the chip's own window. */
  private readonly stage = new Uint8Array(4096);

  private readonly scriptTimer: Timer;
  private readonly busTimer: Timer;
  private readonly arbTimer: Timer;
  private readonly genTimer: Timer;
  private readonly timers: Timer[];

  constructor(private readonly ctx: DeviceContext, targets: readonly ScsiTarget[], opts: Lsi53c895Options = {}) {
    this.sched = ctx.sched;
    this.mem = ctx.mem;
    this.trace = ctx.trace;
    this.base = (opts.base ?? SCSI_BASE) >>> 0;
    this.timing = { ...LSI_TIMING, ...opts.timing };
    for (const tg of targets) {
      if (!(tg.id >= 0 && tg.id < 16)) throw new Error(`lsi53c895: target ID ${tg.id} out of range`);
      if (this.targetById[tg.id]) throw new Error(`lsi53c895: two targets with ID ${tg.id}`);
      this.targetById[tg.id] = tg;
    }
    for (let id = 0; id < 16; id++) this.ports.push({ connect: (c) => this.targetConnect(id, c) });
    this.scriptTimer = new Timer(this.sched, "lsi.scripts", () => this.onScriptTimer());
    this.busTimer = new Timer(this.sched, "lsi.bus", () => this.onBusTimer());
    this.arbTimer = new Timer(this.sched, "lsi.arb", () => this.tryArbitrate());
    this.genTimer = new Timer(this.sched, "lsi.gen", () => this.onGenTimer());
    this.timers = [this.scriptTimer, this.busTimer, this.arbTimer, this.genTimer];
    this.chipReset(false);
  }

  /** Bus occupancy including the span in progress, ns. */
  busBusyNs(now = this.sched.now): number {
    return this.stats.busBusyNs + (this.bus !== BUS_FREE ? Math.max(0, now - this.busOwnedAt) : 0);
  }

  // ---------------------------------------------------------------------------------
  // reset

  reset(): void {
    this.chipReset(true);
  }

  /** Registers to their table values, SCRIPTS halted, bus free; `targets` = also drop
   *  the targets' tasks (contract: controller reset). */
  private chipReset(targets: boolean): void {
    for (const tm of this.timers) tm.cancel();
    const r = this.r as unknown as Record<RegName, number>;
    for (const d of REGS) r[d.name] = d.reset;
    this.state = S_IDLE;
    this.t = this.sched.now;
    this.carry = false;
    this.resync = false;
    this.pendDstat = this.pendSist0 = this.pendSist1 = 0;
    this.sinceWait = 0;
    this.dropBus();
    if (targets) for (const tg of this.targetById) tg?.busReset();
    this.updateIrq();
    if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} reset`);
  }

  /** Forget the bus and every nexus (reset, SCSI RST). */
  private dropBus(): void {
    this.busTimer.cancel();
    this.arbTimer.cancel();
    if (this.bus !== BUS_FREE) this.stats.busBusyNs += Math.max(0, this.sched.now - this.busOwnedAt);
    this.bus = BUS_FREE;
    this.busFreeAt = this.sched.now;
    this.busEvent = EV_NONE;
    this.waiting.length = 0;
    this.reselPending = false;
    this.phase = -1;
    this.ack = this.atn = false;
    this.clearNexus();
  }

  private clearNexus(): void {
    this.nxId = -1;
    this.nxTask = undefined;
    this.nxConn = undefined;
    this.nxDataOff = 0;
    this.nxStatusSent = false;
    this.nxMoved = false;
    this.cdbLen = this.cdbGot = 0;
    this.msgInLen = this.msgInPos = 0;
    this.reselPending = false;
  }

  // ---------------------------------------------------------------------------------
  // Register read/write (MmioDevice)

  read(off: number, width: Width): number {
    this.catchUp();
    if (off >= RAM_OFF && off + width <= RAM_OFF + RAM_SIZE) {
      const o = off - RAM_OFF;
      return width === 4 ? this.ramDv.getUint32(o, true) : width === 2 ? this.ramDv.getUint16(o, true) : this.ram[o];
    }
    if (off + width > 0x100) {
      this.ctx.log("guest-error", `read of unmapped offset 0x${off.toString(16)}`);
      return width === 4 ? 0xffffffff : width === 2 ? 0xffff : 0xff;
    }
    let v = 0;
    for (let b = 0; b < width; b++) v |= this.readByte(off + b) << (8 * b);
    v >>>= 0;
    if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} R${width} ${regName(off)} -> ${hex(v, width * 2)}`);
    return v;
  }

  write(off: number, width: Width, value: number): void {
    this.catchUp();
    if (off >= RAM_OFF && off + width <= RAM_OFF + RAM_SIZE) {
      const o = off - RAM_OFF;
      if (width === 4) this.ramDv.setUint32(o, value, true);
      else if (width === 2) this.ramDv.setUint16(o, value, true);
      else this.ram[o] = value;
      return;
    }
    if (off + width > 0x100) {
      this.ctx.log("guest-error", `write of unmapped offset 0x${off.toString(16)} ignored`);
      return;
    }
    if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} W${width} ${regName(off)} <- ${hex(value, width * 2)}`);
    // Ascending bytes: a dword write at DSP stores the address before its MSB starts SCRIPTS.
    for (let b = 0; b < width; b++) this.writeByte(off + b, (value >>> (8 * b)) & 0xff);
  }

  /** One register byte, with read side effects (CPU, SCRIPTS and DMA share this). */
  private readByte(off: number): number {
    const i = REG_AT[off];
    if (i < 0) {
      this.ctx.log("guest-error", `read of reserved register 0x${off.toString(16)}`);
      return 0;
    }
    const d = REGS[i];
    const r = this.r;
    const sh = (off - d.off) * 8;
    switch (d.name) {
      case "SCNTL1":
        return (r.SCNTL1 & ~SCNTL1_CON) | (this.connectedAt(this.sched.now) ? SCNTL1_CON : 0);
      case "SBCL":
        return this.sbcl();
      case "DSTAT": {
        const v = r.DSTAT | DSTAT_DFE;
        r.DSTAT = DSTAT_DFE;
        this.updateIrq();
        return v;
      }
      case "SSTAT1":
        return (r.SSTAT1 & 0xf8) | (this.phase >= 0 ? this.phase : 0);
      case "SSTAT2":
        return (r.SSTAT2 & ~SSTAT2_LDSC) | (this.connectedAt(this.sched.now) ? 0 : SSTAT2_LDSC);
      case "ISTAT":
        return r.ISTAT | (this.connectedAt(this.sched.now) ? ISTAT_CON : 0);
      case "ISTAT1":
        return r.ISTAT1 | (this.state !== S_IDLE ? ISTAT1_SRUN : 0);
      case "CTEST2": {
        // Reading CTEST2 reports SIGP and clears it in ISTAT (sym's START does this).
        const sigp = r.ISTAT & ISTAT_SIGP;
        r.ISTAT &= ~ISTAT_SIGP;
        return r.CTEST2 | (sigp ? CTEST2_SIGP : 0);
      }
      case "SBDL":
        // Drivers peek at the data lines during MSG IN.
        return sh === 0 && this.phase === PH_MSG_IN && this.msgInPos < this.msgInLen ? this.msgIn[this.msgInPos] : 0;
      case "SIST0":
      case "SIST1": {
        const v = d.name === "SIST0" ? r.SIST0 : r.SIST1;
        if (d.name === "SIST0") r.SIST0 = 0;
        else r.SIST1 = 0;
        this.updateIrq();
        return v;
      }
      default:
        return ((r as unknown as Record<RegName, number>)[d.name] >>> sh) & 0xff;
    }
  }

  private writeByte(off: number, v: number): void {
    const i = REG_AT[off];
    if (i < 0) {
      this.ctx.log("guest-error", `write of reserved register 0x${off.toString(16)} ignored`);
      return;
    }
    const d = REGS[i];
    const r = this.r;
    const sh = (off - d.off) * 8;
    switch (d.name) {
      case "SCNTL0":
        if (v & SCNTL0_START) this.ctx.log("unimp", "SCNTL0.START (start sequence) not emulated");
        r.SCNTL0 = v;
        return;
      case "SCNTL1":
        if (v & SCNTL1_IARB) this.ctx.log("unimp", "SCNTL1.IARB (immediate arbitration) not emulated");
        this.writeScntl1(v);
        return;
      case "SCID":
        r.SCID = v;
        this.tryArbitrate(); // RRE may now answer waiting reselections
        return;
      case "SDID":
        r.SDID = v & 0x0f;
        return;
      case "DSTAT":
      case "SSTAT0":
      case "SSTAT1":
      case "SSTAT2":
        return; // Linux's register test writes these read-only registers on purpose
      case "ISTAT":
        this.writeIstat(v);
        return;
      case "CTEST3":
        r.CTEST3 = v & 0x0f & ~(CTEST3_CLF | CTEST3_FLF); // FIFO flush/clear: no FIFO here
        return;
      case "DSP":
        r.DSP = this.deposit(r.DSP, sh, v);
        if (sh === 24 && !(r.DMODE & DMODE_MAN) && !this.inStep) this.startScripts("DSP");
        return;
      case "DIEN":
        r.DIEN = v;
        this.updateIrq();
        return;
      case "DCNTL":
        r.DCNTL = v & ~DCNTL_STD;
        this.updateIrq(); // IRQD gates the pin
        if (v & DCNTL_STD && !this.inStep) this.startScripts("STD");
        return;
      case "SIEN0":
        r.SIEN0 = v;
        this.updateIrq();
        return;
      case "SIEN1":
        r.SIEN1 = v;
        this.updateIrq();
        return;
      case "STIME0":
        if (v & 0xf0) this.ctx.log("unimp", "STIME0.HTH (handshake-to-handshake timer) not emulated");
        r.STIME0 = v;
        return;
      case "STIME1":
        r.STIME1 = v;
        this.armGen();
        return;
      case "STEST2":
        if (v & STEST2_LOW) this.ctx.log("unimp", "STEST2.LOW (low-level mode) not emulated");
        r.STEST2 = v;
        return;
      case "STEST3":
        if (v & 0x41) this.ctx.log("unimp", "STEST3 SCSI FIFO test modes not emulated");
        r.STEST3 = v & ~0x02; // CSF self-clears
        return;
      default: {
        if (d.access !== "rw") {
          this.ctx.log("guest-error", `write to read-only ${regName(off)} ignored`);
          return;
        }
        const rr = this.r as unknown as Record<RegName, number>;
        rr[d.name] = this.deposit(rr[d.name], sh, v);
      }
    }
  }

  private deposit(old: number, sh: number, v: number): number {
    return ((old & ~(0xff << sh)) | (v << sh)) >>> 0;
  }

  private writeIstat(v: number): void {
    const r = this.r;
    if (v & ISTAT_SRST) {
      // Software reset: the chip resets while SRST is set; Linux writes SRST then 0.
      this.chipReset(true);
      r.ISTAT = ISTAT_SRST;
      return;
    }
    const old = r.ISTAT;
    r.ISTAT = (old & ISTAT_INTF & ~v) | (v & (ISTAT_ABRT | ISTAT_SIGP | ISTAT_SEM));
    if (v & ISTAT_ABRT && !(old & ISTAT_ABRT)) this.abortScripts();
    if (v & ISTAT_SIGP && this.state === S_WAIT_RESEL) {
      // WAIT RESELECT takes its alternate jump (DNAD holds it).
      r.DSP = r.DNAD;
      this.state = S_RUN;
      this.t = Math.max(this.t, this.sched.now) + this.timing.sigpWakeNs;
      if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} SIGP wakes WAIT RESELECT -> ${hex(r.DSP)}`);
      this.scriptTimer.arm(this.sched.now, this.t);
    }
    this.updateIrq();
  }

  private writeScntl1(v: number): void {
    const r = this.r;
    const was = r.SCNTL1 & SCNTL1_RST;
    r.SCNTL1 = v & ~SCNTL1_CON;
    if (v & SCNTL1_RST) {
      if (!was) {
        // Assert SCSI RST: every target drops its tasks, the bus goes free.
        if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} SCSI bus reset`);
        this.dropBus();
        for (const tg of this.targetById) tg?.busReset();
        r.SSTAT0 |= SSTAT0_RST;
        this.scsiEvent(SIST0_RST, 0);
      }
    } else {
      r.SSTAT0 &= ~SSTAT0_RST;
    }
  }

  /** SBCL: the bus lines as the chip sees them. */
  private sbcl(): number {
    const now = this.sched.now;
    if (!this.connectedAt(now)) return 0;
    return SBCL_BSY | (this.atn ? SBCL_ATN : 0) | (this.ack ? SBCL_ACK : 0) | (now >= this.reqAt && !this.ack ? SBCL_REQ : 0) | (this.phase & 7);
  }

  private connectedAt(time: number): boolean {
    return this.bus === BUS_CONN && time >= this.connAt;
  }

  /** Run the chip's events that were due by the CPU's local time, each at its own time,
   *  so a polling driver sees them (the CPU's run is atomic in event order). */
  private catchUp(): void {
    const now = this.sched.now;
    for (let n = 0; n < 1000; n++) {
      let first: Timer | undefined;
      for (const tm of this.timers) if (tm.due <= now && (first === undefined || tm.due < first.due)) first = tm;
      if (first === undefined) return;
      const due = first.due;
      first.cancel();
      this.sched.setLocalTime(due); // each piece of work at its own time (>= the event's)
      try {
        first.fire();
      } finally {
        this.sched.setLocalTime(now);
      }
    }
  }

  // ---------------------------------------------------------------------------------
  // SCRIPTS processor

  private startScripts(how: string): void {
    if (this.state !== S_IDLE) {
      this.ctx.log("guest-error", `${how} written while SCRIPTS run (DSP ${hex(this.r.DSP)}); not restarted`);
      return;
    }
    this.state = S_RUN;
    this.t = this.sched.now;
    this.resync = false;
    this.sinceWait = 0;
    this.guardLogged = false;
    if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} SCRIPTS start at ${hex(this.r.DSP)} (${how})`);
    this.scriptTimer.arm(this.sched.now, this.t);
  }

  private abortScripts(): void {
    if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} ABRT`);
    this.scriptTimer.cancel();
    this.r.DSTAT |= this.pendDstat | DSTAT_ABRT;
    this.r.SIST0 |= this.pendSist0;
    this.r.SIST1 |= this.pendSist1;
    this.pendDstat = this.pendSist0 = this.pendSist1 = 0;
    this.state = S_IDLE;
    this.stats.interrupts++;
    this.updateIrq();
  }

  private onScriptTimer(): void {
    if (this.state === S_HALTING) this.applyHalt();
    else if (this.state === S_RUN) this.run();
  }

  /** The batch loop: execute until the SCRIPTS wait, halt or need to meet the clock. */
  private run(): void {
    const r = this.r;
    const T = this.timing;
    this.t = Math.max(this.t, this.sched.now);
    this.yielded = false;
    while (this.state === S_RUN && !this.yielded) {
      if (++this.sinceWait > T.guardInsns) {
        // A loop that never touches the bus (polling memory?): pause, as QEMU does.
        if (!this.guardLogged) {
          this.guardLogged = true;
          this.ctx.log("guest-error", `SCRIPTS ran ${T.guardInsns} instructions without waiting on the bus (DSP ${hex(r.DSP)}); pausing ${T.guardPauseNs} ns`);
        }
        this.stats.guardPauses++;
        this.sinceWait = 0;
        this.t += T.guardPauseNs;
        this.scriptTimer.arm(this.sched.now, this.t);
        return;
      }
      const pc = r.DSP;
      this.inStep = true;
      try {
        this.step(pc);
      } catch (e) {
        if (!(e instanceof DmaFault)) throw e;
        this.ctx.log("guest-error", `SCRIPTS DMA fault at ${hex(e.addr)} (+${e.len}) by instruction at ${hex(pc)}`);
        this.raise(DSTAT_BF, 0, 0);
        return;
      } finally {
        this.inStep = false;
      }
      if (this.state === S_RUN && !this.yielded && r.DCNTL & DCNTL_SSM) this.raise(DSTAT_SSI, 0, 0);
    }
  }

  /** Fetch and execute one instruction at pc. */
  private step(pc: number): void {
    const r = this.r;
    const d0 = this.fetch32(pc);
    const d1 = this.fetch32((pc + 4) >>> 0);
    const cls = d0 >>> 30;
    const mm = cls === 3 && !(d0 & MM_LOADSTORE);
    if (!this.resync) this.t += this.insnNs(pc, mm ? 3 : 2);
    this.resync = false;
    this.stats.instructions++;
    r.DCMD = d0 >>> 24;
    r.DBC = d0 & 0xffffff;
    r.DSPS = d1;
    r.DSP = (pc + (mm ? 12 : 8)) >>> 0;
    if (this.trace !== undefined) this.trace(`lsi: @${this.t} ${hex(pc)}: ${hex(d0)} ${hex(d1)}`);
    switch (cls) {
      case 0:
        this.blockMove(d0, d1, pc);
        return;
      case 1:
        if (((d0 >>> 27) & 7) >= 5) this.registerOp(d0, pc);
        else this.ioInsn(d0, d1, pc);
        return;
      case 2:
        this.transfer(d0, d1, pc);
        return;
      default:
        if (mm) this.memoryMove(d0, d1, this.fetch32((pc + 8) >>> 0), pc);
        else this.loadStore(d0, d1, pc);
    }
  }

  /** Stop here and re-execute the instruction at pc when the clock reaches `t`.
   *  Returns true when the caller must return. */
  private syncAt(pc: number): boolean {
    if (this.t <= this.sched.now) return false;
    this.r.DSP = pc;
    this.resync = true;
    this.yielded = true;
    this.scriptTimer.arm(this.sched.now, this.t);
    return true;
  }

  /** Block until a bus event; `kind` says what happens then. */
  private waitBus(kind: number, pc: number): void {
    this.state = S_WAIT_BUS;
    this.waitKind = kind;
    this.waitPc = pc;
    this.sinceWait = 0;
    if (kind === W_RETRY) {
      this.r.DSP = pc;
      this.resync = true;
    }
  }

  /** A bus event the SCRIPTS may be waiting for has happened (at sched.now). */
  private wakeBus(): void {
    if (this.state !== S_WAIT_BUS || this.waitKind === W_FOREVER) return;
    this.state = S_RUN;
    this.t = Math.max(this.t, this.sched.now);
    if (this.waitKind === W_MOVE_END && this.moveResid > 0) {
      // The phase changed before the block move's count ran out.
      this.phaseMismatch(this.moveResid, this.moveAddr, this.movePhase);
      if (this.state !== S_RUN) return;
    }
    this.run();
  }

  /** An interrupt from the SCRIPTS: halts them at their clock `t`. */
  private raise(dstat: number, sist0: number, sist1: number): void {
    this.pendDstat |= dstat;
    this.pendSist0 |= sist0;
    this.pendSist1 |= sist1;
    if (this.t > this.sched.now) {
      this.state = S_HALTING;
      this.scriptTimer.arm(this.sched.now, this.t);
    } else {
      this.applyHalt();
    }
  }

  private applyHalt(): void {
    const r = this.r;
    this.scriptTimer.cancel();
    r.DSTAT |= this.pendDstat;
    r.SIST0 |= this.pendSist0;
    r.SIST1 |= this.pendSist1;
    if (this.trace !== undefined) {
      this.trace(`lsi: @${this.sched.now} halt at ${hex(r.DSP)}: DSTAT+${hex(this.pendDstat, 2)} SIST+${hex(this.pendSist0 | (this.pendSist1 << 8), 4)} DSPS ${hex(r.DSPS)}`);
    }
    this.pendDstat = this.pendSist0 = this.pendSist1 = 0;
    this.state = S_IDLE;
    this.stats.interrupts++;
    this.updateIrq();
  }

  /** A SCSI interrupt from the bus side (now): sets SIST, halts the SCRIPTS if fatal
   *  or enabled. */
  private scsiEvent(sist0: number, sist1: number): void {
    const r = this.r;
    const halts = (sist0 & (SIST0_FATAL | r.SIEN0)) !== 0 || (sist1 & (SIST1_FATAL | r.SIEN1)) !== 0;
    if (halts && this.state !== S_IDLE) {
      this.pendSist0 |= sist0;
      this.pendSist1 |= sist1;
      this.t = this.sched.now;
      this.applyHalt();
      return;
    }
    r.SIST0 |= sist0;
    r.SIST1 |= sist1;
    this.updateIrq();
  }

  private insnNs(pc: number, dwords: number): number {
    const T = this.timing;
    const fetch = this.internal(pc) ? T.fetchRamClocks : T.fetchHostClocks;
    return (fetch + (dwords - 2) + T.executeClocks) * T.pciClockNs;
  }

  /** DMA time of an n-byte SCRIPTS transfer (table entry, LOAD/STORE, memory move). */
  private xferNs(addr: number, n: number, write: boolean): number {
    const T = this.timing;
    const dwords = Math.max(1, Math.ceil(n / 4));
    if (this.internal(addr)) return dwords * T.pciClockNs;
    // Burst length: DMODE 7:6 with CTEST5.BL2 as the third bit: 2 << code transfers.
    const code = (this.r.CTEST5 & CTEST5_BL2 ? 4 : 0) | (this.r.DMODE >>> 6);
    const burst = 4 * (2 << Math.min(code, 6));
    const setup = write ? T.dmaWriteSetupClocks : T.dmaReadSetupClocks;
    return (Math.ceil(n / burst) * setup + dwords) * T.pciClockNs;
  }

  // --- block moves -------------------------------------------------------------------

  private blockMove(d0: number, d1: number, pc: number): void {
    const r = this.r;
    const phase = (d0 >>> 24) & 7;
    let count = d0 & 0xffffff;
    let addr = d1;
    if (d0 & BM_INDIRECT) {
      addr = this.fetch32(d1);
      this.t += this.xferNs(d1, 4, false);
    } else if (d0 & BM_TABLE) {
      const ta = (r.DSA + sext24(d1)) >>> 0;
      count = this.fetch32(ta) & 0xffffff;
      addr = this.fetch32((ta + 4) >>> 0);
      this.t += this.xferNs(ta, 8, false);
    }
    r.DBC = count;
    r.DNAD = addr;
    r.RBC = count;
    r.IA = pc;
    if (count === 0 || phase === 4 || phase === 5) {
      this.ctx.log("guest-error", `illegal block move at ${hex(pc)} (count ${count}, phase ${phase})`);
      this.raise(DSTAT_IID, 0, 0);
      return;
    }
    if (!this.busReady(pc)) return;
    if (this.ack) this.releaseAck(this.t); // the next transfer releases ACK of the last MSG IN byte
    if (this.bus !== BUS_CONN) {
      // e.g. the ACK release ended the connection: the target is gone.
      this.udc(pc);
      return;
    }
    const start = Math.max(this.t, this.reqAt);
    this.t = start;
    if (this.phase !== phase) {
      this.phaseMismatch(count, addr, phase);
      return;
    }
    this.sinceWait = 0;
    switch (phase) {
      case PH_DATA_IN:
        return this.moveDataIn(count, addr);
      case PH_DATA_OUT:
        return this.moveDataOut(count, addr, pc);
      case PH_COMMAND:
        return this.moveCommand(count, addr, pc);
      case PH_STATUS:
        return this.moveStatus(count, addr);
      case PH_MSG_OUT:
        return this.moveMsgOut(count, addr);
      default:
        return this.moveMsgIn(count, addr);
    }
  }

  /** Before an instruction that needs the bus phase: true when it can go on now. */
  private busReady(pc: number): boolean {
    if (this.bus === BUS_CONN) return true;
    if (this.syncAt(pc)) return false; // the bus may change under us: meet the clock
    if (this.bus === BUS_CONN) return true;
    if (this.bus === BUS_SEL || this.bus === BUS_RESEL) {
      this.waitBus(W_RETRY, pc); // selection result / reselection completes
      return false;
    }
    this.udc(pc);
    return false;
  }

  private udc(pc: number): void {
    this.ctx.log("guest-error", `bus instruction at ${hex(pc)} with no target connected (unexpected disconnect)`);
    this.raise(0, SIST0_UDC, 0);
  }

  private phaseMismatch(resid: number, addr: number, movePhase: number): void {
    const r = this.r;
    r.DBC = resid & 0xffffff;
    r.DNAD = addr >>> 0;
    r.DFIFO = resid & 0xff; // empty FIFO: Linux's (DFIFO - DBC) & 0x7f is 0
    r.CTEST5 = (r.CTEST5 & 0xfc) | ((resid >>> 8) & 3);
    r.SBC = resid;
    r.UA = addr >>> 0;
    if (this.trace !== undefined) {
      this.trace(`lsi: @${this.t} phase mismatch: wanted ${PHASE_NAMES[movePhase]}, bus ${PHASE_NAMES[this.phase & 7]}, residual ${resid} at ${hex(addr)}`);
    }
    if (r.CCNTL0 & CCNTL0_ENPMJ) {
      const out = (movePhase & 1) === 0;
      r.DSP = r.CCNTL0 & CCNTL0_PMJCTL ? (out ? r.PMJAD1 : r.PMJAD2) : r.SCNTL2 & SCNTL2_WSR ? r.PMJAD2 : r.PMJAD1;
      return;
    }
    this.raise(0, SIST0_MA, 0);
  }

  private moveDataIn(count: number, addr: number): void {
    const c = this.nxConn!;
    const src = c.dataIn!;
    const k = Math.min(count, src.length - this.nxDataOff);
    if (src instanceof Uint8Array) this.dmaWrite(addr, src, this.nxDataOff, k);
    else if (k > 0 && !this.internal(addr) && !this.internal(addr + k - 1)) {
      this.mem.dmaCheck(addr, k, "lsi53c895");
      src.copyTo(this.nxDataOff, k, this.mem.u8, addr); // from the target's store into RAM
    } else if (k > 0) {
      if (this.inBuf.length < k) this.inBuf = new Uint8Array(Math.max(k, this.inBuf.length * 2));
      src.copyTo(this.nxDataOff, k, this.inBuf, 0);
      this.dmaWrite(addr, this.inBuf, 0, k);
    }
    if (this.trace !== undefined) this.trace(`lsi: @${this.t} DATA IN DMA ${k} bytes -> ${hex(addr)}`);
    const busEnd = this.t + Math.ceil((k * this.timing.dataPsPerByte) / 1000);
    this.stats.busDataNs += busEnd - this.t;
    this.stats.dataInBytes += k;
    this.nxDataOff += k;
    this.nxMoved = true;
    let end = busEnd;
    const done = this.nxDataOff === src.length;
    if (done) end = Math.max(busEnd, c.paceEndNs ?? 0);
    this.t = end;
    this.reqAt = end;
    this.r.DBC = count - k;
    this.r.DNAD = (addr + k) >>> 0;
    if (done) this.nextPhase(end);
    if (k < count) this.phaseMismatch(count - k, addr + k, PH_DATA_IN);
  }

  private moveDataOut(count: number, addr: number, pc: number): void {
    const c = this.nxConn!;
    const len = c.dataOutLength!;
    const k = Math.min(count, len - this.nxDataOff);
    if (this.outBuf.length < len) this.outBuf = new Uint8Array(Math.max(len, this.outBuf.length * 2));
    this.dmaRead(addr, this.outBuf, this.nxDataOff, k);
    if (this.trace !== undefined) this.trace(`lsi: @${this.t} DATA OUT DMA ${k} bytes <- ${hex(addr)}`);
    const end = this.t + Math.ceil((k * this.timing.dataPsPerByte) / 1000);
    this.stats.busDataNs += end - this.t;
    this.stats.dataOutBytes += k;
    this.nxDataOff += k;
    this.nxMoved = true;
    this.t = end;
    this.reqAt = end;
    this.r.DBC = count - k;
    this.r.DNAD = (addr + k) >>> 0;
    if (this.nxDataOff === len) {
      // The phase ends: the target takes the data at `end`; the move finishes then.
      this.moveResid = count - k;
      this.moveAddr = (addr + k) >>> 0;
      this.movePhase = PH_DATA_OUT;
      this.armBus(EV_DATA_OUT, end);
      this.waitBus(W_MOVE_END, pc);
    }
  }

  private moveCommand(count: number, addr: number, pc: number): void {
    const r = this.r;
    if (this.cdbGot === 0) {
      this.dmaRead(addr, this.cdb, 0, 1);
      this.cdbLen = cdbLength(this.cdb[0]);
      r.SFBR = this.cdb[0];
    }
    const k = Math.min(count, this.cdbLen - this.cdbGot);
    this.dmaRead(addr, this.cdb, this.cdbGot, k);
    this.cdbGot += k;
    this.t += k * this.timing.asyncByteNs;
    this.reqAt = this.t;
    r.DBC = count - k;
    r.DNAD = (addr + k) >>> 0;
    if (this.cdbGot === this.cdbLen) {
      this.moveResid = count - k;
      this.moveAddr = (addr + k) >>> 0;
      this.movePhase = PH_COMMAND;
      this.armBus(EV_COMMAND, this.t);
      this.waitBus(W_MOVE_END, pc);
    }
  }

  private moveStatus(count: number, addr: number): void {
    const r = this.r;
    const st = (this.nxConn?.status ?? 0) & 0xff;
    this.stage[0] = st;
    this.dmaWrite(addr, this.stage, 0, 1);
    r.SFBR = st;
    this.nxStatusSent = true;
    this.t += this.timing.asyncByteNs;
    r.DBC = count - 1;
    r.DNAD = (addr + 1) >>> 0;
    this.msgInSet(A_COMPLETE, MSG_COMMAND_COMPLETE);
    this.enterPhase(PH_MSG_IN, this.t);
    if (count > 1) this.phaseMismatch(count - 1, addr + 1, PH_STATUS);
  }

  private moveMsgIn(count: number, addr: number): void {
    const r = this.r;
    const k = Math.min(count, this.msgInLen - this.msgInPos);
    this.dmaWrite(addr, this.msgIn, this.msgInPos, k);
    r.SFBR = this.msgIn[this.msgInPos];
    r.SIDL = this.msgIn[this.msgInPos + k - 1]; // Linux and sym's scripts read the last byte here
    this.msgInPos += k;
    this.t += k * this.timing.asyncByteNs;
    r.DBC = count - k;
    r.DNAD = (addr + k) >>> 0;
    if (this.trace !== undefined) this.trace(`lsi: @${this.t} MSG IN ${k} byte(s), last ${hex(r.SIDL, 2)}`);
    if (k === count) {
      this.ack = true; // held on the last byte until CLEAR ACK or the next move
      return;
    }
    // The move wants more: the chip ACKs the last byte and the target goes on.
    this.releaseAck(this.t);
    if (this.bus === BUS_CONN) this.phaseMismatch(count - k, addr + k, PH_MSG_IN);
    else this.raise(0, SIST0_UDC, 0);
  }

  private moveMsgOut(count: number, addr: number): void {
    // All bytes of the move are message bytes; the chip drops ATN on the last one.
    const n = Math.min(count, this.msgOut.length);
    this.dmaRead(addr, this.msgOut, 0, n);
    this.r.SFBR = this.msgOut[0];
    this.t += count * this.timing.asyncByteNs;
    this.r.DBC = 0;
    this.r.DNAD = (addr + count) >>> 0;
    this.atn = false;
    if (count > n) this.ctx.log("guest-error", `${count}-byte MSG OUT, only ${n} bytes interpreted`);
    this.targetMessages(n, this.t);
  }

  // --- I/O instructions --------------------------------------------------------------

  private ioInsn(d0: number, d1: number, pc: number): void {
    const r = this.r;
    const op = (d0 >>> 27) & 7;
    const alt = d0 & IO_RELATIVE ? (r.DSP + sext24(d1)) >>> 0 : d1;
    switch (op) {
      case 0:
        return this.select(d0, alt, pc);
      case 1:
        return this.waitDisconnect(pc);
      case 2:
        return this.waitReselect(alt, pc);
      default: {
        // SET (3) / CLEAR (4)
        const set = op === 3;
        if (d0 & IO_TARGET) this.ctx.log("unimp", "SET/CLEAR TARGET (target mode) not emulated");
        if (d0 & IO_CARRY) this.carry = set;
        if (d0 & IO_ATN) {
          if (set) this.raiseAtn();
          else this.atn = false;
        }
        if (d0 & IO_ACK) {
          if (set) this.ctx.log("unimp", "SET ACK not emulated (the chip drives ACK)");
          else if (this.ack) this.releaseAck(this.t);
        }
        r.SOCL = (r.SOCL & ~SBCL_ATN) | (this.atn ? SBCL_ATN : 0);
      }
    }
  }

  private select(d0: number, alt: number, pc: number): void {
    const r = this.r;
    if (this.syncAt(pc)) return; // arbitration is decided at the bus's time
    let id = (d0 >>> 16) & 0xf;
    if (d0 & IO_TABLE) {
      const v = this.fetch32((r.DSA + sext24(d0 & 0xffffff)) >>> 0);
      id = (v >>> 16) & 0xf;
      r.SXFER = (v >>> 8) & 0xff;
      r.SCNTL3 = v >>> 24;
      this.t += this.xferNs(r.DSA, 4, false);
    }
    r.DNAD = alt;
    r.SDID = id;
    if (d0 & IO_TARGET) {
      this.ctx.log("unimp", "RESELECT (target mode) not emulated");
      this.raise(DSTAT_IID, 0, 0);
      return;
    }
    if (this.bus === BUS_RESEL || this.bus === BUS_CONN) {
      // Reselected before we won arbitration: alternate jump.
      this.reselPending = false;
      if (this.bus === BUS_RESEL) this.t = Math.max(this.t, this.reselDoneAt);
      r.DSP = alt;
      if (this.trace !== undefined) this.trace(`lsi: @${this.t} SELECT ${id}: reselected, jump ${hex(alt)}`);
      return;
    }
    // The bus is free (the SCRIPTS' own disconnect came before this instruction).
    const T = this.timing;
    this.t = Math.max(this.t, this.busFreeAt);
    const won = this.t + T.arbitrationNs;
    this.busOwnedAt = this.t;
    this.sinceWait = 0;
    this.stats.selections++;
    r.SSTAT0 |= SSTAT0_WOA;
    this.atn = (d0 & IO_SEL_ATN) !== 0;
    this.clearNexus();
    this.nxId = id;
    const own = r.SCID & 0x0f;
    const tg = id === own ? undefined : this.targetById[id];
    if (tg === undefined) {
      this.bus = BUS_SEL;
      const to = selectionTimeoutNs(r.STIME0);
      if (to > 0) this.armBus(EV_STO, won + to);
      else this.ctx.log("guest-error", `selection of absent ID ${id} with the selection timeout disabled (STIME0.SEL = 0)`);
      if (this.trace !== undefined) this.trace(`lsi: @${this.t} SELECT ${id}${this.atn ? " ATN" : ""}: no such target, STO at ${to > 0 ? won + to : "never"}`);
    } else {
      this.bus = BUS_CONN;
      this.connAt = won + T.selectionNs;
      this.nxLun = 0;
      this.nxTag = -1;
      this.after = A_COMMAND;
      this.enterPhase(this.atn ? PH_MSG_OUT : PH_COMMAND, this.connAt);
      if (this.trace !== undefined) this.trace(`lsi: @${this.t} SELECT ${id}${this.atn ? " ATN" : ""}: won ${won}, connected ${this.connAt}`);
    }
    this.t = won; // SELECT completes when arbitration is won; selection goes on meanwhile
  }

  private waitDisconnect(pc: number): void {
    if (this.bus === BUS_FREE) {
      this.t = Math.max(this.t, this.busFreeAt);
      return;
    }
    if (this.bus === BUS_CONN && this.ack && this.msgInPos === this.msgInLen && (this.after === A_COMPLETE || this.after === A_DISCONNECT)) {
      this.ctx.log("guest-error", `WAIT DISCONNECT at ${hex(pc)} with ACK still asserted; releasing it`);
      this.releaseAck(this.t);
      this.t = Math.max(this.t, this.busFreeAt);
      return;
    }
    if (this.bus === BUS_CONN) {
      this.ctx.log("guest-error", `WAIT DISCONNECT at ${hex(pc)} while the target is in ${PHASE_NAMES[this.phase & 7]}: SCRIPTS hang`);
      this.waitBus(W_FOREVER, pc);
      return;
    }
    this.waitBus(W_RETRY, pc); // selection or reselection in progress
  }

  private waitReselect(alt: number, pc: number): void {
    const r = this.r;
    if (this.syncAt(pc)) return;
    r.DNAD = alt;
    if (r.ISTAT & ISTAT_SIGP) {
      r.DSP = alt;
      return;
    }
    if (this.bus === BUS_RESEL) {
      this.state = S_WAIT_RESEL; // completes at reselDoneAt
      this.sinceWait = 0;
      return;
    }
    if (this.bus === BUS_CONN && this.reselPending) {
      this.reselPending = false;
      return;
    }
    if (this.bus !== BUS_FREE) {
      this.ctx.log("guest-error", `WAIT RESELECT at ${hex(pc)} while connected`);
      this.raise(DSTAT_IID, 0, 0);
      return;
    }
    this.state = S_WAIT_RESEL;
    this.sinceWait = 0;
    if (this.trace !== undefined) this.trace(`lsi: @${this.t} WAIT RESELECT (SIGP -> ${hex(alt)})`);
    this.tryArbitrate();
  }

  // --- register read-modify-write (classes 5, 6, 7) ------------------------------------

  private registerOp(d0: number, pc: number): void {
    const r = this.r;
    const cls = (d0 >>> 27) & 7;
    const reg = ((d0 >>> 16) & 0x7f) | (d0 & 0x80);
    const op = (d0 >>> 24) & 7;
    const imm = (d0 >>> 8) & 0xff;
    if (SYNC_REG[reg] && this.syncAt(pc)) return; // the CPU or the bus changes this one
    let a = 0;
    let b = imm;
    if (cls === 5) a = r.SFBR;
    else if (op !== 0) a = this.readByte(reg);
    if (cls === 7 && d0 & (1 << 23)) b = r.SFBR;
    let v: number;
    switch (op) {
      case 0: v = b; break; // MOV
      case 1: { // SHL through carry
        v = ((a << 1) | (this.carry ? 1 : 0)) & 0xff;
        this.carry = (a & 0x80) !== 0;
        break;
      }
      case 2: v = a | b; break;
      case 3: v = a ^ b; break;
      case 4: v = a & b; break;
      case 5: { // SHR through carry
        v = (a >>> 1) | (this.carry ? 0x80 : 0);
        this.carry = (a & 1) !== 0;
        break;
      }
      case 6: { // ADD
        const s = a + b;
        v = s & 0xff;
        this.carry = s > 0xff;
        break;
      }
      default: { // ADC
        const s = a + b + (this.carry ? 1 : 0);
        v = s & 0xff;
        this.carry = s > 0xff;
      }
    }
    if (cls === 6) r.SFBR = v;
    else this.writeByte(reg, v);
  }

  // --- transfer control ------------------------------------------------------------------

  private transfer(d0: number, d1: number, pc: number): void {
    const r = this.r;
    const op = (d0 >>> 27) & 7;
    if (op > 3) {
      this.ctx.log("guest-error", `illegal transfer-control opcode ${op} at ${hex(pc)}`);
      this.raise(DSTAT_IID, 0, 0);
      return;
    }
    if ((d0 & (TC_CARRY | TC_TRUE | TC_DATA | TC_PHASE)) === 0) return; // NOP
    const jmp = (d0 & TC_TRUE) !== 0;
    let cond = jmp;
    if (cond === jmp && d0 & TC_CARRY) cond = this.carry;
    if (cond === jmp && d0 & TC_PHASE) {
      if (this.bus !== BUS_CONN && this.syncAt(pc)) return; // a reselection may come
      if (this.bus === BUS_SEL || this.bus === BUS_RESEL) {
        this.waitBus(W_RETRY, pc); // the phase is valid once (re)selection completes
        return;
      }
      if (this.bus === BUS_FREE) {
        cond = false; // no target: no phase matches
      } else {
        // WHEN waits for REQ; IF looks at the phase lines as they are (the target sets
        // them a bus settle delay before REQ, so the engine's phase is already right).
        if (d0 & TC_WAIT && !this.ack) this.t = Math.max(this.t, this.reqAt);
        cond = this.phase === ((d0 >>> 24) & 7);
      }
    }
    if (cond === jmp && d0 & TC_DATA) {
      const mask = ~(d0 >>> 8) & 0xff;
      cond = (r.SFBR & mask) === (d0 & mask);
    }
    if (cond !== jmp) return;
    const target = d0 & TC_RELATIVE ? (r.DSP + sext24(d1)) >>> 0 : d1;
    switch (op) {
      case 0:
        r.ADDER = target;
        r.DSP = target;
        return;
      case 1:
        r.TEMP = r.DSP;
        r.DSP = target;
        return;
      case 2:
        r.DSP = r.TEMP;
        return;
      default:
        if (d0 & TC_INTFLY) {
          if (this.syncAt(pc)) return; // the interrupt comes at the SCRIPTS' time
          r.ISTAT |= ISTAT_INTF;
          if (this.trace !== undefined) this.trace(`lsi: @${this.t} INTFLY ${hex(d1)}`);
          this.updateIrq();
        } else {
          this.raise(DSTAT_SIR, 0, 0); // DSPS = vector (set at fetch)
        }
    }
  }

  // --- memory move, LOAD/STORE ------------------------------------------------------------

  private memoryMove(d0: number, src: number, dst: number, pc: number): void {
    const n = d0 & 0xffffff;
    if (n === 0) return;
    if ((this.inWindowRegs(src, n) || this.inWindowRegs(dst, n)) && this.syncAt(pc)) return;
    this.copy(src, dst, n);
    this.t += this.xferNs(src, n, false) + this.xferNs(dst, n, true);
    if (this.trace !== undefined) this.trace(`lsi: @${this.t} memory move ${n} bytes ${hex(src)} -> ${hex(dst)}`);
  }

  private loadStore(d0: number, d1: number, pc: number): void {
    const r = this.r;
    const n = d0 & 7;
    const reg = (d0 >>> 16) & 0xff;
    if (n === 0 || n > 4 || reg + n > 0x100) {
      this.ctx.log("guest-error", `illegal LOAD/STORE at ${hex(pc)} (${n} bytes at register 0x${reg.toString(16)})`);
      this.raise(DSTAT_IID, 0, 0);
      return;
    }
    const addr = d0 & LS_DSA_REL ? (r.DSA + sext24(d1)) >>> 0 : d1;
    let sensitive = this.inWindowRegs(addr, n);
    for (let i = 0; i < n; i++) if (SYNC_REG[reg + i]) sensitive = true;
    if (sensitive && this.syncAt(pc)) return;
    const buf = this.stage;
    if (d0 & LS_LOAD) {
      this.dmaRead(addr, buf, 0, n);
      for (let i = 0; i < n; i++) this.writeByte(reg + i, buf[i]);
    } else {
      for (let i = 0; i < n; i++) buf[i] = this.readByte(reg + i);
      this.dmaWrite(addr, buf, 0, n);
    }
    this.t += this.xferNs(addr, n, !(d0 & LS_LOAD));
  }

  // ---------------------------------------------------------------------------------
  // DMA: host RAM, or the chip's own window (registers, SCRIPTS RAM)

  private internal(addr: number): boolean {
    return addr >= this.base && addr < this.base + WINDOW;
  }

  private inWindowRegs(addr: number, n: number): boolean {
    return addr + n > this.base && addr < this.base + 0x100;
  }

  private fetch32(addr: number): number {
    if (this.internal(addr)) {
      const o = addr - this.base;
      if (o >= RAM_OFF && o + 4 <= RAM_OFF + RAM_SIZE) return this.ramDv.getUint32(o - RAM_OFF, true);
      this.dmaRead(addr, this.stage, 0, 4);
      return (this.stage[0] | (this.stage[1] << 8) | (this.stage[2] << 16) | (this.stage[3] << 24)) >>> 0;
    }
    this.mem.dmaCheck(addr, 4, "lsi53c895");
    return this.mem.dv.getUint32(addr, true);
  }

  /** Copy n bytes from bus address `addr` into dst[off..]. Throws DmaFault. */
  private dmaRead(addr: number, dst: Uint8Array, off: number, n: number): void {
    if (n === 0) return;
    if (!this.internal(addr) && !this.internal(addr + n - 1)) {
      this.mem.dmaCheck(addr, n, "lsi53c895");
      dst.set(this.mem.u8.subarray(addr, addr + n), off);
      return;
    }
    for (let i = 0; i < n; ) {
      const a = addr + i;
      const o = a - this.base;
      if (!this.internal(a)) {
        const len = Math.min(n - i, this.base > a ? this.base - a : n - i);
        this.mem.dmaCheck(a, len, "lsi53c895");
        dst.set(this.mem.u8.subarray(a, a + len), off + i);
        i += len;
      } else if (o >= RAM_OFF) {
        const len = Math.min(n - i, WINDOW - o);
        dst.set(this.ram.subarray(o - RAM_OFF, o - RAM_OFF + len), off + i);
        i += len;
      } else if (o < 0x100) {
        dst[off + i] = this.readByte(o);
        i++;
      } else {
        throw new DmaFault("lsi53c895", a, n - i);
      }
    }
  }

  /** Copy src[off..off+n) to bus address `addr`. Throws DmaFault. */
  private dmaWrite(addr: number, src: Uint8Array, off: number, n: number): void {
    if (n === 0) return;
    if (!this.internal(addr) && !this.internal(addr + n - 1)) {
      this.mem.dmaCheck(addr, n, "lsi53c895");
      this.mem.u8.set(src.subarray(off, off + n), addr);
      return;
    }
    for (let i = 0; i < n; ) {
      const a = addr + i;
      const o = a - this.base;
      if (!this.internal(a)) {
        const len = Math.min(n - i, this.base > a ? this.base - a : n - i);
        this.mem.dmaCheck(a, len, "lsi53c895");
        this.mem.u8.set(src.subarray(off + i, off + i + len), a);
        i += len;
      } else if (o >= RAM_OFF) {
        const len = Math.min(n - i, WINDOW - o);
        this.ram.set(src.subarray(off + i, off + i + len), o - RAM_OFF);
        i += len;
      } else if (o < 0x100) {
        this.writeByte(o, src[off + i]);
        i++;
      } else {
        throw new DmaFault("lsi53c895", a, n - i);
      }
    }
  }

  /** Memory move: RAM to RAM directly; anything touching the window through staging. */
  private copy(src: number, dst: number, n: number): void {
    const plain = !this.internal(src) && !this.internal(src + n - 1) && !this.internal(dst) && !this.internal(dst + n - 1);
    if (plain) {
      this.mem.dmaCheck(src, n, "lsi53c895");
      this.mem.dmaCheck(dst, n, "lsi53c895");
      this.mem.u8.copyWithin(dst, src, src + n);
      return;
    }
    for (let i = 0; i < n; i += this.stage.length) {
      const len = Math.min(this.stage.length, n - i);
      this.dmaRead(src + i, this.stage, 0, len);
      this.dmaWrite(dst + i, this.stage, 0, len);
    }
  }

  // ---------------------------------------------------------------------------------
  // The bus and phase engine (target side of the protocol, per devices/scsi.ts)

  private enterPhase(ph: number, at: number): void {
    this.phase = ph;
    this.reqAt = at + this.timing.phaseChangeNs;
    this.r.SSTAT1 = (this.r.SSTAT1 & 0xf8) | ph;
    if (this.trace !== undefined) this.trace(`lsi: @${at} phase ${PHASE_NAMES[ph]} (REQ ${this.reqAt})`);
  }

  private msgInSet(after: number, b0: number, b1 = -1, b2 = -1): void {
    this.msgIn[0] = b0;
    let n = 1;
    if (b1 >= 0) this.msgIn[n++] = b1;
    if (b2 >= 0) this.msgIn[n++] = b2;
    this.msgInLen = n;
    this.msgInPos = 0;
    this.after = after;
  }

  /** The connection's next phase: its data, then status; else the target disconnects. */
  private nextPhase(at: number): void {
    const c = this.nxConn!;
    const inLen = c.dataIn?.length ?? 0;
    const outLen = c.dataOutLength ?? 0;
    if (inLen > 0 && this.nxDataOff < inLen) return this.enterPhase(PH_DATA_IN, at);
    if (inLen === 0 && outLen > 0 && this.nxDataOff < outLen) return this.enterPhase(PH_DATA_OUT, at);
    if (c.status !== undefined && !this.nxStatusSent) return this.enterPhase(PH_STATUS, at);
    if (this.nxMoved) this.msgInSet(A_DISCONNECT, MSG_SAVE_DATA_POINTER, MSG_DISCONNECT);
    else this.msgInSet(A_DISCONNECT, MSG_DISCONNECT);
    this.enterPhase(PH_MSG_IN, at);
  }

  /** The initiator releases ACK of the last MSG IN byte: the target goes on. */
  private releaseAck(at: number): void {
    this.ack = false;
    if (this.atn) return this.enterPhase(PH_MSG_OUT, at); // the target answers ATN
    if (this.msgInPos < this.msgInLen) {
      this.reqAt = at; // next byte of the same message phase
      return;
    }
    this.doAfter(at);
  }

  private doAfter(at: number): void {
    switch (this.after) {
      case A_COMMAND:
        return this.enterPhase(PH_COMMAND, at);
      case A_PLAN:
        return this.nextPhase(at);
      case A_DISCONNECT:
        return this.busRelease(at + this.timing.busFreeNs, false);
      default:
        return this.busRelease(at + this.timing.busFreeNs, true);
    }
  }

  private raiseAtn(): void {
    this.atn = true;
    // Between phases the target answers ATN at its next REQ (after ACK release when a
    // MSG IN byte is held); in a data/command phase it switches at once.
    if (this.bus === BUS_CONN && !this.ack && this.phase !== PH_MSG_OUT && this.phase !== PH_MSG_IN) {
      this.ctx.log("unimp", `ATN raised in ${PHASE_NAMES[this.phase & 7]}: the target goes to MSG OUT at once`);
      this.after = this.nxConn ? A_PLAN : A_COMMAND;
      this.msgInLen = this.msgInPos = 0;
      this.enterPhase(PH_MSG_OUT, this.t);
    }
  }

  /** The target interprets the bytes of a MSG OUT phase, then picks its next phase. */
  private targetMessages(n: number, at: number): void {
    const m = this.msgOut;
    let reject = false;
    let i = 0;
    while (i < n) {
      const b = m[i++];
      if (b & 0x80) {
        this.nxLun = b & 0x07; // IDENTIFY (bit 6: disconnect privilege, decided by the target)
      } else if (b === MSG_SIMPLE_TAG || b === MSG_HEAD_TAG || b === MSG_ORDERED_TAG) {
        if (b !== MSG_SIMPLE_TAG) this.ctx.log("unimp", `${b === MSG_HEAD_TAG ? "HEAD OF QUEUE" : "ORDERED"} tag treated as SIMPLE`);
        this.nxTag = i < n ? m[i++] : 0;
      } else if (b === 0x01) {
        // Extended message (SDTR, WDTR, PPR, ...): the targets do not negotiate.
        const len = i < n ? m[i] : 0;
        i += 1 + len;
        reject = true;
      } else if (b === MSG_NOP || b === MSG_REJECT) {
        // nothing: a reject of our last message is accepted silently
      } else if (b === MSG_ABORT || b === 0x0d || b === 0x0e || b === MSG_DEVICE_RESET) {
        const tg = this.targetById[this.nxId];
        if (b === MSG_DEVICE_RESET || b === 0x0e) tg?.busReset();
        else if (this.nxTask) this.ctx.log("unimp", "ABORT/ABORT TAG not passed to the target (no per-task abort in the contract)");
        if (this.trace !== undefined) this.trace(`lsi: @${at} MSG OUT ${hex(b, 2)}: target releases the bus`);
        this.busRelease(at + this.timing.busFreeNs, false);
        return;
      } else {
        reject = true;
      }
    }
    if (this.trace !== undefined) this.trace(`lsi: @${at} MSG OUT ${n} byte(s) lun ${this.nxLun} tag ${this.nxTag}${reject ? ", rejected" : ""}`);
    if (reject) {
      // MESSAGE REJECT, then whatever was pending (remaining MSG IN bytes are dropped).
      this.msgIn[0] = MSG_REJECT;
      this.msgInLen = 1;
      this.msgInPos = 0;
      this.enterPhase(PH_MSG_IN, at);
      return;
    }
    if (this.msgInPos < this.msgInLen) return this.enterPhase(PH_MSG_IN, at);
    this.doAfter(at);
  }

  /** The target releases BSY at `at`: bus free. */
  private busRelease(at: number, complete: boolean): void {
    if (complete) this.stats.completions++;
    else if (this.nxTask) this.stats.disconnects++;
    if (this.trace !== undefined) this.trace(`lsi: @${at} bus free (${complete ? "command complete" : "disconnect"}, target ${this.nxId} tag ${this.nxTag})`);
    this.stats.busBusyNs += at - this.busOwnedAt;
    this.bus = BUS_FREE;
    this.busFreeAt = at;
    this.phase = -1;
    this.ack = this.atn = false;
    this.clearNexus();
    this.r.SSTAT2 |= SSTAT2_LDSC;
    this.tryArbitrate();
  }

  private armBus(ev: number, at: number): void {
    this.busEvent = ev;
    this.busTimer.arm(this.sched.now, at);
  }

  private onBusTimer(): void {
    const ev = this.busEvent;
    this.busEvent = EV_NONE;
    switch (ev) {
      case EV_STO:
        return this.selectionTimeout();
      case EV_RESEL_DONE:
        return this.reselectionDone();
      case EV_COMMAND:
        return this.deliverCommand();
      case EV_DATA_OUT:
        return this.deliverDataOut();
    }
  }

  private selectionTimeout(): void {
    const r = this.r;
    if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} selection timeout (ID ${this.nxId})`);
    this.stats.selectionTimeouts++;
    this.stats.busBusyNs += this.sched.now - this.busOwnedAt;
    this.bus = BUS_FREE;
    this.busFreeAt = this.sched.now;
    this.phase = -1;
    this.atn = false;
    this.clearNexus();
    // Linux expects DSP past the instruction that waited for the target's phase.
    if (this.state === S_WAIT_BUS) r.DSP = (this.waitPc + 8) >>> 0;
    this.resync = false;
    this.scsiEvent(0, SIST1_STO);
    this.tryArbitrate();
  }

  /** COMMAND phase done: the target owns the task from here. */
  private deliverCommand(): void {
    const tg = this.targetById[this.nxId]!;
    const task: ScsiTask = {
      initiatorId: this.r.SCID & 0x0f,
      targetId: this.nxId,
      lun: this.nxLun,
      tag: this.nxTag,
      cdb: this.cdb.slice(0, this.cdbLen),
    };
    this.nxTask = task;
    this.stats.commands++;
    if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} command ${hex(task.cdb[0], 2)} to target ${task.targetId} tag ${task.tag}`);
    const c = this.callTarget(() => tg.command(task, this.ports[task.targetId]));
    this.continueOrDisconnect(c);
    this.wakeBus();
  }

  /** DATA OUT phase done: hand the bytes to the target. */
  private deliverDataOut(): void {
    const tg = this.targetById[this.nxId]!;
    const task = this.nxTask!;
    const len = this.nxConn!.dataOutLength!;
    const data = this.outBuf.subarray(0, len);
    const c = this.callTarget(() => tg.dataOut(task, data, this.ports[task.targetId]));
    this.continueOrDisconnect(c);
    this.wakeBus();
  }

  private callTarget(call: () => void): Connection | undefined {
    this.inCall = this.nxId;
    this.cont = undefined;
    try {
      call();
    } finally {
      this.inCall = -1;
    }
    const c = this.cont;
    this.cont = undefined;
    return c;
  }

  private continueOrDisconnect(c: Connection | undefined): void {
    const now = this.sched.now;
    if (c !== undefined) {
      this.nxConn = c;
      this.nxDataOff = 0;
      this.nxStatusSent = false;
      this.nextPhase(now);
    } else {
      if (this.nxMoved) this.msgInSet(A_DISCONNECT, MSG_SAVE_DATA_POINTER, MSG_DISCONNECT);
      else this.msgInSet(A_DISCONNECT, MSG_DISCONNECT);
      this.enterPhase(PH_MSG_IN, now);
    }
  }

  /** port.connect from target `id`. */
  private targetConnect(id: number, c: Connection): void {
    if (this.inCall === id && this.cont === undefined && c.task === this.nxTask) {
      this.cont = c; // the connection continues
      return;
    }
    if (c.task.targetId !== id) throw new Error(`lsi53c895: target ${id} connects for a task of target ${c.task.targetId}`);
    this.waiting.push({ id, conn: c });
    if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} target ${id} wants to reconnect (tag ${c.task.tag})`);
    this.tryArbitrate();
  }

  /** Give the free bus to the highest waiting SCSI ID (first come among equals). */
  private tryArbitrate(): void {
    if (this.waiting.length === 0 || this.bus !== BUS_FREE) return;
    if (!(this.r.SCID & SCID_RRE)) return; // the chip does not answer reselections yet
    const now = this.sched.now;
    if (this.busFreeAt > now) {
      this.arbTimer.arm(now, this.busFreeAt);
      return;
    }
    let best = 0;
    for (let i = 1; i < this.waiting.length; i++) if (this.waiting[i].id > this.waiting[best].id) best = i;
    const w = this.waiting.splice(best, 1)[0];
    const T = this.timing;
    this.bus = BUS_RESEL;
    this.busOwnedAt = now;
    this.reselDoneAt = now + T.arbitrationNs + T.selectionNs;
    this.clearNexus();
    this.nxId = w.id;
    this.nxTask = w.conn.task;
    this.nxConn = w.conn;
    this.nxLun = w.conn.task.lun;
    this.nxTag = w.conn.task.tag;
    this.armBus(EV_RESEL_DONE, this.reselDoneAt);
    if (this.trace !== undefined) this.trace(`lsi: @${now} target ${w.id} arbitrates, reselects at ${this.reselDoneAt}`);
  }

  private reselectionDone(): void {
    const r = this.r;
    const now = this.sched.now;
    const id = this.nxId;
    this.bus = BUS_CONN;
    this.connAt = now;
    this.stats.reselections++;
    r.SSID = 0x80 | id;
    if (!(r.DCNTL & DCNTL_COM)) r.SFBR = 1 << (id & 7); // 53C700 compatibility [S1]
    const ident = MSG_IDENTIFY | (this.nxLun & 0x07);
    if (this.nxTag >= 0) this.msgInSet(A_PLAN, ident, MSG_SIMPLE_TAG, this.nxTag & 0xff);
    else this.msgInSet(A_PLAN, ident);
    this.enterPhase(PH_MSG_IN, now);
    if (this.trace !== undefined) this.trace(`lsi: @${now} reselected by ${id} (tag ${this.nxTag})`);
    if (this.state === S_WAIT_RESEL) {
      this.state = S_RUN;
      this.t = Math.max(this.t, now);
      this.run();
      return;
    }
    this.reselPending = true;
    if (this.state === S_WAIT_BUS) {
      this.wakeBus();
      return;
    }
    if (r.SIEN0 & SIST0_RSL && r.SCID & SCID_RRE) this.scsiEvent(SIST0_RSL, 0);
  }

  // ---------------------------------------------------------------------------------
  // General purpose timer (STIME1.GEN)

  private armGen(): void {
    const ns = selectionTimeoutNs(this.r.STIME1);
    if (ns === 0) this.genTimer.cancel();
    else this.genTimer.arm(this.sched.now, this.sched.now + ns);
  }

  private onGenTimer(): void {
    this.scsiEvent(0, SIST1_GEN);
  }

  // ---------------------------------------------------------------------------------
  // The interrupt line: one place computes it.

  private updateIrq(): void {
    const r = this.r;
    const sist = r.SIST0 | (r.SIST1 << 8);
    const sien = r.SIEN0 | (r.SIEN1 << 8);
    const fatal = SIST0_FATAL | (SIST1_FATAL << 8);
    const dip = (r.DSTAT & ~DSTAT_DFE & 0xff) !== 0;
    const sip = (sist & (sien | fatal)) !== 0;
    r.ISTAT = (r.ISTAT & ~(ISTAT_SIP | ISTAT_DIP)) | (sip ? ISTAT_SIP : 0) | (dip ? ISTAT_DIP : 0);
    const level = (r.DSTAT & r.DIEN & 0x7f) !== 0 || (sist & sien) !== 0 || (r.ISTAT & ISTAT_INTF) !== 0;
    const pin = level && !(r.DCNTL & DCNTL_IRQD);
    if (pin !== this.irqLevel) {
      this.irqLevel = pin;
      if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} irq ${pin ? 1 : 0} (DSTAT ${hex(r.DSTAT, 2)} SIST ${hex(sist, 4)} ISTAT ${hex(r.ISTAT, 2)})`);
      this.ctx.irq.set(pin);
    }
  }
}

