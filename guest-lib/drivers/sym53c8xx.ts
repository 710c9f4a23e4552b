// LSI53C895 (sym53c8xx) SCSI driver, shared by both kernels.
//
// What Linux's sym53c8xx_2 does, cut down to the one chip on this board and written as
// an interrupt-driven state machine (a guest runs to completion: nothing here waits).
//   symInit   soft reset (ISTAT.SRST), Linux's register test, the clock doubler, SCID,
//             RESPID, DMODE, CTEST4/5, DCNTL, STEST2/3, STIME0, SIEN/DIEN; the
//             initiator SCRIPTS program (sym53c8xx-fw.ts: test/scripts-asm.ts's
//             `referenceScript` ported as is) assembled into the chip's SCRIPTS RAM
//             with the host block's address patched in; host control block, per-target
//             tag tables and the command slots in guest RAM (a guest pointer is the bus
//             address the chip DMAs to). Then a SCSI bus reset (SCNTL1.RST), timed by the chip's general
//             purpose timer (STIME1 -> SIST1.GEN): RST held 250 us, then the SCSI-2
//             reset-to-selection time (256 ms), then the SCRIPTS start at `start`
//             and onReady() runs. Commands submitted before that wait in the start queue.
//   symSubmit a free command slot (its CCB, CDB, S/G table, status and sense areas
//             were allocated at init: nothing is allocated per command); the slot's
//             number is the command's queue tag; the CCB goes into the start queue and
//             ISTAT.SIGP wakes the SCRIPTS out of WAIT RESELECT. Many commands per
//             target are outstanding at once (tagged queueing); the target reselects
//             with the tag and the SCRIPTS find the CCB through TARGTBL and the TCB.
//   symIntr   ISTAT.INTF: the SCRIPTS posted CCBs to the done queue (INTFLY) ->
//             completions. SIST/DSTAT: STO (absent target: the command ends with
//             SYM_ST_SELECTION_TIMEOUT, the SCRIPTS go on), MA (a short data phase
//             inside the CHMOV list: the rest of the entry goes to CCB.PM and the
//             SCRIPTS resume, as sym_int_ma does on chips without PMJAD), GEN (the
//             reset timer), the SIR codes of the script (protocol errors: message, SCSI
//             bus reset, every command in flight fails), UDC/RST/PAR/SGE/SBMC/HTH (bus
//             reset the same way), IID/BF/ABRT/MDPE (fatal: console message, every
//             command fails, the controller stays down).
// CHECK CONDITION: the driver itself sends REQUEST SENSE in the same slot (same tag:
// the failed task has ended) and reports the sense key, ASC/ASCQ and INFORMATION with
// the original command (no autosense on this chip; sym does the same in C).
//
// Not done: sync/wide negotiation (SDTR/WDTR/PPR; the board's bus moves data at the
// Ultra2 rate without it), LUNs other than 0, untagged commands, a caller-supplied S/G
// list (one buffer per command, cut into <= 8 MiB table entries), queue freeze on
// CHECK CONDITION (the disk keeps one sense per initiator: two commands of one target
// failing together may report the later sense twice), aborting one command, the
// 895A phase-mismatch jump (PMJAD), the snooptest (it polls ISTAT), target mode.
//
// Interface (kernels see a command interface, not registers; STYLE.md practice 8):
//   symInit(onReady)                  bring-up; onReady() once the bus has settled
//   symInitAt(base, onReady)          the same for the controller whose register window
//                                     is at `base` (default: SCSI_BASE)
//   symIntr()                         from irq(IRQ_SCSI)
//   symSubmit(target, cdbAddr, cdbLen, dataAddr, dataLen, write, cookie): bool
//                                     a tagged command; false = no free slot (or down)
//   symRead(target, lba, sectors, buf, cookie): bool     READ(10)
//   symWrite(target, lba, sectors, buf, cookie): bool    WRITE(10)
//   symSetDone(fn(cookie, status, senseKey, asc, ascq, info))   completion upcall:
//                                     status = SCSI status byte, or SYM_ST_* (>= 0xE0)
//   symReady(), symFree()             bus settled; free command slots
//   sym                               the state object (counters; resid in the upcall)

import { mmio_read, mmio_write } from "../hw";
import { dmaAlloc } from "../dma";
import { cputs, cputx, cputu, kprint } from "../console";
import { SCSI_BASE } from "../../common/platform";
import {
  SCNTL0, SCNTL1, SCNTL3, SCID, DSTAT, SSTAT1, DSA, ISTAT, TEMP, CTEST4, CTEST5, DBC, DNAD, DSP, DSPS, DMODE, DIEN,
  DCNTL, SIEN0, SIST0, STIME0, STIME1, RESPID0, STEST1, STEST2, STEST3, STEST4,
  SCNTL0_ARB_FULL, SCNTL0_EPC, SCNTL0_AAP, SCNTL1_RST, SCID_RRE, SSTAT1_PHASE, ISTAT_SRST, ISTAT_SIGP, ISTAT_INTF,
  ISTAT_SIP, ISTAT_DIP, DSTAT_MDPE, DSTAT_BF, DSTAT_ABRT, DSTAT_SSI, DSTAT_SIR, DSTAT_IID, SIST0_MA, SIST0_SGE,
  SIST0_UDC, SIST0_RST, SIST0_PAR, SIST1_SBMC, SIST1_STO, SIST1_GEN, SIST1_HTH, DMODE_BL, DCNTL_CLSE, DCNTL_PFEN,
  DCNTL_STD, DCNTL_COM, STEST1_DBLEN, STEST1_DBLSEL, STEST2_EXT, STEST3_TE, STEST3_HSC, STEST4_LCKFRQ, PH_STATUS,
} from "../../common/lsi-regs";
import {
  STATUS_CHECK_CONDITION, OP_REQUEST_SENSE, OP_READ_10, OP_WRITE_10, SENSE_FIXED_LEN, MSG_IDENTIFY, MSG_IDENTIFY_DISC,
  MSG_SIMPLE_TAG,
} from "../../common/scsi-defs";
import {
  fwAssemble, fwAt, FW_RAM_WORDS, MAX_SG, CCB_SENSE, CCB_SHIFT,
  L_START, L_IDLE, L_SELECT_JOB, L_DISPATCH, L_DATA_IN, L_DATA_IN_END, L_DATA_OUT, L_DATA_OUT_END, L_PM_IN, L_PM_OUT,
  fwPlace,
} from "./sym53c8xx-fw";
import {
  HCB_TARGTBL, HCB_IDLECCB, HCB_STARTQ, HCB_STARTPOS, HCB_DONEPOS, HCB_DONEQ, HCB_SIZE, SQ_SLOTS, DQ_SLOTS, TCB_SIZE,
  CCB_START, CCB_SELECT, CCB_MSGOUT, CCB_CMD, CCB_STATUS, CCB_SAVEP, CCB_PM, CCB_PM_RET, CCB_STATBUF, CCB_MSGBUF,
  CCB_CDB, CCB_SG, SIR_SEL_NO_MSGOUT, SIR_BAD_PHASE, SIR_DATA_OVERRUN, SIR_RESEL_NO_IDENTIFY, SIR_RESEL_NO_TAG,
} from "../../common/sym-layout";

// ---------------------------------------------------------------------------------
// Tunables

const HOST_ID: u32 = 7; // our SCSI ID (the highest: it wins arbitration)
const NSLOT: u32 = 48; // command slots = queue tags; < SQ_SLOTS and <= MAX_TAGS
const SEG_MAX: u32 = 8 << 20; // bytes per table entry (the count field has 24 bits)
const SCNTL3_VAL: u32 = 0x05; // clock conversion factor for 80 MHz (40 MHz doubled)
const STIME0_VAL: u32 = 0x0c; // selection timeout 256 ms, as Linux
const GEN_RST_HOLD: u32 = 0x02; // STIME1: hold SCSI RST 250 us (SCSI-2 minimum 25 us)
const GEN_SETTLE: u32 = 0x0c; // STIME1: 256 ms, SCSI-2 reset-to-selection time 250 ms

// The chip's registers and bits are common/lsi-regs.ts (shared with the device model);
// these are the driver's settings made of them.

// SIST0 | SIST1 << 8, as one 16-bit read at SIST0 gives them
const SIST_MA: u32 = SIST0_MA;
const SIST_SGE: u32 = SIST0_SGE;
const SIST_UDC: u32 = SIST0_UDC;
const SIST_RST: u32 = SIST0_RST;
const SIST_PAR: u32 = SIST0_PAR;
const SIST_SBMC: u32 = SIST1_SBMC << 8;
const SIST_STO: u32 = SIST1_STO << 8;
const SIST_GEN: u32 = SIST1_GEN << 8;
const SIST_HTH: u32 = SIST1_HTH << 8;
/** Linux's SIEN (sym_init): STO HTH MA SGE UDC RST PAR SBMC; GEN only while resetting. */
const SIEN_RUN: u32 = SIST_MA | SIST_SGE | SIST_UDC | SIST_RST | SIST_PAR | SIST_STO | SIST_HTH | SIST_SBMC;
const DIEN_VAL: u32 = DSTAT_MDPE | DSTAT_BF | DSTAT_ABRT | DSTAT_SSI | DSTAT_SIR | DSTAT_IID;
const DCNTL_VAL: u32 = DCNTL_CLSE | DCNTL_PFEN | DCNTL_COM;
const SENSE_LEN: u32 = SENSE_FIXED_LEN;

/** Driver status codes, above every SCSI status byte (those end at 0x40). */
export const SYM_ST_SELECTION_TIMEOUT: u32 = 0xe1; // no target at that ID
export const SYM_ST_RESET: u32 = 0xe2; // ended by a SCSI bus reset (recovery)
export const SYM_ST_PROTOCOL: u32 = 0xe3; // this command broke the bus protocol
export const SYM_ST_FAILED: u32 = 0xe4; // the controller failed (fatal interrupt)

// Controller states
export const SYM_DOWN: u32 = 0;
export const SYM_RESETTING: u32 = 1; // SCSI RST asserted (GEN timer running)
export const SYM_SETTLING: u32 = 2; // RST released, reset-to-selection time
export const SYM_READY: u32 = 3; // SCRIPTS running
export const SYM_FAILED: u32 = 4;

// Slot states
const SLOT_FREE: u8 = 0;
const SLOT_CMD: u8 = 1; // the caller's command
const SLOT_SENSE: u8 = 2; // our REQUEST SENSE for it

// ---------------------------------------------------------------------------------
// State

@final
export class SymState {
  state: u32 = SYM_DOWN;
  /** HCB: TARGTBL, queue positions, start and done queues (guest RAM). */
  hcb: usize = 0;
  /** 16 TCBs (tag -> CCB tables), then NSLOT CCBs of 1 << CCB_SHIFT bytes. */
  tcbs: usize = 0;
  ccbs: usize = 0;
  /** Next start-queue entry the driver fills (the SCRIPTS keep STARTPOS). */
  sqPut: u32 = 0;
  /** Next done-queue entry the driver reads. */
  dqGet: u32 = 0;
  /** Head of the free slot list (-1: none), and slots in use. */
  freeSlot: i32 = -1;
  busy: u32 = 0;
  /** onReady() has run (it runs once, not again after a recovery). */
  announced: bool = false;
  /** Inside the done upcall: bytes of the command's data phase not transferred. */
  resid: u32 = 0;
  // counters
  commands: u64 = 0; // commands accepted (REQUEST SENSE not counted)
  completions: u64 = 0; // upcalls made
  checkConditions: u64 = 0; // CHECK CONDITION statuses (each followed by REQUEST SENSE)
  selectionTimeouts: u64 = 0;
  phaseMismatches: u64 = 0;
  refused: u64 = 0; // submits refused: no free slot, controller down, bad arguments
  interrupts: u64 = 0; // interrupts that were ours
  spurious: u64 = 0;
  doneIntr: u64 = 0; // INTF seen (INTFLY from the done queue)
  busResets: u64 = 0; // recoveries by SCSI bus reset
  fatal: u64 = 0;
}

export const sym = new SymState();

const slotState = new StaticArray<u8>(NSLOT);
const slotNext = new StaticArray<i32>(NSLOT);
const slotTarget = new StaticArray<u32>(NSLOT);
const slotCookie = new StaticArray<u32>(NSLOT);
/** Residual of the data phase (set by the phase-mismatch handler when STATUS cut it). */
const slotResid = new StaticArray<u32>(NSLOT);
/** The caller's command's residual, kept while its REQUEST SENSE runs. */
const slotCmdResid = new StaticArray<u32>(NSLOT);

function nothing(): void {}
function noDone(cookie: u32, status: u32, key: u32, asc: u32, ascq: u32, info: u32): void {}
let onReady: () => void = nothing;
let onDone: (cookie: u32, status: u32, key: u32, asc: u32, ascq: u32, info: u32) => void = noDone;

// Where the chip is: its register window's base, SCSI_BASE unless symInitAt says
// otherwise (one controller per kernel); an access adds the register's offset at run
// time, as Linux's sym does (np->s.mmio_va + reg). The initial value is a literal,
// checked against SCSI_BASE when the guest is built: AssemblyScript gives a global a
// static initial value only when it is a literal, and then in a kernel that never calls
// symInitAt the global is never written, binaryen folds it into every access, and the
// accesses cost what accesses at a constant address cost (HiTactix's metered cycles,
// hence the experiments' trace hashes, do not depend on this parameter).
let symBase: u32 = 0xfe000000;
// @ts-ignore: a constant condition, decided at compile time (no code)
if (<u32>SCSI_BASE != 0xfe000000) ERROR("sym53c8xx: symBase must start at SCSI_BASE");

// @ts-ignore: decorator
@inline function rd8(off: u32): u32 { return mmio_read(symBase + off, 1); }
// @ts-ignore: decorator
@inline function rd16(off: u32): u32 { return mmio_read(symBase + off, 2); }
// @ts-ignore: decorator
@inline function rd32(off: u32): u32 { return mmio_read(symBase + off, 4); }
// @ts-ignore: decorator
@inline function wr8(off: u32, v: u32): void { mmio_write(symBase + off, 1, v); }
// @ts-ignore: decorator
@inline function wr16(off: u32, v: u32): void { mmio_write(symBase + off, 2, v); }
// @ts-ignore: decorator
@inline function wr32(off: u32, v: u32): void { mmio_write(symBase + off, 4, v); }
// @ts-ignore: decorator
@inline function ccbOf(s: u32): usize { return sym.ccbs + (<usize>s << CCB_SHIFT); }

// ---------------------------------------------------------------------------------
// Init

/** symInit for the controller whose register window is at `base` (a second
 *  LSI53C895 at another address; this driver drives one controller per kernel). */
export function symInitAt(base: u32, ready: () => void): void {
  symBase = base;
  fwPlace(base);
  symInit(ready);
}

/** Bring up the controller at SCSI_BASE (or where symInitAt moved the driver). */
export function symInit(ready: () => void): void {
  onReady = ready;
  if (sym.hcb == 0) allocate();
  // Soft reset: the chip resets while SRST is set (sym_soft_reset).
  wr8(ISTAT, ISTAT_SRST);
  wr8(ISTAT, 0);
  // Linux's MMIO register test: DSTAT..SSTAT2 are read-only, so all ones must not stick.
  wr32(DSTAT, 0xffffffff);
  if (rd32(DSTAT) == 0xffffffff) return fail("register test failed (no chip at SCSI_BASE?)");
  wr8(SCNTL0, SCNTL0_ARB_FULL | SCNTL0_EPC | SCNTL0_AAP);
  wr8(SCNTL1, 0);
  // 40 MHz clock doubled to 80 MHz (sym_selectclock): enable, wait for the lock,
  // halt the SCSI clock, select, restart. One look at LCKFRQ: we never spin.
  wr8(STEST1, STEST1_DBLEN);
  if ((rd8(STEST4) & STEST4_LCKFRQ) == 0) kprint("sym: clock doubler not locked yet");
  wr8(STEST3, STEST3_HSC);
  wr8(STEST1, STEST1_DBLEN | STEST1_DBLSEL);
  wr8(STEST3, 0);
  wr8(SCNTL3, SCNTL3_VAL);
  wr8(SCID, SCID_RRE | HOST_ID); // answer reselections
  wr16(RESPID0, 1 << HOST_ID);
  wr8(DMODE, DMODE_BL); // burst 16
  wr8(CTEST4, 0);
  wr8(CTEST5, 0);
  wr8(DCNTL, DCNTL_VAL);
  wr8(STEST2, STEST2_EXT);
  wr8(STEST3, STEST3_TE);
  wr8(STIME0, STIME0_VAL);
  wr8(DIEN, DIEN_VAL);
  // The SCRIPTS into the chip's RAM, addresses patched.
  if (fwAssemble(<u32>sym.hcb) > FW_RAM_WORDS) return fail("SCRIPTS larger than the SCRIPTS RAM");
  setupTables();
  busReset();
}

/** Every table and slot, once, from the partition's heap (never freed). */
function allocate(): void {
  sym.hcb = dmaAlloc(<usize>HCB_SIZE, 256);
  sym.tcbs = dmaAlloc(<usize>(16 * TCB_SIZE), 256);
  sym.ccbs = dmaAlloc(<usize>NSLOT << CCB_SHIFT, 256);
}

function fail(why: string): void {
  sym.state = SYM_FAILED;
  cputs("sym: "); kprint(why);
}

/** TARGTBL, the idle task, the fixed fields of every CCB, the free slot list. */
function setupTables(): void {
  let hcb = sym.hcb;
  memory.fill(hcb, 0, <usize>HCB_SIZE);
  for (let id: u32 = 0; id < 16; id++) store<u32>(hcb + HCB_TARGTBL + (id << 2), <u32>(sym.tcbs + <usize>(id * TCB_SIZE)));
  store<u32>(hcb + HCB_IDLECCB + CCB_START, fwAt(L_IDLE));
  for (let s: u32 = 0; s < NSLOT; s++) {
    let c = ccbOf(s);
    store<u32>(c + CCB_START, fwAt(L_SELECT_JOB));
    store<u32>(c + CCB_MSGOUT, 3);
    store<u32>(c + CCB_MSGOUT + 4, <u32>(c + CCB_MSGBUF));
    store<u32>(c + CCB_CMD + 4, <u32>(c + CCB_CDB));
    store<u32>(c + CCB_STATUS, 1);
    store<u32>(c + CCB_STATUS + 4, <u32>(c + CCB_STATBUF));
    unchecked(slotState[s] = SLOT_FREE);
    unchecked(slotNext[s] = s + 1 < NSLOT ? <i32>(s + 1) : -1);
  }
  sym.freeSlot = 0;
  sym.busy = 0;
  resetQueues();
}

/** Start queue all idle, done queue empty, both positions at their first entry. */
function resetQueues(): void {
  let hcb = sym.hcb;
  for (let i: u32 = 0; i < SQ_SLOTS; i++) {
    let e = hcb + HCB_STARTQ + (i << 3);
    store<u32>(e, <u32>(hcb + HCB_IDLECCB));
    store<u32>(e, <u32>(hcb + HCB_STARTQ + (((i + 1) & (SQ_SLOTS - 1)) << 3)), 4);
  }
  for (let i: u32 = 0; i < DQ_SLOTS; i++) {
    let e = hcb + HCB_DONEQ + (i << 3);
    store<u32>(e, 0);
    store<u32>(e, <u32>(hcb + HCB_DONEQ + (((i + 1) & (DQ_SLOTS - 1)) << 3)), 4);
  }
  store<u32>(hcb + HCB_STARTPOS, <u32>(hcb + HCB_STARTQ));
  store<u32>(hcb + HCB_DONEPOS, <u32>(hcb + HCB_DONEQ));
  sym.sqPut = 0;
  sym.dqGet = 0;
}

/** Assert SCSI RST; the GEN timer releases it, then times the settle (onGen). */
function busReset(): void {
  sym.state = SYM_RESETTING;
  wr16(SIEN0, SIEN_RUN | SIST_GEN);
  wr8(SCNTL1, SCNTL1_RST);
  wr8(STIME1, GEN_RST_HOLD);
}

function onGen(): void {
  if (sym.state == SYM_RESETTING) {
    wr8(SCNTL1, 0); // release RST
    sym.state = SYM_SETTLING;
    wr8(STIME1, GEN_SETTLE);
  } else if (sym.state == SYM_SETTLING) {
    wr8(STIME1, 0);
    wr16(SIEN0, SIEN_RUN); // GEN would halt the running SCRIPTS
    sym.state = SYM_READY;
    wr32(DSP, fwAt(L_START)); // the SCRIPTS take whatever was queued meanwhile
    if (!sym.announced) {
      sym.announced = true;
      cputs("sym: 53c895 at "); cputx(symBase); cputs(", SCSI ID "); cputu(HOST_ID);
      cputs(", "); cputu(NSLOT); kprint(" tags");
      onReady();
    }
  }
}

// ---------------------------------------------------------------------------------
// Operations

export function symSetDone(fn: (cookie: u32, status: u32, key: u32, asc: u32, ascq: u32, info: u32) => void): void { onDone = fn; }
export function symReady(): bool { return sym.state == SYM_READY; }
export function symFree(): u32 { return NSLOT - sym.busy; }

/** A command: its CDB (cdbLen bytes at cdbAddr, copied), one data buffer, direction. */
export function symSubmit(target: u32, cdbAddr: usize, cdbLen: u32, dataAddr: usize, dataLen: u32, write: bool, cookie: u32): bool {
  if (cdbLen == 0 || cdbLen > 16) { sym.refused++; return false; }
  let s = slotAlloc(target, dataLen);
  if (s < 0) return false;
  let c = ccbOf(<u32>s);
  store<u64>(c + CCB_CDB, 0);
  store<u64>(c + CCB_CDB + 8, 0);
  memory.copy(c + CCB_CDB, cdbAddr, <usize>cdbLen);
  slotStart(<u32>s, target, cookie, cdbLen, dataAddr, dataLen, write, SLOT_CMD);
  return true;
}

export function symRead(target: u32, lba: u64, sectors: u32, buf: usize, cookie: u32): bool {
  return rw10(OP_READ_10, target, lba, sectors, buf, cookie);
}

export function symWrite(target: u32, lba: u64, sectors: u32, buf: usize, cookie: u32): bool {
  return rw10(OP_WRITE_10, target, lba, sectors, buf, cookie);
}

/** READ(10)/WRITE(10) built in the slot's CDB area: LBA and length big-endian. */
function rw10(op: u32, target: u32, lba: u64, sectors: u32, buf: usize, cookie: u32): bool {
  if (sectors == 0 || sectors > 0xffff || lba + <u64>sectors > 0x100000000) { sym.refused++; return false; }
  let s = slotAlloc(target, sectors << 9);
  if (s < 0) return false;
  let cdb = ccbOf(<u32>s) + CCB_CDB;
  store<u64>(cdb, <u64>op);
  store<u64>(cdb + 8, 0);
  store<u32>(cdb + 2, bswap<u32>(<u32>lba));
  store<u16>(cdb + 7, bswap<u16>(<u16>sectors));
  slotStart(<u32>s, target, cookie, 10, buf, sectors << 9, op == OP_WRITE_10, SLOT_CMD);
  return true;
}

function slotAlloc(target: u32, dataLen: u32): i32 {
  if (target > 15 || target == HOST_ID || dataLen > MAX_SG * SEG_MAX || sym.state == SYM_FAILED || sym.state == SYM_DOWN) {
    sym.refused++;
    return -1;
  }
  let s = sym.freeSlot;
  if (s < 0) { sym.refused++; return -1; }
  sym.freeSlot = unchecked(slotNext[s]);
  sym.busy++;
  sym.commands++;
  return s;
}

/** Fill slot s's CCB (the CDB is in place), point the TCB at it, queue it, SIGP. */
function slotStart(s: u32, target: u32, cookie: u32, cdbLen: u32, data: usize, len: u32, write: bool, kind: u8): void {
  let c = ccbOf(s);
  unchecked(slotState[s] = kind);
  unchecked(slotTarget[s] = target);
  unchecked(slotCookie[s] = cookie);
  unchecked(slotResid[s] = 0);
  store<u32>(c + CCB_SELECT, (SCNTL3_VAL << 24) | (target << 16));
  store<u32>(c + CCB_MSGBUF, MSG_IDENTIFY | MSG_IDENTIFY_DISC | (MSG_SIMPLE_TAG << 8) | (s << 16)); // IDENTIFY (LUN 0), SIMPLE, tag
  store<u32>(c + CCB_CMD, cdbLen);
  store<u32>(c + CCB_STATBUF, 0xff);
  // Table entries: a command with n of them uses the last n (the list ends in *_end).
  let n = (len + SEG_MAX - 1) / SEG_MAX;
  let first = MAX_SG - n;
  let off: u32 = 0;
  for (let i = first; i < MAX_SG; i++) {
    let k = len - off < SEG_MAX ? len - off : SEG_MAX;
    store<u32>(c + CCB_SG + (i << 3), k);
    store<u32>(c + CCB_SG + (i << 3) + 4, <u32>data + off);
    off += k;
  }
  let savep = n == 0 ? fwAt(L_DATA_IN_END) : (write ? fwAt(L_DATA_OUT) : fwAt(L_DATA_IN)) + (first << 3);
  store<u32>(c + CCB_SAVEP, savep);
  store<u32>(sym.tcbs + <usize>(target * TCB_SIZE + (s << 2)), <u32>c);
  // Start queue: the entry after ours becomes idle first, then ours is published.
  let sq = sym.hcb + HCB_STARTQ;
  let put = sym.sqPut;
  store<u32>(sq + (((put + 1) & (SQ_SLOTS - 1)) << 3), <u32>(sym.hcb + HCB_IDLECCB));
  store<u32>(sq + (put << 3), <u32>c);
  sym.sqPut = (put + 1) & (SQ_SLOTS - 1);
  wr8(ISTAT, ISTAT_SIGP); // INTF is write-one-to-clear: untouched
}

// ---------------------------------------------------------------------------------
// Completion

/** Slot s ends: free it, then tell the caller (who may submit at once). */
function finish(s: u32, status: u32, key: u32, asc: u32, ascq: u32, info: u32, resid: u32): void {
  let cookie = unchecked(slotCookie[s]);
  unchecked(slotState[s] = SLOT_FREE);
  unchecked(slotNext[s] = sym.freeSlot);
  sym.freeSlot = <i32>s;
  sym.busy--;
  sym.completions++;
  sym.resid = resid;
  onDone(cookie, status, key, asc, ascq, info);
}

/** A CCB the SCRIPTS posted: its status came (COMMAND COMPLETE). */
function complete(s: u32): void {
  let c = ccbOf(s);
  let st = <u32>load<u8>(c + CCB_STATBUF);
  if (unchecked(slotState[s]) == SLOT_SENSE) {
    let resid = unchecked(slotCmdResid[s]);
    let got = SENSE_LEN - unchecked(slotResid[s]);
    if (st != 0 || got < 14) { finish(s, STATUS_CHECK_CONDITION, 0, 0, 0, 0, resid); return; }
    let sb = c + CCB_SENSE;
    let key = <u32>load<u8>(sb, 2) & 0x0f;
    let info: u32 = (load<u8>(sb) & 0x80) != 0 ? bswap<u32>(load<u32>(sb, 3)) : 0; // VALID
    finish(s, STATUS_CHECK_CONDITION, key, <u32>load<u8>(sb, 12), <u32>load<u8>(sb, 13), info, resid);
    return;
  }
  if (st == STATUS_CHECK_CONDITION) { requestSense(s); return; }
  finish(s, st, 0, 0, 0, 0, unchecked(slotResid[s]));
}

/** The command in slot s got CHECK CONDITION: REQUEST SENSE in the same slot and tag. */
function requestSense(s: u32): void {
  sym.checkConditions++;
  unchecked(slotCmdResid[s] = unchecked(slotResid[s]));
  let c = ccbOf(s);
  store<u64>(c + CCB_CDB, <u64>OP_REQUEST_SENSE | (<u64>SENSE_LEN << 32)); // 03 00 00 00 12 00
  store<u64>(c + CCB_CDB + 8, 0);
  let sb = c + CCB_SENSE;
  store<u64>(sb, 0); store<u64>(sb, 0, 8); store<u32>(sb, 0, 16);
  slotStart(s, unchecked(slotTarget[s]), unchecked(slotCookie[s]), 6, sb, SENSE_LEN, false, SLOT_SENSE);
}

function slotOf(ccb: u32): i32 {
  let o = <usize>ccb - sym.ccbs;
  if (<usize>ccb < sym.ccbs || (o & ((1 << CCB_SHIFT) - 1)) != 0 || (o >> CCB_SHIFT) >= <usize>NSLOT) return -1;
  let s = <i32>(o >> CCB_SHIFT);
  return unchecked(slotState[s]) == SLOT_FREE ? -1 : s;
}

function drainDone(): void {
  let hcb = sym.hcb;
  for (;;) {
    let e = hcb + HCB_DONEQ + (sym.dqGet << 3);
    let ccb = load<u32>(e);
    if (ccb == 0) return;
    store<u32>(e, 0);
    sym.dqGet = (sym.dqGet + 1) & (DQ_SLOTS - 1);
    let s = slotOf(ccb);
    if (s >= 0) complete(<u32>s);
    else { cputs("sym: done queue holds a stray CCB "); cputx(ccb); kprint(""); }
  }
}

// ---------------------------------------------------------------------------------
// The interrupt (sym_interrupt's order: INTF first, then SIST/DSTAT)

export function symIntr(): void {
  let istat = rd8(ISTAT);
  if ((istat & (ISTAT_INTF | ISTAT_SIP | ISTAT_DIP)) == 0) { sym.spurious++; return; }
  sym.interrupts++;
  for (let round = 0; round < 64; round++) {
    if ((istat & ISTAT_INTF) != 0) {
      wr8(ISTAT, (istat & ISTAT_SIGP) | ISTAT_INTF); // keep a SIGP the SCRIPTS have not taken
      sym.doneIntr++;
      drainDone();
    }
    if ((istat & (ISTAT_SIP | ISTAT_DIP)) != 0) {
      let sist = (istat & ISTAT_SIP) != 0 ? rd16(SIST0) : 0;
      let dstat = (istat & ISTAT_DIP) != 0 ? rd8(DSTAT) : 0;
      handle(sist, dstat);
    }
    istat = rd8(ISTAT);
    if ((istat & (ISTAT_INTF | ISTAT_SIP | ISTAT_DIP)) == 0) return;
  }
}

function handle(sist: u32, dstat: u32): void {
  if ((sist & SIST_GEN) != 0) onGen();
  if ((dstat & (DSTAT_IID | DSTAT_BF | DSTAT_ABRT | DSTAT_MDPE)) != 0) return fatal(dstat);
  if ((sist & SIST_RST) != 0) {
    if (sym.state == SYM_RESETTING) return; // our own reset
    return recover("SCSI bus reset by another device", -1);
  }
  if ((sist & (SIST_UDC | SIST_PAR | SIST_SGE | SIST_SBMC | SIST_HTH)) != 0) {
    cputs("sym: SIST "); cputx(sist); cputs(" at DSP "); cputx(rd32(DSP)); kprint("");
    return recover("unexpected disconnect or bus error", slotOf(rd32(DSA)));
  }
  if ((sist & SIST_STO) != 0) return selectionTimeout();
  if ((sist & SIST_MA) != 0) return phaseMismatch();
  if ((dstat & DSTAT_SIR) != 0) return scriptInt();
  if ((dstat & DSTAT_SSI) != 0) wr8(DCNTL, DCNTL_VAL | DCNTL_STD); // not used: go on
}

/** STO: the CCB in DSA was taken off the start queue; nobody answered its selection. */
function selectionTimeout(): void {
  sym.selectionTimeouts++;
  let s = slotOf(rd32(DSA));
  wr32(DSP, fwAt(L_START)); // the SCRIPTS go on with the next job
  if (s >= 0) finish(<u32>s, SYM_ST_SELECTION_TIMEOUT, 0, 0, 0, 0, 0);
}

/** MA inside the data lists: continue the cut entry from CCB.PM (sym_int_ma). */
function phaseMismatch(): void {
  sym.phaseMismatches++;
  let dsp = rd32(DSP);
  let dsa = rd32(DSA);
  let rest = rd32(DBC) & 0xffffff;
  let addr = rd32(DNAD);
  let phase = rd8(SSTAT1) & SSTAT1_PHASE;
  let s = slotOf(dsa);
  if (s < 0) return recover("phase mismatch with no command", -1);
  let c = ccbOf(<u32>s);
  let insn = dsp - 8;
  let din = fwAt(L_DATA_IN);
  let dout = fwAt(L_DATA_OUT);
  let remaining = rest;
  let ptr: u32;
  if ((insn >= din && insn < fwAt(L_DATA_IN_END)) || (insn >= dout && insn < fwAt(L_DATA_OUT_END))) {
    let inList = insn < fwAt(L_DATA_IN_END);
    let i = (insn - (inList ? din : dout)) >> 3;
    for (let j = i + 1; j < MAX_SG; j++) remaining += load<u32>(c + CCB_SG + (j << 3));
    if (rest == load<u32>(c + CCB_SG + (i << 3))) {
      ptr = insn; // nothing of this entry moved: go on from it
    } else {
      store<u32>(c + CCB_PM, rest);
      store<u32>(c + CCB_PM + 4, addr);
      store<u32>(c + CCB_PM_RET, insn + 8);
      ptr = inList ? fwAt(L_PM_IN) : fwAt(L_PM_OUT);
    }
  } else if (insn == fwAt(L_PM_IN) || insn == fwAt(L_PM_OUT)) {
    store<u32>(c + CCB_PM, rest);
    store<u32>(c + CCB_PM + 4, addr);
    ptr = insn;
    let list = insn == fwAt(L_PM_IN) ? din : dout;
    for (let j = (load<u32>(c + CCB_PM_RET) - list) >> 3; j < MAX_SG; j++) remaining += load<u32>(c + CCB_SG + (j << 3));
  } else {
    cputs("sym: phase mismatch at "); cputx(insn); cputs(" phase "); cputu(phase); kprint("");
    return recover("phase mismatch outside the data lists", s);
  }
  if (phase == PH_STATUS) unchecked(slotResid[s] = remaining); // a short transfer
  wr32(TEMP, ptr);
  wr32(DSP, fwAt(L_DISPATCH));
}

/** INT from the script: every code is a protocol error our targets do not make. */
function scriptInt(): void {
  let code = rd32(DSPS);
  let s = slotOf(rd32(DSA));
  cputs("sym: SIR "); cputu(code); cputs(" at DSP "); cputx(rd32(DSP)); cputs(": ");
  if (code == SIR_SEL_NO_MSGOUT) kprint("target did not take MSG OUT after selection");
  else if (code == SIR_BAD_PHASE) kprint("unexpected bus phase");
  else if (code == SIR_DATA_OVERRUN) kprint("target wants more data than the buffer holds");
  else if (code == SIR_RESEL_NO_IDENTIFY) kprint("reselection without IDENTIFY");
  else if (code == SIR_RESEL_NO_TAG) kprint("reselection without a queue tag");
  else kprint("unknown code");
  recover("protocol error", code == SIR_RESEL_NO_IDENTIFY || code == SIR_RESEL_NO_TAG ? -1 : s);
}

/** Reset the SCSI bus (the targets drop their tasks), fail every command in flight,
 *  restart the SCRIPTS once the bus has settled. The SCRIPTS are halted here. */
function recover(why: string, culprit: i32): void {
  cputs("sym: "); cputs(why); kprint(": resetting the SCSI bus");
  sym.busResets++;
  resetQueues();
  busReset();
  failAll(SYM_ST_RESET, culprit);
}

function fatal(dstat: u32): void {
  sym.fatal++;
  cputs("sym: fatal: DSTAT "); cputx(dstat);
  if ((dstat & DSTAT_IID) != 0) cputs(" (illegal instruction)");
  if ((dstat & DSTAT_BF) != 0) cputs(" (bus fault)");
  cputs(" at DSP "); cputx(rd32(DSP)); kprint("; controller down");
  sym.state = SYM_FAILED;
  failAll(SYM_ST_FAILED, -1);
}

/** End every busy slot (a snapshot: the upcalls may take slots again). */
function failAll(status: u32, culprit: i32): void {
  let mask: u64 = 0;
  for (let s: u32 = 0; s < NSLOT; s++) if (unchecked(slotState[s]) != SLOT_FREE) mask |= <u64>1 << s;
  for (let s: u32 = 0; s < NSLOT; s++) {
    if ((mask & (<u64>1 << s)) == 0) continue;
    finish(s, <i32>s == culprit ? SYM_ST_PROTOCOL : status, 0, 0, 0, 0, 0);
  }
}
