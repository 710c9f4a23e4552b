// LSI53C895 device tests. As QEMU's lsi53c895a tests do: raw register sequences and
// small SCRIPTS programs for each mechanism (reset values, read-clear, the Linux attach
// checks, every SCRIPTS class, phase mismatch, STO, IID, BF, the loop guard), then the
// reference initiator script (test/scripts-asm.ts) driven by a driver written here the
// way a real one works, against fake in-memory targets that answer at once or
// disconnect and reselect later. Board stand-in: Scheduler, 16 MiB PhysMem, an IrqLine
// that records levels (and runs the driver's ISR as an event), Rng(1).

import { RecordingIrq } from "./recording-irq.js";
import { describe, expect, it } from "vitest";
import type { DeviceContext, LogKind } from "../host/device.js";
import { PhysMem } from "../host/memory.js";
import { Rng } from "../host/rng.js";
import { Scheduler } from "../host/sched.js";
import { SCSI_BASE, SCSI_RAM_BASE } from "../common/platform.js";
import {
  type Connection, type ScsiPort, type ScsiTarget, type ScsiTask,
  OP_INQUIRY, OP_READ_10, OP_TEST_UNIT_READY, OP_WRITE_10, STATUS_CHECK_CONDITION, STATUS_GOOD,
} from "../devices/scsi.js";
import { Lsi53c895, type Lsi53c895Options, LSI_TIMING, R, REGS, selectionTimeoutNs, cdbLength } from "../devices/lsi53c895.js";
import {
  DCNTL_COM, DCNTL_SSM, DCNTL_STD, DCNTL_IRQD, DMODE_MAN, DSTAT_ABRT, DSTAT_BF, DSTAT_DFE, DSTAT_IID, DSTAT_SIR, DSTAT_SSI,
  ISTAT_ABRT, ISTAT_CON, ISTAT_DIP, ISTAT_INTF, ISTAT_SIGP, ISTAT_SIP, ISTAT_SRST, SCID_RRE, SCNTL1_RST,
  SIST0_MA, SIST0_RST, SIST0_SGE, SIST0_UDC, SIST0_PAR, SIST1_GEN, SIST1_STO, SIST1_HTH, SIST1_SBMC,
  DSTAT_MDPE, PH_STATUS,
} from "../common/lsi-regs.js";
import * as A from "./scripts-asm.js";

const RAM = 16 << 20;
const T = LSI_TIMING;
const CLK = T.pciClockNs;
const INSN_RAM = (T.fetchRamClocks + T.executeClocks) * CLK; // 120 ns
const INSN_HOST = (T.fetchHostClocks + T.executeClocks) * CLK; // 420 ns
const dataNs = (bytes: number): number => Math.ceil((bytes * T.dataPsPerByte) / 1000);
/** Byte ranges equal (vitest's deep equality is slow on MiB-sized typed arrays). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;

// ---------------------------------------------------------------------------------
// Board stand-in


/** `targets` may be a function of the bench's scheduler (targets that schedule events). */
function bench(targets: ScsiTarget[] | ((s: Scheduler) => ScsiTarget[]) = [], opts: Lsi53c895Options = {}, trace?: string[]) {
  const sched = new Scheduler();
  const mem = new PhysMem(RAM);
  const irq = new RecordingIrq(sched);
  const logs: [LogKind, string][] = [];
  const ctx: DeviceContext = {
    sched, mem, irq, rng: new Rng(1), log: (k, m) => logs.push([k, m]),
    trace: trace ? (l) => trace.push(l) : undefined,
  };
  const dev = new Lsi53c895(ctx, typeof targets === "function" ? targets(sched) : targets, opts);
  return { sched, mem, irq, logs, dev };
}
type Bench = ReturnType<typeof bench>;

const rd = (b: Bench, off: number, w: 1 | 2 | 4 = 1): number => b.dev.read(off, w);
const wr = (b: Bench, off: number, w: 1 | 2 | 4, v: number): void => b.dev.write(off, w, v);

/** Run events until pred() holds or nothing is due before limitNs. */
function runUntil(sched: Scheduler, pred: () => boolean, limitNs = 2e9): boolean {
  while (!pred()) {
    const t = sched.nextTime;
    if (t === Infinity || t > limitNs) return false;
    sched.runUntil(t);
  }
  return true;
}

/** Load SCRIPTS words into the chip's SCRIPTS RAM through the register window. */
function loadRam(b: Bench, words: ArrayLike<number>, at = 0): void {
  for (let i = 0; i < words.length; i++) wr(b, 0x1000 + at + 4 * i, 4, words[i]);
}
function loadHost(b: Bench, words: ArrayLike<number>, addr: number): void {
  for (let i = 0; i < words.length; i++) b.mem.dv.setUint32(addr + 4 * i, words[i], true);
}
/** Assemble a straight-line program at `base`, load it there, start it, run until the
 *  SCRIPTS halt (interrupt) or `limitNs`. */
function runProgram(b: Bench, base: number, body: (a: A.Asm, L: (n: string) => number) => void, limitNs = 2e9): A.Assembled {
  const p = A.assemble(base, body);
  if (base >= SCSI_RAM_BASE && base < SCSI_RAM_BASE + 0x1000) loadRam(b, p.words, base - SCSI_RAM_BASE);
  else loadHost(b, p.words, base);
  wr(b, R.DSP, 4, base);
  runUntil(b.sched, () => (rd(b, R.ISTAT1) & 0x02) === 0 && b.sched.pending === 0, limitNs);
  return p;
}
const halted = (b: Bench): boolean => (b.dev.read(R.ISTAT1, 1) & 0x02) === 0;

// ---------------------------------------------------------------------------------
// Fake targets: an in-memory disk of 512-byte blocks.

interface FakeDiskOptions {
  /** "now": answer inside command(); "later": disconnect, reconnect after delayNs. */
  mode?: "now" | "later";
  delayNs?: (task: ScsiTask, nth: number) => number;
  /** Reconnect with at most this many DATA IN bytes per connection. */
  chunkBytes?: number;
  /** Status of a WRITE in a separate reconnection after DATA OUT (else at once). */
  writeStatusLater?: boolean;
  /** DATA IN pacing: the phase cannot end before start + bytes * this (media rate). */
  paceNsPerByte?: number;
  blocks?: number;
}

class FakeDisk implements ScsiTarget {
  readonly image: Uint8Array;
  readonly seen: { op: number; tag: number; time: number }[] = [];
  resets = 0;
  private gen = 0;
  private nth = 0;
  private readonly due = new Map<number, () => void>();
  private nextKey = 0;
  private readonly h;
  constructor(private readonly sched: Scheduler, readonly id: number, private readonly o: FakeDiskOptions = {}) {
    const n = o.blocks ?? 4096;
    this.image = new Uint8Array(n * 512);
    for (let i = 0; i < this.image.length; i++) this.image[i] = (i * 7 + id * 31 + (i >>> 9)) & 0xff;
    this.h = sched.handler(`disk${id}`, (k) => {
      const f = this.due.get(k);
      this.due.delete(k);
      f?.();
    });
  }
  private later(ns: number, f: () => void): void {
    const g = this.gen;
    const k = this.nextKey++;
    this.due.set(k, () => {
      if (g === this.gen) f();
    });
    this.sched.after(ns, this.h, k);
  }
  command(task: ScsiTask, port: ScsiPort): void {
    const c = task.cdb;
    const nth = this.nth++;
    this.seen.push({ op: c[0], tag: task.tag, time: this.sched.now });
    const delay = this.o.delayNs ? this.o.delayNs(task, nth) : 50_000;
    const later = this.o.mode === "later";
    switch (c[0]) {
      case OP_TEST_UNIT_READY:
        port.connect({ task, status: STATUS_GOOD });
        return;
      case OP_INQUIRY: {
        const inq = new Uint8Array(36);
        inq[0] = 0x00; // direct access
        inq[2] = 0x02; // SCSI-2
        inq[3] = 0x02;
        inq[4] = 31;
        inq[7] = 0x02; // CmdQue
        inq.set(new TextEncoder().encode("FAKE    DISK            0001"), 8);
        port.connect({ task, dataIn: inq.subarray(0, Math.min(36, c[4])), status: STATUS_GOOD });
        return;
      }
      case OP_READ_10: {
        const lba = ((c[2] << 24) | (c[3] << 16) | (c[4] << 8) | c[5]) >>> 0;
        const n = (c[7] << 8) | c[8];
        const bytes = this.image.slice(lba * 512, (lba + n) * 512);
        if (!later) {
          port.connect({ task, dataIn: bytes, status: STATUS_GOOD, ...this.pace(bytes.length) });
          return;
        }
        const chunk = this.o.chunkBytes ?? bytes.length;
        this.later(delay, () => {
          for (let off = 0; off < bytes.length; off += chunk) {
            const last = off + chunk >= bytes.length;
            const part = bytes.subarray(off, Math.min(bytes.length, off + chunk));
            port.connect(last ? { task, dataIn: part, status: STATUS_GOOD } : { task, dataIn: part });
          }
        });
        return;
      }
      case OP_WRITE_10: {
        const n = (c[7] << 8) | c[8];
        if (!later) port.connect({ task, dataOutLength: n * 512 });
        else this.later(delay, () => port.connect({ task, dataOutLength: n * 512 }));
        return;
      }
      default:
        port.connect({ task, status: STATUS_CHECK_CONDITION });
    }
  }
  dataOut(task: ScsiTask, data: Uint8Array, port: ScsiPort): void {
    const c = task.cdb;
    const lba = ((c[2] << 24) | (c[3] << 16) | (c[4] << 8) | c[5]) >>> 0;
    this.image.set(data, lba * 512);
    if (this.o.writeStatusLater) this.later(20_000, () => port.connect({ task, status: STATUS_GOOD }));
    else port.connect({ task, status: STATUS_GOOD });
  }
  busReset(): void {
    this.resets++;
    this.gen++;
  }
  private pace(bytes: number): Partial<Connection> {
    return this.o.paceNsPerByte ? { paceEndNs: this.sched.now + Math.ceil(bytes * this.o.paceNsPerByte) } : {};
  }
}

const read10 = (lba: number, blocks: number): number[] => [OP_READ_10, 0, lba >>> 24, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, blocks >>> 8, blocks & 0xff, 0];
const write10 = (lba: number, blocks: number): number[] => [OP_WRITE_10, 0, lba >>> 24, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, blocks >>> 8, blocks & 0xff, 0];

// ---------------------------------------------------------------------------------
// The reference driver: what a real driver does with the reference script.

const HCB = 0x10000;
const TCBS = 0x11000; // + id * TCB_SIZE
const CCBS = 0x20000; // + slot * CCB_STRIDE
const CCB_STRIDE = 0x200;
const SIEN0_VAL = SIST0_MA | SIST0_SGE | SIST0_UDC | SIST0_RST | SIST0_PAR;
const SIEN1_VAL = SIST1_STO | SIST1_HTH | SIST1_SBMC;
const DIEN_VAL = DSTAT_MDPE | DSTAT_BF | DSTAT_SIR | DSTAT_IID | DSTAT_ABRT;
const ISR_LATENCY_NS = 2000;

interface Cmd {
  target: number;
  cdb: number[];
  dir: "in" | "out" | "none";
  segs: [number, number][];
}
interface Done {
  n: number;
  target: number;
  tag: number;
  status: number;
  hstat: string;
  resid: number;
  time: number;
}

class RefDriver {
  readonly script: A.Assembled;
  readonly done: Done[] = [];
  readonly errors: string[] = [];
  readonly mismatches: number[] = [];
  private sqPut = 0;
  private dqGet = 0;
  private slotUsed: boolean[] = [];
  private slotCmd: { n: number; target: number; tag: number; cmd: Cmd; resid: number }[] = [];
  private tagsUsed: boolean[][] = [];
  private submitted = 0;
  private isrQueued = false;
  private readonly isrH;

  constructor(private readonly b: Bench, readonly maxSg = 16, readonly scriptInRam = true) {
    const base = scriptInRam ? SCSI_RAM_BASE : 0x40000;
    this.script = A.referenceScript({ scriptBase: base, hcb: HCB, maxSg });
    this.isrH = b.sched.handler("isr", () => {
      this.isrQueued = false;
      this.isr();
      if (b.irq.level) this.queueIsr();
    });
    b.irq.onRise = () => this.queueIsr();
  }

  private queueIsr(): void {
    if (this.isrQueued) return;
    this.isrQueued = true;
    this.b.sched.after(ISR_LATENCY_NS, this.isrH);
  }

  /** Linux-style bring-up, then the script in RAM and the SCRIPTS started at `start`. */
  init(): void {
    const b = this.b;
    wr(b, R.ISTAT, 1, ISTAT_SRST);
    wr(b, R.ISTAT, 1, 0);
    wr(b, R.SCNTL0, 1, 0xca); // full arbitration, EPC, AAP
    wr(b, R.SCNTL1, 1, 0);
    wr(b, R.SCNTL3, 1, 0x03);
    wr(b, R.SCID, 1, SCID_RRE | 7);
    wr(b, R.RESPID0, 2, 1 << 7);
    wr(b, R.DMODE, 1, 0xc0); // burst 16
    wr(b, R.CTEST4, 1, 0);
    wr(b, R.DCNTL, 1, DCNTL_COM);
    wr(b, R.STIME0, 1, 0x0c); // STO 256 ms
    wr(b, R.SIEN0, 2, SIEN0_VAL | (SIEN1_VAL << 8));
    wr(b, R.DIEN, 1, DIEN_VAL);
    // host structures
    const m = b.mem.dv;
    for (let i = 0; i < A.HCB_SIZE; i += 4) m.setUint32(HCB + i, 0, true);
    m.setUint32(HCB + A.HCB_IDLECCB + A.CCB_START, this.script.at("idle"), true);
    for (let i = 0; i < A.SQ_SLOTS; i++) {
      m.setUint32(HCB + A.HCB_STARTQ + 8 * i, HCB + A.HCB_IDLECCB, true);
      m.setUint32(HCB + A.HCB_STARTQ + 8 * i + 4, HCB + A.HCB_STARTQ + 8 * ((i + 1) % A.SQ_SLOTS), true);
    }
    for (let i = 0; i < A.DQ_SLOTS; i++) {
      m.setUint32(HCB + A.HCB_DONEQ + 8 * i, 0, true);
      m.setUint32(HCB + A.HCB_DONEQ + 8 * i + 4, HCB + A.HCB_DONEQ + 8 * ((i + 1) % A.DQ_SLOTS), true);
    }
    m.setUint32(HCB + A.HCB_STARTPOS, HCB + A.HCB_STARTQ, true);
    m.setUint32(HCB + A.HCB_DONEPOS, HCB + A.HCB_DONEQ, true);
    for (let id = 0; id < 16; id++) {
      m.setUint32(HCB + A.HCB_TARGTBL + 4 * id, TCBS + id * A.TCB_SIZE, true);
      this.tagsUsed.push(new Array<boolean>(A.MAX_TAGS).fill(false));
    }
    if (this.scriptInRam) loadRam(b, this.script.words);
    else loadHost(b, this.script.words, this.script.at("start"));
    wr(b, R.DSP, 4, this.script.at("start"));
  }

  /** Build a CCB, put it in the start queue, SIGP. Returns the command number. */
  submit(cmd: Cmd): number {
    const b = this.b;
    const m = b.mem.dv;
    let slot = this.slotUsed.indexOf(false);
    if (slot < 0) slot = this.slotUsed.length;
    this.slotUsed[slot] = true;
    const tag = this.tagsUsed[cmd.target].indexOf(false);
    if (tag < 0) throw new Error("no free tag");
    this.tagsUsed[cmd.target][tag] = true;
    const ccb = CCBS + slot * CCB_STRIDE;
    const n = this.submitted++;
    this.slotCmd[slot] = { n, target: cmd.target, tag, cmd, resid: 0 };
    m.setUint32(ccb + A.CCB_START, this.script.at("select_job"), true);
    m.setUint32(ccb + A.CCB_SELECT, cmd.target << 16, true);
    m.setUint32(ccb + A.CCB_MSGOUT, 3, true);
    m.setUint32(ccb + A.CCB_MSGOUT + 4, ccb + A.CCB_MSGBUF, true);
    b.mem.u8.set([0xc0, 0x20, tag], ccb + A.CCB_MSGBUF); // IDENTIFY (disconnect ok, LUN 0), SIMPLE TAG
    m.setUint32(ccb + A.CCB_CMD, cmd.cdb.length, true);
    m.setUint32(ccb + A.CCB_CMD + 4, ccb + A.CCB_CDB, true);
    b.mem.u8.set(cmd.cdb, ccb + A.CCB_CDB);
    m.setUint32(ccb + A.CCB_STATUS, 1, true);
    m.setUint32(ccb + A.CCB_STATUS + 4, ccb + A.CCB_STATBUF, true);
    b.mem.u8[ccb + A.CCB_STATBUF] = 0xff;
    b.mem.u8[ccb + A.CCB_HSTAT] = 0;
    const first = this.maxSg - cmd.segs.length;
    cmd.segs.forEach(([addr, len], i) => {
      m.setUint32(ccb + A.CCB_SG + 8 * (first + i), len, true);
      m.setUint32(ccb + A.CCB_SG + 8 * (first + i) + 4, addr, true);
    });
    const savep = cmd.dir === "in" ? this.script.at("data_in") + 8 * first : cmd.dir === "out" ? this.script.at("data_out") + 8 * first : this.script.at("data_in_end");
    m.setUint32(ccb + A.CCB_SAVEP, savep, true);
    m.setUint32(TCBS + cmd.target * A.TCB_SIZE + 4 * tag, ccb, true);
    // Start queue: the entry after ours becomes idle first, then ours is published.
    const sq = (i: number): number => HCB + A.HCB_STARTQ + 8 * (i % A.SQ_SLOTS);
    m.setUint32(sq(this.sqPut + 1), HCB + A.HCB_IDLECCB, true);
    m.setUint32(sq(this.sqPut), ccb, true);
    this.sqPut = (this.sqPut + 1) % A.SQ_SLOTS;
    wr(b, R.ISTAT, 1, ISTAT_SIGP);
    return n;
  }

  private finish(ccb: number, hstat: string): void {
    const slot = (ccb - CCBS) / CCB_STRIDE;
    const s = this.slotCmd[slot];
    const u8 = this.b.mem.u8;
    this.done.push({ n: s.n, target: s.target, tag: s.tag, status: u8[ccb + A.CCB_STATBUF], hstat, resid: s.resid, time: this.b.sched.now });
    this.tagsUsed[s.target][s.tag] = false;
    this.slotUsed[slot] = false;
  }

  /** The interrupt handler (Linux sym_interrupt's order). */
  isr(): void {
    const b = this.b;
    for (;;) {
      const istat = rd(b, R.ISTAT);
      if (istat & ISTAT_INTF) {
        wr(b, R.ISTAT, 1, (istat & ISTAT_SIGP) | ISTAT_INTF);
        this.drainDone();
      }
      if (!(istat & (ISTAT_SIP | ISTAT_DIP))) return;
      const sist = istat & ISTAT_SIP ? rd(b, R.SIST0, 2) : 0;
      const dstat = istat & ISTAT_DIP ? rd(b, R.DSTAT) : 0;
      this.handle(sist, dstat);
    }
  }

  private drainDone(): void {
    const m = this.b.mem.dv;
    for (;;) {
      const slot = HCB + A.HCB_DONEQ + 8 * this.dqGet;
      const ccb = m.getUint32(slot, true);
      if (ccb === 0) return;
      m.setUint32(slot, 0, true);
      this.dqGet = (this.dqGet + 1) % A.DQ_SLOTS;
      this.finish(ccb, "ok");
    }
  }

  private resume(at: string): void {
    wr(this.b, R.DSP, 4, this.script.at(at));
  }

  private handle(sist: number, dstat: number): void {
    const b = this.b;
    const dsp = rd(b, R.DSP, 4);
    const dsa = rd(b, R.DSA, 4);
    if (sist & (SIST1_STO << 8)) {
      // The job was taken off the start queue; the target is not there.
      this.finish(dsa, "selection timeout");
      return this.resume("start");
    }
    if (sist & SIST0_MA) return this.phaseMismatch(dsp, dsa);
    if (dstat & DSTAT_SIR) {
      this.errors.push(`SIR ${rd(b, R.DSPS, 4)} at ${dsp.toString(16)}`);
      return;
    }
    if (sist || dstat & ~DSTAT_DFE) this.errors.push(`fatal sist ${sist.toString(16)} dstat ${dstat.toString(16)} at ${dsp.toString(16)}`);
  }

  /** SIST0.MA inside a data list: continue the cut entry from CCB.PM (sym_int_ma). */
  private phaseMismatch(dsp: number, dsa: number): void {
    const b = this.b;
    const m = b.mem.dv;
    const insn = dsp - 8;
    const rest = rd(b, R.DBC, 4) & 0xffffff;
    const addr = rd(b, R.DNAD, 4);
    const phase = rd(b, R.SSTAT1) & 7;
    const slot = (dsa - CCBS) / CCB_STRIDE;
    const L = (n: string): number => this.script.at(n);
    let ptr: number;
    let remaining = rest;
    this.mismatches.push(rest);
    if (insn >= L("data_in") && insn < L("data_in_end") || insn >= L("data_out") && insn < L("data_out_end")) {
      const inList = insn < L("data_in_end");
      const list = inList ? L("data_in") : L("data_out");
      const i = (insn - list) / 8;
      for (let j = i + 1; j < this.maxSg; j++) remaining += m.getUint32(dsa + A.CCB_SG + 8 * j, true);
      if (rest === m.getUint32(dsa + A.CCB_SG + 8 * i, true)) {
        ptr = insn; // nothing of this entry moved: go on from it
      } else {
        m.setUint32(dsa + A.CCB_PM, rest, true);
        m.setUint32(dsa + A.CCB_PM + 4, addr, true);
        m.setUint32(dsa + A.CCB_PM_RET, insn + 8, true);
        ptr = inList ? L("pm_in") : L("pm_out");
      }
    } else if (insn === L("pm_in") || insn === L("pm_out")) {
      m.setUint32(dsa + A.CCB_PM, rest, true);
      m.setUint32(dsa + A.CCB_PM + 4, addr, true);
      ptr = insn;
      const ret = m.getUint32(dsa + A.CCB_PM_RET, true);
      const list = insn === L("pm_in") ? L("data_in") : L("data_out");
      for (let j = (ret - list) / 8; j < this.maxSg; j++) remaining += m.getUint32(dsa + A.CCB_SG + 8 * j, true);
    } else {
      this.errors.push(`phase mismatch outside the data lists at ${insn.toString(16)}`);
      return;
    }
    if (phase === PH_STATUS) this.slotCmd[slot].resid = remaining; // short transfer
    wr(b, R.TEMP, 4, ptr);
    this.resume("dispatch");
  }
}

function refBench(targets: ScsiTarget[] | ((s: Scheduler) => ScsiTarget[]), trace?: string[], maxSg = 16, scriptInRam = true) {
  const b = bench(targets, {}, trace);
  const drv = new RefDriver(b, maxSg, scriptInRam);
  drv.init();
  return { ...b, drv };
}

// =================================================================================
describe("lsi53c895 registers", () => {
  it("reads every register's reset value from the table", () => {
    const b = bench();
    for (const d of REGS) {
      let v = 0;
      for (let i = 0; i < d.width; i++) v |= rd(b, d.off + i) << (8 * i);
      expect(v >>> 0, d.name).toBe(d.reset);
    }
    expect(b.irq.level).toBe(false);
  });

  it("assembles DSA/TEMP/DSP/SCRATCH from bytes, words and dwords", () => {
    const b = bench();
    wr(b, R.DSA, 4, 0x12345678);
    expect(rd(b, R.DSA + 1)).toBe(0x56);
    expect(rd(b, R.DSA + 2, 2)).toBe(0x1234);
    wr(b, R.TEMP + 3, 1, 0xab);
    expect(rd(b, R.TEMP, 4)).toBe(0xab000000);
    wr(b, R.SCRATCHJ, 2, 0xbeef);
    expect(rd(b, R.SCRATCHJ, 4)).toBe(0xbeef);
    wr(b, R.DBC, 4, 0xc1000010); // DBC + DCMD as one dword
    expect(rd(b, R.DCMD)).toBe(0xc1);
    expect(rd(b, R.DBC, 4)).toBe(0xc1000010);
    wr(b, R.SIEN0, 2, 0x0495);
    expect(rd(b, R.SIEN0)).toBe(0x95);
    expect(rd(b, R.SIEN1)).toBe(0x04);
  });

  it("keeps DSTAT.DFE set; DSTAT and SIST are read-clear and drive ISTAT.DIP/SIP", () => {
    const b = bench();
    expect(rd(b, R.DSTAT) & DSTAT_DFE).toBe(DSTAT_DFE);
    wr(b, R.SIEN1, 1, SIST1_GEN);
    wr(b, R.STIME1, 1, 1); // general purpose timer: 125 us
    b.sched.runUntil(124_999);
    expect(rd(b, R.ISTAT) & ISTAT_SIP).toBe(0);
    b.sched.runUntil(125_000);
    expect(b.irq.level).toBe(true);
    expect(rd(b, R.ISTAT) & ISTAT_SIP).toBe(ISTAT_SIP);
    expect(rd(b, R.SIST0, 2)).toBe(SIST1_GEN << 8); // 16-bit read as Linux does
    expect(rd(b, R.ISTAT) & ISTAT_SIP).toBe(0);
    expect(rd(b, R.SIST1)).toBe(0);
    expect(b.irq.level).toBe(false);
    // ABRT sets DSTAT.ABRT (DIP); a DSTAT read clears it, DFE stays.
    wr(b, R.DIEN, 1, DSTAT_ABRT);
    wr(b, R.ISTAT, 1, ISTAT_ABRT);
    wr(b, R.ISTAT, 1, 0);
    expect(rd(b, R.ISTAT) & ISTAT_DIP).toBe(ISTAT_DIP);
    expect(b.irq.level).toBe(true);
    expect(rd(b, R.DSTAT)).toBe(DSTAT_DFE | DSTAT_ABRT);
    expect(rd(b, R.DSTAT)).toBe(DSTAT_DFE);
    expect(rd(b, R.ISTAT) & ISTAT_DIP).toBe(0);
    expect(b.irq.level).toBe(false);
  });

  it("passes Linux's register test: FFFFFFFF written at 0x0C does not read back", () => {
    const b = bench();
    wr(b, R.DSTAT, 4, 0xffffffff);
    const v = rd(b, R.DSTAT, 4);
    expect(v).not.toBe(0xffffffff);
    expect(v & 0xff).toBe(DSTAT_DFE);
    expect(b.logs).toEqual([]);
  });

  it("SRST resets the registers and the targets' tasks; IRQD masks only the pin", () => {
    let disk!: FakeDisk;
    const b = bench((s) => [(disk = new FakeDisk(s, 0))]);
    wr(b, R.SCRATCHA, 4, 0xdeadbeef);
    wr(b, R.DIEN, 1, DSTAT_ABRT);
    wr(b, R.DCNTL, 1, DCNTL_IRQD);
    wr(b, R.ISTAT, 1, ISTAT_ABRT);
    expect(rd(b, R.ISTAT) & ISTAT_DIP).toBe(ISTAT_DIP);
    expect(b.irq.level).toBe(false); // IRQD
    wr(b, R.DCNTL, 1, 0);
    expect(b.irq.level).toBe(true);
    wr(b, R.ISTAT, 1, ISTAT_SRST);
    wr(b, R.ISTAT, 1, 0);
    expect(rd(b, R.SCRATCHA, 4)).toBe(0);
    expect(rd(b, R.DSTAT)).toBe(DSTAT_DFE);
    expect(b.irq.level).toBe(false);
    expect(disk.resets).toBe(1);
  });

  it("SCNTL1.RST resets the SCSI bus: targets drop their tasks, SIST0.RST", () => {
    let disk!: FakeDisk;
    const b = bench((s) => [(disk = new FakeDisk(s, 0))]);
    wr(b, R.SIEN0, 1, SIST0_RST);
    wr(b, R.SCNTL1, 1, SCNTL1_RST);
    expect(disk.resets).toBe(1);
    expect(rd(b, R.SSTAT0) & 0x02).toBe(0x02);
    wr(b, R.SCNTL1, 1, 0);
    expect(rd(b, R.SSTAT0) & 0x02).toBe(0);
    expect(b.irq.level).toBe(true);
    expect(rd(b, R.SIST0)).toBe(SIST0_RST);
  });

  it("SCRIPTS RAM is readable and writable through the window at 0x1000", () => {
    const b = bench();
    wr(b, 0x1ffc, 4, 0xcafef00d);
    expect(rd(b, 0x1ffe, 2)).toBe(0xcafe);
    wr(b, 0x1000, 1, 0x5a);
    expect(rd(b, 0x1000, 4) & 0xff).toBe(0x5a);
  });
});

// =================================================================================
describe("lsi53c895 SCRIPTS", () => {
  it("passes sym's snooptest (LOAD/STORE SCRATCHA/TEMP, INT 99, DSP = snoopend + 8) while the CPU polls ISTAT", () => {
    const b = bench();
    const hcb = 0x8000; // np->scratch at hcb + 0x20
    const prog = A.assemble(SCSI_RAM_BASE, (a) => {
      a.label("snooptest");
      a.emit(A.loadRel(R.SCRATCHA, 4, 0x20), A.storeRel(R.TEMP, 4, 0x20), A.loadRel(R.TEMP, 4, 0x20));
      a.label("snoopend");
      a.emit(A.int(99));
    });
    loadRam(b, prog.words);
    b.mem.dv.setUint32(hcb + 0x20, 1, true); // host_wr
    wr(b, R.TEMP, 4, 2); // sym_wr
    wr(b, R.DSA, 4, hcb);
    wr(b, R.DIEN, 1, DSTAT_SIR);
    wr(b, R.DSP, 4, prog.at("snooptest"));
    // A CPU run polls ISTAT at its own advancing local time (the board sets it).
    const t0 = b.sched.now;
    let istat = 0;
    let polls = 0;
    for (; polls < 100 && !(istat & (ISTAT_INTF | ISTAT_SIP | ISTAT_DIP)); polls++) {
      b.sched.setLocalTime(t0 + polls * 500);
      istat = rd(b, R.ISTAT);
    }
    expect(istat & ISTAT_DIP).toBe(ISTAT_DIP);
    const dstat = rd(b, R.DSTAT);
    expect(dstat & (DSTAT_MDPE | DSTAT_BF | DSTAT_IID)).toBe(0);
    expect(dstat & DSTAT_SIR).toBe(DSTAT_SIR);
    expect(rd(b, R.DSP, 4)).toBe(prog.at("snoopend") + 8);
    expect(rd(b, R.DSPS, 4)).toBe(99);
    expect(rd(b, R.SCRATCHA, 4)).toBe(1); // host_wr == sym_rd
    expect(b.mem.dv.getUint32(hcb + 0x20, true)).toBe(2); // host_rd == sym_wr
    expect(rd(b, R.TEMP, 4)).toBe(2); // sym_bk == sym_wr
    // 4 instructions from SCRIPTS RAM, 3 host DMA bursts of one dword
    const expectNs = 4 * INSN_RAM + 2 * (T.dmaReadSetupClocks + 1) * CLK + (T.dmaWriteSetupClocks + 1) * CLK;
    expect(polls - 1).toBe(Math.ceil(expectNs / 500));
    expect(b.irq.changes[0][0]).toBe(expectNs); // caught up at the SCRIPTS' own time
    b.sched.endLocalTime();
    b.sched.runUntil(1e6); // the stale scheduler entries change nothing
    expect(b.irq.rises).toBe(1);
  });

  it("runs register read-modify-write (classes 5/6/7) with carry", () => {
    const b = bench();
    runProgram(b, SCSI_RAM_BASE, (a) => {
      a.emit(
        A.clear(A.CARRY),
        A.loadReg(R.SCRATCHA, 0x81), // SCRATCHA0 = 81
        A.regReg(R.SCRATCHA, A.SHL, 0), // 02, carry 1
        A.regReg(R.SCRATCHA + 1, A.ADC, 0x10), // SCRATCHA1 = 0 + 10 + 1 = 11, carry 0
        A.loadSfbr(0xf0),
        A.sfbrToReg(R.SCRATCHA + 2, A.ADD, 0x20), // SCRATCHA2 = f0 + 20 = 10, carry 1
        A.regReg(R.SCRATCHA + 3, A.SHR, 0), // 00 >> 1 with carry in = 80, carry 0
        A.regToSfbr(R.SCRATCHA, A.OR, 0x40), // SFBR = 02 | 40
        A.regReg(R.SCRATCHB, A.MOV, 0x0f),
        A.regReg(R.SCRATCHB, A.XOR, 0, true), // ^ SFBR(42) = 4d
        A.regReg(R.SCRATCHB + 1, A.MOV, 0xff),
        A.regReg(R.SCRATCHB + 1, A.AND, 0x3c),
        A.toReg(R.SCRATCHB + 2), // = SFBR (42)
        A.fromReg(R.SCRATCHA + 1), // SFBR = 11
        A.int(7),
      );
    });
    expect(rd(b, R.SCRATCHA, 4)).toBe(0x80101102);
    expect(rd(b, R.SCRATCHB, 4)).toBe(0x00423c4d);
    expect(rd(b, R.SFBR)).toBe(0x11);
    expect(rd(b, R.DSPS, 4)).toBe(7);
  });

  it("jumps, calls and returns: absolute, relative, carry, data with mask, if-true/false, NOP", () => {
    const b = bench();
    const p = runProgram(b, SCSI_RAM_BASE, (a, L) => {
      a.emit(
        A.nop(),
        A.call(L("sub")), // TEMP = return address
        A.loadSfbr(0x5a),
        A.jump(L("bad"), A.data(0x5b)), // not taken
        A.jump(L("m1"), A.data(0x50, 0x0f)), // 0101xxxx: taken
        A.int(0xbad1),
      );
      a.label("m1");
      a.emit(A.jump(L("bad"), A.not(A.data(0x5a))), A.set(A.CARRY), A.jumpRel(8, A.carrySet), A.int(0xbad2), A.clear(A.CARRY));
      a.emit(A.jump(L("bad"), A.carrySet), A.jump(L("end")));
      a.label("sub");
      a.emit(A.regReg(R.SCRATCHC, A.ADD, 1), A.ret());
      a.label("bad");
      a.emit(A.int(0xbad));
      a.label("end");
      a.emit(A.int(0x600d));
    });
    expect(rd(b, R.DSPS, 4)).toBe(0x600d);
    expect(rd(b, R.DSP, 4)).toBe(p.at("end") + 8);
    expect(rd(b, R.SCRATCHC)).toBe(1);
  });

  it("INT halts with DSTAT.SIR and DSPS; INTFLY sets ISTAT.INTF (w1c) and goes on", () => {
    const b = bench();
    wr(b, R.DIEN, 1, DSTAT_SIR);
    runProgram(b, SCSI_RAM_BASE, (a) => a.emit(A.intfly(5), A.loadReg(R.SCRATCHA, 1), A.int(6)));
    expect(rd(b, R.SCRATCHA)).toBe(1);
    const istat = rd(b, R.ISTAT);
    expect(istat & (ISTAT_INTF | ISTAT_DIP)).toBe(ISTAT_INTF | ISTAT_DIP);
    expect(b.irq.changes.map((c) => c[0])).toEqual([INSN_RAM]); // INTFLY raised the line at its time
    wr(b, R.ISTAT, 1, ISTAT_INTF);
    expect(rd(b, R.ISTAT) & ISTAT_INTF).toBe(0);
    expect(b.irq.level).toBe(true); // SIR still pending
    expect(rd(b, R.DSTAT)).toBe(DSTAT_DFE | DSTAT_SIR);
    expect(b.irq.level).toBe(false);
  });

  it("memory moves RAM to RAM, into its own SCRIPTS RAM and into its registers (Linux's RADDR)", () => {
    const b = bench();
    b.mem.u8.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0x5000);
    b.mem.dv.setUint32(0x5100, 0x11223344, true);
    runProgram(b, 0x9000, (a) => {
      a.emit(
        A.memMove(10, 0x5000, 0x6003),
        A.memMove(8, 0x5000, SCSI_RAM_BASE + 0x800),
        A.memMove(4, 0x5100, SCSI_BASE + R.SCRATCHB),
        A.memMove(4, SCSI_BASE + R.SCRATCHB, 0x7000),
        A.load(R.SCRATCHD, 4, SCSI_RAM_BASE + 0x804),
        A.int(1),
      );
    });
    expect(Array.from(b.mem.u8.subarray(0x6003, 0x600d))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rd(b, 0x1800, 4)).toBe(0x04030201);
    expect(rd(b, R.SCRATCHB, 4)).toBe(0x11223344);
    expect(b.mem.dv.getUint32(0x7000, true)).toBe(0x11223344);
    expect(rd(b, R.SCRATCHD, 4)).toBe(0x08070605);
    expect(rd(b, R.DSTAT) & ~DSTAT_DFE).toBe(DSTAT_SIR);
  });

  it("sets DSTAT.IID on an illegal instruction and halts after it", () => {
    for (const bad of [[0xa0080000, 0], A.move(A.DATA_IN, 0, 0x1000), A.load(R.SCRATCHA, 5, 0x1000)]) {
      const b = bench();
      runProgram(b, SCSI_RAM_BASE, (a) => a.emit(A.nop(), bad, A.int(1)));
      expect(rd(b, R.DSTAT)).toBe(DSTAT_DFE | DSTAT_IID);
      expect(rd(b, R.DSP, 4)).toBe(SCSI_RAM_BASE + 16);
      expect(b.logs.some(([k]) => k === "guest-error")).toBe(true);
    }
  });

  it("sets DSTAT.BF on DMA outside RAM (LOAD, memory move, instruction fetch), never throwing", () => {
    for (const bad of [A.load(R.SCRATCHA, 4, RAM + 0x100), A.memMove(16, RAM - 8, 0x1000), A.jump(0xd0000000)]) {
      const b = bench();
      wr(b, R.DIEN, 1, DSTAT_BF);
      runProgram(b, SCSI_RAM_BASE, (a) => a.emit(bad, A.int(1)));
      expect(rd(b, R.DSTAT)).toBe(DSTAT_DFE | DSTAT_BF);
      expect(b.irq.level).toBe(false);
      expect(b.irq.rises).toBe(1);
    }
  });

  it("single-steps with DCNTL.SSM (SSI after each instruction, STD continues)", () => {
    const b = bench();
    wr(b, R.DCNTL, 1, DCNTL_SSM);
    runProgram(b, SCSI_RAM_BASE, (a) => a.emit(A.loadReg(R.SCRATCHA, 1), A.loadReg(R.SCRATCHA, 2), A.int(3)));
    expect(rd(b, R.DSTAT)).toBe(DSTAT_DFE | DSTAT_SSI);
    expect(rd(b, R.SCRATCHA)).toBe(1);
    wr(b, R.DCNTL, 1, DCNTL_SSM | DCNTL_STD);
    runUntil(b.sched, () => halted(b) && b.sched.pending === 0);
    expect(rd(b, R.DSTAT)).toBe(DSTAT_DFE | DSTAT_SSI);
    expect(rd(b, R.SCRATCHA)).toBe(2);
    expect(rd(b, R.DSP, 4)).toBe(SCSI_RAM_BASE + 16);
  });

  it("starts on DSP's MSB unless DMODE.MAN, then on DCNTL.STD", () => {
    const b = bench();
    loadRam(b, [...A.int(9)]);
    wr(b, R.DMODE, 1, DMODE_MAN);
    wr(b, R.DSP, 4, SCSI_RAM_BASE);
    b.sched.runUntil(1e6);
    expect(rd(b, R.DSTAT)).toBe(DSTAT_DFE);
    wr(b, R.DCNTL, 1, DCNTL_STD);
    expect(rd(b, R.DCNTL) & DCNTL_STD).toBe(0);
    b.sched.runUntil(2e6);
    expect(rd(b, R.DSTAT)).toBe(DSTAT_DFE | DSTAT_SIR);
  });

  it("WAIT RESELECT takes its alternate jump on SIGP; CTEST2 reports and clears SIGP", () => {
    const b = bench();
    const p = A.assemble(SCSI_RAM_BASE, (a, L) => {
      a.emit(A.waitResel(L("sigp")), A.int(1));
      a.label("sigp");
      a.emit(A.int(2));
    });
    loadRam(b, p.words);
    wr(b, R.SCID, 1, SCID_RRE | 7);
    wr(b, R.DSP, 4, SCSI_RAM_BASE);
    b.sched.runUntil(10_000);
    expect(rd(b, R.ISTAT1) & 0x02).toBe(0x02); // waiting: SCRIPTS running
    wr(b, R.ISTAT, 1, ISTAT_SIGP);
    runUntil(b.sched, () => halted(b));
    expect(rd(b, R.DSPS, 4)).toBe(2);
    expect(b.sched.now).toBe(10_000 + T.sigpWakeNs + INSN_RAM);
    expect(rd(b, R.CTEST2) & 0x40).toBe(0x40);
    expect(rd(b, R.ISTAT) & ISTAT_SIGP).toBe(0);
    expect(rd(b, R.CTEST2) & 0x40).toBe(0);
  });

  it("guards against a runaway loop: pauses, logs, and ABRT stops it", () => {
    const b = bench();
    wr(b, R.DIEN, 1, DSTAT_ABRT);
    loadRam(b, [...A.jump(SCSI_RAM_BASE)]);
    wr(b, R.DSP, 4, SCSI_RAM_BASE);
    const n = b.sched.runUntil(20_000_000);
    expect(b.dev.stats.guardPauses).toBeGreaterThan(5);
    expect(n).toBeLessThan(50); // a handful of events per 20 ms, not one per instruction
    expect(b.logs.filter(([k, m]) => k === "guest-error" && /without waiting/.test(m)).length).toBe(1);
    wr(b, R.ISTAT, 1, ISTAT_ABRT);
    wr(b, R.ISTAT, 1, 0);
    expect(b.irq.level).toBe(true);
    expect(rd(b, R.DSTAT)).toBe(DSTAT_DFE | DSTAT_ABRT);
    expect(halted(b)).toBe(true);
    expect(b.sched.runUntil(40_000_000)).toBeLessThan(3);
  });
});

// =================================================================================
describe("lsi53c895 SCSI bus", () => {
  it("raises SIST1.STO after arbitration + the STIME0 selection timeout, DSP past the waiting instruction", () => {
    const b = bench((s) => [new FakeDisk(s, 0)]);
    wr(b, R.SCID, 1, 7);
    wr(b, R.STIME0, 1, 0x0c);
    wr(b, R.SIEN1, 1, SIST1_STO);
    const p = runProgram(b, SCSI_RAM_BASE, (a, L) => {
      a.emit(A.select(5, L("alt"), true));
      a.label("wf_sel_done");
      a.emit(A.int(1, A.not(A.when(A.MSG_OUT))), A.int(2));
      a.label("alt");
      a.emit(A.int(3));
    });
    expect(selectionTimeoutNs(0x0c)).toBe(256_000_000);
    expect(b.irq.changes[0]).toEqual([INSN_RAM + T.arbitrationNs + 256_000_000, true]);
    expect(rd(b, R.SIST0, 2)).toBe(SIST1_STO << 8);
    expect(rd(b, R.DSP, 4)).toBe(p.at("wf_sel_done") + 8);
    expect(b.dev.stats.selectionTimeouts).toBe(1);
    expect(b.dev.busBusyNs()).toBe(T.arbitrationNs + 256_000_000);
  });

  it("ends a short DATA IN in a phase mismatch with the residual in DBC/DNAD", () => {
    const b = bench((s) => [new FakeDisk(s, 0)]);
    b.mem.u8.set([0x80], 0x3000);
    b.mem.u8.set([OP_INQUIRY, 0, 0, 0, 96, 0], 0x3010);
    wr(b, R.SCID, 1, SCID_RRE | 7);
    wr(b, R.SIEN0, 1, SIST0_MA);
    const p = runProgram(b, SCSI_RAM_BASE, (a, L) => {
      a.emit(A.select(0, L("fail"), true), A.move(A.MSG_OUT, 1, 0x3000), A.move(A.COMMAND, 6, 0x3010));
      a.label("din");
      a.emit(A.move(A.DATA_IN, 96, 0x4000), A.int(2));
      a.label("fail");
      a.emit(A.int(1));
    });
    expect(rd(b, R.SIST0)).toBe(SIST0_MA);
    expect(rd(b, R.DBC, 4) & 0xffffff).toBe(60);
    expect(rd(b, R.DCMD)).toBe(0x09); // MOVE, DATA IN
    expect(rd(b, R.DNAD, 4)).toBe(0x4000 + 36);
    expect(rd(b, R.DSP, 4)).toBe(p.at("din") + 8);
    expect(rd(b, R.SSTAT1) & 7).toBe(PH_STATUS);
    expect(rd(b, R.ISTAT) & ISTAT_CON).toBe(ISTAT_CON);
    expect(new TextDecoder().decode(b.mem.u8.subarray(0x4008, 0x4010))).toBe("FAKE    ");
    expect(cdbLength(OP_INQUIRY)).toBe(6);
    expect(cdbLength(OP_READ_10)).toBe(10);
  });

  it("answers SDTR with MESSAGE REJECT, then runs a TEST UNIT READY to COMMAND COMPLETE", () => {
    let disk!: FakeDisk;
    const b = bench((s) => [(disk = new FakeDisk(s, 3))]);
    b.mem.u8.set([0x80, 0x01, 0x03, 0x01, 0x0c, 0x1f], 0x3000); // IDENTIFY + SDTR
    b.mem.u8.set([OP_TEST_UNIT_READY, 0, 0, 0, 0, 0], 0x3010);
    wr(b, R.SCID, 1, SCID_RRE | 7);
    runProgram(b, SCSI_RAM_BASE, (a, L) => {
      a.emit(
        A.select(3, L("fail"), true),
        A.move(A.MSG_OUT, 6, 0x3000),
        A.int(0x10, A.not(A.when(A.MSG_IN))),
        A.move(A.MSG_IN, 1, 0x3100),
        A.int(0x11, A.not(A.data(0x07))),
        A.clear(A.ACK),
        A.move(A.COMMAND, 6, 0x3010),
        A.move(A.STATUS, 1, 0x3101),
        A.move(A.MSG_IN, 1, 0x3102),
        A.clear(A.ACK),
        A.waitDisc(),
        A.int(0x600d),
      );
      a.label("fail");
      a.emit(A.int(1));
    });
    expect(rd(b, R.DSPS, 4)).toBe(0x600d);
    expect(Array.from(b.mem.u8.subarray(0x3100, 0x3103))).toEqual([0x07, STATUS_GOOD, 0x00]);
    expect(disk.seen.map((s) => s.tag)).toEqual([-1]);
    expect(rd(b, R.ISTAT) & ISTAT_CON).toBe(0);
    expect(b.dev.stats.completions).toBe(1);
  });

  it("takes SELECT's alternate jump when a target reselected first; SSID, IDENTIFY, tag, SIDL", () => {
    let disk!: FakeDisk;
    const b = bench((s) => [(disk = new FakeDisk(s, 0, { mode: "later", delayNs: () => 20_000 }))]);
    b.mem.u8.set([0xc0, 0x20, 5], 0x3000);
    b.mem.u8.set(read10(8, 1), 0x3010);
    wr(b, R.SCID, 1, SCID_RRE | 7);
    wr(b, R.DIEN, 1, DSTAT_SIR);
    const p = runProgram(b, SCSI_RAM_BASE, (a, L) => {
      a.emit(
        A.select(0, L("fail"), true),
        A.move(A.MSG_OUT, 3, 0x3000),
        A.move(A.COMMAND, 10, 0x3010),
        A.move(A.MSG_IN, 1, 0x3100), // DISCONNECT
        A.int(0x21, A.not(A.data(0x04))),
        A.clear(A.ACK),
        A.waitDisc(),
        A.loadReg(R.SCRATCHA, 200), // ~48 us of SCRIPTS: the target reconnects meanwhile
      );
      a.label("loop");
      a.emit(A.regReg(R.SCRATCHA, A.ADD, 0xff), A.jump(L("loop"), A.carrySet));
      a.emit(A.select(0, L("resel"), true), A.int(0x22));
      a.label("resel");
      a.emit(
        A.move(A.MSG_IN, 1, 0x3101), // IDENTIFY
        A.clear(A.ACK),
        A.move(A.MSG_IN, 2, 0x3102), // SIMPLE QUEUE TAG, 5
        A.fromReg(R.SSID),
        A.toReg(R.SCRATCHB),
        A.fromReg(R.SIDL),
        A.toReg(R.SCRATCHB + 1),
        A.clear(A.ACK),
        A.move(A.DATA_IN, 512, 0x5000),
        A.move(A.STATUS, 1, 0x3104),
        A.move(A.MSG_IN, 1, 0x3105),
        A.clear(A.ACK),
        A.waitDisc(),
        A.int(0x77),
      );
      a.label("fail");
      a.emit(A.int(1));
    });
    expect(rd(b, R.DSPS, 4)).toBe(0x77);
    expect(p.at("resel")).toBeGreaterThan(0);
    expect(Array.from(b.mem.u8.subarray(0x3100, 0x3106))).toEqual([0x04, 0x80, 0x20, 5, STATUS_GOOD, 0x00]);
    expect(rd(b, R.SCRATCHB, 2)).toBe(0x0580); // SSID = 0x80 | 0, SIDL = tag
    expect(sameBytes(b.mem.u8.subarray(0x5000, 0x5200), disk.image.subarray(8 * 512, 9 * 512))).toBe(true);
    expect(disk.seen[0].tag).toBe(5);
    expect(b.dev.stats.reselections).toBe(1);
    expect(b.dev.stats.disconnects).toBe(1);
  });

  it("gives the bus to the highest waiting SCSI ID, not the first to ask", () => {
    const b = refBench((s) => [
      new FakeDisk(s, 0, { mode: "later", delayNs: () => 1_000_000 }),
      new FakeDisk(s, 1, { mode: "later", delayNs: () => 2_000_000 }),
      new FakeDisk(s, 2),
    ]);
    b.sched.runUntil(10_000);
    b.drv.submit({ target: 0, cdb: read10(0, 1), dir: "in", segs: [[0x200000, 512]] });
    b.drv.submit({ target: 1, cdb: read10(0, 1), dir: "in", segs: [[0x201000, 512]] });
    b.drv.submit({ target: 2, cdb: read10(0, 2048), dir: "in", segs: [[0x400000, 1 << 20]] }); // holds the bus 13 ms
    runUntil(b.sched, () => b.drv.done.length === 3, 1e9);
    expect(b.drv.errors).toEqual([]);
    expect(b.drv.done.map((d) => d.n)).toEqual([2, 1, 0]);
  });

  it("moves 1 MiB DATA IN in 13,107,200 ns of bus time; the whole command costs exactly the stated overheads", () => {
    for (const where of ["ram", "host"] as const) {
      let disk!: FakeDisk;
      const b = bench((s) => [(disk = new FakeDisk(s, 0, { blocks: 4096 }))]);
      b.mem.u8.set([0x80], 0x3000);
      b.mem.u8.set(read10(0, 2048), 0x3010);
      wr(b, R.SCID, 1, SCID_RRE | 7);
      wr(b, R.DIEN, 1, DSTAT_SIR);
      const base = where === "ram" ? SCSI_RAM_BASE : 0x9000;
      runProgram(b, base, (a, L) => {
        a.emit(
          A.select(0, L("fail"), true),
          A.move(A.MSG_OUT, 1, 0x3000),
          A.move(A.COMMAND, 10, 0x3010),
          A.move(A.DATA_IN, 1 << 20, 0x100000),
          A.move(A.STATUS, 1, 0x3100),
          A.move(A.MSG_IN, 1, 0x3101),
          A.clear(A.ACK),
          A.waitDisc(),
          A.int(0x600d),
        );
        a.label("fail");
        a.emit(A.int(1));
      });
      expect(rd(b, R.DSPS, 4)).toBe(0x600d);
      expect(sameBytes(b.mem.u8.subarray(0x100000, 0x200000), disk.image.subarray(0, 1 << 20))).toBe(true);
      expect(b.dev.stats.busDataNs).toBe(13_107_200);
      expect(dataNs(1 << 20)).toBe(13_107_200);
      // The stated timeline (every term from LSI_TIMING):
      const I = where === "ram" ? INSN_RAM : INSN_HOST;
      const selDone = I + T.arbitrationNs; // SELECT completes when arbitration is won
      const msgOutReq = I + T.arbitrationNs + T.selectionNs + T.phaseChangeNs;
      const cmdStart = Math.max(msgOutReq + T.asyncByteNs + T.phaseChangeNs, Math.max(selDone + I, msgOutReq) + T.asyncByteNs + I);
      const cmdEnd = cmdStart + 10 * T.asyncByteNs; // target.command() here, answers at once
      const dataStart = Math.max(cmdEnd + I, cmdEnd + T.phaseChangeNs);
      const dataEnd = dataStart + 13_107_200;
      const statusEnd = Math.max(dataEnd + I, dataEnd + T.phaseChangeNs) + T.asyncByteNs;
      const msgEnd = Math.max(statusEnd + I, statusEnd + T.phaseChangeNs) + T.asyncByteNs;
      const busFree = msgEnd + I + T.busFreeNs; // CLEAR ACK, then the target drops BSY
      const intAt = Math.max(msgEnd + 2 * I, busFree) + I; // WAIT DISCONNECT, INT
      expect(b.irq.changes[0]).toEqual([intAt, true]);
      expect(b.dev.busBusyNs()).toBe(busFree - I);
      const overhead = intAt - 13_107_200;
      expect(overhead).toBe(where === "ram" ? 9_960 : 11_160);
    }
  });

  it("ends a paced DATA IN at max(bus finish, paceEndNs)", () => {
    let disk!: FakeDisk; // 27 MB/s media
    const b = bench((s) => [(disk = new FakeDisk(s, 0, { paceNsPerByte: 1000 / 27 }))]);
    b.mem.u8.set([0x80], 0x3000);
    b.mem.u8.set(read10(0, 128), 0x3010); // 64 KiB
    wr(b, R.SCID, 1, SCID_RRE | 7);
    wr(b, R.DIEN, 1, DSTAT_SIR);
    runProgram(b, SCSI_RAM_BASE, (a, L) => {
      a.emit(A.select(0, L("fail"), true), A.move(A.MSG_OUT, 1, 0x3000), A.move(A.COMMAND, 10, 0x3010), A.move(A.DATA_IN, 65536, 0x100000), A.int(2));
      a.label("fail");
      a.emit(A.int(1));
    });
    const cmdAt = disk.seen[0].time;
    expect(b.irq.changes[0][0]).toBe(cmdAt + Math.ceil(65536 * (1000 / 27)) + INSN_RAM);
    expect(b.dev.stats.busDataNs).toBe(dataNs(65536));
  });
});

// =================================================================================
describe("lsi53c895 reference script", () => {
  const fill = (b: Bench, addr: number, n: number, v: number): void => {
    b.mem.u8.fill(v, addr, addr + n);
  };

  it("fits in the SCRIPTS RAM and names its entry points", () => {
    const s = A.referenceScript({ scriptBase: SCSI_RAM_BASE, hcb: HCB, maxSg: 32 });
    expect(s.words.length * 4).toBeLessThanOrEqual(4096);
    for (const l of ["start", "idle", "select_job", "dispatch", "data_in", "data_in_end", "pm_in", "reselected", "complete"]) expect(s.labels.has(l)).toBe(true);
  });

  it("runs INQUIRY and TEST UNIT READY to completion through the done queue (target answers at once)", () => {
    let disk!: FakeDisk;
    const b = refBench((s) => [(disk = new FakeDisk(s, 2))]);
    fill(b, 0x200000, 96, 0xee);
    b.sched.runUntil(100_000); // idle in WAIT RESELECT
    expect(halted(b)).toBe(false);
    b.drv.submit({ target: 2, cdb: [OP_INQUIRY, 0, 0, 0, 96, 0], dir: "in", segs: [[0x200000, 96]] });
    b.drv.submit({ target: 2, cdb: [OP_TEST_UNIT_READY, 0, 0, 0, 0, 0], dir: "none", segs: [] });
    runUntil(b.sched, () => b.drv.done.length === 2, 1e9);
    expect(b.drv.errors).toEqual([]);
    expect(b.drv.done.map((d) => [d.n, d.status, d.resid])).toEqual([[0, STATUS_GOOD, 60], [1, STATUS_GOOD, 0]]);
    expect(new TextDecoder().decode(b.mem.u8.subarray(0x200008, 0x20000c))).toBe("FAKE");
    expect(b.mem.u8[0x200000 + 36]).toBe(0xee); // nothing past the 36 bytes
    expect(disk.seen.map((s) => s.tag)).toEqual([0, 1]);
    b.sched.runUntil(b.sched.now + 1_000_000);
    expect(halted(b)).toBe(false); // back in WAIT RESELECT
    expect(b.logs.filter(([k]) => k === "guest-error")).toEqual([]);
  });

  it("reports a selection timeout for an absent target and goes on with the next command", () => {
    const b = refBench((s) => [new FakeDisk(s, 0)]);
    b.drv.submit({ target: 4, cdb: [OP_TEST_UNIT_READY, 0, 0, 0, 0, 0], dir: "none", segs: [] });
    b.drv.submit({ target: 0, cdb: [OP_TEST_UNIT_READY, 0, 0, 0, 0, 0], dir: "none", segs: [] });
    runUntil(b.sched, () => b.drv.done.length === 2, 2e9);
    expect(b.drv.done.map((d) => [d.n, d.hstat])).toEqual([[0, "selection timeout"], [1, "ok"]]);
    expect(b.drv.done[0].time).toBeGreaterThan(256_000_000);
  });

  function scenario(trace?: string[]) {
    const s = new Scheduler();
    const mem = new PhysMem(RAM);
    const irq = new RecordingIrq(s);
    const logs: [LogKind, string][] = [];
    // Target 0: reselects in reverse order of arrival; target 1: data in 3000-byte
    // connections (not aligned to S/G entries: phase mismatches), writes with status later.
    const d0 = new FakeDisk(s, 0, { mode: "later", delayNs: (_t, n) => 400_000 - n * 90_000 });
    const d1 = new FakeDisk(s, 1, { mode: "later", delayNs: (_t, n) => 150_000 + n * 10_000, chunkBytes: 3000, writeStatusLater: true });
    const ctx: DeviceContext = { sched: s, mem, irq, rng: new Rng(1), log: (k, m) => logs.push([k, m]), trace: trace ? (l) => trace.push(l) : undefined };
    const dev = new Lsi53c895(ctx, [d0, d1]);
    const b = { sched: s, mem, irq, logs, dev };
    const drv = new RefDriver(b, 16, true);
    drv.init();
    s.runUntil(50_000);
    const cmds: Cmd[] = [
      { target: 0, cdb: read10(10, 16), dir: "in", segs: [[0x200000, 4096], [0x202000, 4096]] },
      { target: 1, cdb: read10(20, 24), dir: "in", segs: [[0x300000, 5000], [0x302000, 4000], [0x304000, 3288]] },
      { target: 0, cdb: read10(30, 8), dir: "in", segs: [[0x210000, 4096]] },
      { target: 1, cdb: write10(100, 8), dir: "out", segs: [[0x400000, 1024], [0x401000, 3072]] },
      { target: 0, cdb: read10(40, 4), dir: "in", segs: [[0x220000, 2048]] },
      { target: 0, cdb: write10(200, 2), dir: "out", segs: [[0x410000, 1024]] },
    ];
    for (let i = 0; i < 1024; i++) mem.u8[0x400000 + i] = (i * 13) & 0xff;
    for (let i = 0; i < 3072; i++) mem.u8[0x401000 + i] = (i * 17 + 1) & 0xff;
    for (let i = 0; i < 1024; i++) mem.u8[0x410000 + i] = (i * 3 + 5) & 0xff;
    for (const c of cmds) drv.submit(c);
    runUntil(s, () => drv.done.length === cmds.length, 1e9);
    return { b, drv, d0, d1, cmds };
  }

  it("keeps several tagged commands outstanding on two targets; reselections come out of order; data lands", () => {
    const { b, drv, d0, d1 } = scenario();
    expect(drv.errors).toEqual([]);
    expect(drv.done.every((d) => d.status === STATUS_GOOD && d.hstat === "ok")).toBe(true);
    const order = drv.done.map((d) => d.n);
    expect(order).not.toEqual([0, 1, 2, 3, 4, 5]);
    // target 0's reads complete in reverse order of submission
    expect(order.filter((n) => [0, 2, 4].includes(n))).toEqual([4, 2, 0]);
    // every command was sent before the first completed: tagged queueing
    const firstDone = Math.min(...drv.done.map((d) => d.time));
    expect(Math.max(...[...d0.seen, ...d1.seen].map((s) => s.time))).toBeLessThan(firstDone);
    expect(d0.seen.map((s) => s.tag)).toEqual([0, 1, 2, 3]);
    expect(d1.seen.map((s) => s.tag)).toEqual([0, 1]);
    const img0 = d0.image;
    const img1 = d1.image;
    expect(b.mem.u8.subarray(0x200000, 0x201000)).toEqual(img0.subarray(10 * 512, 10 * 512 + 4096));
    expect(b.mem.u8.subarray(0x202000, 0x203000)).toEqual(img0.subarray(10 * 512 + 4096, 26 * 512));
    expect(b.mem.u8.subarray(0x210000, 0x211000)).toEqual(img0.subarray(30 * 512, 38 * 512));
    expect(b.mem.u8.subarray(0x220000, 0x220800)).toEqual(img0.subarray(40 * 512, 44 * 512));
    expect(b.mem.u8.subarray(0x300000, 0x300000 + 5000)).toEqual(img1.subarray(20 * 512, 20 * 512 + 5000));
    expect(b.mem.u8.subarray(0x302000, 0x302000 + 4000)).toEqual(img1.subarray(20 * 512 + 5000, 20 * 512 + 9000));
    expect(b.mem.u8.subarray(0x304000, 0x304000 + 3288)).toEqual(img1.subarray(20 * 512 + 9000, 44 * 512));
    expect(img1.subarray(100 * 512, 100 * 512 + 1024)).toEqual(b.mem.u8.subarray(0x400000, 0x400400));
    expect(img1.subarray(100 * 512 + 1024, 108 * 512)).toEqual(b.mem.u8.subarray(0x401000, 0x401c00));
    expect(img0.subarray(200 * 512, 202 * 512)).toEqual(b.mem.u8.subarray(0x410000, 0x410400));
    // 12288 bytes in 3000-byte connections: 4 cuts, each a phase mismatch the driver fixed
    expect(drv.mismatches.length).toBe(4);
    const st = b.dev.stats;
    expect(st.commands).toBe(6);
    expect(st.completions).toBe(6);
    expect(st.reselections).toBe(4 + 5 + 1 + 1); // d0: 4 (reads, writes), d1: 5 read parts, write data, write status
    expect(st.dataInBytes).toBe(4096 * 2 + 4096 + 2048 + 12288);
    expect(st.dataOutBytes).toBe(4096 + 1024);
    expect(st.busDataNs).toBe(dataNs(8192) + dataNs(4096) + dataNs(2048) + 4 * dataNs(3000) + dataNs(288) + dataNs(1024) + dataNs(3072) + dataNs(1024));
    expect(b.dev.busBusyNs()).toBeGreaterThan(st.busDataNs);
    expect(b.logs.filter(([k]) => k !== "info")).toEqual([]);
  });

  it("is deterministic: the same run gives the same event trace hash and device trace", () => {
    const t1: string[] = [];
    const t2: string[] = [];
    const r1 = scenario(t1);
    const r2 = scenario(t2);
    expect(r1.b.sched.traceHash).toBe(r2.b.sched.traceHash);
    expect(r1.b.sched.now).toBe(r2.b.sched.now);
    expect(t1.length).toBeGreaterThan(100);
    expect(t1).toEqual(t2);
    expect(t1.some((l) => /reselected by 0 \(tag 2\)/.test(l))).toBe(true);
  });

  it("moves 1 MiB through the reference script's S/G list in 13,107,200 ns of data time", () => {
    for (const scriptInRam of [true, false]) {
      let disk!: FakeDisk;
      const b = refBench((s) => [(disk = new FakeDisk(s, 0))], undefined, 32, scriptInRam);
      b.sched.runUntil(10_000);
      const segs: [number, number][] = [];
      for (let i = 0; i < 32; i++) segs.push([0x400000 + i * 0x10000, 32768]);
      const t0 = b.sched.now;
      b.drv.submit({ target: 0, cdb: read10(0, 2048), dir: "in", segs });
      runUntil(b.sched, () => b.drv.done.length === 1, 1e9);
      expect(b.drv.errors).toEqual([]);
      for (let i = 0; i < 32; i++) {
        expect(sameBytes(b.mem.u8.subarray(0x400000 + i * 0x10000, 0x400000 + i * 0x10000 + 32768), disk.image.subarray(i * 32768, (i + 1) * 32768))).toBe(true);
      }
      expect(b.dev.stats.busDataNs).toBe(13_107_200);
      // From the SIGP write to INTFLY: 13,107,200 ns of data plus, with the script in
      // SCRIPTS RAM (from the device trace): SIGP wake 60; `start` (8 instructions, 5
      // host LOAD/STORE bursts) 2,880; SELECT to MSG OUT REQ (table fetch, arbitration
      // 3,200, selection 1,600, phase 400, LOAD TEMP, INT WHEN) 5,530; MSG OUT 3 bytes
      // after its table fetch 1,080; dispatch + COMMAND 10 bytes 3,360; DATA IN REQ and
      // the first CHMOV's fetch 880; 31 more CHMOVs x (120 fetch + 360 table read)
      // 14,880; STATUS, MSG IN, CLEAR ACK, WAIT DISCONNECT, done queue, INTFLY 4,880.
      // Total 33,550. From host memory every fetch costs 420 instead of 120 ns: 53,320.
      const intfly = b.irq.changes[0][0] - t0;
      expect(intfly - 13_107_200).toBe(scriptInRam ? 33_550 : 53_320);
    }
  });
});
