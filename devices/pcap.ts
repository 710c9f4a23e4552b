// Classic pcap file writer, a wire Tap (see wire.ts): what tshark, Wireshark and
// tcpdump read.
//
// Format (pcap "savefile", little-endian as written by this host):
//   global header, 24 bytes: magic 0xa1b23c4d (nanosecond timestamps), version 2.4,
//     thiszone 0, sigfigs 0, snaplen 65535, network 1 (LINKTYPE_ETHERNET)
//   per frame, 16 bytes: ts_sec, ts_nsec, incl_len, orig_len; then incl_len bytes
// Frames are Ethernet frames without preamble and FCS, as on the wire's interface.
// Timestamps are virtual time (ns since power-on), so a capture of a run is the same
// file byte for byte every time. Both directions of a wire go to one file in the order
// frames are handed to the wire, which can differ slightly from timestamp order (the
// NIC hands a transmit burst over ahead of time); tshark and Wireshark accept that.
//
// Writes are buffered: one fs write per ~1 MiB (bufferBytes); close() flushes.
//
// Interface:
//   new PcapWriter(path, { snaplen?, bufferBytes? })
//   capture(frame, timeNs)   append one frame (copies it; no allocation)
//   flush()  close()         frames, bytes (counters)

import { closeSync, openSync, writeSync } from "node:fs";

export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;
const GLOBAL_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;

export interface PcapOptions {
  snaplen?: number;
  bufferBytes?: number;
}

export class PcapWriter {
  readonly snaplen: number;
  /** Frames captured so far. */
  frames = 0;
  /** File bytes produced so far (headers included). */
  bytes = 0;
  private fd: number;
  private readonly buf: Uint8Array;
  private readonly dv: DataView;
  /** Bytes waiting in buf. */
  private used = 0;

  constructor(readonly path: string, opts: PcapOptions = {}) {
    this.snaplen = opts.snaplen ?? 65535;
    const size = Math.max(opts.bufferBytes ?? 1 << 20, this.snaplen + RECORD_HEADER_BYTES + GLOBAL_HEADER_BYTES);
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
    this.fd = openSync(path, "w");
    const dv = this.dv;
    dv.setUint32(0, PCAP_MAGIC_NS, true);
    dv.setUint16(4, 2, true); // version major
    dv.setUint16(6, 4, true); // version minor
    dv.setInt32(8, 0, true); // thiszone
    dv.setUint32(12, 0, true); // sigfigs
    dv.setUint32(16, this.snaplen, true);
    dv.setUint32(20, LINKTYPE_ETHERNET, true);
    this.used = GLOBAL_HEADER_BYTES;
    this.bytes = GLOBAL_HEADER_BYTES;
  }

  capture(frame: Uint8Array, timeNs: number): void {
    if (this.fd < 0) return;
    const incl = frame.length < this.snaplen ? frame.length : this.snaplen;
    if (this.used + RECORD_HEADER_BYTES + incl > this.buf.length) this.flush();
    const sec = Math.floor(timeNs / 1e9);
    const dv = this.dv;
    const p = this.used;
    dv.setUint32(p, sec, true);
    dv.setUint32(p + 4, timeNs - sec * 1e9, true);
    dv.setUint32(p + 8, incl, true);
    dv.setUint32(p + 12, frame.length, true);
    if (incl === frame.length) this.buf.set(frame, p + RECORD_HEADER_BYTES);
    else this.buf.set(frame.subarray(0, incl), p + RECORD_HEADER_BYTES);
    this.used = p + RECORD_HEADER_BYTES + incl;
    this.bytes += RECORD_HEADER_BYTES + incl;
    this.frames++;
  }

  flush(): void {
    if (this.fd < 0 || this.used === 0) return;
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
