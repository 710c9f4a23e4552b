// LSI53C895 model, part 3 of 4: the SCRIPTS processor. The manual's
// chapter 6 "SCRIPTS Instruction Set" [S7] (encodings: common/lsi-regs.ts): block
// moves (MOVE/CHMOV, direct, indirect, table indirect), I/O (SELECT [ATN] with the
// reselection alternate jump, table-indirect SELECT, WAIT DISCONNECT, WAIT RESELECT with
// the SIGP alternate jump, SET/CLEAR ATN ACK carry), register read-modify-write
// (classes 5/6/7), transfer control (JUMP CALL RETURN INT INTFLY, relative,
// phase/data/carry tests, WHEN/IF), memory move, LOAD/STORE (absolute and DSA
// relative), single step, the phase-mismatch jump (CCNTL0.ENPMJ, PMJAD1/2). Illegal
// instructions set DSTAT.IID, DMA outside RAM DSTAT.BF. Interrupts halt the SCRIPTS as
// the manual says (all DMA interrupts, and the fatal SCSI ones; CMP/SEL/RSL/GEN/HTH only
// when enabled; INTFLY never).
//
// Time. The SCRIPTS run in a loop (run), each instruction advancing the processor's own
// clock `t` by its fetch/execute and DMA costs; the loop stops only when the SCRIPTS
// must wait for the bus or for something another party can change (syncAt), and then
// one event is scheduled. Interrupts are raised at the processor's clock, not earlier.
//
// Interface (to the other parts of the model):
//   class LsiScripts      abstract, extends LsiBus (lsi53c895-bus.ts)
//   startScripts(how), abortScripts(), run(), wakeBus(), scsiEvent(sist0, sist1)
//   readByte/writeByte/updateIrq     abstract: the register file (lsi53c895.ts)
// DMA (host RAM and the chip's own window) is in lsi53c895-bus.ts.

import { DmaFault } from "../host/memory.js";
import {
  LSI_REG_BYTES, DSTAT_BF, DSTAT_IID, DSTAT_SIR, DSTAT_SSI, DSTAT_ABRT, ISTAT_INTF, ISTAT_SIGP, SIST0_MA, SIST0_UDC,
  SBCL_ATN, DCNTL_SSM, CTEST5_BL2, CCNTL0_ENPMJ, CCNTL0_PMJCTL, SCNTL2_WSR, SSTAT0_WOA, SCID_ID, PH_DATA_IN,
  PH_DATA_OUT, PH_COMMAND, PH_STATUS, PH_MSG_OUT, PH_MSG_IN, SCR_PHASE_SHIFT, SCR_OP_SHIFT, BM_INDIRECT, BM_TABLE,
  IO_RELATIVE, IO_TABLE, IO_SEL_ATN, IO_ID_SHIFT, IO_CARRY, IO_TARGET, IO_ACK, IO_ATN, RW_OP_SHIFT, RW_SFBR_DATA,
  RW_REG_SHIFT, RW_DATA_SHIFT, TC_RELATIVE, TC_CARRY, TC_INTFLY, TC_TRUE, TC_DATA, TC_PHASE, TC_WAIT, TC_MASK_SHIFT,
  MM_LOADSTORE, LS_DSA_REL, LS_LOAD, LS_REG_SHIFT,
} from "../common/lsi-regs.js";
import { MSG_COMMAND_COMPLETE } from "./scsi.js";
import { LsiBus, TO_BUS, FROM_BUS } from "./lsi53c895-bus.js";
import {
  SYNC_REG, SIST0_FATAL, SIST1_FATAL, PHASE_NAMES, sext24, hex, cdbLength, selectionTimeoutNs,
  S_IDLE, S_RUN, S_WAIT_BUS, S_WAIT_RESEL, S_HALTING, W_RETRY, W_MOVE_END, W_FOREVER, BUS_FREE, BUS_SEL, BUS_RESEL,
  BUS_CONN, A_COMMAND, A_COMPLETE, A_DISCONNECT, EV_STO, EV_COMMAND, EV_DATA_OUT,
} from "./lsi53c895-data.js";

export abstract class LsiScripts extends LsiBus {
  /** The interrupt line, computed in one place (lsi53c895.ts). */
  protected abstract updateIrq(): void;

  // ---------------------------------------------------------------------------------
  // The processor: the batch loop, waits, halts

  protected startScripts(how: string): void {
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

  protected abortScripts(): void {
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

  protected onScriptTimer(): void {
    if (this.state === S_HALTING) this.applyHalt();
    else if (this.state === S_RUN) this.run();
  }

  /** The batch loop: execute until the SCRIPTS wait, halt or need to meet the clock. */
  protected run(): void {
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
  protected step(pc: number): void {
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
        if (((d0 >>> SCR_OP_SHIFT) & 7) >= 5) this.registerOp(d0, pc);
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
  protected syncAt(pc: number): boolean {
    if (this.t <= this.sched.now) return false;
    this.r.DSP = pc;
    this.resync = true;
    this.yielded = true;
    this.scriptTimer.arm(this.sched.now, this.t);
    return true;
  }

  /** Block until a bus event; `kind` says what happens then. */
  protected waitBus(kind: number, pc: number): void {
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
  protected wakeBus(): void {
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
  protected raise(dstat: number, sist0: number, sist1: number): void {
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

  protected applyHalt(): void {
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
  protected scsiEvent(sist0: number, sist1: number): void {
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

  protected insnNs(pc: number, dwords: number): number {
    const T = this.timing;
    const fetch = this.internal(pc) ? T.fetchRamClocks : T.fetchHostClocks;
    return (fetch + (dwords - 2) + T.executeClocks) * T.pciClockNs;
  }

  /** DMA time of an n-byte SCRIPTS transfer (table entry, LOAD/STORE, memory move). */
  protected xferNs(addr: number, n: number, write: boolean): number {
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

  protected blockMove(d0: number, d1: number, pc: number): void {
    const r = this.r;
    const phase = (d0 >>> SCR_PHASE_SHIFT) & 7;
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
  protected busReady(pc: number): boolean {
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

  protected udc(pc: number): void {
    this.ctx.log("guest-error", `bus instruction at ${hex(pc)} with no target connected (unexpected disconnect)`);
    this.raise(0, SIST0_UDC, 0);
  }

  protected phaseMismatch(resid: number, addr: number, movePhase: number): void {
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

  protected moveDataIn(count: number, addr: number): void {
    const c = this.nxConn!;
    const src = c.dataIn!;
    const k = Math.min(count, src.length - this.nxDataOff);
    if (src instanceof Uint8Array) this.dma(TO_BUS, addr, src, this.nxDataOff, k);
    else if (k > 0 && !this.internal(addr) && !this.internal(addr + k - 1)) {
      this.mem.dmaCheck(addr, k, this.name);
      src.copyTo(this.nxDataOff, k, this.mem.u8, addr); // from the target's store into RAM
      this.ctx.dmaWritten?.(addr, k, false); // disk data: cold for the CPUs
    } else if (k > 0) {
      if (this.inBuf.length < k) this.inBuf = new Uint8Array(Math.max(k, this.inBuf.length * 2));
      src.copyTo(this.nxDataOff, k, this.inBuf, 0);
      this.dma(TO_BUS, addr, this.inBuf, 0, k);
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

  protected moveDataOut(count: number, addr: number, pc: number): void {
    const c = this.nxConn!;
    const len = c.dataOutLength!;
    const k = Math.min(count, len - this.nxDataOff);
    if (this.outBuf.length < len) this.outBuf = new Uint8Array(Math.max(len, this.outBuf.length * 2));
    this.dma(FROM_BUS, addr, this.outBuf, this.nxDataOff, k);
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

  protected moveCommand(count: number, addr: number, pc: number): void {
    const r = this.r;
    if (this.cdbGot === 0) {
      this.dma(FROM_BUS, addr, this.cdb, 0, 1);
      this.cdbLen = cdbLength(this.cdb[0]);
      r.SFBR = this.cdb[0];
    }
    const k = Math.min(count, this.cdbLen - this.cdbGot);
    this.dma(FROM_BUS, addr, this.cdb, this.cdbGot, k);
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

  protected moveStatus(count: number, addr: number): void {
    const r = this.r;
    const st = (this.nxConn?.status ?? 0) & 0xff;
    this.stage[0] = st;
    this.dma(TO_BUS, addr, this.stage, 0, 1);
    r.SFBR = st;
    this.nxStatusSent = true;
    this.t += this.timing.asyncByteNs;
    r.DBC = count - 1;
    r.DNAD = (addr + 1) >>> 0;
    this.msgInSet(A_COMPLETE, MSG_COMMAND_COMPLETE);
    this.enterPhase(PH_MSG_IN, this.t);
    if (count > 1) this.phaseMismatch(count - 1, addr + 1, PH_STATUS);
  }

  protected moveMsgIn(count: number, addr: number): void {
    const r = this.r;
    const k = Math.min(count, this.msgInLen - this.msgInPos);
    this.dma(TO_BUS, addr, this.msgIn, this.msgInPos, k);
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

  protected moveMsgOut(count: number, addr: number): void {
    // All bytes of the move are message bytes; the chip drops ATN on the last one.
    const n = Math.min(count, this.msgOut.length);
    this.dma(FROM_BUS, addr, this.msgOut, 0, n);
    this.r.SFBR = this.msgOut[0];
    this.t += count * this.timing.asyncByteNs;
    this.r.DBC = 0;
    this.r.DNAD = (addr + count) >>> 0;
    this.atn = false;
    if (count > n) this.ctx.log("guest-error", `${count}-byte MSG OUT, only ${n} bytes interpreted`);
    this.targetMessages(n, this.t);
  }

  // --- I/O instructions --------------------------------------------------------------

  protected ioInsn(d0: number, d1: number, pc: number): void {
    const r = this.r;
    const op = (d0 >>> SCR_OP_SHIFT) & 7;
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

  protected select(d0: number, alt: number, pc: number): void {
    const r = this.r;
    if (this.syncAt(pc)) return; // arbitration is decided at the bus's time
    let id = (d0 >>> IO_ID_SHIFT) & SCID_ID;
    if (d0 & IO_TABLE) {
      const v = this.fetch32((r.DSA + sext24(d0 & 0xffffff)) >>> 0);
      id = (v >>> 16) & SCID_ID; // the table entry: SCNTL3 << 24 | ID << 16 | SXFER << 8
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
    const own = r.SCID & SCID_ID;
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

  protected waitDisconnect(pc: number): void {
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

  protected waitReselect(alt: number, pc: number): void {
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

  protected registerOp(d0: number, pc: number): void {
    const r = this.r;
    const cls = (d0 >>> SCR_OP_SHIFT) & 7;
    const reg = ((d0 >>> RW_REG_SHIFT) & 0x7f) | (d0 & 0x80);
    const op = (d0 >>> RW_OP_SHIFT) & 7;
    const imm = (d0 >>> RW_DATA_SHIFT) & 0xff;
    if (SYNC_REG[reg] && this.syncAt(pc)) return; // the CPU or the bus changes this one
    let a = 0;
    let b = imm;
    if (cls === 5) a = r.SFBR;
    else if (op !== 0) a = this.readByte(reg);
    if (cls === 7 && d0 & RW_SFBR_DATA) b = r.SFBR;
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

  protected transfer(d0: number, d1: number, pc: number): void {
    const r = this.r;
    const op = (d0 >>> SCR_OP_SHIFT) & 7;
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
        cond = this.phase === ((d0 >>> SCR_PHASE_SHIFT) & 7);
      }
    }
    if (cond === jmp && d0 & TC_DATA) {
      const mask = ~(d0 >>> TC_MASK_SHIFT) & 0xff;
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

  protected memoryMove(d0: number, src: number, dst: number, pc: number): void {
    const n = d0 & 0xffffff;
    if (n === 0) return;
    if ((this.inWindowRegs(src, n) || this.inWindowRegs(dst, n)) && this.syncAt(pc)) return;
    this.copy(src, dst, n);
    this.t += this.xferNs(src, n, false) + this.xferNs(dst, n, true);
    if (this.trace !== undefined) this.trace(`lsi: @${this.t} memory move ${n} bytes ${hex(src)} -> ${hex(dst)}`);
  }

  protected loadStore(d0: number, d1: number, pc: number): void {
    const r = this.r;
    const n = d0 & 7;
    const reg = (d0 >>> LS_REG_SHIFT) & 0xff;
    if (n === 0 || n > 4 || reg + n > LSI_REG_BYTES) {
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
      this.dma(FROM_BUS, addr, buf, 0, n);
      for (let i = 0; i < n; i++) this.writeByte(reg + i, buf[i]);
    } else {
      for (let i = 0; i < n; i++) buf[i] = this.readByte(reg + i);
      this.dma(TO_BUS, addr, buf, 0, n);
    }
    this.t += this.xferNs(addr, n, !(d0 & LS_LOAD));
  }
}
