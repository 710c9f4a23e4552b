// The LSI53C895 initiator SCRIPTS program and the host structures it works on (the
// "firmware" half of the sym53c8xx driver, as Linux keeps sym_fw*.h apart from
// sym_hipd.c). It is test/scripts-asm.ts `referenceScript`, ported line for line (a
// deliberate port: the tests run that reference on the device model, the guests run
// this; keep the two in step): an
// idle loop in WAIT RESELECT, SIGP to look at the start queue, tagged commands,
// reselection lookup by target and tag through TARGTBL and the TCBs, S/G as a list of
// table-indirect CHMOVs entered in the middle, status and message handling, and
// completion posted to the done queue with INTFLY. See that file's comment for the flow.
//
// fwAssemble(hcb) assembles it in two passes (labels first, then the words, written
// straight into the chip's SCRIPTS RAM through the register window) with the HCB's
// address patched in; the script runs at its bus address in that RAM (the chip's base
// + 0x1000), so its constants and jumps are absolute addresses there. Encodings:
// common/lsi-regs.ts (Linux's sym_defs.h, DEVICES-REF.md A), as test/scripts-asm.ts. A
// condition carries its own if-true bit (TC_TRUE).
//
// Interface:
//   fwPlace(base)               the chip's window is at base (default SCSI_BASE)
//   fwAssemble(hcb): u32        words written (> FW_RAM_WORDS: does not fit, nothing run)
//   fwAt(label): u32            bus address of a label (L_*)
//   MAX_SG, CCB_SENSE, CCB_SHIFT   the driver's own (the layout the SCRIPTS share with
//                                  the driver is common/sym-layout.ts)

import { mmio_write } from "../hw";
import { SCSI_BASE } from "../../common/platform";
import {
  LSI_RAM_OFF, LSI_RAM_BYTES, SFBR, SSID, DSA, CTEST2, TEMP, SCRATCHA, SIDL, PH_DATA_OUT, PH_DATA_IN, PH_COMMAND, PH_STATUS, PH_MSG_OUT, PH_MSG_IN,
  SCR_PHASE_SHIFT, SCR_MOVE, SCR_CHMOV, BM_TABLE, SCR_SELECT, IO_TABLE, IO_SEL_ATN, SCR_WAIT_DISC, SCR_WAIT_RESEL,
  SCR_SET, SCR_CLR, IO_ACK, IO_ATN, SCR_SFBR_REG, SCR_REG_SFBR, SCR_REG_REG, RW_OP_SHIFT, RW_REG_SHIFT, RW_DATA_SHIFT,
  RW_OR, RW_SHL, RW_AND, SCR_JUMP, SCR_RETURN, SCR_INT, TC_INTFLY, TC_TRUE, TC_DATA, TC_PHASE, TC_WAIT, TC_MASK_SHIFT,
  SCR_LOAD, SCR_STORE, LS_DSA_REL, LS_REG_SHIFT,
} from "../../common/lsi-regs";
import {
  MSG_COMMAND_COMPLETE, MSG_SAVE_DATA_POINTER, MSG_RESTORE_POINTERS, MSG_DISCONNECT, MSG_REJECT, MSG_IDENTIFY,
} from "../../common/scsi-defs";
import {
  HCB_TARGTBL, HCB_STARTPOS, HCB_DONEPOS, HCB_SCRATCH, HCB_MSGIN, CCB_START, CCB_SELECT, CCB_MSGOUT, CCB_CMD,
  CCB_STATUS, CCB_SAVEP, CCB_PM, CCB_PM_RET, CCB_SG, SIR_SEL_NO_MSGOUT, SIR_BAD_PHASE, SIR_DATA_OVERRUN,
  SIR_RESEL_NO_IDENTIFY, SIR_RESEL_NO_TAG,
} from "../../common/sym-layout";

/** Table entries per command: CHMOVs in each data list (a tunable of the driver). */
export const MAX_SG: u32 = 4;
/** The SCRIPTS RAM: window offset, and size in words (4 KiB on the 895). */
const RAM_OFF: u32 = LSI_RAM_OFF;
export const FW_RAM_WORDS: u32 = LSI_RAM_BYTES >> 2;

// The driver's own CCB fields, after the shared layout (the SCRIPTS never touch them):
export const CCB_SENSE: u32 = CCB_SG + 8 * MAX_SG; // REQUEST SENSE data: 0x68-0x7B
export const CCB_SHIFT: u32 = 7; // 128-byte CCBs

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
/** Bus address of the chip's SCRIPTS RAM (fwPlace moves it with the chip). A literal,
 *  checked at compile time, for the reason sym53c8xx.ts gives for symBase. */
let ramBase: u32 = 0xfe001000;
// @ts-ignore: a constant condition, decided at compile time (no code)
if (<u32>SCSI_BASE + RAM_OFF != 0xfe001000) ERROR("sym53c8xx-fw: ramBase must start at SCSI_BASE + RAM_OFF");
// @ts-ignore: decorator
@inline function scriptAddr(): u32 { return ramBase + (asmWords << 2); }

/** The chip's register window is at `base` (its SCRIPTS RAM at base + RAM_OFF). */
export function fwPlace(base: u32): void { ramBase = base + RAM_OFF; }

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
  if (asmPass == 2) mmio_write(ramBase + (asmWords << 2), 4, v);
  asmWords++;
}
function insn(d0: u32, d1: u32): void { word(d0); word(d1); }

// Encodings: common/lsi-regs.ts (the chip's, shared with the model and the tests).
// @ts-ignore: decorator
@inline function WHEN(ph: u32): u32 { return TC_PHASE | TC_WAIT | (ph << SCR_PHASE_SHIFT) | TC_TRUE; }
// @ts-ignore: decorator
@inline function IF(ph: u32): u32 { return TC_PHASE | (ph << SCR_PHASE_SHIFT) | TC_TRUE; }
// @ts-ignore: decorator
@inline function DATA(d: u32, ignore: u32): u32 { return TC_DATA | (ignore << TC_MASK_SHIFT) | d | TC_TRUE; }
// @ts-ignore: decorator
@inline function NOT(c: u32): u32 { return c & ~TC_TRUE; }
const ALWAYS: u32 = TC_TRUE;

function move(ph: u32, n: u32, addr: u32): void { insn(SCR_MOVE | (ph << SCR_PHASE_SHIFT) | n, addr); }
function moveTable(ph: u32, off: u32): void { insn(SCR_MOVE | BM_TABLE | (ph << SCR_PHASE_SHIFT), off); }
function chmovTable(ph: u32, off: u32): void { insn(SCR_CHMOV | BM_TABLE | (ph << SCR_PHASE_SHIFT), off); }
function selectAtnTable(off: u32, alt: u32): void { insn(SCR_SELECT | IO_TABLE | IO_SEL_ATN | off, alt); }
function waitDisc(): void { insn(SCR_WAIT_DISC, 0); }
function waitResel(alt: u32): void { insn(SCR_WAIT_RESEL, alt); }
function setBits(f: u32): void { insn(SCR_SET | f, 0); }
function clearBits(f: u32): void { insn(SCR_CLR | f, 0); }
// @ts-ignore: decorator
@inline function regField(reg: u32): u32 { return ((reg & 0x7f) << RW_REG_SHIFT) | (reg & 0x80); }
/** reg = SFBR op data (class 5) */
function sfbrToReg(reg: u32, op: u32, d: u32): void { insn(SCR_SFBR_REG | regField(reg) | (op << RW_OP_SHIFT) | (d << RW_DATA_SHIFT), 0); }
/** SFBR = reg op data (class 6) */
function regToSfbr(reg: u32, op: u32, d: u32): void { insn(SCR_REG_SFBR | regField(reg) | (op << RW_OP_SHIFT) | (d << RW_DATA_SHIFT), 0); }
/** reg = reg op data (class 7) */
function regReg(reg: u32, op: u32, d: u32): void { insn(SCR_REG_REG | regField(reg) | (op << RW_OP_SHIFT) | (d << RW_DATA_SHIFT), 0); }
function jump(addr: u32, c: u32): void { insn(SCR_JUMP | c, addr); }
function ret(c: u32): void { insn(SCR_RETURN | c, 0); }
function intr(code: u32, c: u32): void { insn(SCR_INT | c, code); }
function intfly(code: u32): void { insn(SCR_INT | TC_INTFLY | ALWAYS, code); }
function ldAbs(reg: u32, n: u32, addr: u32): void { insn(SCR_LOAD | (reg << LS_REG_SHIFT) | n, addr); }
function stAbs(reg: u32, n: u32, addr: u32): void { insn(SCR_STORE | (reg << LS_REG_SHIFT) | n, addr); }
function ldRel(reg: u32, n: u32, off: u32): void { insn(SCR_LOAD | LS_DSA_REL | (reg << LS_REG_SHIFT) | n, off); }
function stRel(reg: u32, n: u32, off: u32): void { insn(SCR_STORE | LS_DSA_REL | (reg << LS_REG_SHIFT) | n, off); }

/** The reference initiator script (test/scripts-asm.ts referenceScript), line for line;
 *  see its comment for the flow. `hcb` is patched in as an absolute address. */
function script(hcb: u32): void {
  asmWords = 0;
  // --- take work from the start queue
  label(L_START);
  regToSfbr(CTEST2, RW_OR, 0); // reading CTEST2 clears ISTAT.SIGP
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
  jump(L(L_COMPLETE), DATA(MSG_COMMAND_COMPLETE, 0));
  jump(L(L_SAVE_DP), DATA(MSG_SAVE_DATA_POINTER, 0));
  jump(L(L_DISCONNECT), DATA(MSG_DISCONNECT, 0));
  jump(L(L_RESTORE_DP), DATA(MSG_RESTORE_POINTERS, 0));
  jump(L(L_MSG_REJECTED), DATA(MSG_REJECT, 0));
  setBits(IO_ATN); // anything else: MESSAGE REJECT
  clearBits(IO_ACK);
  move(PH_MSG_OUT, 1, L(L_K_MSG_REJECT));
  jump(L(L_DISPATCH), ALWAYS);
  label(L_MSG_REJECTED); // the target rejected a message of ours: go on without it
  clearBits(IO_ACK);
  jump(L(L_DISPATCH), ALWAYS);
  label(L_SAVE_DP);
  stRel(TEMP, 4, CCB_SAVEP);
  clearBits(IO_ACK);
  jump(L(L_DISPATCH), ALWAYS);
  label(L_RESTORE_DP);
  ldRel(TEMP, 4, CCB_SAVEP);
  clearBits(IO_ACK);
  jump(L(L_DISPATCH), ALWAYS);
  label(L_DISCONNECT);
  clearBits(IO_ACK);
  waitDisc();
  jump(L(L_START), ALWAYS);
  label(L_COMPLETE);
  clearBits(IO_ACK);
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
  regToSfbr(SSID, RW_AND, 0x8f); // SFBR = 0x80 | id
  ldAbs(DSA, 4, L(L_K_TARGTBL)); // DSA = TARGTBL
  sfbrToReg(DSA, RW_SHL, 0); // DSA0 = SFBR << 1
  regReg(DSA, RW_SHL, 0); // DSA0 <<= 1
  regReg(DSA, RW_AND, 0x3c); // DSA = &TARGTBL[id]
  ldRel(DSA, 4, 0); // DSA = the target's TCB
  move(PH_MSG_IN, 1, hcb + HCB_MSGIN); // IDENTIFY
  intr(SIR_RESEL_NO_IDENTIFY, NOT(DATA(MSG_IDENTIFY, 0x7f)));
  clearBits(IO_ACK);
  intr(SIR_RESEL_NO_TAG, NOT(WHEN(PH_MSG_IN)));
  move(PH_MSG_IN, 2, hcb + HCB_MSGIN); // SIMPLE QUEUE TAG, tag (ACK held on the tag)
  regToSfbr(SIDL, RW_SHL, 0); // SFBR = tag << 1
  regReg(SFBR, RW_SHL, 0); // SFBR = tag << 2 (tags < 64)
  sfbrToReg(DSA, RW_AND, 0xfc); // DSA = &TCB[tag]
  ldRel(DSA, 4, 0); // DSA = the CCB
  ldRel(TEMP, 4, CCB_SAVEP); // implied RESTORE POINTERS
  clearBits(IO_ACK);
  jump(L(L_DISPATCH), ALWAYS);
  // --- constants the SCRIPTS load
  label(L_K_TARGTBL);
  word(hcb + HCB_TARGTBL);
  label(L_K_DATA_IN_END);
  word(L(L_DATA_IN_END));
  label(L_K_DATA_OUT_END);
  word(L(L_DATA_OUT_END));
  label(L_K_MSG_REJECT);
  word(MSG_REJECT); // (byte 0)
}

