// The wire: a 1 Gb/s full-duplex Ethernet link between two endpoints (the AceNIC and
// the measurement client, a second NIC, or the host network in appliance mode).
//
// Serialization (IEEE 802.3 at 1000 Mb/s, 8 ns per byte): a frame handed over without
// preamble and FCS occupies the transmitter for
//   8 (preamble + SFD) + max(frame + 4 FCS, 64) + 12 (inter-frame gap) bytes.
// A 1500-byte IP packet is a 1514-byte frame: 8 + 1518 + 12 = 1538 byte times =
// 12,304 ns. Back to back that is 81,274.4 frames/s, and 1500 bytes of IP payload per
// 1538 byte times = 1e9 * 1500 / 1538 = 975,292,587.8 bit/s of IP payload (957.4
// Mbit/s of UDP payload, 1472 bytes per frame). The receiver gets the frame when its
// last FCS bit arrives: (8 + 1518) * 8 ns after the transmitter started it, plus the
// optional propagation delay; the gap is then the next frame's to wait out.
//
// Cost: no scheduler events and no allocation per frame. send() works out the times
// by arithmetic (each direction keeps a busy-until time) and calls the peer's
// receive() synchronously, handing it the arrival time, which may lie in the virtual
// future: an endpoint that must act at that time schedules its own event (the NIC
// does), one that only records (the measurement client, the pcap tap) need not. So a
// burst of back-to-back frames costs one function call each. Callers hand frames to
// one direction in nondecreasing readyNs order; a frame handed over "early" queues
// behind its predecessor (FIFO), as in a real transmit queue.
//
// Gather lists. A NIC that sends a frame from several buffers (a header it built and a
// payload still in guest RAM) can hand the pieces over as they are (sendParts): no
// copy into one buffer. An endpoint that can read pieces says so (receiveParts); for
// the others, and for the tap, the wire joins the pieces into one buffer of its own
// first (a copy, and a view per piece: the slow path, for captures and simple
// endpoints). Either way the bytes are the same; pieces save a copy of each payload.
//
// Interface:
//   Endpoint          receive(frame, timeNs): the frame excludes preamble and FCS and
//                     the view is valid only during the call (copy what you keep);
//                     optional receiveParts(parts, timeNs), same rules
//   Port              send(frame, readyNs) -> the time the frame's last bit has left;
//                     sendParts(parts, readyNs) -> the same for a gather list
//   FrameParts        a reusable gather list: clear(), add(buf, off, len), n, length,
//                     buf[k] / off[k] / len[k], joinInto(dst)
//   Tap               capture(frame, timeNs), e.g. a PcapWriter (pcap.ts)
//   new Wire(opts)    propagationNs (default 0), tap
//   attach(side, ep)  connect side 0 or 1; returns the Port that side transmits on
//   wireTimeNs(len)   transmitter occupancy of one frame, ns
//   stats             frames, bytes (frame bytes, no FCS), busy ns per direction

export interface Endpoint {
  receive(frame: Uint8Array, timeNs: number): void;
  /** A frame in pieces (see FrameParts); without it the wire joins them first. */
  receiveParts?(parts: FrameParts, timeNs: number): void;
}

/**
 * A frame as a gather list: piece k is buf[k][off[k], off[k] + len[k]). Senders keep
 * one and refill it per frame (no allocation); receivers may not keep it.
 */
export class FrameParts {
  n = 0;
  /** Total bytes. */
  length = 0;
  readonly buf: Uint8Array[] = [];
  readonly off: number[] = [];
  readonly len: number[] = [];

  clear(): void {
    this.n = 0;
    this.length = 0;
  }

  add(buf: Uint8Array, off: number, len: number): void {
    const k = this.n++;
    this.buf[k] = buf;
    this.off[k] = off;
    this.len[k] = len;
    this.length += len;
  }

  /** Copy the pieces, in order, to dst from 0; returns the frame's length. */
  joinInto(dst: Uint8Array): number {
    let at = 0;
    for (let k = 0; k < this.n; k++) {
      const o = this.off[k];
      dst.set(this.buf[k].subarray(o, o + this.len[k]), at);
      at += this.len[k];
    }
    return at;
  }
}

export interface Port {
  /**
   * Transmit `frame` (no preamble, no FCS) as soon as the wire is free and not before
   * readyNs (integer ns). Returns the time its last bit has left the transmitter.
   */
  send(frame: Uint8Array, readyNs: number): number;
  /** send() for a frame in pieces. */
  sendParts(parts: FrameParts, readyNs: number): number;
}

export interface Tap {
  capture(frame: Uint8Array, timeNs: number): void;
}

/** 1 Gb/s: one byte every 8 ns. */
export const NS_PER_BYTE = 8;
/** Preamble (7) + start-of-frame delimiter (1). */
export const PREAMBLE_BYTES = 8;
/** Minimum inter-frame gap: 96 bit times. */
export const IFG_BYTES = 12;
export const FCS_BYTES = 4;
/** Minimum frame including FCS; shorter frames are padded. */
export const MIN_FRAME_BYTES = 64;

/** Time from the first preamble bit to the last FCS bit, ns. */
export function frameTimeNs(frameLen: number): number {
  const f = frameLen + FCS_BYTES;
  return (PREAMBLE_BYTES + (f < MIN_FRAME_BYTES ? MIN_FRAME_BYTES : f)) * NS_PER_BYTE;
}

/** Transmitter occupancy of one frame including the inter-frame gap, ns. */
export function wireTimeNs(frameLen: number): number {
  return frameTimeNs(frameLen) + IFG_BYTES * NS_PER_BYTE;
}

export interface WireOptions {
  /** One-way propagation delay, ns (default 0; 5 ns per metre of fibre). */
  propagationNs?: number;
  /** Sees every frame of both directions, stamped with the time it has left. */
  tap?: Tap;
}

/** One direction of the link: the transmitter of `side` and the receiver opposite. */
class Direction implements Port {
  /** Earliest time the next frame's preamble may start, ns. */
  busyUntil = 0;
  frames = 0;
  bytes = 0;
  busyNs = 0;
  /** The receiving endpoint (the other side), once attached. */
  peer: Endpoint | undefined;

  /** Where gather lists are joined for a tap or an endpoint without receiveParts. */
  private joined: Uint8Array | undefined;

  constructor(private readonly wire: Wire) {}

  send(frame: Uint8Array, readyNs: number): number {
    const left = this.occupy(frame.length, readyNs);
    const w = this.wire;
    if (w.tap !== undefined) w.tap.capture(frame, left);
    if (this.peer !== undefined) this.peer.receive(frame, left + w.propagationNs);
    return left;
  }

  sendParts(parts: FrameParts, readyNs: number): number {
    const left = this.occupy(parts.length, readyNs);
    const w = this.wire;
    const peer = this.peer;
    let flat: Uint8Array | undefined;
    if (w.tap !== undefined) w.tap.capture((flat = this.join(parts)), left);
    if (peer !== undefined) {
      if (peer.receiveParts !== undefined) peer.receiveParts(parts, left + w.propagationNs);
      else peer.receive(flat ?? this.join(parts), left + w.propagationNs);
    }
    return left;
  }

  /** The transmitter's time for a frame of `len` bytes ready at readyNs: when it has left. */
  private occupy(len: number, readyNs: number): number {
    const start = readyNs > this.busyUntil ? readyNs : this.busyUntil;
    const ft = frameTimeNs(len);
    const left = start + ft;
    this.busyUntil = left + IFG_BYTES * NS_PER_BYTE;
    this.frames++;
    this.bytes += len;
    this.busyNs += ft + IFG_BYTES * NS_PER_BYTE;
    return left;
  }

  private join(parts: FrameParts): Uint8Array {
    if (this.joined === undefined || this.joined.length < parts.length) this.joined = new Uint8Array(Math.max(parts.length, 16384));
    return this.joined.subarray(0, parts.joinInto(this.joined));
  }
}

export class Wire {
  readonly propagationNs: number;
  tap: Tap | undefined;
  /** dir[s] carries frames sent by side s to side 1 - s. */
  private readonly dir: [Direction, Direction];

  constructor(opts: WireOptions = {}) {
    const p = opts.propagationNs ?? 0;
    if (!Number.isSafeInteger(p) || p < 0) throw new Error(`wire: propagationNs must be a non-negative integer, got ${p}`);
    this.propagationNs = p;
    this.tap = opts.tap;
    this.dir = [new Direction(this), new Direction(this)];
  }

  /** Connect `ep` as side 0 or 1. Frames sent by the other side reach ep.receive(). */
  attach(side: 0 | 1, ep: Endpoint): Port {
    this.dir[1 - side].peer = ep;
    return this.dir[side];
  }

  /** Per-direction counters: index = transmitting side. */
  stats(side: 0 | 1): { frames: number; bytes: number; busyNs: number; busyUntil: number } {
    const d = this.dir[side];
    return { frames: d.frames, bytes: d.bytes, busyNs: d.busyNs, busyUntil: d.busyUntil };
  }
}
