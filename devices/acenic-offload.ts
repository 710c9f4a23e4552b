// The AceNIC's checksum offload (the Tigon firmware's; DEVICES-REF.md B: the RCB and
// BD checksum flags). Transmit: the IPv4 header checksum and the TCP/UDP checksum
// (pseudo header included unless the RCB says NO_PSEUDO_HDR) written into the frame,
// over a frame whose headers sit in the NIC's staging buffer and whose payload may
// still lie in guest RAM in fragments. Receive: the same sums over a frame in the NIC's
// receive FIFO, reported in the return BD (the host compares them; the NIC does not
// judge). Sums by the WebAssembly SIMD kernel of checksum.ts, in place. Kept apart from
// TX and RX as QEMU keeps net_tx_pkt.c's offload apart from the NICs that use it.
//
// Not done: IPv6, IP options beyond summing them, fragments (no whole-datagram sum:
// flagged IP_FRAG on receive, left alone on transmit).
//
// Interface:
//   new ChecksumOffload(cs, ramCs, txBuf, fifoOff, fragAddr, fragLen)
//   tx(rcbFlags, start, len, flags, headLen, nfrag): bool   transmit sums, in place
//   rx(f, off, len, tagged, ringFlags): BD flags            receive sums -> ipSum, l4Sum

import { ChecksumEngine, addAt, pseudoSum } from "./checksum.js";
import {
  BD_IP_FRAG, BD_IP_SUM, BD_TCP_UDP_SUM, RCB_IP_SUM, RCB_TCP_UDP_SUM, RCB_NO_PSEUDO_HDR,
} from "../common/acenic-regs.js";

export class ChecksumOffload {
  /** Sums of the last rx(): the IP header's and the TCP/UDP segment's (ones' complement,
   *  not inverted), as the return BD carries them. */
  ipSum = 0;
  l4Sum = 0;

  constructor(
    /** NIC SRAM: the TX staging buffer at 0, the RX FIFO at fifoOff. */
    private readonly cs: ChecksumEngine,
    /** The same sums over guest RAM, for payload fragments summed where they lie. */
    private readonly ramCs: ChecksumEngine,
    /** cs's memory from 0: where a frame's headers (or the whole frame) are staged. */
    private readonly txBuf: Uint8Array,
    private readonly fifoOff: number,
    /** The frame's fragments (guest addresses and lengths), shared with the TX engine. */
    private readonly fragAddr: Float64Array,
    private readonly fragLen: Int32Array,
  ) {}

  /**
   * Transmit: IP and TCP/UDP checksums as the TX RCB's flags (rcbFlags) and the first
   * BD's flags ask, written into the frame. The frame's first headLen bytes are in
   * txBuf at `start`; the rest (when headLen < len) are fragments 1..nfrag-1 in guest
   * RAM. False when a header field the offload needs lies past headLen (the caller then
   * gathers the whole frame and asks again).
   */
  tx(rcbFlags: number, start: number, len: number, flags: number, headLen: number, nfrag: number): boolean {
    const b = this.txBuf;
    const end = start + headLen;
    const fend = start + len;
    let l3 = start + 14;
    let et = (b[start + 12] << 8) | b[start + 13];
    if (et === 0x8100) {
      if (start + 18 > end) return start + 18 > fend;
      et = (b[start + 16] << 8) | b[start + 17];
      l3 += 4;
    }
    if (et !== 0x0800 || l3 + 20 > fend) return true;
    if (l3 + 20 > end) return false;
    if (b[l3] >> 4 !== 4) return true;
    const ihl = (b[l3] & 15) * 4;
    if (ihl < 20 || l3 + ihl > fend) return true;
    if (l3 + ihl > end) return false;
    if ((flags & BD_IP_SUM) !== 0 && (rcbFlags & RCB_IP_SUM) !== 0) {
      b[l3 + 10] = b[l3 + 11] = 0;
      const c = ~this.cs.sum(l3, ihl, 0) & 0xffff;
      b[l3 + 10] = c >>> 8;
      b[l3 + 11] = c & 0xff;
    }
    if ((flags & BD_TCP_UDP_SUM) === 0 || (rcbFlags & RCB_TCP_UDP_SUM) === 0) return true;
    if ((((b[l3 + 6] << 8) | b[l3 + 7]) & 0x3fff) !== 0) return true; // a fragment: no whole-datagram sum
    const proto = b[l3 + 9];
    const at = proto === 6 ? 16 : proto === 17 ? 6 : -1;
    const l4 = l3 + ihl;
    const l4len = Math.min(((b[l3 + 2] << 8) | b[l3 + 3]) - ihl, fend - l4);
    if (at < 0 || l4len < at + 2) return true;
    if (l4 + at + 2 > end) return false;
    let init = 0;
    if ((rcbFlags & RCB_NO_PSEUDO_HDR) === 0) {
      // The NIC adds the pseudo header; otherwise the host left its sum in the field.
      b[l4 + at] = b[l4 + at + 1] = 0;
      init = pseudoSum(b, l3, proto, l4len);
    }
    const inHead = Math.min(l4len, end - l4);
    let sum = this.cs.sum(l4, inHead, init);
    let pos = inHead;
    for (let f = 1; pos < l4len && f < nfrag; f++) {
      const n = Math.min(this.fragLen[f], l4len - pos);
      if (n > 0) sum = addAt(sum, pos, this.ramCs.sum(this.fragAddr[f], n, 0));
      pos += n;
    }
    let c = ~sum & 0xffff;
    if (proto === 17 && c === 0) c = 0xffff;
    b[l4 + at] = c >>> 8;
    b[l4 + at + 1] = c & 0xff;
    return true;
  }

  /**
   * Receive: the frame at `off` (len bytes) in the RX FIFO `f` (cs offset fifoOff), with
   * a VLAN tag when `tagged`. Sets ipSum/l4Sum as the ring's flags ask; returns the BD
   * flags to report (IP_FRAG, IP_SUM, TCP_UDP_SUM).
   */
  rx(f: Uint8Array, off: number, len: number, tagged: boolean, ringFlags: number): number {
    let flags = 0;
    this.ipSum = this.l4Sum = 0;
    const l3 = off + (tagged ? 18 : 14);
    const et = (f[l3 - 2] << 8) | f[l3 - 1];
    if (et === 0x0800 && f[l3] >> 4 === 4 && l3 + 20 <= off + len) {
      const ihl = (f[l3] & 15) * 4;
      const fragWord = ((f[l3 + 6] << 8) | f[l3 + 7]) & 0x3fff;
      if (fragWord !== 0) flags |= BD_IP_FRAG;
      if ((ringFlags & RCB_IP_SUM) !== 0 && l3 + ihl <= off + len) {
        this.ipSum = this.cs.sum(this.fifoOff + l3, ihl, 0);
        flags |= BD_IP_SUM;
      }
      const proto = f[l3 + 9];
      const l4len = Math.min(((f[l3 + 2] << 8) | f[l3 + 3]) - ihl, off + len - l3 - ihl);
      if ((ringFlags & RCB_TCP_UDP_SUM) !== 0 && fragWord === 0 && (proto === 6 || proto === 17) && l4len > 0) {
        const init = (ringFlags & RCB_NO_PSEUDO_HDR) !== 0 ? 0 : pseudoSum(f, l3, proto, l4len);
        this.l4Sum = this.cs.sum(this.fifoOff + l3 + ihl, l4len, init);
        flags |= BD_TCP_UDP_SUM;
      }
    }
    return flags;
  }
}
