// A tiny SCRIPTS assembler for the LSI53C895 tests, and the reference initiator script.
//
// Instruction helpers return the instruction's dwords (2, or 3 for a memory move), in
// the encodings of common/lsi-regs.ts (Linux's sym_defs.h, DEVICES-REF.md A), the ones
// the device model decodes and the guests' driver assembles. Conditions compose the way
// sym's IFTRUE/IFFALSE(WHEN/IF/DATA/MASK/CARRYSET) macros do:
//   jump(L("x"), when(MSG_IN))          JUMP x, WHEN MSG_IN
//   jump(L("x"), not(data(0x80, 0x7f))) JUMP x, IF NOT (SFBR & 0x80) == 0x80
//   ret(when(DATA_IN))                  RETURN, WHEN DATA_IN
// assemble(base, body) runs body twice (labels first, then addresses) and returns the
// dwords and the labels' bus addresses.
//
// The reference script (referenceScript below) is the driver's real SCRIPTS program,
// written to be ported to the AssemblyScript guest driver as is: an idle loop in WAIT
// RESELECT, SIGP to look at the start queue, tagged commands, reselection lookup by
// target and tag through tables the SCRIPTS index with register arithmetic, S/G as a
// list of table-indirect CHMOVs entered in the middle, status and message handling,
// and completion posted to a done queue with INTFLY. Its data structures (HCB, TCB,
// CCB) are drawn below; their offsets are common/sym-layout.ts, shared with the driver.
// guest-lib/drivers/sym53c8xx-fw.ts is a deliberate line-for-line port of this script
// to AssemblyScript (the guests cannot import TypeScript); keep the two in step.

import { R } from "../devices/lsi53c895.js";
import {
  PH_DATA_OUT, PH_DATA_IN, PH_COMMAND, PH_STATUS, PH_MSG_OUT, PH_MSG_IN, SCR_PHASE_SHIFT, SCR_MOVE, SCR_CHMOV,
  BM_INDIRECT, BM_TABLE, SCR_SELECT, IO_RELATIVE, IO_TABLE, IO_SEL_ATN, IO_ID_SHIFT, IO_ATN, IO_ACK, IO_TARGET, IO_CARRY,
  SCR_WAIT_DISC, SCR_WAIT_RESEL, SCR_SET, SCR_CLR, SCR_SFBR_REG, SCR_REG_SFBR, SCR_REG_REG, RW_OP_SHIFT, RW_REG_SHIFT,
  RW_DATA_SHIFT, RW_SFBR_DATA, RW_MOV, RW_SHL, RW_OR, RW_XOR, RW_AND, RW_SHR, RW_ADD, RW_ADC, SCR_JUMP, SCR_CALL,
  SCR_RETURN, SCR_INT, TC_RELATIVE, TC_CARRY, TC_INTFLY, TC_TRUE, TC_DATA, TC_PHASE, TC_WAIT, TC_MASK_SHIFT,
  SCR_MEMORY_MOVE, SCR_LOAD, SCR_STORE, LS_DSA_REL, LS_REG_SHIFT,
} from "../common/lsi-regs.js";
import { MSG_COMMAND_COMPLETE, MSG_SAVE_DATA_POINTER, MSG_RESTORE_POINTERS, MSG_DISCONNECT, MSG_REJECT, MSG_IDENTIFY } from "../common/scsi-defs.js";
import {
  HCB_TARGTBL, HCB_STARTPOS, HCB_DONEPOS, HCB_SCRATCH, HCB_MSGIN, CCB_START, CCB_SELECT, CCB_MSGOUT, CCB_CMD,
  CCB_STATUS, CCB_SAVEP, CCB_PM, CCB_PM_RET, CCB_SG, SIR_SEL_NO_MSGOUT, SIR_BAD_PHASE, SIR_DATA_OVERRUN,
  SIR_RESEL_NO_IDENTIFY, SIR_RESEL_NO_TAG,
} from "../common/sym-layout.js";

// The reference script's host structures, for the tests (the driver shares them too).
export * from "../common/sym-layout.js";

export type Insn = number[];

// The assembler's names for the phases, SET/CLEAR flags and ALU operations (the values:
// common/lsi-regs.ts).
export const DATA_OUT = PH_DATA_OUT;
export const DATA_IN = PH_DATA_IN;
export const COMMAND = PH_COMMAND;
export const STATUS = PH_STATUS;
export const MSG_OUT = PH_MSG_OUT;
export const MSG_IN = PH_MSG_IN;

const u = (x: number): number => x >>> 0;
const ph = (phase: number): number => phase << SCR_PHASE_SHIFT;

// --- block move ------------------------------------------------------------------------
/** MOVE count, addr, WHEN phase */
export const move = (phase: number, count: number, addr: number): Insn => [u(SCR_MOVE | ph(phase) | (count & 0xffffff)), u(addr)];
/** CHMOV count, addr, WHEN phase */
export const chmov = (phase: number, count: number, addr: number): Insn => [u(SCR_CHMOV | ph(phase) | (count & 0xffffff)), u(addr)];
/** MOVE count, PTR ptr (indirect: the address is read from ptr) */
export const moveInd = (phase: number, count: number, ptr: number): Insn => [u(SCR_MOVE | BM_INDIRECT | ph(phase) | (count & 0xffffff)), u(ptr)];
/** MOVE FROM dsaOff (table indirect: {count, addr} at DSA + dsaOff) */
export const moveTable = (phase: number, dsaOff: number): Insn => [u(SCR_MOVE | BM_TABLE | ph(phase)), u(dsaOff & 0xffffff)];
export const chmovTable = (phase: number, dsaOff: number): Insn => [u(SCR_CHMOV | BM_TABLE | ph(phase)), u(dsaOff & 0xffffff)];

// --- I/O -------------------------------------------------------------------------------
export const ATN = IO_ATN;
export const ACK = IO_ACK;
export const TARGET = IO_TARGET;
export const CARRY = IO_CARRY;
const atnIf = (atn: boolean): number => (atn ? IO_SEL_ATN : 0);
/** SELECT [ATN] id, alt (alt taken when reselected first) */
export const select = (id: number, alt: number, atn = false): Insn => [u(SCR_SELECT | atnIf(atn) | ((id & 0xf) << IO_ID_SHIFT)), u(alt)];
/** SELECT [ATN] FROM dsaOff, alt (table: byte 1 SXFER, byte 2 ID, byte 3 SCNTL3) */
export const selectTable = (dsaOff: number, alt: number, atn = false): Insn => [u(SCR_SELECT | IO_TABLE | atnIf(atn) | (dsaOff & 0xffffff)), u(alt)];
/** SELECT with a relative alternate address (distance from the next instruction). */
export const selectRel = (id: number, dist: number, atn = false): Insn => [u(SCR_SELECT | IO_RELATIVE | atnIf(atn) | ((id & 0xf) << IO_ID_SHIFT)), u(dist & 0xffffff)];
export const waitDisc = (): Insn => [SCR_WAIT_DISC, 0];
/** WAIT RESELECT alt (alt taken when SIGP is set) */
export const waitResel = (alt: number): Insn => [SCR_WAIT_RESEL, u(alt)];
export const set = (flags: number): Insn => [u(SCR_SET | flags), 0];
export const clear = (flags: number): Insn => [u(SCR_CLR | flags), 0];

// --- register read-modify-write --------------------------------------------------------
export const MOV = RW_MOV;
export const SHL = RW_SHL;
export const OR = RW_OR;
export const XOR = RW_XOR;
export const AND = RW_AND;
export const SHR = RW_SHR;
export const ADD = RW_ADD;
export const ADC = RW_ADC;
const regField = (reg: number): number => ((reg & 0x7f) << RW_REG_SHIFT) | (reg & 0x80);
const rw = (cls: number, reg: number, op: number, data: number): number => u(cls | regField(reg) | (op << RW_OP_SHIFT) | ((data & 0xff) << RW_DATA_SHIFT));
/** class 5: reg = SFBR op data */
export const sfbrToReg = (reg: number, op: number, data: number): Insn => [rw(SCR_SFBR_REG, reg, op, data), 0];
/** class 6: SFBR = reg op data */
export const regToSfbr = (reg: number, op: number, data: number): Insn => [rw(SCR_REG_SFBR, reg, op, data), 0];
/** class 7: reg = reg op data (or op SFBR when sfbrData) */
export const regReg = (reg: number, op: number, data: number, sfbrData = false): Insn =>
  [u(rw(SCR_REG_REG, reg, op, data) | (sfbrData ? RW_SFBR_DATA : 0)), 0];
/** SFBR = reg */
export const fromReg = (reg: number): Insn => regToSfbr(reg, OR, 0);
/** reg = SFBR */
export const toReg = (reg: number): Insn => sfbrToReg(reg, OR, 0);
/** reg = data */
export const loadReg = (reg: number, data: number): Insn => regReg(reg, MOV, data);
/** SFBR = data */
export const loadSfbr = (data: number): Insn => regToSfbr(R.GPREG, MOV, data);

// --- transfer control ------------------------------------------------------------------
export interface Cond {
  readonly bits: number;
  readonly ifTrue: boolean;
}
/** WHEN phase: wait for REQ, compare the phase */
export const when = (phase: number): Cond => ({ bits: TC_PHASE | TC_WAIT | ph(phase), ifTrue: true });
/** IF phase */
export const ifPhase = (phase: number): Cond => ({ bits: TC_PHASE | ph(phase), ifTrue: true });
/** IF (SFBR & ~ignore) == (d & ~ignore); `ignore` bits set = don't care (sym MASK). */
export const data = (d: number, ignore = 0): Cond => ({ bits: TC_DATA | ((ignore & 0xff) << TC_MASK_SHIFT) | (d & 0xff), ifTrue: true });
export const carrySet: Cond = { bits: TC_CARRY, ifTrue: true };
export const not = (c: Cond): Cond => ({ bits: c.bits, ifTrue: !c.ifTrue });
/** Several tests in one instruction (phase + data, ...). */
export const both = (a: Cond, b: Cond): Cond => ({ bits: a.bits | b.bits, ifTrue: a.ifTrue });
const TC_OPS = [SCR_JUMP, SCR_CALL, SCR_RETURN, SCR_INT];
const tc = (op: number, c: Cond | undefined, rel: boolean): number =>
  u(TC_OPS[op] | (c ? c.bits | (c.ifTrue ? TC_TRUE : 0) : TC_TRUE) | (rel ? TC_RELATIVE : 0));
export const jump = (addr: number, c?: Cond): Insn => [tc(0, c, false), u(addr)];
/** JUMP REL(dist): dist from the next instruction */
export const jumpRel = (dist: number, c?: Cond): Insn => [tc(0, c, true), u(dist & 0xffffff)];
export const call = (addr: number, c?: Cond): Insn => [tc(1, c, false), u(addr)];
export const callRel = (dist: number, c?: Cond): Insn => [tc(1, c, true), u(dist & 0xffffff)];
export const ret = (c?: Cond): Insn => [tc(2, c, false), 0];
export const int = (vector: number, c?: Cond): Insn => [tc(3, c, false), u(vector)];
export const intfly = (vector: number, c?: Cond): Insn => [u(tc(3, c, false) | TC_INTFLY), u(vector)];
export const nop = (): Insn => [SCR_JUMP, 0];

// --- memory move, LOAD/STORE -------------------------------------------------------------
/** MEMORY MOVE count, src, dst (3 dwords) */
export const memMove = (count: number, src: number, dst: number, noFlush = false): Insn =>
  [u(SCR_MEMORY_MOVE | (noFlush ? 0x01000000 : 0) | (count & 0xffffff)), u(src), u(dst)];
export const load = (reg: number, n: number, addr: number): Insn => [u(SCR_LOAD | ((reg & 0xff) << LS_REG_SHIFT) | n), u(addr)];
export const store = (reg: number, n: number, addr: number): Insn => [u(SCR_STORE | ((reg & 0xff) << LS_REG_SHIFT) | n), u(addr)];
/** LOAD reg, n, DSA REL(off) */
export const loadRel = (reg: number, n: number, off: number): Insn => [u(SCR_LOAD | LS_DSA_REL | ((reg & 0xff) << LS_REG_SHIFT) | n), u(off & 0xffffff)];
export const storeRel = (reg: number, n: number, off: number): Insn => [u(SCR_STORE | LS_DSA_REL | ((reg & 0xff) << LS_REG_SHIFT) | n), u(off & 0xffffff)];

// --- assembler -------------------------------------------------------------------------------
export class Asm {
  readonly words: number[] = [];
  readonly labels = new Map<string, number>();
  constructor(readonly base: number) {}
  /** Bus address of the next word. */
  get here(): number {
    return u(this.base + this.words.length * 4);
  }
  label(name: string): void {
    if (this.labels.has(name)) throw new Error(`asm: label ${name} defined twice`);
    this.labels.set(name, this.here);
  }
  emit(...insns: Insn[]): void {
    for (const i of insns) for (const w of i) this.words.push(u(w));
  }
  /** A data word in the script (constants the SCRIPTS LOAD). */
  word(v: number): void {
    this.words.push(u(v));
  }
}

export interface Assembled {
  readonly words: Uint32Array;
  readonly labels: ReadonlyMap<string, number>;
  /** Address of a label (throws if unknown). */
  at(name: string): number;
}

/** Two passes: the first collects labels (unknown ones read as 0), the second emits. */
export function assemble(base: number, body: (a: Asm, L: (name: string) => number) => void): Assembled {
  const first = new Asm(base);
  body(first, () => 0);
  const second = new Asm(base);
  body(second, (name) => {
    const v = first.labels.get(name);
    if (v === undefined) throw new Error(`asm: undefined label ${name}`);
    return v;
  });
  for (const [k, v] of first.labels) if (second.labels.get(k) !== v) throw new Error(`asm: label ${k} moved between passes`);
  const labels = second.labels;
  return {
    words: Uint32Array.from(second.words),
    labels,
    at: (name) => {
      const v = labels.get(name);
      if (v === undefined) throw new Error(`asm: no label ${name}`);
      return v;
    },
  };
}

// =============================================================================================
// The reference initiator script and its data structures.
//
// HCB, host control block (driver RAM, 256-byte aligned), one per controller:
//   +0x000 TARGTBL  u32[16]  TCB address per SCSI ID (the SCRIPTS index it by ID * 4)
//   +0x040 STARTPOS u32      bus address of the start-queue entry the SCRIPTS take next
//   +0x044 DONEPOS  u32      bus address of the done-queue entry the SCRIPTS fill next
//   +0x048 SCRATCH  u32      SCRIPTS scratch (the CCB address while it is posted)
//   +0x04C MSGIN    u8[8]    MSG IN bytes land here
//   +0x060 IDLECCB  u32      the idle task: a CCB whose START is the `idle` label
//   +0x100 STARTQ   {u32 dsa, u32 next}[SQ_SLOTS]   ring; dsa = a CCB or IDLECCB
//   +STARTQ+8*SQ_SLOTS  DONEQ {u32 dsa, u32 next}[DQ_SLOTS]  ring; dsa = 0 when empty
// TCB, per target (256-byte aligned): u32 CCB address per tag, tags 0..63.
// CCB, one per command (DSA points at it while the SCRIPTS work on it):
//   +0x00 START   u32   script address that starts it (`select_job`)
//   +0x04 SELECT  u32   table-indirect SELECT: SCNTL3 << 24 | ID << 16 | SXFER << 8
//   +0x08 MSGOUT  {count, addr}  -> MSGBUF (IDENTIFY 0xC0|lun, SIMPLE 0x20, tag)
//   +0x10 CMD     {count, addr}  -> CDB
//   +0x18 STATUS  {1, addr}      -> STATBUF
//   +0x20 SAVEP   u32   saved data pointer: a script address in data_in/data_out/pm_*
//   +0x24 PM      {count, addr}  the rest of an S/G entry cut by a phase mismatch
//   +0x2C PM_RET  u32   script address to go on at after PM
//   +0x30 STATBUF u8    SCSI status (driver sets 0xFF)
//   +0x31 HSTAT   u8    host status (driver's)
//   +0x34 MSGBUF  u8[4]
//   +0x38 CDB     u8[16]
//   +0x48 SG      {count, addr}[MAX_SG]  a command with n segments uses the LAST n
//
// Flow. `start` (the entry point, and where SIGP sends WAIT RESELECT) clears SIGP by
// reading CTEST2, takes the start-queue entry at STARTPOS, advances STARTPOS, and jumps
// to the entry's CCB.START (LOAD TEMP + RETURN): the idle task's START puts STARTPOS
// back and waits in WAIT RESELECT; a command's START selects with ATN (table indirect),
// sends IDENTIFY + SIMPLE TAG, and enters `dispatch`, the phase loop. DATA phases
// RETURN to the data pointer in TEMP, which points into a list of CHMOVs, one per S/G
// entry, ending in `data_in_end`/`data_out_end`. SAVE DATA POINTER stores TEMP in
// CCB.SAVEP; DISCONNECT waits for bus free and goes back to `start`. A reselection
// (`reselected`) indexes TARGTBL by SSID, reads IDENTIFY, then SIMPLE + tag in one
// 2-byte move, indexes the TCB by the tag left in SIDL, loads DSA and TEMP (the
// implied RESTORE POINTERS) and enters `dispatch`. COMMAND COMPLETE posts the CCB to
// the done queue and raises INTFLY. A phase mismatch inside a data list interrupts
// (SIST0.MA): the driver writes the rest of the entry into CCB.PM, the next list
// address into CCB.PM_RET, TEMP = pm_in/pm_out, and restarts at `dispatch` (what Linux
// does in C on the 895, which has no PMJAD).
// INT codes the driver handles are SIR_* (common/sym-layout.ts).

export const ccbSize = (maxSg: number): number => CCB_SG + 8 * maxSg;

export interface RefConfig {
  /** Bus address the script runs at (the chip's SCRIPTS RAM, or host RAM). */
  scriptBase: number;
  /** HCB address (host RAM). */
  hcb: number;
  /** S/G entries per command (length of each data list). */
  maxSg: number;
}

export function referenceScript(cfg: RefConfig): Assembled {
  const { hcb, maxSg } = cfg;
  const DSA0 = R.DSA;
  return assemble(cfg.scriptBase, (a, L) => {
    // --- take work from the start queue ---------------------------------------------
    a.label("start");
    a.emit(
      fromReg(R.CTEST2), // reading CTEST2 clears ISTAT.SIGP: later SIGPs bring us back here
      load(R.SCRATCHA, 4, hcb + HCB_STARTPOS), // the entry, to put back if it cannot start
      load(R.DSA, 4, hcb + HCB_STARTPOS),
      loadRel(R.TEMP, 4, 4), // entry.next
      store(R.TEMP, 4, hcb + HCB_STARTPOS),
      loadRel(R.DSA, 4, 0), // entry.dsa: a CCB, or the idle task
      loadRel(R.TEMP, 4, CCB_START),
      ret(), // -> select_job or idle
    );
    a.label("idle");
    a.emit(store(R.SCRATCHA, 4, hcb + HCB_STARTPOS)); // nothing queued: put the entry back
    a.label("wait");
    a.emit(waitResel(L("start")), jump(L("reselected")));

    // --- a command's START ------------------------------------------------------------
    a.label("select_job");
    a.emit(
      selectTable(CCB_SELECT, L("ungetjob"), true),
      loadRel(R.TEMP, 4, CCB_SAVEP), // runs while the selection completes
      int(SIR_SEL_NO_MSGOUT, not(when(MSG_OUT))), // also where STO interrupts (DSP = here + 8)
      moveTable(MSG_OUT, CCB_MSGOUT),
    );
    a.label("dispatch");
    a.emit(
      ret(when(DATA_IN)), // the data pointer is in TEMP
      ret(ifPhase(DATA_OUT)),
      jump(L("status"), ifPhase(STATUS)),
      jump(L("msg_in"), ifPhase(MSG_IN)),
      jump(L("command"), ifPhase(COMMAND)),
      int(SIR_BAD_PHASE),
    );
    a.label("command");
    a.emit(moveTable(COMMAND, CCB_CMD), jump(L("dispatch")));
    a.label("ungetjob"); // reselected before we won arbitration: retry this job later
    a.emit(store(R.SCRATCHA, 4, hcb + HCB_STARTPOS), jump(L("reselected")));

    // --- data: one CHMOV per S/G entry; a command enters at its first segment ---------
    a.label("data_in");
    for (let i = 0; i < maxSg; i++) a.emit(chmovTable(DATA_IN, CCB_SG + 8 * i));
    a.label("data_in_end");
    a.emit(load(R.TEMP, 4, L("k_data_in_end")), int(SIR_DATA_OVERRUN, when(DATA_IN)), jump(L("dispatch")));
    a.label("data_out");
    for (let i = 0; i < maxSg; i++) a.emit(chmovTable(DATA_OUT, CCB_SG + 8 * i));
    a.label("data_out_end");
    a.emit(load(R.TEMP, 4, L("k_data_out_end")), int(SIR_DATA_OVERRUN, when(DATA_OUT)), jump(L("dispatch")));
    a.label("pm_in"); // the rest of an entry cut by a phase mismatch, then the list again
    a.emit(chmovTable(DATA_IN, CCB_PM), loadRel(R.TEMP, 4, CCB_PM_RET), ret());
    a.label("pm_out");
    a.emit(chmovTable(DATA_OUT, CCB_PM), loadRel(R.TEMP, 4, CCB_PM_RET), ret());

    // --- status and messages ------------------------------------------------------------
    a.label("status");
    a.emit(moveTable(STATUS, CCB_STATUS));
    a.label("msg_in");
    a.emit(
      move(MSG_IN, 1, hcb + HCB_MSGIN),
      jump(L("complete"), data(MSG_COMMAND_COMPLETE)),
      jump(L("save_dp"), data(MSG_SAVE_DATA_POINTER)),
      jump(L("disconnect"), data(MSG_DISCONNECT)),
      jump(L("restore_dp"), data(MSG_RESTORE_POINTERS)),
      jump(L("msg_rejected"), data(MSG_REJECT)),
      set(ATN), // anything else: MESSAGE REJECT
      clear(ACK),
      move(MSG_OUT, 1, L("k_msg_reject")),
      jump(L("dispatch")),
    );
    a.label("msg_rejected"); // the target rejected a message of ours: go on without it
    a.emit(clear(ACK), jump(L("dispatch")));
    a.label("save_dp");
    a.emit(storeRel(R.TEMP, 4, CCB_SAVEP), clear(ACK), jump(L("dispatch")));
    a.label("restore_dp");
    a.emit(loadRel(R.TEMP, 4, CCB_SAVEP), clear(ACK), jump(L("dispatch")));
    a.label("disconnect");
    a.emit(clear(ACK), waitDisc(), jump(L("start")));
    a.label("complete");
    a.emit(
      clear(ACK),
      waitDisc(),
      store(R.DSA, 4, hcb + HCB_SCRATCH), // post the CCB to the done queue
      load(R.DSA, 4, hcb + HCB_DONEPOS),
      load(R.SCRATCHA, 4, hcb + HCB_SCRATCH),
      storeRel(R.SCRATCHA, 4, 0), // slot.dsa = CCB
      loadRel(R.SCRATCHA, 4, 4), // slot.next
      store(R.SCRATCHA, 4, hcb + HCB_DONEPOS),
      intfly(0),
      jump(L("start")),
    );

    // --- reselection: find the task from SSID and the tag ------------------------------
    a.label("reselected");
    a.emit(
      regToSfbr(R.SSID, AND, 0x8f), // SFBR = 0x80 | id
      load(R.DSA, 4, L("k_targtbl")), // DSA = TARGTBL (64-byte aligned)
      sfbrToReg(DSA0, SHL, 0), // DSA0 = SFBR << 1
      regReg(DSA0, SHL, 0), // DSA0 <<= 1
      regReg(DSA0, AND, 0x3c), // DSA = &TARGTBL[id]
      loadRel(R.DSA, 4, 0), // DSA = the target's TCB (256-byte aligned tag table)
      move(MSG_IN, 1, hcb + HCB_MSGIN), // IDENTIFY
      int(SIR_RESEL_NO_IDENTIFY, not(data(MSG_IDENTIFY, 0x7f))),
      clear(ACK),
      int(SIR_RESEL_NO_TAG, not(when(MSG_IN))),
      move(MSG_IN, 2, hcb + HCB_MSGIN), // SIMPLE QUEUE TAG, tag (ACK held on the tag)
      regToSfbr(R.SIDL, SHL, 0), // SIDL = the tag: SFBR = tag << 1
      regReg(R.SFBR, SHL, 0), // SFBR = tag << 2 (tags < 64)
      sfbrToReg(DSA0, AND, 0xfc), // DSA = &TCB[tag]
      loadRel(R.DSA, 4, 0), // DSA = the CCB
      loadRel(R.TEMP, 4, CCB_SAVEP), // implied RESTORE POINTERS
      clear(ACK),
      jump(L("dispatch")),
    );

    // --- constants the SCRIPTS load ----------------------------------------------------
    a.label("k_targtbl");
    a.word(hcb + HCB_TARGTBL);
    a.label("k_data_in_end");
    a.word(L("data_in_end"));
    a.label("k_data_out_end");
    a.word(L("data_out_end"));
    a.label("k_msg_reject");
    a.word(MSG_REJECT); // (byte 0)
  });
}
