// LSI53C895 model, part 2 of 4: the chip's state, and its two buses. PCI: DMA reaches
// host RAM and the chip's own window (the SCRIPTS address its registers and SCRIPTS
// RAM at the chip's bus address, which Linux relies on), so one function (dma) moves
// bytes either way: RAM directly, registers byte by byte through the register file,
// the SCRIPTS RAM as memory. SCSI: the initiator
// end of one Ultra2 wide bus shared by the attached targets: arbitration and
// (re)selection, the phases a target drives (MSG OUT, COMMAND, DATA, STATUS, MSG IN)
// and the messages it understands, disconnect and reselection with tagged queueing,
// the selection timeout. The manual's chapter 2 "Functional Description" (SCSI core)
// [S7] and the SCSI-2 initiator flow (DEVICES-REF.md A); devices/scsi.ts is the
// contract with the targets. The SCRIPTS processor that drives this is
// lsi53c895-scripts.ts; registers and reset are lsi53c895.ts.
//
// The bus is one state machine: BUS_FREE, BUS_SEL (our selection of an absent ID, until
// the selection timeout), BUS_RESEL (a target reselecting us), BUS_CONN (a nexus is
// connected). One event (busTimer) carries what the bus does next; times come from
// LSI_TIMING (lsi53c895-data.ts).
//
// Interface (to the other parts of the model):
//   class LsiBus            abstract: every field of the chip, the bus engine
//   enterPhase, nextPhase, releaseAck, raiseAtn, targetMessages, busRelease, armBus,
//   tryArbitrate, dropBus, clearNexus, sbcl(), connectedAt(t)
//   dma(toBus, addr, buf, off, n), fetch32(addr), copy(src, dst, n), internal(addr)

import type { DeviceContext } from "../host/device.js";
import { DmaFault, type PhysMem } from "../host/memory.js";
import type { Scheduler } from "../host/sched.js";
import { SCSI_BASE } from "../common/platform.js";
import {
  LSI_WINDOW_BYTES, LSI_RAM_BYTES, LSI_RAM_OFF, LSI_REG_BYTES, SCID_ID, SSID_VAL, SCID_RRE, DCNTL_COM, SIST0_RSL,
  SIST1_STO, SBCL_BSY, SBCL_ATN, SBCL_ACK,
  SBCL_REQ, SSTAT1_PHASE, SSTAT2_LDSC, PH_MSG_OUT, PH_MSG_IN, PH_COMMAND, PH_DATA_IN, PH_DATA_OUT, PH_STATUS,
} from "../common/lsi-regs.js";
import {
  MSG_DEVICE_RESET, MSG_DISCONNECT, MSG_HEAD_TAG, MSG_IDENTIFY, MSG_NOP, MSG_ORDERED_TAG, MSG_REJECT,
  MSG_SAVE_DATA_POINTER, MSG_SIMPLE_TAG, MSG_ABORT, MSG_ABORT_TAG, MSG_CLEAR_QUEUE, MSG_EXTENDED,
  type Connection, type ScsiPort, type ScsiTarget, type ScsiTask,
} from "./scsi.js";
import {
  Regs, DueTimer, LSI_TIMING, PHASE_NAMES, hex, type LsiTiming, type LsiStats, type Lsi53c895Options,
  S_IDLE, S_RUN, S_WAIT_BUS, S_WAIT_RESEL, W_RETRY, BUS_FREE, BUS_RESEL, BUS_CONN,
  A_COMMAND, A_PLAN, A_DISCONNECT, EV_NONE, EV_STO, EV_RESEL_DONE, EV_COMMAND, EV_DATA_OUT,
} from "./lsi53c895-data.js";

/** Directions of a DMA (dma()): bytes to the bus address, or from it. */
export const TO_BUS = true;
export const FROM_BUS = false;

interface Reconnect {
  readonly id: number;
  readonly conn: Connection;
}

export abstract class LsiBus {
  readonly name: string;
  readonly size = LSI_WINDOW_BYTES;
  readonly timing: Readonly<LsiTiming>;
  readonly stats: LsiStats = {
    busBusyNs: 0, busDataNs: 0, dataInBytes: 0, dataOutBytes: 0, selections: 0, selectionTimeouts: 0, reselections: 0,
    commands: 0, disconnects: 0, completions: 0, instructions: 0, interrupts: 0, guardPauses: 0,
  };

  protected readonly sched: Scheduler;
  protected readonly mem: PhysMem;
  protected readonly trace: ((line: string) => void) | undefined;
  protected readonly base: number;
  /** Register file (see REGS). */
  protected readonly r = new Regs();
  /** SCRIPTS RAM (4 KiB). */
  protected readonly ram = new Uint8Array(LSI_RAM_BYTES);
  protected readonly ramDv = new DataView(this.ram.buffer);
  /** Targets by SCSI ID, and the port each one calls. */
  protected readonly targetById: (ScsiTarget | undefined)[] = new Array<ScsiTarget | undefined>(16).fill(undefined);
  protected readonly ports: ScsiPort[] = [];

  // SCRIPTS processor
  protected state = S_IDLE;
  /** The processor's clock: the time the current instruction takes effect. */
  protected t = 0;
  protected waitKind = W_RETRY;
  /** DSP of the instruction a wait or a sync will re-execute (STO reports it + 8). */
  protected waitPc = 0;
  /** Re-executing an instruction whose fetch was already paid for. */
  protected resync = false;
  protected yielded = false;
  /** Inside an instruction: a SCRIPTS write to DSP is a jump, not a start. */
  protected inStep = false;
  protected carry = false;
  /** Instructions since the SCRIPTS last waited on the bus (runaway guard). */
  protected sinceWait = 0;
  protected guardLogged = false;
  /** Interrupt bits due at `t` (S_HALTING). */
  protected pendDstat = 0;
  protected pendSist0 = 0;
  protected pendSist1 = 0;
  /** Block move waiting for a target's answer: residual count and address. */
  protected moveResid = 0;
  protected moveAddr = 0;
  protected movePhase = 0;
  protected irqLevel = false;

  // SCSI bus
  protected bus = BUS_FREE;
  /** BUS_FREE: free from this time. */
  protected busFreeAt = 0;
  /** Start of the current ownership (busy accounting). */
  protected busOwnedAt = 0;
  /** BUS_CONN: CON from this time. BUS_RESEL: reselection completes at reselDoneAt. */
  protected connAt = 0;
  protected reselDoneAt = 0;
  /** A reselection the SCRIPTS have not yet taken (by WAIT RESELECT or SELECT). */
  protected reselPending = false;
  protected phase = -1;
  /** REQ for the next byte of the current phase is asserted from this time. */
  protected reqAt = 0;
  protected ack = false;
  protected atn = false;
  protected busEvent = EV_NONE;
  /** Reconnection requests waiting for the bus. */
  protected readonly waiting: Reconnect[] = [];

  // The nexus on the bus
  protected nxId = -1;
  protected nxLun = 0;
  protected nxTag = -1;
  protected nxTask: ScsiTask | undefined;
  protected nxConn: Connection | undefined;
  /** Bytes of the connection's data phase moved so far. */
  protected nxDataOff = 0;
  protected nxStatusSent = false;
  /** Data moved during this connection (the target sends SAVE DATA POINTER). */
  protected nxMoved = false;
  protected readonly cdb = new Uint8Array(16);
  protected cdbLen = 0;
  protected cdbGot = 0;
  protected readonly msgOut = new Uint8Array(16);
  protected readonly msgIn = new Uint8Array(16);
  protected msgInLen = 0;
  protected msgInPos = 0;
  protected after = A_COMMAND;
  /** DATA OUT bytes gathered for the target (grown, reused). */
  protected outBuf = new Uint8Array(65536);
  /** DATA IN from a DataInSource bound for the chip's own RAM or registers. */
  protected inBuf = new Uint8Array(4096);
  /** Target ID inside our command()/dataOut() call, and its continuation. */
  protected inCall = -1;
  protected cont: Connection | undefined;
  /** Staging for memory moves that touch the chip's own window. */
  protected readonly stage = new Uint8Array(4096);

  /** The chip's events: the SCRIPTS' next batch or halt, a bus event, arbitration for a
   *  waiting reconnection, the general purpose timer. */
  protected readonly scriptTimer: DueTimer;
  protected readonly busTimer: DueTimer;
  protected readonly arbTimer: DueTimer;
  protected readonly genTimer: DueTimer;
  protected readonly timers: DueTimer[];

  constructor(protected readonly ctx: DeviceContext, targets: readonly ScsiTarget[], opts: Lsi53c895Options = {}) {
    this.name = opts.name ?? "lsi53c895";
    this.sched = ctx.sched;
    this.mem = ctx.mem;
    this.trace = ctx.trace;
    this.base = (opts.base ?? SCSI_BASE) >>> 0;
    this.timing = { ...LSI_TIMING, ...opts.timing };
    for (const tg of targets) {
      if (!(tg.id >= 0 && tg.id < 16)) throw new Error(`${this.name}: target ID ${tg.id} out of range`);
      if (this.targetById[tg.id]) throw new Error(`${this.name}: two targets with ID ${tg.id}`);
      this.targetById[tg.id] = tg;
    }
    for (let id = 0; id < 16; id++) this.ports.push({ connect: (c) => this.targetConnect(id, c) });
    const ev = this.name === "lsi53c895" ? "lsi" : this.name; // event names in traces
    this.scriptTimer = new DueTimer(this.sched, `${ev}.scripts`, () => this.onScriptTimer());
    this.busTimer = new DueTimer(this.sched, `${ev}.bus`, () => this.onBusTimer());
    this.arbTimer = new DueTimer(this.sched, `${ev}.arb`, () => this.tryArbitrate());
    this.genTimer = new DueTimer(this.sched, `${ev}.gen`, () => this.onGenTimer());
    this.timers = [this.scriptTimer, this.busTimer, this.arbTimer, this.genTimer];
  }

  // The other parts of the chip, which the bus calls on
  /** SCRIPTS (lsi53c895-scripts.ts): a bus event the SCRIPTS may wait for has come. */
  protected abstract wakeBus(): void;
  /** SCRIPTS: execute from DSP (after a reselection ended WAIT RESELECT). */
  protected abstract run(): void;
  /** SCRIPTS: a SCSI interrupt from the bus side; halts the SCRIPTS if fatal or enabled. */
  protected abstract scsiEvent(sist0: number, sist1: number): void;
  /** SCRIPTS: the script timer fired. */
  protected abstract onScriptTimer(): void;
  /** The chip (lsi53c895.ts): the general purpose timer fired. */
  protected abstract onGenTimer(): void;
  /** The chip: one register byte, with its side effects (DMA to the chip's own window). */
  protected abstract readByte(off: number): number;
  protected abstract writeByte(off: number, v: number): void;

  // ---------------------------------------------------------------------------------
  // Bus state seen from the registers

  /** Forget the bus and every nexus (reset, SCSI RST). */
  protected dropBus(): void {
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

  protected clearNexus(): void {
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

  /** SBCL: the bus lines as the chip sees them. */
  protected sbcl(): number {
    const now = this.sched.now;
    if (!this.connectedAt(now)) return 0;
    return SBCL_BSY | (this.atn ? SBCL_ATN : 0) | (this.ack ? SBCL_ACK : 0) | (now >= this.reqAt && !this.ack ? SBCL_REQ : 0) | (this.phase & SSTAT1_PHASE);
  }

  protected connectedAt(time: number): boolean {
    return this.bus === BUS_CONN && time >= this.connAt;
  }

  // ---------------------------------------------------------------------------------
  // DMA: host RAM, or the chip's own window (registers, SCRIPTS RAM)

  protected internal(addr: number): boolean {
    return addr >= this.base && addr < this.base + LSI_WINDOW_BYTES;
  }

  protected inWindowRegs(addr: number, n: number): boolean {
    return addr + n > this.base && addr < this.base + LSI_REG_BYTES;
  }

  protected fetch32(addr: number): number {
    if (this.internal(addr)) {
      const o = addr - this.base;
      if (o >= LSI_RAM_OFF && o + 4 <= LSI_RAM_OFF + LSI_RAM_BYTES) return this.ramDv.getUint32(o - LSI_RAM_OFF, true);
      this.dma(FROM_BUS, addr, this.stage, 0, 4);
      return (this.stage[0] | (this.stage[1] << 8) | (this.stage[2] << 16) | (this.stage[3] << 24)) >>> 0;
    }
    this.mem.dmaCheck(addr, 4, this.name);
    return this.mem.dv.getUint32(addr, true);
  }

  /** Move n bytes between bus address `addr` and buf[off..]: toBus = buf -> bus (DATA
   *  IN, STORE, MSG IN, status), else bus -> buf (fetches, DATA OUT, LOAD, CDB, MSG OUT).
   *  Host RAM is copied directly; the chip's own window as the chip sees it: register
   *  bytes through the register file (their side effects included), SCRIPTS RAM as
   *  memory. Throws DmaFault outside RAM and the window. */
  protected dma(toBus: boolean, addr: number, buf: Uint8Array, off: number, n: number): void {
    if (n === 0) return;
    if (!this.internal(addr) && !this.internal(addr + n - 1)) {
      this.ramDma(toBus, addr, buf, off, n);
      return;
    }
    for (let i = 0; i < n; ) {
      const a = addr + i;
      const o = a - this.base;
      if (!this.internal(a)) {
        const len = Math.min(n - i, this.base > a ? this.base - a : n - i);
        this.ramDma(toBus, a, buf, off + i, len);
        i += len;
      } else if (o >= LSI_RAM_OFF) {
        const len = Math.min(n - i, LSI_WINDOW_BYTES - o);
        if (toBus) this.ram.set(buf.subarray(off + i, off + i + len), o - LSI_RAM_OFF);
        else buf.set(this.ram.subarray(o - LSI_RAM_OFF, o - LSI_RAM_OFF + len), off + i);
        i += len;
      } else if (o < LSI_REG_BYTES) {
        if (toBus) this.writeByte(o, buf[off + i]);
        else buf[off + i] = this.readByte(o);
        i++;
      } else {
        throw new DmaFault(this.name, a, n - i);
      }
    }
  }

  /** The host-RAM half of dma(). */
  private ramDma(toBus: boolean, addr: number, buf: Uint8Array, off: number, n: number): void {
    this.mem.dmaCheck(addr, n, this.name);
    if (toBus) {
      this.mem.u8.set(buf.subarray(off, off + n), addr);
      // Disk data is data; status, message bytes and SCRIPTS stores are the driver's.
      this.ctx.dmaWritten?.(addr, n, (this.phase & SSTAT1_PHASE) !== PH_DATA_IN);
    } else buf.set(this.mem.u8.subarray(addr, addr + n), off);
  }

  /** Memory move: RAM to RAM directly; anything touching the window through staging. */
  protected copy(src: number, dst: number, n: number): void {
    const plain = !this.internal(src) && !this.internal(src + n - 1) && !this.internal(dst) && !this.internal(dst + n - 1);
    if (plain) {
      this.mem.dmaCheck(src, n, this.name);
      this.mem.dmaCheck(dst, n, this.name);
      this.mem.u8.copyWithin(dst, src, src + n);
      this.ctx.dmaWritten?.(dst, n, true); // SCRIPTS MOVE MEMORY: the driver's tables
      return;
    }
    for (let i = 0; i < n; i += this.stage.length) {
      const len = Math.min(this.stage.length, n - i);
      this.dma(FROM_BUS, src + i, this.stage, 0, len);
      this.dma(TO_BUS, dst + i, this.stage, 0, len);
    }
  }

  // ---------------------------------------------------------------------------------
  // The bus and phase engine (target side of the protocol, per devices/scsi.ts)

  protected enterPhase(ph: number, at: number): void {
    this.phase = ph;
    this.reqAt = at + this.timing.phaseChangeNs;
    this.r.SSTAT1 = (this.r.SSTAT1 & ~SSTAT1_PHASE) | ph;
    if (this.trace !== undefined) this.trace(`lsi: @${at} phase ${PHASE_NAMES[ph]} (REQ ${this.reqAt})`);
  }

  protected msgInSet(after: number, b0: number, b1 = -1, b2 = -1): void {
    this.msgIn[0] = b0;
    let n = 1;
    if (b1 >= 0) this.msgIn[n++] = b1;
    if (b2 >= 0) this.msgIn[n++] = b2;
    this.msgInLen = n;
    this.msgInPos = 0;
    this.after = after;
  }

  /** The connection's next phase: its data, then status; else the target disconnects. */
  protected nextPhase(at: number): void {
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
  protected releaseAck(at: number): void {
    this.ack = false;
    if (this.atn) return this.enterPhase(PH_MSG_OUT, at); // the target answers ATN
    if (this.msgInPos < this.msgInLen) {
      this.reqAt = at; // next byte of the same message phase
      return;
    }
    this.doAfter(at);
  }

  protected doAfter(at: number): void {
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

  protected raiseAtn(): void {
    this.atn = true;
    // Between phases the target answers ATN at its next REQ (after ACK release when a
    // MSG IN byte is held); in a data/command phase it switches at once.
    if (this.bus === BUS_CONN && !this.ack && this.phase !== PH_MSG_OUT && this.phase !== PH_MSG_IN) {
      this.ctx.log("unimp", `ATN raised in ${PHASE_NAMES[this.phase & SSTAT1_PHASE]}: the target goes to MSG OUT at once`);
      this.after = this.nxConn ? A_PLAN : A_COMMAND;
      this.msgInLen = this.msgInPos = 0;
      this.enterPhase(PH_MSG_OUT, this.t);
    }
  }

  /** The target interprets the bytes of a MSG OUT phase, then picks its next phase. */
  protected targetMessages(n: number, at: number): void {
    const m = this.msgOut;
    let reject = false;
    let i = 0;
    while (i < n) {
      const b = m[i++];
      if (b & MSG_IDENTIFY) {
        this.nxLun = b & 0x07; // IDENTIFY (bit 6: disconnect privilege, decided by the target)
      } else if (b === MSG_SIMPLE_TAG || b === MSG_HEAD_TAG || b === MSG_ORDERED_TAG) {
        if (b !== MSG_SIMPLE_TAG) this.ctx.log("unimp", `${b === MSG_HEAD_TAG ? "HEAD OF QUEUE" : "ORDERED"} tag treated as SIMPLE`);
        this.nxTag = i < n ? m[i++] : 0;
      } else if (b === MSG_EXTENDED) {
        // Extended message (SDTR, WDTR, PPR, ...): the targets do not negotiate.
        const len = i < n ? m[i] : 0;
        i += 1 + len;
        reject = true;
      } else if (b === MSG_NOP || b === MSG_REJECT) {
        // nothing: a reject of our last message is accepted silently
      } else if (b === MSG_ABORT || b === MSG_ABORT_TAG || b === MSG_CLEAR_QUEUE || b === MSG_DEVICE_RESET) {
        const tg = this.targetById[this.nxId];
        if (b === MSG_DEVICE_RESET || b === MSG_CLEAR_QUEUE) tg?.busReset();
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
  protected busRelease(at: number, complete: boolean): void {
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

  protected armBus(ev: number, at: number): void {
    this.busEvent = ev;
    this.busTimer.arm(this.sched.now, at);
  }

  protected onBusTimer(): void {
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

  protected selectionTimeout(): void {
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
  protected deliverCommand(): void {
    const tg = this.targetById[this.nxId]!;
    const task: ScsiTask = {
      initiatorId: this.r.SCID & SCID_ID,
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
  protected deliverDataOut(): void {
    const tg = this.targetById[this.nxId]!;
    const task = this.nxTask!;
    const len = this.nxConn!.dataOutLength!;
    const data = this.outBuf.subarray(0, len);
    const c = this.callTarget(() => tg.dataOut(task, data, this.ports[task.targetId]));
    this.continueOrDisconnect(c);
    this.wakeBus();
  }

  protected callTarget(call: () => void): Connection | undefined {
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

  protected continueOrDisconnect(c: Connection | undefined): void {
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
  protected targetConnect(id: number, c: Connection): void {
    if (this.inCall === id && this.cont === undefined && c.task === this.nxTask) {
      this.cont = c; // the connection continues
      return;
    }
    if (c.task.targetId !== id) throw new Error(`${this.name}: target ${id} connects for a task of target ${c.task.targetId}`);
    this.waiting.push({ id, conn: c });
    if (this.trace !== undefined) this.trace(`lsi: @${this.sched.now} target ${id} wants to reconnect (tag ${c.task.tag})`);
    this.tryArbitrate();
  }

  /** Give the free bus to the highest waiting SCSI ID (first come among equals). */
  protected tryArbitrate(): void {
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

  protected reselectionDone(): void {
    const r = this.r;
    const now = this.sched.now;
    const id = this.nxId;
    this.bus = BUS_CONN;
    this.connAt = now;
    this.stats.reselections++;
    r.SSID = SSID_VAL | id;
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
}
