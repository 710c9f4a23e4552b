// A SCSI disk target: the Quantum Atlas 10K (Ultra2 wide LVD) as the LSI53C895-style
// controller sees it on the bus (contract: scsi.ts), timed by disk-model.ts, its blocks
// in a BlockBackend (memory or image file).
//
// What it models:
//   - Commands (SCSI-2 / SPC / SBC): TEST UNIT READY, INQUIRY (standard data and the
//     EVPD pages 00h supported pages and 80h unit serial number), READ CAPACITY(10),
//     READ(10), WRITE(10), SYNCHRONIZE CACHE(10), REQUEST SENSE (fixed format 70h,
//     18 bytes). Anything else: CHECK CONDITION, ILLEGAL REQUEST, 20h/00h.
//   - Errors as a real target reports them, with fixed-format sense kept per initiator
//     until REQUEST SENSE reads it (then NO SENSE). Sense keys / ASC/ASCQ:
//       ILLEGAL REQUEST 20/00 unknown opcode; 24/00 INVALID FIELD IN CDB (with the
//       sense-key-specific field pointer) for RelAdr, reserved bits, NACA/Link, CmdDt,
//       a page code without EVPD, an EVPD page not supported, READ CAPACITY with PMI=0
//       and an LBA, DESC in REQUEST SENSE; 21/00 LBA OUT OF RANGE when any block of a
//       transfer is beyond the capacity; 25/00 LOGICAL UNIT NOT SUPPORTED for lun != 0
//       (INQUIRY to such a lun answers GOOD with peripheral qualifier 3, type 1Fh, and
//       REQUEST SENSE answers GOOD with 25/00 sense, as SPC-2 requires).
//       MEDIUM ERROR 11h/00h (read) or 0Ch/00h (write) for injected bad blocks, with VALID
//       and INFORMATION = the first bad LBA. A read transfers the good blocks before the
//       bad one and then reports; a write writes the blocks before it. The error is
//       reported after ERROR_RETRY_REVS revolutions of retrying, and a write that meets
//       an injected error is never acknowledged early (no deferred errors).
//       ABORTED COMMAND 4E/00 OVERLAPPED COMMANDS ATTEMPTED for a tag (or an untagged
//       command) that duplicates one of the same initiator's outstanding tasks; as
//       SCSI-2 7.5.2 says, the target then also aborts every task of that initiator
//       (they end without status; written data already taken stays written).
//       STATUS QUEUE FULL (28h, no sense) for a command that finds 64 tasks outstanding.
//   - Tagged queueing: up to 64 tasks; media commands are served strictly in arrival
//     order (the guest's disk scheduler decides the order; the disk never reorders).
//     Commands without media work (TUR, INQUIRY, READ CAPACITY, REQUEST SENSE, errors
//     found in the CDB) answer inside command(), with no disconnect.
//   - Reads disconnect and reselect when their data is coming: the data phase is
//     placed so that a burst at bus speed (80 MB/s, Ultra2 wide: TIMING-REF A notes)
//     ends when the last block is off the platter (Connection.paceEndNs); a full cache
//     hit reconnects after the hit overhead, data all in the buffer. The controller
//     times the bus; the disk only uses the rate to choose when to reselect.
//   - Writes take their data at once (DATA OUT inside command()'s connection). Write
//     cache enabled (WCE, default): status goes back after the write-hit overhead
//     once the blocks fit in the write-back allowance (WRITE_BACK_BLOCKS dirty blocks);
//     the media write itself takes its turn in the arrival order, so it is done before
//     any later command uses the arm. A write larger than the allowance, a FUA write,
//     or any write with WCE off is written through (write-miss overhead, status after
//     the media). SYNCHRONIZE CACHE completes when every earlier write is on the media
//     (and fsyncs the image); IMMED answers at once.
//   - Data: a read returns its blocks as they were when the command arrived, and a
//     write's blocks go to the backend when its data arrives, so every command sees
//     exactly the writes that arrived before it (arrival order is also the data order).
//     A read's blocks stay in the backend until the controller's DMA copies them into
//     RAM (ReadData, a scsi.ts DataInSource: one copy, not two); a write to any of them
//     before then snapshots that read first.
//   - Fault injection: bad-block ranges (read, write or both), a slowdown factor.
//   - Guest errors go to ctx.log (host/device.ts), with or without a trace: a command
//     refused as ILLEGAL REQUEST (bad opcode, field or LBA) or as overlapped, and DATA
//     OUT with no write waiting for it. An opcode the real drive has and this model
//     lacks (below) is logged as unimplemented.
//
// Not modelled: MODE SENSE/SELECT (WCE is an option here), READ/WRITE(6), (16),
// VERIFY, FORMAT, REASSIGN BLOCKS, contingent allegiance / ACA (sense simply waits for
// REQUEST SENSE), autosense, deferred errors, HEAD OF QUEUE / ORDERED tag semantics
// (all tasks are served in arrival order), linked commands, LUNs other than 0,
// persistent reservations, power conditions. Unit attention after reset is optional
// (opts.unitAttention; off by default so a driver's first command is not refused).
//
// Interface:
//   new ScsiDisk(id, ctx, backend, opts)   ScsiTarget (scsi.ts); ctx: host/device.ts
// (data formats, sense and read buffers: scsi-data.ts)
//                                          TargetContext (clock, RNG, trace, log)
//   injectMediumError(lba, count, kind), clearMediumErrors(), setSlowdown(f)
//   stats          commands, bytes, cache hits, errors, mechanism busy ns
//   reset()        power on; close(): flush and close the backend

import type { Scheduler, Handler } from "../host/sched.js";
import type { TargetContext } from "../host/device.js";
import {
  type ScsiTask, type ScsiPort, type ScsiTarget, STATUS_GOOD, STATUS_CHECK_CONDITION, STATUS_QUEUE_FULL,
  OP_TEST_UNIT_READY, OP_REQUEST_SENSE, OP_INQUIRY, OP_READ_CAPACITY_10, OP_READ_10, OP_WRITE_10,
  OP_SYNCHRONIZE_CACHE_10, SK_NO_SENSE, SK_MEDIUM_ERROR, SK_ILLEGAL_REQUEST, SK_UNIT_ATTENTION, SK_ABORTED_COMMAND,
  ASC_INVALID_OPCODE, ASC_LBA_OUT_OF_RANGE, ASC_LUN_NOT_SUPPORTED,
  ASC_UNRECOVERED_READ_ERROR, ASC_WRITE_ERROR, ASC_POWER_ON_RESET, ASC_OVERLAPPED_COMMANDS, SENSE_FIXED_LEN,
} from "./scsi.js";
import {
  DiskModel, type DiskModelOptions, HIT, STREAM, REV_NS, WRITE_BACK_BLOCKS, WRITE_HIT_OVERHEAD_AFTER_READ_NS, WRITE_HIT_OVERHEAD_AFTER_WRITE_NS, WRITE_MISS_OVERHEAD_AFTER_READ_NS,
  WRITE_MISS_OVERHEAD_AFTER_WRITE_NS,
} from "./disk-model.js";
import { type BlockBackend, SECTOR } from "./block-backend.js";
import { ReadData, standardInquiry, senseData, invalidField, guestMistake, putAscii, be32, putBe32, hex } from "./scsi-data.js";

// ---- Constants -------------------------------------------------------------------------

/** Tasks the disk accepts at once (brief; the Linux aic7xxx log shows depth 253 granted
 *  by the host side, the drive's own limit is not in our sources). */
export const QUEUE_DEPTH = 64;
/** Ultra2 wide: 40 MT/s x 2 B = 80 MB/s (TIMING-REF A notes); used only to place the
 *  reselection so a burst ends with the media (the controller times the bus). */
export const ULTRA2_BYTES_PER_S = 80_000_000;
/** INQUIRY identity: Linux boot logs of the Ultra2 drive on aic7890 ("Vendor: QUANTUM
 *  Model: ATLAS 10K 18WLS Rev: UCH0", TIMING-REF A "Interface"); the ANSI version (3,
 *  SPC) those logs report is in scsi-data.ts. */
export const INQ_VENDOR = "QUANTUM";
export const INQ_PRODUCT = "ATLAS 10K 18WLS";
export const INQ_REVISION = "UCH0";
const SENSE_LEN = SENSE_FIXED_LEN;

/** The opcodes implemented, with their CDB lengths. */
const CDB_LENGTH = new Map<number, number>([
  [OP_TEST_UNIT_READY, 6], [OP_REQUEST_SENSE, 6], [OP_INQUIRY, 6], [OP_READ_CAPACITY_10, 10],
  [OP_READ_10, 10], [OP_WRITE_10, 10], [OP_SYNCHRONIZE_CACHE_10, 10],
]);

/** Opcodes of commands the drive has that this model leaves out (see the header):
 *  FORMAT UNIT, REASSIGN BLOCKS, READ(6), WRITE(6), MODE SELECT(6), MODE SENSE(6),
 *  VERIFY(10), MODE SELECT(10), MODE SENSE(10). Refused the same way, logged "unimp". */
const NOT_MODELLED = new Set([0x04, 0x07, 0x08, 0x0a, 0x15, 0x1a, 0x2f, 0x55, 0x5a]);

const READ = 0;
const WRITE = 1;
const SYNC = 2;

export type MediumErrorKind = "read" | "write" | "both";

export interface MediumErrorRange {
  lba: number;
  count: number;
  kind: MediumErrorKind;
}

export interface ScsiDiskOptions {
  /** Disk model options (capacityBlocks is always the backend's size). */
  model?: DiskModelOptions;
  /** Write cache enabled (WCE), default true. */
  writeCache?: boolean;
  /** Bus rate used to place reselections, B/s (default 80 MB/s). */
  busBytesPerSec?: number;
  queueDepth?: number;
  vendor?: string;
  product?: string;
  revision?: string;
  serial?: string;
  /** Report UNIT ATTENTION 29h/00h (power on / reset) once per initiator after reset. */
  unitAttention?: boolean;
  faults?: { mediumErrors?: MediumErrorRange[]; slowdown?: number };
}

export interface DiskStats {
  reads: number; // READ(10) commands that reached the media queue
  writes: number;
  bytesRead: number;
  bytesWritten: number;
  cacheHits: number; // reads served entirely from the cache
  streamHits: number; // reads met by the running read-ahead (no seek, no rotation)
  misses: number;
  mediumErrors: number;
  queueFull: number;
  checkConditions: number;
  /** Time the mechanism spent seeking, waiting for rotation and transferring, ns. */
  busyNs: number;
}

/** One task with media work, from arrival to its status (and its media run). */
interface Entry {
  serial: number;
  /** null once its status is sent or it was aborted (a write may still destage). */
  task: ScsiTask | null;
  port: ScsiPort;
  kind: typeof READ | typeof WRITE | typeof SYNC;
  lba: number;
  n: number;
  fua: boolean;
  /** First injected bad block in the range, or -1. */
  bad: number;
  /** Read: the blocks to send (as they were at arrival). */
  data: ReadData | null;
  /** Write: its data has arrived (it may start). */
  ready: boolean;
  dataAt: number;
  /** The previous media command was a write (selects DiskSim's after-write overheads). */
  afterWrite: boolean;
  /** Admitted to the write-back allowance: its status does not wait for the media. */
  writeBack: boolean;
  started: boolean;
  status: number;
  sense: Uint8Array | null;
  paceEndNs: number;
  /** Scheduler events still to fire for it. */
  events: number;
}

// ---- The target ----------------------------------------------------------------------------

export class ScsiDisk implements ScsiTarget {
  readonly model: DiskModel;
  /** Capacity in blocks (the backend's size). */
  readonly capacity: number;
  readonly stats: DiskStats = {
    reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0, cacheHits: 0, streamHits: 0, misses: 0,
    mediumErrors: 0, queueFull: 0, checkConditions: 0, busyNs: 0,
  };

  private readonly wce: boolean;
  private readonly busBps: number;
  private readonly depth: number;
  private readonly inquiry: Uint8Array;
  private readonly serialNo: string;
  private readonly uaOnReset: boolean;
  private faults: MediumErrorRange[] = [];

  /** Tasks whose status is not yet sent (QUEUE FULL, overlap checks). */
  private tasks: Entry[] = [];
  /** Media work not yet started, in arrival order. */
  private queue: Entry[] = [];
  /** Entries that scheduled events refer to, by serial. */
  private live = new Map<number, Entry>();
  private serial = 0;
  /** The disk takes the next media command at this time. */
  private procFreeAt = 0;
  /** Time the last media write is (or was) complete on the platter. */
  private mediaEndAt = 0;
  /** Dirty blocks admitted to the write-back allowance, and writes waiting for room. */
  private dirty = 0;
  private waiting: Entry[] = [];
  /** Sense data per initiator (from its last CHECK CONDITION until REQUEST SENSE). */
  private sense = new Map<number, Uint8Array>();
  /** Reads whose blocks are still in the backend, not yet all copied out. */
  private openReads: ReadData[] = [];
  /** UNIT ATTENTION owed since reset, and the initiators that have had theirs. */
  private uaActive = false;
  private uaDone = new Set<number>();
  private lastWasWrite = false;
  private readonly hReconnect: Handler;
  private readonly hDone: Handler;
  private readonly sched: Scheduler;
  private readonly trace: ((line: string) => void) | undefined;

  constructor(readonly id: number, private readonly ctx: TargetContext, readonly backend: BlockBackend, opts: ScsiDiskOptions = {}) {
    this.sched = ctx.sched;
    this.trace = ctx.trace;
    this.capacity = backend.sectors;
    // The spindles of several disks are not synchronised: a seeded phase per disk.
    const phaseNs = opts.model?.phaseNs ?? ctx.rng.below(REV_NS);
    // The geometry is fitted to the backend: every LBA the guest may address has a place.
    this.model = new DiskModel({ ...opts.model, capacityBlocks: backend.sectors, phaseNs });
    this.wce = opts.writeCache ?? true;
    this.busBps = opts.busBytesPerSec ?? ULTRA2_BYTES_PER_S;
    this.depth = opts.queueDepth ?? QUEUE_DEPTH;
    this.serialNo = opts.serial ?? `HTX${String(id).padStart(5, "0")}`;
    this.uaOnReset = opts.unitAttention ?? false;
    this.inquiry = standardInquiry(opts.vendor ?? INQ_VENDOR, opts.product ?? INQ_PRODUCT, opts.revision ?? INQ_REVISION);
    for (const r of opts.faults?.mediumErrors ?? []) this.injectMediumError(r.lba, r.count, r.kind);
    if (opts.faults?.slowdown !== undefined) this.model.setSlowdown(opts.faults.slowdown, 0);
    this.hReconnect = this.sched.handler(`disk${id}.reconnect`, (s) => this.onReconnect(s));
    this.hDone = this.sched.handler(`disk${id}.done`, (s) => this.onDone(s));
    this.reset();
  }

  /** Power on: no tasks, empty cache, arm at cylinder 0. */
  reset(): void {
    for (const e of this.tasks) e.task = null;
    this.tasks = [];
    this.queue = [];
    this.waiting = [];
    this.live.clear(); // pending events find nothing and do nothing
    this.procFreeAt = this.sched.now;
    this.mediaEndAt = this.sched.now;
    this.dirty = 0;
    this.sense.clear();
    this.uaActive = this.uaOnReset;
    this.uaDone.clear();
    this.lastWasWrite = false;
    this.model.reset();
  }

  /** Flush and close the backend (the end of a run). */
  close(): void {
    this.backend.flush();
    this.backend.close();
  }

  // ---- Fault injection ----

  injectMediumError(lba: number, count: number, kind: MediumErrorKind = "both"): void {
    if (!(count > 0) || lba < 0) throw new RangeError(`medium error range ${lba}+${count}`);
    this.faults.push({ lba, count, kind });
  }

  clearMediumErrors(): void {
    this.faults = [];
  }

  /** From now on the mechanism runs `factor` times slower (1 = normal). */
  setSlowdown(factor: number): void {
    this.model.setSlowdown(factor, this.sched.now);
  }

  /** Dirty blocks not yet on the platter, and when the last media write ends. */
  get dirtyBlocks(): number {
    return this.dirty;
  }
  get lastMediaEndNs(): number {
    return this.mediaEndAt;
  }
  /** Tasks accepted and not yet answered. */
  get outstanding(): number {
    return this.tasks.length;
  }

  // ---- The bus side (ScsiTarget) ----

  command(task: ScsiTask, port: ScsiPort): void {
    const cdb = task.cdb;
    const op = cdb.length > 0 ? cdb[0] : -1;
    if (this.trace) this.trace(`disk${this.id} cmd i${task.initiatorId} lun${task.lun} tag${task.tag} ${hex(cdb)}`);
    const init = task.initiatorId;
    if (this.tasks.some((e) => e.task !== null && e.task.initiatorId === init && e.task.tag === task.tag)) {
      this.abortInitiator(init);
      return this.check(task, port, senseData(SK_ABORTED_COMMAND, ASC_OVERLAPPED_COMMANDS, 0));
    }
    if (this.tasks.length >= this.depth) {
      this.stats.queueFull++;
      return port.connect({ task, status: STATUS_QUEUE_FULL });
    }
    if (task.lun !== 0) return this.otherLun(task, port, op);
    if (this.uaActive && !this.uaDone.has(init) && op !== OP_INQUIRY) {
      this.uaDone.add(init);
      const ua = senseData(SK_UNIT_ATTENTION, ASC_POWER_ON_RESET, 0);
      if (op === OP_REQUEST_SENSE) return this.good(task, port, ua.subarray(0, Math.min(cdb[4] ?? 0, SENSE_LEN)));
      return this.check(task, port, ua);
    }
    const len = CDB_LENGTH.get(op);
    if (len === undefined) {
      if (NOT_MODELLED.has(op)) this.ctx.log("unimp", `opcode 0x${op.toString(16)} not modelled; refused as ILLEGAL REQUEST`);
      return this.check(task, port, senseData(SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0));
    }
    if (cdb.length < len) return this.check(task, port, invalidField(0));
    if ((cdb[len - 1] & 0x07) !== 0) return this.check(task, port, invalidField(len - 1)); // NACA, Flag, Link
    switch (op) {
      case OP_TEST_UNIT_READY:
        return this.good(task, port);
      case OP_INQUIRY:
        return this.doInquiry(task, port, 0x00);
      case OP_REQUEST_SENSE:
        return this.doRequestSense(task, port);
      case OP_READ_CAPACITY_10:
        return this.doReadCapacity(task, port);
      case OP_READ_10:
      case OP_WRITE_10:
        return this.doReadWrite(task, port, op === OP_WRITE_10);
      case OP_SYNCHRONIZE_CACHE_10:
        return this.doSync(task, port);
    }
  }

  dataOut(task: ScsiTask, data: Uint8Array, port: ScsiPort): void {
    const e = this.tasks.find((x) => x.task === task)
      ?? this.tasks.find((x) => x.task !== null && x.task.initiatorId === task.initiatorId && x.task.tag === task.tag);
    if (e === undefined || e.kind !== WRITE || e.ready) {
      this.ctx.log("guest-error", `DATA OUT for no waiting write (initiator ${task.initiatorId}, tag ${task.tag}) ignored`);
      return;
    }
    const good = Math.min(e.bad < 0 ? e.n : e.bad - e.lba, Math.floor(data.length / SECTOR));
    if (good > 0) {
      this.snapshotReads(e.lba, good);
      this.backend.write(e.lba, good, data, 0);
    }
    e.ready = true;
    e.dataAt = this.sched.now;
    e.port = port;
    this.stats.writes++;
    this.stats.bytesWritten += good * SECTOR;
    if (this.wce && !e.fua && e.bad < 0 && e.n <= WRITE_BACK_BLOCKS) {
      if (this.waiting.length === 0 && this.dirty + e.n <= WRITE_BACK_BLOCKS) this.admit(e);
      else this.waiting.push(e);
    }
    this.tryStart();
  }

  busReset(): void {
    if (this.trace) this.trace(`disk${this.id} bus reset`);
    for (const e of this.tasks.slice()) this.abort(e);
    this.openReads = [];
    this.tasks = [];
    this.sense.clear();
    this.uaActive = this.uaOnReset;
    this.uaDone.clear();
  }

  // ---- Commands answered at once ----

  private doInquiry(task: ScsiTask, port: ScsiPort, byte0: number): void {
    const cdb = task.cdb;
    if (cdb[1] & 0x1e) return this.check(task, port, invalidField(1, (cdb[1] & 0x02) ? 1 : undefined)); // CmdDt, reserved
    const evpd = (cdb[1] & 1) !== 0;
    const alloc = (cdb[3] << 8) | cdb[4];
    if (!evpd && cdb[2] !== 0) return this.check(task, port, invalidField(2));
    const data = evpd ? this.vpdPage(cdb[2]) : this.inquiry.slice();
    if (data === null) return this.check(task, port, invalidField(2));
    data[0] = byte0;
    this.good(task, port, data.subarray(0, Math.min(alloc, data.length)));
  }

  private vpdPage(page: number): Uint8Array | null {
    if (page === 0x00) return Uint8Array.of(0, 0x00, 0, 2, 0x00, 0x80); // supported pages
    if (page === 0x80) {
      const d = new Uint8Array(4 + this.serialNo.length);
      d[1] = 0x80;
      d[3] = this.serialNo.length;
      putAscii(d, 4, this.serialNo, this.serialNo.length);
      return d;
    }
    return null;
  }

  private doRequestSense(task: ScsiTask, port: ScsiPort): void {
    const cdb = task.cdb;
    if (cdb[1] & 0x01) return this.check(task, port, invalidField(1, 0)); // DESC: fixed format only
    const s = this.sense.get(task.initiatorId) ?? senseData(SK_NO_SENSE, 0, 0);
    this.sense.delete(task.initiatorId);
    this.good(task, port, s.subarray(0, Math.min(cdb[4], SENSE_LEN)));
  }

  private doReadCapacity(task: ScsiTask, port: ScsiPort): void {
    const cdb = task.cdb;
    if (cdb[1] & 0x01) return this.check(task, port, invalidField(1, 0)); // RelAdr
    if ((cdb[8] & 1) === 0 && be32(cdb, 2) !== 0) return this.check(task, port, invalidField(2)); // PMI=0 with an LBA
    const d = new Uint8Array(8);
    putBe32(d, 0, Math.min(this.capacity - 1, 0xffffffff));
    putBe32(d, 4, SECTOR);
    this.good(task, port, d);
  }

  private otherLun(task: ScsiTask, port: ScsiPort, op: number): void {
    if (op === OP_INQUIRY) return this.doInquiry(task, port, 0x7f); // qualifier 3, type 1Fh
    const s = senseData(SK_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
    if (op === OP_REQUEST_SENSE) return this.good(task, port, s.subarray(0, Math.min(task.cdb[4] ?? 0, SENSE_LEN)));
    this.check(task, port, s);
  }

  // ---- Media commands: checked, queued in arrival order ----

  private doReadWrite(task: ScsiTask, port: ScsiPort, write: boolean): void {
    const cdb = task.cdb;
    if (cdb[1] & 0x05) return this.check(task, port, invalidField(1, (cdb[1] & 1) ? 0 : 2)); // RelAdr, reserved
    const lba = be32(cdb, 2);
    const n = (cdb[7] << 8) | cdb[8];
    if (lba >= this.capacity || lba + n > this.capacity) {
      return this.check(task, port, senseData(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0));
    }
    if (n === 0) return this.good(task, port); // SBC: no data, not an error
    const e = this.entry(task, port, write ? WRITE : READ, lba, n, (cdb[1] & 0x08) !== 0);
    e.bad = this.firstBad(lba, n, write);
    if (!write) {
      const good = e.bad < 0 ? n : e.bad - lba;
      e.data = new ReadData(this.backend, lba, good);
      if (good > 0) {
        if (this.openReads.length >= 64) this.openReads = this.openReads.filter((r) => r.open);
        this.openReads.push(e.data);
      }
      e.ready = true;
      this.queue.push(e);
      this.tryStart();
    } else {
      this.queue.push(e); // before connect: the controller may deliver the data at once
      port.connect({ task, dataOutLength: n * SECTOR });
    }
  }

  private doSync(task: ScsiTask, port: ScsiPort): void {
    const cdb = task.cdb;
    if (cdb[1] & 0x01) return this.check(task, port, invalidField(1, 0)); // RelAdr
    const lba = be32(cdb, 2);
    const n = (cdb[7] << 8) | cdb[8]; // 0 = to the end of the medium
    if (lba >= this.capacity || lba + n > this.capacity) {
      return this.check(task, port, senseData(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0));
    }
    const e = this.entry(task, port, SYNC, lba, n, false);
    e.ready = true;
    this.queue.push(e);
    if (cdb[1] & 0x02) this.sendStatus(e); // IMMED: GOOD now, the flush follows in order
    this.tryStart();
  }

  private entry(task: ScsiTask, port: ScsiPort, kind: Entry["kind"], lba: number, n: number, fua: boolean): Entry {
    const e: Entry = {
      serial: ++this.serial, task, port, kind, lba, n, fua, bad: -1, data: null, ready: false, dataAt: 0,
      afterWrite: this.lastWasWrite, writeBack: false, started: false, status: STATUS_GOOD, sense: null,
      paceEndNs: 0, events: 0,
    };
    if (kind !== SYNC) this.lastWasWrite = kind === WRITE;
    this.tasks.push(e);
    return e;
  }

  // ---- The mechanism: one media command at a time, in arrival order ----

  private tryStart(): void {
    const now = this.sched.now;
    while (this.queue.length > 0 && this.procFreeAt <= now && this.queue[0].ready) {
      const e = this.queue.shift() as Entry;
      e.started = true;
      const busy0 = this.model.busyNs;
      const free = this.start(e, now);
      this.stats.busyNs += this.model.busyNs - busy0;
      this.procFreeAt = free;
      if (free > now) return this.schedule(e, this.hDone, free);
      this.finish(e);
    }
  }

  /** Start e's media work at t; returns when the disk may take the next command. */
  private start(e: Entry, t: number): number {
    const m = this.model;
    if (e.kind === READ) {
      this.stats.reads++;
      let timing;
      let end;
      if (e.bad < 0) {
        timing = m.read(e.lba, e.n, t, e.fua);
        end = timing.mediaEndNs;
      } else {
        const r = m.readFailing(e.lba, e.bad, t);
        timing = r.timing;
        end = r.errorNs;
        this.failed(e, senseData(SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR, 0, e.bad));
      }
      if (timing.kind === HIT) this.stats.cacheHits++;
      else if (timing.kind === STREAM) this.stats.streamHits++;
      else this.stats.misses++;
      const bytes = (e.data as ReadData).length;
      this.stats.bytesRead += bytes;
      const at = Math.max(timing.readyNs, end - this.busNs(bytes));
      e.paceEndNs = end > at ? end : 0;
      if (this.trace) {
        this.trace(`disk${this.id} read lba ${e.lba} n ${e.n} ${["hit", "stream", "miss"][timing.kind]} seek ${timing.seekCyl} rot ${timing.rotNs} end ${end}`);
      }
      this.schedule(e, this.hReconnect, at);
      return Math.max(timing.readyNs, end);
    }
    if (e.kind === WRITE) {
      const w = this.waiting.indexOf(e);
      if (w >= 0) this.waiting.splice(w, 1); // cannot happen (see admit), but never leave it waiting
      const ovh = e.writeBack ? 0 : m.overheadNs(e.afterWrite ? WRITE_MISS_OVERHEAD_AFTER_WRITE_NS : WRITE_MISS_OVERHEAD_AFTER_READ_NS);
      let end;
      if (e.bad < 0) {
        end = m.write(e.lba, e.n, t, ovh).mediaEndNs;
      } else {
        end = m.writeFailing(e.lba, e.bad, t, ovh).errorNs;
        this.failed(e, senseData(SK_MEDIUM_ERROR, ASC_WRITE_ERROR, 0, e.bad));
      }
      if (this.trace) this.trace(`disk${this.id} write lba ${e.lba} n ${e.n} ${e.writeBack ? "destage" : "through"} end ${end}`);
      this.mediaEndAt = end;
      return end;
    }
    this.backend.flush(); // SYNCHRONIZE CACHE: every earlier write is on the platter now
    if (e.task !== null) this.schedule(e, this.hReconnect, t);
    return t;
  }

  /** The disk is free of e: release its write-back room, or answer a write-through. */
  private finish(e: Entry): void {
    if (e.kind !== WRITE) return;
    if (e.writeBack) {
      this.dirty -= e.n;
      while (this.waiting.length > 0 && this.dirty + this.waiting[0].n <= WRITE_BACK_BLOCKS) {
        this.admit(this.waiting.shift() as Entry);
      }
    } else {
      this.sendStatus(e);
    }
  }

  /** e's blocks count as dirty; its GOOD status goes after the write-hit overhead. */
  private admit(e: Entry): void {
    e.writeBack = true;
    this.dirty += e.n;
    if (e.task === null) return;
    const ovh = this.model.overheadNs(e.afterWrite ? WRITE_HIT_OVERHEAD_AFTER_WRITE_NS : WRITE_HIT_OVERHEAD_AFTER_READ_NS);
    this.schedule(e, this.hReconnect, Math.max(this.sched.now, e.dataAt + ovh));
  }

  private failed(e: Entry, sense: Uint8Array): void {
    e.status = STATUS_CHECK_CONDITION;
    e.sense = sense;
    this.stats.mediumErrors++;
  }

  // ---- Events ----

  private schedule(e: Entry, h: Handler, t: number): void {
    e.events++;
    this.live.set(e.serial, e);
    this.sched.at(t, h, e.serial);
  }

  private take(serial: number): Entry | undefined {
    const e = this.live.get(serial);
    if (e !== undefined && --e.events === 0) this.live.delete(serial);
    return e;
  }

  private onReconnect(serial: number): void {
    const e = this.take(serial);
    if (e !== undefined) this.sendStatus(e);
  }

  private onDone(serial: number): void {
    const e = this.take(serial);
    if (e === undefined) return; // reset since
    this.finish(e);
    this.tryStart();
  }

  // ---- Status and sense ----

  /** Reselect and finish e's task: data (if a read), STATUS, COMMAND COMPLETE. */
  private sendStatus(e: Entry): void {
    const task = e.task;
    if (task === null) return;
    e.task = null;
    this.dropTask(e);
    if (e.status === STATUS_CHECK_CONDITION) {
      this.stats.checkConditions++;
      this.sense.set(task.initiatorId, e.sense as Uint8Array);
    }
    const data = e.data;
    e.data = null;
    if (this.trace) this.trace(`disk${this.id} status i${task.initiatorId} tag${task.tag} 0x${e.status.toString(16)}`);
    if (data !== null && data.length > 0) {
      e.port.connect(e.paceEndNs > this.sched.now
        ? { task, dataIn: data, status: e.status, paceEndNs: e.paceEndNs }
        : { task, dataIn: data, status: e.status });
    } else {
      e.port.connect({ task, status: e.status });
    }
  }

  private good(task: ScsiTask, port: ScsiPort, data?: Uint8Array): void {
    port.connect(data !== undefined && data.length > 0 ? { task, dataIn: data, status: STATUS_GOOD } : { task, status: STATUS_GOOD });
  }

  private check(task: ScsiTask, port: ScsiPort, sense: Uint8Array): void {
    this.stats.checkConditions++;
    this.sense.set(task.initiatorId, sense);
    if (this.trace) this.trace(`disk${this.id} check i${task.initiatorId} tag${task.tag} key ${sense[2]} asc 0x${sense[12].toString(16)}`);
    const why = guestMistake(sense);
    if (why !== undefined && !(sense[12] === ASC_INVALID_OPCODE && NOT_MODELLED.has(task.cdb[0]))) {
      this.ctx.log("guest-error", `${why} (opcode 0x${(task.cdb[0] ?? 0).toString(16)}, initiator ${task.initiatorId}, tag ${task.tag}): CHECK CONDITION`);
    }
    port.connect({ task, status: STATUS_CHECK_CONDITION });
  }

  // ---- Aborts ----

  /** SCSI-2 7.5.2: an overlapped command aborts every task of that initiator. */
  private abortInitiator(init: number): void {
    for (const e of this.tasks.slice()) if (e.task !== null && e.task.initiatorId === init) this.abort(e);
  }

  /** The task ends without status. Data already taken stays written (and destages). */
  private abort(e: Entry): void {
    if (e.data !== null) e.data.open = false; // never sent
    e.task = null;
    this.dropTask(e);
    const w = this.waiting.indexOf(e);
    if (w >= 0) this.waiting.splice(w, 1);
    if (!e.started && !(e.kind === WRITE && e.ready)) {
      const q = this.queue.indexOf(e);
      if (q >= 0) this.queue.splice(q, 1);
    }
  }

  /** Blocks [lba, lba + n) are about to be written: reads not yet copied out keep the old ones. */
  private snapshotReads(lba: number, n: number): void {
    let j = 0;
    for (const r of this.openReads) {
      if (!r.open) continue;
      if (r.overlaps(lba, n)) r.snapshot();
      else this.openReads[j++] = r;
    }
    this.openReads.length = j;
  }

  private dropTask(e: Entry): void {
    const i = this.tasks.indexOf(e);
    if (i >= 0) this.tasks.splice(i, 1);
  }

  // ---- Helpers ----

  private firstBad(lba: number, n: number, write: boolean): number {
    let bad = -1;
    for (const f of this.faults) {
      if (f.kind !== "both" && (f.kind === "write") !== write) continue;
      const lo = Math.max(f.lba, lba);
      if (lo < Math.min(f.lba + f.count, lba + n) && (bad < 0 || lo < bad)) bad = lo;
    }
    return bad;
  }

  private busNs(bytes: number): number {
    return Math.ceil((bytes * 1e9) / this.busBps);
  }
}
