// AceNIC model: receive. A frame from the wire is filtered (station address,
// broadcast, promiscuous and all-multicast modes), copied into the NIC's receive FIFO
// and looked at by the firmware; then it goes to a buffer from the mini, standard or
// jumbo producer ring (by size), its checksums are reported (acenic-offload.ts), and a
// 32-byte return BD and rx_ret_prd are DMA-written, with coalesced interrupts
// (acenic-fw.ts). A buffer too small, DMA outside RAM or no buffer posted are counted
// and the frame dropped, as the firmware does. DEVICES-REF.md B "Descriptors",
// "Minimal model"; timing in ACENIC_TIMING (acenic-data.ts). RX costs about two
// scheduler events per frame (DMA start, index publication).
//
// Interface (to the other parts):
//   class AceNicRx              abstract, extends AceNicTx (acenic-tx.ts)
//   receive(frame, timeNs)      wire Endpoint: a frame arriving from the link
//   rxRun()

import { IfMtu, TuneMaxRxDesc, TuneRxCoalTicks, BD_END, BD_ERROR, BD_UCAST, BD_BCAST, BD_MCAST, BD_VLAN_TAG,
  RCB_VLAN_ASSIST, RXERR_BUFFER_SMALL, RXERR_DMA_FAULT, MODE_NO_RX_IRQ, RX_BD_BYTES, ST_FCS_ERRORS,
  ST_FRAME_TOO_LONGS, ST_IF_IN_DISCARDS, ST_IF_IN_ERRORS, ST_IN_OCTETS, ST_IN_UCAST, ST_IN_BCAST, ST_IN_MCAST,
  ST_NO_MORE_RX_BDS, ST_DMA_WR_ABORTS, ST_RX_DROP_ULA, ST_RX_DROP_MCAST, ST_RX_DROP_SPACE,
} from "../common/acenic-regs.js";
import { AceNicTx } from "./acenic-tx.js";
import { MAX_FRAME, W, addr64, hex, isBroadcast, type RxRing } from "./acenic-data.js";

export abstract class AceNicRx extends AceNicTx {
  // -------------------------------------------------------------------------------
  // Receive. receive() (called by the wire, possibly ahead of the arrival time) filters
  // and copies the frame into the NIC's SRAM FIFO and times the firmware's look at it;
  // rxRun (the RX event) publishes return-ring indices whose DMA is done and DMAs the
  // frames whose firmware time has come.

  receive(frame: Uint8Array, timeNs: number): void {
    if (!this.running || !this.linkUp) return; // MAC disabled: nothing counts it
    const len = frame.length;
    const s = this.stat;
    if (len < 14 || len > MAX_FRAME) {
      s[len < 14 ? ST_IF_IN_ERRORS : ST_FRAME_TOO_LONGS]++;
      return;
    }
    if (this.rxDropP > 0 && this.rxRng.float() < this.rxDropP) {
      this.faults.rxDropped++;
      s[ST_FCS_ERRORS]++;
      s[ST_IF_IN_ERRORS]++;
      return;
    }
    if ((frame[0] & 1) === 0) {
      const hi = (frame[0] << 8) | frame[1];
      const lo = ((frame[2] << 24) | (frame[3] << 16) | (frame[4] << 8) | frame[5]) >>> 0;
      if ((hi !== this.macHi || lo !== this.macLo) && !this.promisc) {
        s[ST_RX_DROP_ULA]++;
        return;
      }
    } else if (!isBroadcast(frame, 0) && !this.promisc && !this.allMulti) {
      s[ST_RX_DROP_MCAST]++;
      return;
    }
    const off = this.rxFifoAlloc(len);
    if (off < 0) {
      s[ST_RX_DROP_SPACE]++;
      return;
    }
    this.rxFifo.set(frame, off);
    const fwStart = Math.max(timeNs, this.rxFwFree);
    const ready = fwStart + this.timing.rxFirmwareNs;
    this.rxFwFree = ready;
    const q = (this.rxqHead + this.rxqCount) % this.rxqOff.length;
    this.rxqOff[q] = off;
    this.rxqLen[q] = len;
    this.rxqReady[q] = ready;
    this.rxqCount++;
    if (ready < this.rxWorkAt) this.armRx(ready);
  }

  protected armRx(t: number): void {
    this.rxWorkAt = t;
    this.rxWork.armAt(t);
  }

  protected rxRun(): void {
    const now = this.sched.now;
    this.rxWorkAt = Infinity;
    let published = 0;
    while (this.pubCount > 0 && this.pubTime[this.pubHead] <= now) {
      this.writeRxRetPrd(this.pubIdx[this.pubHead]);
      this.pubHead = (this.pubHead + 1) % this.pubIdx.length;
      this.pubCount--;
      published++;
    }
    if (published > 0) this.rxPublished(now, published);
    while (this.rxqCount > 0 && this.rxqReady[this.rxqHead] <= now) {
      const h = this.rxqHead;
      this.rxDeliver(this.rxqOff[h], this.rxqLen[h], now);
      this.rxqHead = (h + 1) % this.rxqOff.length;
      this.rxqCount--;
      this.rxFifoHead = this.rxqCount > 0 ? this.rxqOff[this.rxqHead] : (this.rxFifoTail = 0);
    }
    let next = this.rxqCount > 0 ? this.rxqReady[this.rxqHead] : Infinity;
    if (this.pubCount > 0 && this.pubTime[this.pubHead] < next) next = this.pubTime[this.pubHead];
    if (next !== Infinity) this.armRx(next);
  }

  /** Choose a buffer, DMA the frame and its return BD; publish when the DMA is done. */
  protected rxDeliver(off: number, len: number, now: number): void {
    const s = this.stat;
    if (!this.hostUp || this.rxFaulted) {
      s[ST_IF_IN_DISCARDS]++;
      return;
    }
    const f = this.rxFifo;
    const mtu = this.reg[W(IfMtu)];
    if (mtu !== 0 && len > mtu) {
      s[ST_FRAME_TOO_LONGS]++;
      return;
    }
    // VLAN assist: the tag goes into the BD and out of the frame.
    const tagged = f[off + 12] === 0x81 && f[off + 13] === 0x00 && (this.std.flags & RCB_VLAN_ASSIST) !== 0;
    const dlen = tagged ? len - 4 : len;
    const ring = this.rxChooseRing(dlen);
    if (ring === undefined) {
      s[ST_NO_MORE_RX_BDS]++;
      s[ST_IF_IN_DISCARDS]++;
      return;
    }
    const dv = this.mem.dv;
    const bd = ring.base + ring.cons * RX_BD_BYTES;
    ring.cons = (ring.cons + 1) % ring.entries;
    const addrHi = dv.getUint32(bd, true);
    const addrLo = dv.getUint32(bd + 4, true);
    const w2 = dv.getUint32(bd + 8, true);
    const bufSize = w2 & 0xffff;
    const addr = addr64(addrHi, addrLo);
    let flags = ring.kind | BD_END;
    let err = 0;
    let size = dlen;
    let l4sum = 0;
    let ipsum = 0;
    if (dlen > bufSize) {
      this.ctx.log("guest-error", `${dlen}-byte frame does not fit the ${bufSize}-byte ${ring.name} buffer`);
      err = RXERR_BUFFER_SMALL;
    } else if (!this.mem.inRam(addr, dlen)) {
      this.dmaFault("write", addr, dlen, `RX ${ring.name} buffer`);
      s[ST_DMA_WR_ABORTS]++;
      err = RXERR_DMA_FAULT;
    }
    if (err !== 0) {
      flags |= BD_ERROR;
      size = 0;
      s[ST_IF_IN_ERRORS]++;
    } else {
      const u8 = this.mem.u8;
      if (tagged) {
        u8.set(f.subarray(off, off + 12), addr);
        u8.set(f.subarray(off + 16, off + len), addr + 12);
      } else u8.set(f.subarray(off, off + len), addr);
      this.ctx.dmaWritten?.(addr, tagged ? len - 4 : len, false);
      flags |= (f[off] & 1) === 0 ? BD_UCAST : isBroadcast(f, off) ? BD_BCAST : BD_MCAST;
      if (tagged) flags |= BD_VLAN_TAG;
      // Receive checksums over the frame still in the FIFO.
      flags |= this.offload.rx(f, off, len, tagged, ring.flags);
      ipsum = this.offload.ipSum;
      l4sum = this.offload.l4Sum;
      s[ST_IN_OCTETS] += len + 4;
      s[(flags & BD_BCAST) === BD_UCAST ? ST_IN_UCAST : (flags & BD_BCAST) === BD_BCAST ? ST_IN_BCAST : ST_IN_MCAST]++;
    }
    // The return BD.
    const ret = this.retBase + this.retPrd * RX_BD_BYTES;
    if (!this.dmaWriteOk(ret, RX_BD_BYTES, "RX return ring")) {
      this.ringFault("rx return");
      return;
    }
    dv.setUint32(ret, addrHi, true);
    dv.setUint32(ret + 4, addrLo, true);
    dv.setUint32(ret + 8, ((size & 0xffff) | (w2 & 0xffff0000)) >>> 0, true); // idx copied from the posted BD
    dv.setUint32(ret + 12, flags, true); // type (31:16) = 0
    dv.setUint32(ret + 16, ((l4sum & 0xffff) | (ipsum << 16)) >>> 0, true);
    dv.setUint32(ret + 20, ((tagged ? (f[off + 14] << 8) | f[off + 15] : 0) | (err << 16)) >>> 0, true);
    dv.setUint32(ret + 24, dv.getUint32(bd + 24, true), true);
    dv.setUint32(ret + 28, dv.getUint32(bd + 28, true), true); // opaque, copied
    this.ctx.dmaWritten?.(ret, RX_BD_BYTES, true);
    this.retPrd = (this.retPrd + 1) % this.retEntries;
    if (this.trace !== undefined) this.trace(`acenic: rx ${size} bytes -> ${ring.name}[${w2 >>> 16}] 0x${addrLo.toString(16)}, flags ${hex(flags, 4)}, return ${this.retPrd}`);
    // Timing on the DMA write engine: data, return BD, producer index.
    const ws = this.timing.dmaWriteSetupClocks;
    const start = Math.max(now, this.wrFree);
    const end = start + (size > 0 ? this.dmaNs(addr, size, ws) : 0) + this.dmaNs(ret, RX_BD_BYTES, ws) + this.dmaNs(0, 4, ws);
    this.wrFree = end;
    const q = (this.pubHead + this.pubCount) % this.pubIdx.length;
    this.pubIdx[q] = this.retPrd;
    this.pubTime[q] = end;
    this.pubCount++;
  }

  /** Mini ring for small frames, std up to its cutoff, jumbo above; falls back mini -> std. */
  protected rxChooseRing(len: number): RxRing | undefined {
    const m = this.mini;
    if (m.enabled && m.maxLen > 0 && len <= m.maxLen && this.rxAvail(m) > 0) return m;
    const cutoff = this.std.maxLen > 0 ? this.std.maxLen : 1518;
    if (len <= cutoff) return this.std.enabled && this.rxAvail(this.std) > 0 ? this.std : undefined;
    return this.jumbo.enabled && this.rxAvail(this.jumbo) > 0 ? this.jumbo : undefined;
  }

  protected rxAvail(r: RxRing): number {
    return (this.reg[r.prdReg] - r.cons + r.entries) % r.entries;
  }

  protected writeRxRetPrd(v: number): void {
    if (this.dmaWriteOk(this.rxRetPrdPtr, 4, "rx_ret_prd")) {
      this.mem.dv.setUint32(this.rxRetPrdPtr, v, true);
      this.ctx.dmaWritten?.(this.rxRetPrdPtr, 4, true);
    }
  }

  protected rxPublished(now: number, n: number): void {
    this.rxUnsignalled += n;
    const max = Math.max(1, this.reg[W(TuneMaxRxDesc)]);
    const ticks = this.reg[W(TuneRxCoalTicks)];
    if (this.rxUnsignalled >= max || ticks === 0) this.coalesceExpired(MODE_NO_RX_IRQ);
    else if (!this.rxCoal.armed) this.rxCoal.armAt(now + ticks * 1000);
  }

  /** Allocate `len` bytes (rounded to 4) in the receive FIFO; -1 when it is full. */
  protected rxFifoAlloc(len: number): number {
    const need = (len + 3) & ~3;
    if (this.rxqCount === this.rxqOff.length) return -1;
    if (this.rxqCount === 0) this.rxFifoHead = this.rxFifoTail = 0;
    const cap = this.rxFifo.length;
    const head = this.rxFifoHead;
    const tail = this.rxFifoTail;
    let at: number;
    if (this.rxqCount === 0 || tail > head) {
      if (tail + need <= cap) at = tail;
      else if (need < head) at = 0;
      else return -1;
    } else if (tail + need < head) at = tail;
    else return -1;
    this.rxFifoTail = at + need;
    return at;
  }
}
