// AceNIC model: transmit. The host posts 16-byte TX BDs in its own RAM (a frame is one
// BD per fragment, the last with END) and rings TxPrd; the firmware fetches BDs and
// fragments by DMA, gathers the frame, inserts a VLAN tag and fills in checksums as
// the RCB and the first BD ask (acenic-offload.ts), holds it in the NIC's transmit
// buffer until the wire takes it, and reports progress through tx_csm (DMA-written)
// with coalesced interrupts (acenic-fw.ts). DEVICES-REF.md B "Descriptors", "Minimal
// model"; timing in ACENIC_TIMING (acenic-data.ts).
//
// Cost per frame (DESIGN.md budget): TX is processed in chunks of up to 32 frames per
// scheduler event (times by arithmetic; frames are handed to the wire with their
// future times). A frame of several fragments whose headers are all in the first one
// (HiTactix's header + payload) goes to the wire as a gather list (wire.ts FrameParts):
// the first fragment is copied to the NIC's staging memory, where the offloaded
// checksums are written, and the payload stays in guest RAM, summed where it lies; the
// bytes on the wire are those of a gathered frame. Other frames are gathered into
// staging memory; a frame the NIC does not change goes out as a view of guest memory.
// Views of guest buffers are cached for buffers a guest reuses (guestView).
//
// Interface (to the other parts):
//   class AceNicTx      abstract, extends AceNicCore (acenic-fw.ts)
//   writeTxPrd(v)       the TX producer doorbell (a register write)
//   txRun(), writeTxCsm(), txqPop()

import { TxPrd, TuneMaxTxDesc, TuneTxCoalTicks, BD_END, BD_VLAN_TAG, BD_IP_SUM, BD_TCP_UDP_SUM, RCB_VLAN_ASSIST,
  RCB_IP_SUM, RCB_TCP_UDP_SUM, RCB_COAL_INT_ONLY, MODE_NO_TX_IRQ, TX_BD_BYTES, ST_OUT_OCTETS, ST_OUT_UCAST,
  ST_OUT_BCAST, ST_OUT_MCAST, ST_IF_OUT_DISCARDS, ST_IF_OUT_ERRORS, ST_DMA_RD_ABORTS,
} from "../common/acenic-regs.js";
import { AceNicCore } from "./acenic-fw.js";
import { MAX_FRAME, MAX_TX_FRAGS, W, addr64, isBroadcast } from "./acenic-data.js";

export abstract class AceNicTx extends AceNicCore {
  // -------------------------------------------------------------------------------
  // Transmit. txRun is the one TX event: it reports the previous chunk's BDs (their
  // DMA has finished by now), then takes the next chunk: for each frame, walk its BDs,
  // work out firmware, buffer-space and DMA times, and hand the frame to the wire with
  // the time it is ready (txFrame). It re-arms itself at the chunk's last DMA end.

  protected writeTxPrd(v: number): void {
    const n = this.txEntries;
    if (v >= n) this.ctx.log("guest-error", `TxPrd ${v} >= ring size ${n}`);
    const old = this.reg[W(TxPrd)];
    const prd = v % n;
    this.reg[W(TxPrd)] = prd;
    const now = this.sched.now;
    for (let i = old % n; i !== prd; i = (i + 1) % n) this.txPostedAt[i] = now;
    if (this.running && !this.txFaulted && !this.txWork.armed) this.txWork.armAt(now);
  }

  protected txRun(): void {
    const now = this.sched.now;
    if (this.txNext !== this.txCsm) this.txPublish(now);
    if (!this.running || this.txFaulted) return;
    while (this.txqCount > 0 && this.txqLeave[this.txqHead] <= now) this.txqPop();
    const t = this.timing;
    const n = this.txEntries;
    const prd = this.reg[W(TxPrd)];
    const dv = this.mem.dv;
    // End the chunk where the coalescing count will be reached, so that interrupt is on time.
    const threshold = Math.max(1, Math.max(1, this.reg[W(TuneMaxTxDesc)]) - this.txUnsignalled);
    const setup = t.dmaReadSetupClocks;
    let frames = 0;
    let bds = 0;
    let lastEnd = -1;
    while (this.txNext !== prd && frames < t.txChunkFrames && (lastEnd < 0 || lastEnd - now < t.txHorizonNs) && bds < threshold) {
      // Walk the frame's BDs up to END, noting its fragments.
      let i = this.txNext;
      let nfrag = 0;
      let len = 0;
      let flags0 = 0;
      let vlan = 0;
      let end = false;
      while (i !== prd) {
        const a = this.txBase + i * TX_BD_BYTES;
        const flagsize = dv.getUint32(a + 8, true);
        if (nfrag === 0) {
          flags0 = flagsize & 0xffff;
          vlan = dv.getUint32(a + 12, true) & 0xffff;
        }
        if (nfrag < MAX_TX_FRAGS) {
          this.fragAddr[nfrag] = addr64(dv.getUint32(a, true), dv.getUint32(a + 4, true));
          this.fragLen[nfrag] = flagsize >>> 16;
        }
        nfrag++;
        len += flagsize >>> 16;
        i = (i + 1) % n;
        if ((flagsize & BD_END) !== 0) {
          end = true;
          break;
        }
      }
      if (!end) {
        if (nfrag >= n - 1) {
          this.ctx.log("guest-error", "TX ring full of BDs without END");
          this.ringFault("tx");
        }
        break; // the rest of the frame is not posted yet
      }
      // Firmware takes the BD once posted, then waits for buffer space and the DMA engine.
      const fwStart = Math.max(this.txPostedAt[this.txNext], this.txFwFree);
      const fwEnd = fwStart + t.txFirmwareNs;
      this.txFwFree = fwEnd;
      let dmaStart = Math.max(fwEnd, this.rdFree, now);
      const occupy = len < 60 ? 64 : len + 4;
      while (this.txBufUsed + occupy > this.txBufCap && this.txqCount > 0) {
        if (this.txqLeave[this.txqHead] > dmaStart) dmaStart = this.txqLeave[this.txqHead];
        this.txqPop();
      }
      // BDs are fetched once per chunk (one burst), then each fragment is a burst.
      let dmaEnd = dmaStart + (frames === 0 ? this.dmaNs(this.txBase + this.txNext * TX_BD_BYTES, TX_BD_BYTES * nfrag, setup) : ((TX_BD_BYTES * nfrag) >>> 2) * t.pciClockNs);
      const nf = nfrag < MAX_TX_FRAGS ? nfrag : MAX_TX_FRAGS;
      for (let f = 0; f < nf; f++) dmaEnd += this.dmaNs(this.fragAddr[f], this.fragLen[f], setup);
      this.rdFree = dmaEnd;
      lastEnd = dmaEnd;
      this.txNext = i;
      frames++;
      bds += nfrag;
      if (len > MAX_FRAME || len === 0 || nfrag > MAX_TX_FRAGS) {
        this.ctx.log("guest-error", `TX frame of ${len} bytes in ${nfrag} BDs dropped`);
        this.stat[ST_IF_OUT_ERRORS]++;
      } else this.txFrame(nfrag, len, flags0, vlan, dmaEnd, occupy);
    }
    if (lastEnd >= 0) this.txWork.armAt(lastEnd);
  }

  /**
   * The frame of fragments fragAddr/fragLen[0, nfrag) leaves for the wire at readyNs.
   * A frame the NIC sends unchanged (one fragment, no offload, tag or padding) goes
   * out as a view of guest memory; otherwise it is gathered into txBuf at offset 4
   * (room for a VLAN tag) and modified there.
   */
  protected txFrame(nfrag: number, len: number, flags0: number, vlan: number, readyNs: number, occupy: number): void {
    for (let f = 0; f < nfrag; f++) {
      if (!this.mem.inRam(this.fragAddr[f], this.fragLen[f])) {
        this.dmaFault("read", this.fragAddr[f], this.fragLen[f], "TX buffer");
        this.stat[ST_DMA_RD_ABORTS]++;
        this.stat[ST_IF_OUT_ERRORS]++;
        return;
      }
    }
    const vlanIns = (flags0 & BD_VLAN_TAG) !== 0 && (this.txFlags & RCB_VLAN_ASSIST) !== 0;
    const sums = (flags0 & (BD_IP_SUM | BD_TCP_UDP_SUM)) !== 0 && (this.txFlags & (RCB_IP_SUM | RCB_TCP_UDP_SUM)) !== 0;
    let frame: Uint8Array | undefined;
    if (nfrag === 1 && !vlanIns && !sums && len >= 60) frame = this.guestView(this.fragAddr[0], len);
    else if (!(nfrag >= 2 && !vlanIns && len >= 60 && this.fragLen[0] >= 14 && this.txPieces(nfrag, len, flags0, sums))) {
      const b = this.txBuf;
      let at = 4;
      for (let f = 0; f < nfrag; f++) {
        const fl = this.fragLen[f];
        if (fl > 0) b.set(this.guestView(this.fragAddr[f], fl), at);
        at += fl;
      }
      let start = 4;
      if (vlanIns) {
        b.copyWithin(0, 4, 16);
        b[12] = 0x81;
        b[13] = 0x00;
        b[14] = vlan >>> 8;
        b[15] = vlan & 0xff;
        start = 0;
        len += 4;
      }
      if (sums) this.offload.tx(this.txFlags, start, len, flags0, len, nfrag);
      if (len < 60) {
        b.fill(0, start + len, start + 60);
        len = 60;
      }
      frame = this.txView(start, len);
    }
    // Statistics count the frame as sent: the NIC cannot see a loss on the link.
    const head = frame ?? this.txParts.buf[0]; // the first bytes of the frame
    const s = this.stat;
    s[ST_OUT_OCTETS] += len + 4;
    if ((head[0] & 1) === 0) s[ST_OUT_UCAST]++;
    else if (isBroadcast(head, 0)) s[ST_OUT_BCAST]++;
    else s[ST_OUT_MCAST]++;
    let leave = readyNs;
    if (!this.linkUp) s[ST_IF_OUT_DISCARDS]++;
    else if (this.txDropP > 0 && this.txRng.float() < this.txDropP) this.faults.txDropped++;
    else if (this.port !== undefined) leave = frame !== undefined ? this.port.send(frame, readyNs) : this.port.sendParts(this.txParts, readyNs);
    if (this.trace !== undefined) this.trace(`acenic: tx ${len} bytes in ${nfrag} BDs, DMA done ${readyNs}, left ${leave}`);
    this.txqPush(leave, occupy);
  }

  /** txBuf[start, start+len), one cached view per (start, len). */
  protected txView(start: number, len: number): Uint8Array {
    const views = start === 4 ? this.txViews4 : this.txViews0;
    const v = views[len];
    return v !== undefined ? v : (views[len] = this.txBuf.subarray(start, start + len));
  }

  /**
   * A frame of several fragments as pieces for the wire (txParts): the first fragment
   * (the headers) is copied to txBuf at 4, where offloaded checksums are written, and
   * the payload fragments go as they lie in guest RAM, summed there (ramCs): the bytes
   * on the wire are the same as a gathered frame's, without copying the payload. False
   * when the headers a checksum needs are not all in the first fragment: gather then.
   */
  protected txPieces(nfrag: number, len: number, flags0: number, sums: boolean): boolean {
    const l0 = this.fragLen[0];
    this.txBuf.set(this.guestView(this.fragAddr[0], l0), 4);
    if (sums && !this.offload.tx(this.txFlags, 4, len, flags0, l0, nfrag)) return false;
    const p = this.txParts;
    p.clear();
    p.add(this.txView(4, l0), 0, l0);
    const ram = this.mem.u8;
    for (let f = 1; f < nfrag; f++) if (this.fragLen[f] > 0) p.add(ram, this.fragAddr[f], this.fragLen[f]);
    return true;
  }

  /**
   * A view of guest memory [addr, addr+len) for a DMA copy. Views are kept in a small
   * direct-mapped cache keyed by (addr, len): buffers a guest reuses (ring slots,
   * header buffers) get theirs back without an allocation. Caller checked inRam.
   */
  protected guestView(addr: number, len: number): Uint8Array {
    const i = Math.imul(addr ^ (len << 20), 0x9e3779b1) >>> 22;
    const v = this.dmaViews[i];
    if (v !== undefined && v.byteOffset === addr && v.length === len) return v;
    return (this.dmaViews[i] = new Uint8Array(this.mem.u8.buffer, addr, len));
  }

  /** The chunk's BDs are in NIC memory: tell the host (tx_csm) and coalesce. */
  protected txPublish(now: number): void {
    const done = (this.txNext - this.txCsm + this.txEntries) % this.txEntries;
    this.txCsm = this.txNext;
    this.txUnsignalled += done;
    if ((this.txFlags & RCB_COAL_INT_ONLY) !== 0) this.writeTxCsm();
    const max = Math.max(1, this.reg[W(TuneMaxTxDesc)]);
    const ticks = this.reg[W(TuneTxCoalTicks)];
    if (this.txUnsignalled >= max || ticks === 0) this.coalesceExpired(MODE_NO_TX_IRQ);
    else if (!this.txCoal.armed) this.txCoal.armAt(now + ticks * 1000);
  }

  protected writeTxCsm(): void {
    if (this.txCsmWritten === this.txCsm) return;
    if (!this.dmaWriteOk(this.txCsmPtr, 4, "tx_csm")) return;
    this.mem.dv.setUint32(this.txCsmPtr, this.txCsm, true);
    this.txCsmWritten = this.txCsm;
    this.chargeWrite(this.txCsmPtr, 4);
    this.ctx.dmaWritten?.(this.txCsmPtr, 4, true);
  }

  protected txqPush(leave: number, bytes: number): void {
    const cap = this.txqLeave.length;
    if (this.txqCount === cap) this.txqPop(); // cannot happen with sane buffer sizes
    const i = (this.txqHead + this.txqCount) % cap;
    this.txqLeave[i] = leave;
    this.txqBytes[i] = bytes;
    this.txqCount++;
    this.txBufUsed += bytes;
  }

  protected txqPop(): void {
    this.txBufUsed -= this.txqBytes[this.txqHead];
    this.txqHead = (this.txqHead + 1) % this.txqLeave.length;
    this.txqCount--;
  }
}
