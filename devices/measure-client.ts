// The measurement client of the paper's experiments, as a wire Endpoint: it receives
// the server's stream traffic, counts bytes per flow per time window, verifies the
// payload against what the stream should contain, and can send frames toward the
// server (requests, or RX tests of the NIC).
//
// Parsing: Ethernet (an 802.1Q tag is skipped), IPv4, UDP. Anything else is counted
// (otherFrames, nonUdp, fragments, badIp) and otherwise ignored.
//
// Flows. By default a flow is the destination (IPv4 address, UDP port) — one per
// receiving client socket, which is how the paper counts streams; with
// flowBy: "tuple" it is (source address, source port, destination address, port).
// flowKey strings: "10.0.0.2:5001" (dst) or "10.0.0.1:4000>10.0.0.2:5001" (tuple).
//
// Stream header. Every UDP payload of stream traffic starts with 16 bytes, network
// (big-endian) byte order:
//   +0  u32  stream id      the sender's number for the stream (e.g. file/stream slot)
//   +4  u32  sequence       packet number within the stream, +1 per packet, from 0
//   +8  u64  byte offset    offset within the stream of the first data byte below
//   +16 data ...            (UDP length - 8 - 16) bytes of stream data
// The verifier asks expected(flowKey, byteOffset, length, streamId) for the bytes the
// stream holds there (a Uint8Array of at least `length` bytes, or undefined to skip)
// and compares ranges with Buffer.compare (no per-byte JavaScript loop, no copy).
// Or, cheaper, content(flowKey, streamId) gives a stream's whole content once (byte
// offset o is content[o]; data past its end is a mismatch), kept with the flow.
// Frames handed over in pieces (wire.ts FrameParts: headers, then the data) are read
// where they lie; other piece layouts are joined into one buffer first.
// A payload shorter than 16 bytes is counted (shortPayload) and not verified.
//
// Series. For each flow and each window size in windowsNs (default 10 ms and 1 s) the
// client keeps UDP payload bytes (stream header included: what a client socket reads)
// per window, window i covering [i*w, (i+1)*w) ns of arrival time. Frames arrive with
// their wire arrival times, which can be ahead of the scheduler's now (the NIC hands
// bursts over early); read series up to sched.now only.
//
// Interface:
//   new MeasureClient(opts)       windowsNs, flowBy, expected or content
//   connect(port)                 the wire side it transmits on; send(frame, atNs)
//   receive(frame, timeNs)        Endpoint; receiveParts(parts, timeNs)
//   flows(), flow(key)            per-flow counters and series (Flow)
//   counters                      totals over all frames
//   writeUdpFrame(buf, off, spec) build an Ethernet/IPv4/UDP frame with a stream
//                                 header (for guests' test data and for injection)

import type { Endpoint, FrameParts, Port } from "./wire.js";

export const STREAM_HEADER_BYTES = 16;
const ETH_HDR = 14;

export type ExpectedFn = (flowKey: string, byteOffset: number, length: number, streamId: number) => Uint8Array | undefined;
/** A stream's whole content (undefined: do not verify it). */
export type ContentFn = (flowKey: string, streamId: number) => Uint8Array | undefined;

export interface MeasureClientOptions {
  /** Window sizes for the per-flow byte series, ns (default [10 ms, 1 s]). */
  windowsNs?: readonly number[];
  /** "dst" (default): flow = destination address + port; "tuple": the 4-tuple. */
  flowBy?: "dst" | "tuple";
  /** Expected stream contents by range; without it (or content) payload is not verified. */
  expected?: ExpectedFn;
  /** Expected stream contents, whole; takes precedence over expected. */
  content?: ContentFn;
}

/** Per-flow state. Series hold UDP payload bytes per window. */
export class Flow {
  frames = 0;
  /** IPv4 total-length bytes. */
  ipBytes = 0;
  /** UDP payload bytes (stream header included). */
  udpBytes = 0;
  /** Stream data bytes (after the 16-byte header). */
  dataBytes = 0;
  firstNs = -1;
  lastNs = -1;
  /** Packets missing according to the stream sequence numbers (gaps seen). */
  lost = 0;
  /** Packets whose sequence number was below the last one seen. */
  reordered = 0;
  shortPayload = 0;
  /** Data bytes compared equal / frames with a difference / frames not verified. */
  verifiedBytes = 0;
  mismatches = 0;
  unverified = 0;
  /** series[w][i]: UDP payload bytes in window i of size windowsNs[w]. */
  readonly series: Float64Array[];
  /** Number of windows in use per series (highest index seen + 1). */
  readonly seriesLength: number[];
  /** Last sequence number per stream id. */
  private readonly lastSeq = new Map<number, number>();
  private cachedStream = -1;
  private cachedSeq = -1;
  /** The content (ContentFn) of stream contentStream, asked once per stream change. */
  contentStream = -1;
  content: Uint8Array | undefined;

  constructor(
    readonly key: string,
    readonly srcIp: number,
    readonly srcPort: number,
    readonly dstIp: number,
    readonly dstPort: number,
    nWindows: number,
  ) {
    this.series = [];
    this.seriesLength = [];
    for (let i = 0; i < nWindows; i++) {
      this.series.push(new Float64Array(64));
      this.seriesLength.push(0);
    }
  }

  /** Series w trimmed to the windows seen (a copy). */
  seriesOf(w: number): Float64Array {
    return this.series[w].slice(0, this.seriesLength[w]);
  }

  /** Record the sequence number of a packet of `stream`. */
  seq(stream: number, seq: number): void {
    if (stream !== this.cachedStream) {
      // Most flows carry one stream: the map is touched only when the stream changes.
      if (this.cachedStream >= 0) this.lastSeq.set(this.cachedStream, this.cachedSeq);
      this.cachedStream = stream;
      this.cachedSeq = this.lastSeq.get(stream) ?? -1;
    }
    const last = this.cachedSeq;
    if (seq > last) {
      this.lost += seq - last - 1;
      this.cachedSeq = seq;
    } else {
      this.reordered++;
      if (this.lost > 0) this.lost--; // a late packet fills a gap counted as lost
    }
  }

  /** Add bytes to window index i of series w (growing it by doubling). */
  add(w: number, i: number, bytes: number): void {
    let s = this.series[w];
    if (i >= s.length) {
      let n = s.length;
      while (n <= i) n *= 2;
      const g = new Float64Array(n);
      g.set(s);
      s = this.series[w] = g;
    }
    s[i] += bytes;
    if (i >= this.seriesLength[w]) this.seriesLength[w] = i + 1;
  }
}

const compareRange = Buffer.prototype.compare as (this: Uint8Array, target: Uint8Array, targetStart: number, targetEnd: number, sourceStart: number, sourceEnd: number) => number;

export class MeasureClient implements Endpoint {
  readonly windowsNs: readonly number[];
  readonly flowBy: "dst" | "tuple";
  expected: ExpectedFn | undefined;
  content: ContentFn | undefined;
  readonly counters = { frames: 0, bytes: 0, otherFrames: 0, nonUdp: 0, fragments: 0, badIp: 0, udpFrames: 0, sentFrames: 0 };
  /** dst mode: dstKey -> Flow; tuple mode: dstKey -> (srcKey -> Flow). */
  private readonly byDst = new Map<number, Flow>();
  private readonly byTuple = new Map<number, Map<number, Flow>>();
  private readonly all: Flow[] = [];
  private lastDst = -1;
  private readonly flowCache: (Flow | undefined)[] = new Array<Flow | undefined>(1024).fill(undefined);
  /** Where frames in other piece layouts are joined. */
  private joined = new Uint8Array(16384);
  private lastSrc = -1;
  private lastFlow: Flow | undefined;
  private port: Port | undefined;

  constructor(opts: MeasureClientOptions = {}) {
    this.windowsNs = opts.windowsNs ?? [10_000_000, 1_000_000_000];
    for (const w of this.windowsNs) if (!Number.isSafeInteger(w) || w <= 0) throw new Error(`measure-client: bad window ${w}`);
    this.flowBy = opts.flowBy ?? "dst";
    this.expected = opts.expected;
    this.content = opts.content;
  }

  connect(port: Port): void {
    this.port = port;
  }

  /** Send a frame toward the server, not before atNs. Returns the time it has left. */
  send(frame: Uint8Array, atNs: number): number {
    if (this.port === undefined) throw new Error("measure-client: not connected to a wire");
    this.counters.sentFrames++;
    return this.port.send(frame, atNs);
  }

  flows(): readonly Flow[] {
    return this.all;
  }

  flow(key: string): Flow | undefined {
    return this.all.find((f) => f.key === key);
  }

  receive(frame: Uint8Array, timeNs: number): void {
    this.take(frame, frame.length, frame, 0, timeNs);
  }

  receiveParts(parts: FrameParts, timeNs: number): void {
    // Headers in the first piece, stream data in the second: read them where they lie.
    if (parts.n === 2 && parts.off[0] === 0 && dataStart(parts.buf[0], parts.len[0]) === parts.len[0]) {
      this.take(parts.buf[0], parts.length, parts.buf[1], parts.off[1] - parts.len[0], timeNs);
      return;
    }
    if (this.joined.length < parts.length) this.joined = new Uint8Array(parts.length);
    const n = parts.joinInto(this.joined);
    this.take(this.joined, n, this.joined, 0, timeNs);
  }

  /**
   * One frame of n bytes: byte i is head[i] for the headers (at least up to the stream
   * data, or all n), and data[dataBase + i] for the stream data.
   */
  private take(frame: Uint8Array, n: number, data: Uint8Array, dataBase: number, timeNs: number): void {
    const c = this.counters;
    c.frames++;
    c.bytes += n;
    let l3 = ETH_HDR;
    if (n < ETH_HDR + 20) {
      c.otherFrames++;
      return;
    }
    let et = (frame[12] << 8) | frame[13];
    if (et === 0x8100) {
      et = (frame[16] << 8) | frame[17];
      l3 += 4;
    }
    if (et !== 0x0800) {
      c.otherFrames++;
      return;
    }
    const ihl = (frame[l3] & 15) * 4;
    const total = (frame[l3 + 2] << 8) | frame[l3 + 3];
    if (frame[l3] >> 4 !== 4 || ihl < 20 || total < ihl || l3 + total > n) {
      c.badIp++;
      return;
    }
    if (frame[l3 + 9] !== 17) {
      c.nonUdp++;
      return;
    }
    if ((((frame[l3 + 6] << 8) | frame[l3 + 7]) & 0x3fff) !== 0) {
      c.fragments++;
      return;
    }
    const l4 = l3 + ihl;
    const udpLen = (frame[l4 + 4] << 8) | frame[l4 + 5];
    if (udpLen < 8 || l4 + udpLen > l3 + total) {
      c.badIp++;
      return;
    }
    c.udpFrames++;
    const srcIp = u32be(frame, l3 + 12);
    const dstIp = u32be(frame, l3 + 16);
    const srcPort = (frame[l4] << 8) | frame[l4 + 1];
    const dstPort = (frame[l4 + 2] << 8) | frame[l4 + 3];
    const f = this.lookup(srcIp, srcPort, dstIp, dstPort);
    const payload = udpLen - 8;
    f.frames++;
    f.ipBytes += total;
    f.udpBytes += payload;
    if (f.firstNs < 0) f.firstNs = timeNs;
    f.lastNs = timeNs;
    const ws = this.windowsNs;
    for (let w = 0; w < ws.length; w++) f.add(w, Math.floor(timeNs / ws[w]), payload);
    if (payload < STREAM_HEADER_BYTES) {
      f.shortPayload++;
      return;
    }
    const p = l4 + 8;
    const stream = u32be(frame, p);
    const seq = u32be(frame, p + 4);
    const byteOffset = u32be(frame, p + 8) * 4294967296 + u32be(frame, p + 12);
    f.seq(stream, seq);
    const dataLen = payload - STREAM_HEADER_BYTES;
    f.dataBytes += dataLen;
    const d0 = dataBase + p + STREAM_HEADER_BYTES;
    if (this.content !== undefined) {
      if (f.contentStream !== stream) {
        f.contentStream = stream;
        f.content = this.content(f.key, stream);
      }
      const exp = f.content;
      if (exp === undefined) f.unverified++;
      else if (byteOffset + dataLen > exp.length || compareRange.call(data, exp, byteOffset, byteOffset + dataLen, d0, d0 + dataLen) !== 0) f.mismatches++;
      else f.verifiedBytes += dataLen;
      return;
    }
    if (this.expected === undefined) {
      f.unverified++;
      return;
    }
    const exp = this.expected(f.key, byteOffset, dataLen, stream);
    if (exp === undefined) f.unverified++;
    else if (exp.length < dataLen || compareRange.call(data, exp, 0, dataLen, d0, d0 + dataLen) !== 0) f.mismatches++;
    else f.verifiedBytes += dataLen;
  }

  private lookup(srcIp: number, srcPort: number, dstIp: number, dstPort: number): Flow {
    const dk = dstIp * 65536 + dstPort;
    const sk = this.flowBy === "tuple" ? srcIp * 65536 + srcPort : 0;
    if (dk === this.lastDst && sk === this.lastSrc && this.lastFlow !== undefined) return this.lastFlow;
    // Interleaved flows (many streams to one client): a direct-mapped cache by port.
    const ci = (dstPort ^ srcPort) & 1023;
    const hit = this.flowCache[ci];
    if (hit !== undefined && hit.dstIp === dstIp && hit.dstPort === dstPort && (this.flowBy === "dst" || (hit.srcIp === srcIp && hit.srcPort === srcPort))) {
      this.lastDst = dk;
      this.lastSrc = sk;
      this.lastFlow = hit;
      return hit;
    }
    let f: Flow | undefined;
    if (this.flowBy === "dst") {
      f = this.byDst.get(dk);
      if (f === undefined) {
        f = new Flow(`${ipString(dstIp)}:${dstPort}`, 0, 0, dstIp, dstPort, this.windowsNs.length);
        this.byDst.set(dk, f);
        this.all.push(f);
      }
    } else {
      let m = this.byTuple.get(dk);
      if (m === undefined) this.byTuple.set(dk, (m = new Map()));
      f = m.get(sk);
      if (f === undefined) {
        f = new Flow(`${ipString(srcIp)}:${srcPort}>${ipString(dstIp)}:${dstPort}`, srcIp, srcPort, dstIp, dstPort, this.windowsNs.length);
        m.set(sk, f);
        this.all.push(f);
      }
    }
    this.lastDst = dk;
    this.lastSrc = sk;
    this.lastFlow = f;
    this.flowCache[ci] = f;
    return f;
  }
}

/**
 * Where the stream data of an Ethernet/IPv4/UDP frame starts (after the UDP header and
 * the 16-byte stream header), from its first `len` bytes in b; -1 when those bytes do
 * not hold all of the headers.
 */
function dataStart(b: Uint8Array, len: number): number {
  let l3 = ETH_HDR;
  if (len < ETH_HDR + 20) return -1;
  if (((b[12] << 8) | b[13]) === 0x8100) l3 += 4;
  if (len < l3 + 20) return -1;
  const end = l3 + (b[l3] & 15) * 4 + 8 + STREAM_HEADER_BYTES;
  return end <= len ? end : -1;
}

// ---------------------------------------------------------------------------------
// Building frames

export interface UdpFrameSpec {
  dstMac: ArrayLike<number>;
  srcMac: ArrayLike<number>;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  /** UDP payload bytes, stream header included (>= 16 when `stream` is given). */
  payloadLength: number;
  /** Writes the 16-byte stream header at the start of the payload. */
  stream?: { id: number; seq: number; byteOffset: number };
  /** Stream data after the header (or the whole payload without `stream`). */
  data?: Uint8Array;
  ipId?: number;
  ttl?: number;
  /** "compute" (default) or "zero" (left for the NIC's offload or absent). */
  ipChecksum?: "compute" | "zero";
  /** "compute" (default), "zero" (no checksum / NIC fills it in with the pseudo
   *  header), or "pseudo": the pseudo-header sum, as a Linux driver leaves it for a
   *  NIC told RCB_NO_PSEUDO_HDR. */
  udpChecksum?: "compute" | "zero" | "pseudo";
  /** 802.1Q tag control information to insert, if any. */
  vlan?: number;
}

/** Write an Ethernet/IPv4/UDP frame at buf[off]; returns its length (no FCS). */
export function writeUdpFrame(buf: Uint8Array, off: number, s: UdpFrameSpec): number {
  let p = off;
  for (let i = 0; i < 6; i++) buf[p + i] = s.dstMac[i];
  for (let i = 0; i < 6; i++) buf[p + 6 + i] = s.srcMac[i];
  p += 12;
  if (s.vlan !== undefined) {
    put16(buf, p, 0x8100);
    put16(buf, p + 2, s.vlan);
    p += 4;
  }
  put16(buf, p, 0x0800);
  const ip = p + 2;
  const udpLen = 8 + s.payloadLength;
  buf[ip] = 0x45;
  buf[ip + 1] = 0;
  put16(buf, ip + 2, 20 + udpLen);
  put16(buf, ip + 4, s.ipId ?? 0);
  put16(buf, ip + 6, 0x4000); // don't fragment
  buf[ip + 8] = s.ttl ?? 64;
  buf[ip + 9] = 17;
  put16(buf, ip + 10, 0);
  put32(buf, ip + 12, s.srcIp);
  put32(buf, ip + 16, s.dstIp);
  if ((s.ipChecksum ?? "compute") === "compute") put16(buf, ip + 10, ~checksumSum(buf, ip, 20, 0) & 0xffff);
  const udp = ip + 20;
  put16(buf, udp, s.srcPort);
  put16(buf, udp + 2, s.dstPort);
  put16(buf, udp + 4, udpLen);
  put16(buf, udp + 6, 0);
  let d = udp + 8;
  let room = s.payloadLength;
  if (s.stream !== undefined) {
    put32(buf, d, s.stream.id);
    put32(buf, d + 4, s.stream.seq);
    put32(buf, d + 8, Math.floor(s.stream.byteOffset / 4294967296));
    put32(buf, d + 12, s.stream.byteOffset % 4294967296);
    d += STREAM_HEADER_BYTES;
    room -= STREAM_HEADER_BYTES;
  }
  if (s.data !== undefined) buf.set(s.data.length > room ? s.data.subarray(0, room) : s.data, d);
  const pseudo = ((s.srcIp >>> 16) + (s.srcIp & 0xffff) + (s.dstIp >>> 16) + (s.dstIp & 0xffff) + 17 + udpLen) % 0xffff || 0xffff;
  const mode = s.udpChecksum ?? "compute";
  if (mode === "compute") {
    let c = ~checksumSum(buf, udp, udpLen, pseudo) & 0xffff;
    if (c === 0) c = 0xffff;
    put16(buf, udp + 6, c);
  } else if (mode === "pseudo") put16(buf, udp + 6, checksumSum(buf, 0, 0, pseudo));
  return udp + udpLen - off;
}

/** Internet checksum sum (RFC 1071), folded, not complemented. Simple, not for hot paths. */
export function checksumSum(b: Uint8Array, off: number, len: number, init: number): number {
  let s = init;
  let i = off;
  for (; i + 1 < off + len; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < off + len) s += b[i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/** "10.0.0.1" -> 0x0a000001 */
export function ipv4(addr: string): number {
  const p = addr.split(".").map((x) => parseInt(x, 10));
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 address ${addr}`);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export function ipString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
