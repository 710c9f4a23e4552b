// LSI53C895-style SCSI controller: the chip's registers, its SCRIPTS processor, and
// the initiator side of one Ultra2 wide SCSI bus shared by the attached targets. This
// file is part 4 of 4, the chip as the CPU sees it: register read/write (the manual's
// chapter 5 "Registers" [S7]), reset, the general purpose timer, the interrupt line.
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
// The model in four files, one part of the data sheet each:
//   lsi53c895-data.ts     the register table, timing constants (chapter 5; the bits and
//                         offsets themselves are common/lsi-regs.ts, shared with the
//                         driver)
//   lsi53c895-bus.ts      the chip's state; PCI DMA (host RAM and its own window); the
//                         SCSI bus and phase engine (chapter 2, SCSI-2)
//   lsi53c895-scripts.ts  the SCRIPTS processor (chapter 6)
//   lsi53c895.ts          registers, reset, catch-up, GEN timer, updateIrq (this file)
// They are one class in layers (Lsi53c895 extends LsiScripts extends LsiBus): the
// register file, the SCRIPTS and the bus share every register and timing decision, so
// the halt and interrupt rules stay in one place each (raise/applyHalt in the SCRIPTS,
// updateIrq here).
//
// Interface:
//   new Lsi53c895(ctx, targets, opts)  MmioDevice, size 0x2000 (registers 0x000-0x0FF,
//                                      SCRIPTS RAM 0x1000-0x1FFF); ctx.irq = INTA;
//                                      opts.base: the window's bus address (SCSI_BASE)
//   REGS, R, LSI_TIMING, regName       the register table (lsi53c895-data.ts)
//   stats, busBusyNs()                 bus occupancy and counters for reports
//   selectionTimeoutNs(code), cdbLength(op)

import type { MmioDevice, Width } from "../host/device.js";
import {
  LSI_RAM_OFF, LSI_RAM_BYTES, LSI_REG_BYTES, SCNTL0_START, SCNTL1_RST, SCNTL1_CON, SCNTL1_IARB, ISTAT_SRST, ISTAT_SIGP,
  ISTAT_SEM, ISTAT_ABRT, ISTAT_CON, ISTAT_INTF, ISTAT_SIP, ISTAT_DIP, ISTAT1_SRUN, DSTAT_DFE, SSTAT0_RST, SSTAT2_LDSC,
  CTEST2_SIGP, CTEST3_CLF, CTEST3_FLF, DMODE_MAN, DCNTL_STD, DCNTL_IRQD, STIME0_HTH, STEST2_LOW, STEST3_STR,
  STEST3_STW, STEST3_CSF, SSTAT1_PHASE, PH_MSG_IN, SIST0_RST, SIST1_GEN, SCID_ID,
} from "../common/lsi-regs.js";
import type { ScsiTarget } from "./scsi.js";
import { LsiScripts } from "./lsi53c895-scripts.js";
import {
  REGS, REG_AT, regName, hex, SIST0_FATAL, SIST1_FATAL, S_IDLE, S_RUN, S_WAIT_RESEL, BUS_FREE, selectionTimeoutNs,
  type DueTimer, type RegName, type Lsi53c895Options,
} from "./lsi53c895-data.js";
import type { DeviceContext } from "../host/device.js";

export { REGS, R, LSI_TIMING, regName, selectionTimeoutNs, cdbLength } from "./lsi53c895-data.js";
export type { RegDef, RegName, LsiTiming, LsiStats, Lsi53c895Options } from "./lsi53c895-data.js";

export class Lsi53c895 extends LsiScripts implements MmioDevice {
  constructor(ctx: DeviceContext, targets: readonly ScsiTarget[], opts: Lsi53c895Options = {}) {
    super(ctx, targets, opts);
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

  // ---------------------------------------------------------------------------------
  // Register read/write (MmioDevice)

  read(off: number, width: Width): number {
    this.catchUp();
    if (off >= LSI_RAM_OFF && off + width <= LSI_RAM_OFF + LSI_RAM_BYTES) {
      const o = off - LSI_RAM_OFF;
      return width === 4 ? this.ramDv.getUint32(o, true) : width === 2 ? this.ramDv.getUint16(o, true) : this.ram[o];
    }
    if (off + width > LSI_REG_BYTES) {
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
    if (off >= LSI_RAM_OFF && off + width <= LSI_RAM_OFF + LSI_RAM_BYTES) {
      const o = off - LSI_RAM_OFF;
      if (width === 4) this.ramDv.setUint32(o, value, true);
      else if (width === 2) this.ramDv.setUint16(o, value, true);
      else this.ram[o] = value;
      return;
    }
    if (off + width > LSI_REG_BYTES) {
      this.ctx.log("guest-error", `write of unmapped offset 0x${off.toString(16)} ignored`);
      return;
    }
    if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} W${width} ${regName(off)} <- ${hex(value, width * 2)}`);
    // Ascending bytes: a dword write at DSP stores the address before its MSB starts SCRIPTS.
    for (let b = 0; b < width; b++) this.writeByte(off + b, (value >>> (8 * b)) & 0xff);
  }

  /** One register byte, with read side effects (CPU, SCRIPTS and DMA share this). */
  protected readByte(off: number): number {
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
        return (r.SSTAT1 & ~SSTAT1_PHASE) | (this.phase >= 0 ? this.phase : 0);
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

  protected writeByte(off: number, v: number): void {
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
        r.SDID = v & SCID_ID;
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
      case "SIEN0":
      case "SIEN1":
        (r as unknown as Record<RegName, number>)[d.name] = v; // an enable mask: the line may change
        this.updateIrq();
        return;
      case "DCNTL":
        r.DCNTL = v & ~DCNTL_STD;
        this.updateIrq(); // IRQD gates the pin
        if (v & DCNTL_STD && !this.inStep) this.startScripts("STD");
        return;
      case "STIME0":
        if (v & STIME0_HTH) this.ctx.log("unimp", "STIME0.HTH (handshake-to-handshake timer) not emulated");
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
        if (v & (STEST3_STR | STEST3_STW)) this.ctx.log("unimp", "STEST3 SCSI FIFO test modes not emulated");
        r.STEST3 = v & ~STEST3_CSF; // CSF self-clears
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

  /** Run the chip's events that were due by the CPU's local time, each at its own time,
   *  so a polling driver sees them (the CPU's run is atomic in event order). */
  private catchUp(): void {
    const now = this.sched.now;
    for (let n = 0; n < 1000; n++) {
      let first: DueTimer | undefined;
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
  // General purpose timer (STIME1.GEN)

  private armGen(): void {
    const ns = selectionTimeoutNs(this.r.STIME1);
    if (ns === 0) this.genTimer.cancel();
    else this.genTimer.arm(this.sched.now, this.sched.now + ns);
  }

  protected onGenTimer(): void {
    this.scsiEvent(0, SIST1_GEN);
  }

  // ---------------------------------------------------------------------------------
  // The interrupt line: one place computes it.

  protected updateIrq(): void {
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
