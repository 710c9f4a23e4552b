// The LSI53C895 initiator SCRIPTS program and the host structures it works on (the
// "firmware" half of the sym53c8xx driver, as Linux keeps sym_fw*.h apart from
// sym_hipd.c). It is test/scripts-asm.ts `referenceScript`, ported line for line: an
// idle loop in WAIT RESELECT, SIGP to look at the start queue, tagged commands,
// reselection lookup by target and tag through TARGTBL and the TCBs, S/G as a list of
// table-indirect CHMOVs entered in the middle, status and message handling, and
// completion posted to the done queue with INTFLY. See that file's comment for the flow.
//
// fwAssemble(hcb) assembles it in two passes (labels first, then the words, written
// straight into the chip's SCRIPTS RAM through the register window) with the HCB's
// address patched in; the script runs at its bus address in that RAM (SCSI_BASE +
// 0x1000), so its constants and jumps are absolute addresses there. Encodings: Linux's
// sym_defs.h (DEVICES-REF.md A), as test/scripts-asm.ts. A condition carries its own
// if-true bit (0x00080000).
//
// Interface:
//   fwAssemble(hcb): u32        words written (> FW_RAM_WORDS: does not fit, nothing run)
//   fwAt(label): u32            bus address of a label (L_*)
//   HCB_*, TCB_*, CCB_*, SQ_SLOTS, DQ_SLOTS, MAX_SG, SIR_*   the layout the driver shares

import { mmio_write } from "../hw";
import { SCSI_BASE } from "../../common/platform";

/** Table entries per command: CHMOVs in each data list (a tunable of the driver). */
export const MAX_SG: u32 = 4;
/** The SCRIPTS RAM: window offset, and size in words (4 KiB on the 895). */
const RAM_OFF: u32 = 0x1000;
export const FW_RAM_WORDS: u32 = 0x400;

// Registers the script names (byte offsets, sym_defs.h)
const SFBR: u32 = 0x08;
const SSID: u32 = 0x0a;
const DSA: u32 = 0x10;
const CTEST2: u32 = 0x1a;
const TEMP: u32 = 0x1c;
const SCRATCHA: u32 = 0x34;
const SIDL: u32 = 0x50;

// SCSI phases
const PH_DATA_OUT: u32 = 0;
const PH_DATA_IN: u32 = 1;
const PH_COMMAND: u32 = 2;
const PH_STATUS: u32 = 3;
const PH_MSG_OUT: u32 = 6;
const PH_MSG_IN: u32 = 7;

// ---------------------------------------------------------------------------------
// Host data structures (test/scripts-asm.ts; offsets in bytes, words little-endian).
// HCB (256-byte aligned: the SCRIPTS index TARGTBL by replacing DSA's low byte):
export const HCB_TARGTBL: u32 = 0x000; // u32[16] TCB per SCSI ID
export const HCB_STARTPOS: u32 = 0x040; // start-queue entry the SCRIPTS take next
export const HCB_DONEPOS: u32 = 0x044; // done-queue entry the SCRIPTS fill next
export const HCB_SCRATCH: u32 = 0x048;
export const HCB_MSGIN: u32 = 0x04c;
export const HCB_IDLECCB: u32 = 0x060; // the idle task: START = `idle`
export const HCB_STARTQ: u32 = 0x100; // {dsa, next}[SQ_SLOTS]
export const SQ_SLOTS: u32 = 64;
export const DQ_SLOTS: u32 = 64;
export const HCB_DONEQ: u32 = HCB_STARTQ + 8 * SQ_SLOTS; // {dsa, next}[DQ_SLOTS]; dsa 0 = empty
export const HCB_SIZE: u32 = HCB_DONEQ + 8 * DQ_SLOTS;
export const TCB_SIZE: u32 = 0x100; // u32 CCB per tag, 256-byte aligned
// CCB, one per slot:
export const CCB_START: u32 = 0x00;
export const CCB_SELECT: u32 = 0x04;
export const CCB_MSGOUT: u32 = 0x08;
export const CCB_CMD: u32 = 0x10;
export const CCB_STATUS: u32 = 0x18;
export const CCB_SAVEP: u32 = 0x20;
export const CCB_PM: u32 = 0x24;
export const CCB_PM_RET: u32 = 0x2c;
export const CCB_STATBUF: u32 = 0x30;
export const CCB_MSGBUF: u32 = 0x34;
export const CCB_CDB: u32 = 0x38;
export const CCB_SG: u32 = 0x48; // {count, addr}[MAX_SG]: a command with n entries uses the LAST n
// The driver's own, after the reference layout (the SCRIPTS never touch them):
export const CCB_SENSE: u32 = CCB_SG + 8 * MAX_SG; // REQUEST SENSE data: 0x68-0x7B
export const CCB_SHIFT: u32 = 7; // 128-byte CCBs
// SIR codes of the script (its INT instructions)
export const SIR_SEL_NO_MSGOUT: u32 = 1;
export const SIR_BAD_PHASE: u32 = 2;
export const SIR_DATA_OVERRUN: u32 = 3;
export const SIR_RESEL_NO_IDENTIFY: u32 = 4;
export const SIR_RESEL_NO_TAG: u32 = 5;

// ---------------------------------------------------------------------------------
// The assembler: two passes over script(); label() records in the first, word()
// writes in the second.

export const L_START = 0;
export const L_IDLE = 1;
export const L_WAIT = 2;
export const L_SELECT_JOB = 3;
export const L_DISPATCH = 4;
export const L_COMMAND = 5;
export const L_UNGETJOB = 6;
export const L_DATA_IN = 7;
export const L_DATA_IN_END = 8;
export const L_DATA_OUT = 9;
export const L_DATA_OUT_END = 10;
export const L_PM_IN = 11;
export const L_PM_OUT = 12;
export const L_STATUS = 13;
export const L_MSG_IN = 14;
export const L_MSG_REJECTED = 15;
export const L_SAVE_DP = 16;
export const L_RESTORE_DP = 17;
export const L_DISCONNECT = 18;
export const L_COMPLETE = 19;
export const L_RESELECTED = 20;
export const L_K_TARGTBL = 21;
export const L_K_DATA_IN_END = 22;
export const L_K_DATA_OUT_END = 23;
export const L_K_MSG_REJECT = 24;
export const NLABELS = 25;

const labels = new StaticArray<u32>(NLABELS);
let asmPass: u32 = 0;
let asmWords: u32 = 0;

// @ts-ignore: decorator
@inline function L(l: i32): u32 { return unchecked(labels[l]); }
// @ts-ignore: decorator
@inline function scriptAddr(): u32 { return <u32>SCSI_BASE + RAM_OFF + (asmWords << 2); }

export function fwAt(l: i32): u32 { return L(l); }

/** Assemble the script for the HCB at `hcb` into the SCRIPTS RAM; returns its words. */
export function fwAssemble(hcb: u32): u32 {
  asmPass = 1;
  script(hcb);
  if (asmWords > FW_RAM_WORDS) return asmWords;
  asmPass = 2;
  script(hcb);
  return asmWords;
}

function label(l: i32): void {
  if (asmPass == 1) unchecked(labels[l] = scriptAddr());
}
function word(v: u32): void {
  if (asmPass == 2) mmio_write(<u32>SCSI_BASE + RAM_OFF + (asmWords << 2), 4, v);
  asmWords++;
}
function insn(d0: u32, d1: u32): void { word(d0); word(d1); }

const TRUE: u32 = 0x00080000;
// @ts-ignore: decorator
@inline function WHEN(ph: u32): u32 { return 0x00030000 | (ph << 24) | TRUE; }
// @ts-ignore: decorator
@inline function IF(ph: u32): u32 { return 0x00020000 | (ph << 24) | TRUE; }
// @ts-ignore: decorator
@inline function DATA(d: u32, ignore: u32): u32 { return 0x00040000 | (ignore << 8) | d | TRUE; }
// @ts-ignore: decorator
@inline function NOT(c: u32): u32 { return c & ~TRUE; }
const ALWAYS: u32 = TRUE;

const ACK: u32 = 0x40;
const ATN: u32 = 0x08;
const OP_SHL: u32 = 1;
const OP_AND: u32 = 4;

function move(ph: u32, n: u32, addr: u32): void { insn(0x08000000 | (ph << 24) | n, addr); }
function moveTable(ph: u32, off: u32): void { insn(0x18000000 | (ph << 24), off); }
function chmovTable(ph: u32, off: u32): void { insn(0x10000000 | (ph << 24), off); }
function selectAtnTable(off: u32, alt: u32): void { insn(0x43000000 | off, alt); }
function waitDisc(): void { insn(0x48000000, 0); }
function waitResel(alt: u32): void { insn(0x50000000, alt); }
function setBits(f: u32): void { insn(0x58000000 | f, 0); }
function clearBits(f: u32): void { insn(0x60000000 | f, 0); }
// @ts-ignore: decorator
@inline function regField(reg: u32): u32 { return ((reg & 0x7f) << 16) | (reg & 0x80); }
/** reg = SFBR op data (class 5) */
function sfbrToReg(reg: u32, op: u32, d: u32): void { insn(0x68000000 | regField(reg) | (op << 24) | (d << 8), 0); }
/** SFBR = reg op data (class 6) */
function regToSfbr(reg: u32, op: u32, d: u32): void { insn(0x70000000 | regField(reg) | (op << 24) | (d << 8), 0); }
/** reg = reg op data (class 7) */
function regReg(reg: u32, op: u32, d: u32): void { insn(0x78000000 | regField(reg) | (op << 24) | (d << 8), 0); }
function jump(addr: u32, c: u32): void { insn(0x80000000 | c, addr); }
function ret(c: u32): void { insn(0x90000000 | c, 0); }
function intr(code: u32, c: u32): void { insn(0x98000000 | c, code); }
function intfly(code: u32): void { insn(0x98100000 | ALWAYS, code); }
function ldAbs(reg: u32, n: u32, addr: u32): void { insn(0xe1000000 | (reg << 16) | n, addr); }
function stAbs(reg: u32, n: u32, addr: u32): void { insn(0xe0000000 | (reg << 16) | n, addr); }
function ldRel(reg: u32, n: u32, off: u32): void { insn(0xf1000000 | (reg << 16) | n, off); }
function stRel(reg: u32, n: u32, off: u32): void { insn(0xf0000000 | (reg << 16) | n, off); }

/** The reference initiator script (test/scripts-asm.ts referenceScript), line for line;
 *  see its comment for the flow. `hcb` is patched in as an absolute address. */
function script(hcb: u32): void {
  asmWords = 0;
  // --- take work from the start queue
  label(L_START);
  regToSfbr(CTEST2, 2 /* OR */, 0); // reading CTEST2 clears ISTAT.SIGP
  ldAbs(SCRATCHA, 4, hcb + HCB_STARTPOS); // the entry, to put back if it cannot start
  ldAbs(DSA, 4, hcb + HCB_STARTPOS);
  ldRel(TEMP, 4, 4); // entry.next
  stAbs(TEMP, 4, hcb + HCB_STARTPOS);
  ldRel(DSA, 4, 0); // entry.dsa: a CCB or the idle task
  ldRel(TEMP, 4, CCB_START);
  ret(ALWAYS); // -> select_job or idle
  label(L_IDLE);
  stAbs(SCRATCHA, 4, hcb + HCB_STARTPOS); // nothing queued: put the entry back
  label(L_WAIT);
  waitResel(L(L_START));
  jump(L(L_RESELECTED), ALWAYS);
  // --- a command's START
  label(L_SELECT_JOB);
  selectAtnTable(CCB_SELECT, L(L_UNGETJOB));
  ldRel(TEMP, 4, CCB_SAVEP); // runs while the selection completes
  intr(SIR_SEL_NO_MSGOUT, NOT(WHEN(PH_MSG_OUT))); // STO interrupts here (DSP = here + 8)
  moveTable(PH_MSG_OUT, CCB_MSGOUT);
  label(L_DISPATCH);
  ret(WHEN(PH_DATA_IN)); // the data pointer is in TEMP
  ret(IF(PH_DATA_OUT));
  jump(L(L_STATUS), IF(PH_STATUS));
  jump(L(L_MSG_IN), IF(PH_MSG_IN));
  jump(L(L_COMMAND), IF(PH_COMMAND));
  intr(SIR_BAD_PHASE, ALWAYS);
  label(L_COMMAND);
  moveTable(PH_COMMAND, CCB_CMD);
  jump(L(L_DISPATCH), ALWAYS);
  label(L_UNGETJOB); // reselected before we won arbitration: retry this job later
  stAbs(SCRATCHA, 4, hcb + HCB_STARTPOS);
  jump(L(L_RESELECTED), ALWAYS);
  // --- data: one CHMOV per table entry; a command enters at its first entry
  label(L_DATA_IN);
  for (let i: u32 = 0; i < MAX_SG; i++) chmovTable(PH_DATA_IN, CCB_SG + 8 * i);
  label(L_DATA_IN_END);
  ldAbs(TEMP, 4, L(L_K_DATA_IN_END));
  intr(SIR_DATA_OVERRUN, WHEN(PH_DATA_IN));
  jump(L(L_DISPATCH), ALWAYS);
  label(L_DATA_OUT);
  for (let i: u32 = 0; i < MAX_SG; i++) chmovTable(PH_DATA_OUT, CCB_SG + 8 * i);
  label(L_DATA_OUT_END);
  ldAbs(TEMP, 4, L(L_K_DATA_OUT_END));
  intr(SIR_DATA_OVERRUN, WHEN(PH_DATA_OUT));
  jump(L(L_DISPATCH), ALWAYS);
  label(L_PM_IN); // the rest of an entry cut by a phase mismatch, then the list again
  chmovTable(PH_DATA_IN, CCB_PM);
  ldRel(TEMP, 4, CCB_PM_RET);
  ret(ALWAYS);
  label(L_PM_OUT);
  chmovTable(PH_DATA_OUT, CCB_PM);
  ldRel(TEMP, 4, CCB_PM_RET);
  ret(ALWAYS);
  // --- status and messages
  label(L_STATUS);
  moveTable(PH_STATUS, CCB_STATUS);
  label(L_MSG_IN);
  move(PH_MSG_IN, 1, hcb + HCB_MSGIN);
  jump(L(L_COMPLETE), DATA(0x00, 0));
  jump(L(L_SAVE_DP), DATA(0x02, 0));
  jump(L(L_DISCONNECT), DATA(0x04, 0));
  jump(L(L_RESTORE_DP), DATA(0x03, 0));
  jump(L(L_MSG_REJECTED), DATA(0x07, 0));
  setBits(ATN); // anything else: MESSAGE REJECT
  clearBits(ACK);
  move(PH_MSG_OUT, 1, L(L_K_MSG_REJECT));
  jump(L(L_DISPATCH), ALWAYS);
  label(L_MSG_REJECTED); // the target rejected a message of ours: go on without it
  clearBits(ACK);
  jump(L(L_DISPATCH), ALWAYS);
  label(L_SAVE_DP);
  stRel(TEMP, 4, CCB_SAVEP);
  clearBits(ACK);
  jump(L(L_DISPATCH), ALWAYS);
  label(L_RESTORE_DP);
  ldRel(TEMP, 4, CCB_SAVEP);
  clearBits(ACK);
  jump(L(L_DISPATCH), ALWAYS);
  label(L_DISCONNECT);
  clearBits(ACK);
  waitDisc();
  jump(L(L_START), ALWAYS);
  label(L_COMPLETE);
  clearBits(ACK);
  waitDisc();
  stAbs(DSA, 4, hcb + HCB_SCRATCH); // post the CCB to the done queue
  ldAbs(DSA, 4, hcb + HCB_DONEPOS);
  ldAbs(SCRATCHA, 4, hcb + HCB_SCRATCH);
  stRel(SCRATCHA, 4, 0); // slot.dsa = CCB
  ldRel(SCRATCHA, 4, 4); // slot.next
  stAbs(SCRATCHA, 4, hcb + HCB_DONEPOS);
  intfly(0);
  jump(L(L_START), ALWAYS);
  // --- reselection: find the task from SSID and the tag
  label(L_RESELECTED);
  regToSfbr(SSID, OP_AND, 0x8f); // SFBR = 0x80 | id
  ldAbs(DSA, 4, L(L_K_TARGTBL)); // DSA = TARGTBL
  sfbrToReg(DSA, OP_SHL, 0); // DSA0 = SFBR << 1
  regReg(DSA, OP_SHL, 0); // DSA0 <<= 1
  regReg(DSA, OP_AND, 0x3c); // DSA = &TARGTBL[id]
  ldRel(DSA, 4, 0); // DSA = the target's TCB
  move(PH_MSG_IN, 1, hcb + HCB_MSGIN); // IDENTIFY
  intr(SIR_RESEL_NO_IDENTIFY, NOT(DATA(0x80, 0x7f)));
  clearBits(ACK);
  intr(SIR_RESEL_NO_TAG, NOT(WHEN(PH_MSG_IN)));
  move(PH_MSG_IN, 2, hcb + HCB_MSGIN); // SIMPLE QUEUE TAG, tag (ACK held on the tag)
  regToSfbr(SIDL, OP_SHL, 0); // SFBR = tag << 1
  regReg(SFBR, OP_SHL, 0); // SFBR = tag << 2 (tags < 64)
  sfbrToReg(DSA, OP_AND, 0xfc); // DSA = &TCB[tag]
  ldRel(DSA, 4, 0); // DSA = the CCB
  ldRel(TEMP, 4, CCB_SAVEP); // implied RESTORE POINTERS
  clearBits(ACK);
  jump(L(L_DISPATCH), ALWAYS);
  // --- constants the SCRIPTS load
  label(L_K_TARGTBL);
  word(hcb + HCB_TARGTBL);
  label(L_K_DATA_IN_END);
  word(L(L_DATA_IN_END));
  label(L_K_DATA_OUT_END);
  word(L(L_DATA_OUT_END));
  label(L_K_MSG_REJECT);
  word(0x07); // MESSAGE REJECT (byte 0)
}

