// The SCSI bus seen from both ends: the controller (initiator, lsi53c895.ts) and the
// targets (disks, scsi-disk.ts). This file holds only the contract between them and
// the SCSI constants both sides use; it has no behaviour.
//
// A task's life on the bus (SCSI-2 initiator flow):
//   1. The controller selects the target and sends IDENTIFY [+ SIMPLE QUEUE TAG] and
//      the CDB; then calls target.command(task, port).
//   2. A target that can answer at once calls port.connect(r) *inside* command(): the
//      connection continues (no disconnect). Otherwise it returns without connecting:
//      the controller sees MSG IN DISCONNECT, and the target calls port.connect(r)
//      later (from its own scheduled event) to reselect the initiator.
//   3. A connection carries at most one data phase then, if r.status is set, STATUS
//      and COMMAND COMPLETE (the task ends). With r.dataOutLength the controller
//      delivers the bytes by target.dataOut(task, data) when the DATA OUT phase ends;
//      the target may call port.connect again inside dataOut() to keep the connection
//      (e.g. send status at once), or later (reselect).
//   4. The bus carries one connection at a time at the Ultra2 rate; pending reconnects
//      wait for it (highest SCSI ID first, as arbitration does).
//
// Times are virtual ns (see host/sched.ts). A target never touches guest memory: data
// moves between its buffers and RAM only by the controller's DMA.

// The constants (status, messages, opcodes, sense) live in common/scsi-defs.ts, shared
// with the guests' driver; they are re-exported here for the device models.
export * from "../common/scsi-defs.js";

export interface ScsiTask {
  readonly initiatorId: number;
  readonly targetId: number;
  readonly lun: number;
  /** Queue tag 0..255, or -1 for an untagged command. */
  readonly tag: number;
  /** The command descriptor block (a copy owned by the task). */
  readonly cdb: Uint8Array;
}

/**
 * DATA IN bytes a target leaves where it keeps them (a disk: its backing store) until
 * the controller's DMA takes them, so they are copied once, straight into RAM. The
 * target keeps them unchanged until then (a disk snapshots a read its own later
 * writes would overwrite).
 */
export interface DataInSource {
  readonly length: number;
  /** Copy bytes [from, from + n) of the data to dst at dstOff. */
  copyTo(from: number, n: number, dst: Uint8Array, dstOff: number): void;
}

/** All of a connection's DATA IN bytes, copied (for tests and traces). */
export function dataInBytes(d: Uint8Array | DataInSource): Uint8Array {
  if (d instanceof Uint8Array) return d.slice();
  const out = new Uint8Array(d.length);
  d.copyTo(0, d.length, out, 0);
  return out;
}

/** What a target will do once it holds the bus. */
export interface Connection {
  readonly task: ScsiTask;
  /** DATA IN bytes for the initiator (the controller copies them out by DMA). */
  readonly dataIn?: Uint8Array | DataInSource;
  /** Bytes the target wants in a DATA OUT phase. */
  readonly dataOutLength?: number;
  /** If set, STATUS with this byte and COMMAND COMPLETE follow the data phase. */
  readonly status?: number;
  /**
   * The data phase cannot end before this time (ns): the target's media still
   * streams into its buffer. The controller ends the phase at
   * max(bus-rate finish, paceEndNs). Omit when the data is all in the buffer.
   */
  readonly paceEndNs?: number;
}

export interface ScsiPort {
  /** The target asks for the bus to carry out `c` (see the life cycle above). */
  connect(c: Connection): void;
}

export interface ScsiTarget {
  readonly id: number;
  /** COMMAND phase done at sched.now: the target owns the task from here on. */
  command(task: ScsiTask, port: ScsiPort): void;
  /** DATA OUT phase done: `data` is valid only during the call (copy it). */
  dataOut(task: ScsiTask, data: Uint8Array, port: ScsiPort): void;
  /** SCSI bus reset or controller reset: drop every task, no reconnections after. */
  busReset(): void;
}
