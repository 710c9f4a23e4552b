// LSI53C895 model, part 1 of 4: the data. The register table (names, widths, reset
// values and access modes of the 53C895A's registers: the manual's chapter 5
// "Registers" [S7], offsets from common/lsi-regs.ts), the timing constants with their
// sources, and the names of the model's internal states. No behaviour here: the chip
// is devices/lsi53c895.ts (registers, reset, interrupt), lsi53c895-scripts.ts (the
// SCRIPTS processor, chapter 6) and lsi53c895-bus.ts (the SCSI bus side, chapter 2 and
// SCSI-2). Sources as in devices/lsi53c895.ts.
//
// Interface:
//   REGS, R, RegName, RegDef, regName(off)   the register table, offsets by name
//   REG_AT, SYNC_REG                         offset -> table index; registers the CPU or
//                                            the bus change behind the SCRIPTS' back
//   LsiTiming, LSI_TIMING                    every timing constant, with its source
//   selectionTimeoutNs(code), cdbLength(op)  STIME0/1 codes; CDB length by group
//   Lsi53c895Options, LsiStats, Regs          options, counters, the register file
//   S_* W_* BUS_* A_* EV_*, DueTimer          internal states; a one-shot with its due time

import * as L from "../common/lsi-regs.js";
import { OneShot, type Scheduler } from "../host/sched.js";

// ---------------------------------------------------------------------------------
// Register table (53C895A layout [S7], names and offsets from common/lsi-regs.ts).
// Reset values are what a read returns after reset; trace names and reset() derive
// from this table.
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
  { name: "SCNTL0", off: L.SCNTL0, reset: 0xc0 }, // full arbitration
  { name: "SCNTL1", off: L.SCNTL1 }, // RST asserts SCSI RST; CON (0x10) reads the connection
  { name: "SCNTL2", off: L.SCNTL2 },
  { name: "SCNTL3", off: L.SCNTL3 },
  { name: "SCID", off: L.SCID }, // 0x40 RRE, 3:0 own ID
  { name: "SXFER", off: L.SXFER },
  { name: "SDID", off: L.SDID },
  { name: "GPREG", off: L.GPREG, reset: 0x7f }, // no pins wired: stored (sym's LED writes land here)
  { name: "SFBR", off: L.SFBR },
  { name: "SOCL", off: L.SOCL },
  { name: "SSID", off: L.SSID, access: "ro" },
  { name: "SBCL", off: L.SBCL, access: "ro" }, // bus lines, computed
  { name: "DSTAT", off: L.DSTAT, reset: 0x80, access: "read-clear" }, // DFE stays 1
  { name: "SSTAT0", off: L.SSTAT0, access: "ro" },
  { name: "SSTAT1", off: L.SSTAT1, access: "ro" }, // 2:0 phase, FIFO count 0
  { name: "SSTAT2", off: L.SSTAT2, reset: 0x02, access: "ro" }, // LDSC while disconnected
  { name: "DSA", off: L.DSA, width: 4 },
  { name: "ISTAT", off: L.ISTAT, access: "w1c" },
  { name: "ISTAT1", off: L.ISTAT1, access: "ro" }, // 02 SRUN
  { name: "MBOX0", off: L.MBOX0 },
  { name: "MBOX1", off: L.MBOX1 },
  { name: "CTEST0", off: L.CTEST0 },
  { name: "CTEST1", off: L.CTEST1, reset: 0xf0, access: "ro" }, // DMA FIFO empty
  { name: "CTEST2", off: L.CTEST2, reset: 0x11, access: "ro" }, // CM|DACK; 40 SIGP (read clears ISTAT.SIGP)
  { name: "CTEST3", off: L.CTEST3 },
  { name: "TEMP", off: L.TEMP, width: 4 },
  { name: "DFIFO", off: L.DFIFO },
  { name: "CTEST4", off: L.CTEST4 },
  { name: "CTEST5", off: L.CTEST5 },
  { name: "CTEST6", off: L.CTEST6 },
  { name: "DBC", off: L.DBC, width: 3 },
  { name: "DCMD", off: L.DCMD },
  { name: "DNAD", off: L.DNAD, width: 4 },
  { name: "DSP", off: L.DSP, width: 4 }, // writing the MSB starts SCRIPTS (unless DMODE.MAN)
  { name: "DSPS", off: L.DSPS, width: 4 },
  { name: "SCRATCHA", off: L.SCRATCHA, width: 4 },
  { name: "DMODE", off: L.DMODE },
  { name: "DIEN", off: L.DIEN },
  { name: "SBR", off: L.SBR },
  { name: "DCNTL", off: L.DCNTL },
  { name: "ADDER", off: L.ADDER, width: 4, access: "ro" },
  { name: "SIEN0", off: L.SIEN0 },
  { name: "SIEN1", off: L.SIEN1 },
  { name: "SIST0", off: L.SIST0, access: "read-clear" },
  { name: "SIST1", off: L.SIST1, access: "read-clear" },
  { name: "SLPAR", off: L.SLPAR },
  { name: "SWIDE", off: L.SWIDE, access: "ro" },
  { name: "MACNTL", off: L.MACNTL },
  { name: "GPCNTL", off: L.GPCNTL, reset: 0x0f },
  { name: "STIME0", off: L.STIME0 }, // 7:4 HTH (not emulated), 3:0 selection timeout
  { name: "STIME1", off: L.STIME1 }, // 3:0 general purpose timer -> SIST1.GEN
  { name: "RESPID0", off: L.RESPID0 },
  { name: "RESPID1", off: L.RESPID1 },
  { name: "STEST0", off: L.STEST0, access: "ro" },
  { name: "STEST1", off: L.STEST1 },
  { name: "STEST2", off: L.STEST2 },
  { name: "STEST3", off: L.STEST3 },
  { name: "SIDL", off: L.SIDL, width: 2, access: "ro" }, // last MSG IN byte
  { name: "STEST4", off: L.STEST4, reset: 0xe0, access: "ro" }, // LVD mode, clock doubler locked
  { name: "SODL", off: L.SODL, width: 2 },
  { name: "CCNTL0", off: L.CCNTL0 }, // 80 ENPMJ, 40 PMJCTL
  { name: "CCNTL1", off: L.CCNTL1 },
  { name: "SBDL", off: L.SBDL, width: 2, access: "ro" },
  { name: "SCRATCHB", off: L.SCRATCHB, width: 4 },
  { name: "SCRATCHC", off: L.SCRATCHC, width: 4 },
  { name: "SCRATCHD", off: L.SCRATCHD, width: 4 },
  { name: "SCRATCHE", off: L.SCRATCHE, width: 4 },
  { name: "SCRATCHF", off: L.SCRATCHF, width: 4 },
  { name: "SCRATCHG", off: L.SCRATCHG, width: 4 },
  { name: "SCRATCHH", off: L.SCRATCHH, width: 4 },
  { name: "SCRATCHI", off: L.SCRATCHI, width: 4 },
  { name: "SCRATCHJ", off: L.SCRATCHJ, width: 4 },
  { name: "SCRATCHK", off: L.SCRATCHK, width: 4 },
  { name: "SCRATCHL", off: L.SCRATCHL, width: 4 },
  { name: "SCRATCHM", off: L.SCRATCHM, width: 4 },
  { name: "SCRATCHN", off: L.SCRATCHN, width: 4 },
  { name: "SCRATCHO", off: L.SCRATCHO, width: 4 },
  { name: "SCRATCHP", off: L.SCRATCHP, width: 4 },
  { name: "SCRATCHQ", off: L.SCRATCHQ, width: 4 },
  { name: "SCRATCHR", off: L.SCRATCHR, width: 4 },
  { name: "MMRS", off: L.MMRS, width: 4 },
  { name: "MMWS", off: L.MMWS, width: 4 },
  { name: "SFS", off: L.SFS, width: 4 },
  { name: "DRS", off: L.DRS, width: 4 },
  { name: "SBMS", off: L.SBMS, width: 4 },
  { name: "DBMS", off: L.DBMS, width: 4 },
  { name: "DNAD64", off: L.DNAD64, width: 4 },
  { name: "PMJAD1", off: L.PMJAD1, width: 4 },
  { name: "PMJAD2", off: L.PMJAD2, width: 4 },
  { name: "RBC", off: L.RBC, width: 4 },
  { name: "UA", off: L.UA, width: 4 },
  { name: "ESA", off: L.ESA, width: 4 },
  { name: "IA", off: L.IA, width: 4 },
  { name: "SBC", off: L.SBC, width: 4, access: "ro" },
  { name: "CSBC", off: L.CSBC, width: 4 },
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
export const REG_AT = new Int16Array(256).fill(-1);
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
export const SYNC_REG = new Uint8Array(256);
for (const n of ["SCNTL1", "SSID", "SBCL", "DSTAT", "SSTAT0", "SSTAT1", "SSTAT2", "ISTAT", "ISTAT1", "MBOX0", "MBOX1", "CTEST2", "SIST0", "SIST1", "STIME1"] as const) {
  const d = REGS.find((x) => x.name === n)!;
  for (let b = 0; b < d.width; b++) SYNC_REG[d.off + b] = 1;
}

/** SCSI interrupts that halt the SCRIPTS and set SIP even when masked [S7]. */
export const SIST0_FATAL = L.SIST0_MA | L.SIST0_SGE | L.SIST0_UDC | L.SIST0_RST | L.SIST0_PAR;
export const SIST1_FATAL = L.SIST1_SBMC | L.SIST1_STO;

export const PHASE_NAMES = ["DATA OUT", "DATA IN", "COMMAND", "STATUS", "res4", "res5", "MSG OUT", "MSG IN"];

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
  /** The device's name in logs, traces and errors (a second controller needs its own). */
  name?: string;
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
// State: the register file, and the names of the model's internal states

/** The register file: one field per hardware register (values as the chip holds them;
 *  computed registers are completed when read). reset() loads them from REGS. */
export class Regs {
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
export const S_IDLE = 0; // halted: after reset, after an interrupt
export const S_RUN = 1; // running; the script timer is armed for the next batch
export const S_WAIT_BUS = 2; // blocked on the bus (see waitKind)
export const S_WAIT_RESEL = 3; // WAIT RESELECT: until reselected or SIGP
export const S_HALTING = 4; // an interrupt is due at `t` (the script timer fires it)
export const W_RETRY = 0; // re-execute the instruction at DSP when the bus event comes
export const W_MOVE_END = 1; // finish the block move (residual -> MA) after a target's answer
export const W_FOREVER = 2; // nothing will wake it (guest error); ABRT/reset ends it

// Bus ownership
export const BUS_FREE = 0;
export const BUS_SEL = 1; // our selection of an absent ID, until the selection timeout
export const BUS_RESEL = 2; // a target reselects us (until reselDoneAt)
export const BUS_CONN = 3; // a nexus is connected (from connAt)

// What a target does once its MSG IN bytes are taken
export const A_COMMAND = 0; // go to COMMAND (selection)
export const A_PLAN = 1; // continue the connection (data, status)
export const A_DISCONNECT = 2; // release the bus, task stays with the target
export const A_COMPLETE = 3; // release the bus, task done

// Bus events (busTimer)
export const EV_NONE = 0;
export const EV_STO = 1;
export const EV_RESEL_DONE = 2;
export const EV_COMMAND = 3;
export const EV_DATA_OUT = 4;

export const sext24 = (x: number): number => (x << 8) >> 8;
export const hex = (v: number, w = 8): string => "0x" + (v >>> 0).toString(16).padStart(w, "0");

/** A one-shot whose due time is known (for catchUp). */
export class DueTimer {
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
