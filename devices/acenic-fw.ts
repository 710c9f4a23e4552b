// AceNIC model: the NIC's state, and the firmware the model stands in for. The Tigon's
// MIPS firmware owns every ring, event, command and coalescing rule the host sees
// (DEVICES-REF.md B "Firmware", "Minimal model"); this part is that behaviour: boot
// (clearing HALT reads gen_info and posts FW_RUNNING and LINK up), the command ring
// (CmdPrd/CmdCsm), events into the host's event ring, the statistics block DMA'd every
// TuneStatTicks and on command, link events, interrupt coalescing (Tune*CoalTicks,
// TuneMax*Desc; 1 tick = 1 us) and the Mb0Lo interrupt protocol, and the timing of the
// NIC's two DMA engines on 32-bit 33 MHz PCI. Transmit is acenic-tx.ts, receive
// acenic-rx.ts, the register file and reset acenic.ts.
//
// The model is one class in layers (AceNic extends AceNicRx extends AceNicTx extends
// AceNicCore): the parts share the register file, the statistics and the DMA engines,
// and each file holds one subsystem of the chip.
//
// Interface (to the other parts):
//   class AceNicCore   abstract: every field of the NIC; firmwareStart, resetRings,
//                      command/event/statistics/link handling, ringFault, postEvent,
//                      coalesceExpired, raise (ask for the host's attention), DMA timing
//                      (dmaNs, chargeWrite, dmaWriteOk, dmaFault)
//   setCarrier(up)     cable in/out: link events

import type { DeviceContext } from "../host/device.js";
import type { PhysMem } from "../host/memory.js";
import type { Rng } from "../host/rng.js";
import { OneShot, type Scheduler } from "../host/sched.js";
import { FrameParts, type Port } from "./wire.js";
import { ChecksumEngine } from "./checksum.js";
import { ChecksumOffload } from "./acenic-offload.js";
import { I2cEeprom } from "./acenic-eeprom.js";
import {
  RxStdPrd, RxJumboPrd, RxMiniPrd, InfoPtrHi, InfoPtrLo, MacAddrHi, MacAddrLo, CmdPrd, CmdCsm, CmdRng, TxPrd, EvtCsm,
  ModeStat, TuneStatTicks, IfIdx, IfMtu, GigLnkState, EEPROM_DEVICE, EEPROM_MAC_OFF,
  MODE_NO_EVT_IRQ, MODE_NO_TX_IRQ, MODE_NO_RX_IRQ, LNK_UP, LNK_1000MB, LNK_FULL_DUPLEX, GI_EVT_RCB, GI_TX_RCB,
  GI_STD_RCB, GI_JUMBO_RCB, GI_MINI_RCB, GI_RET_RCB, GI_EVT_PRD_PTR, GI_RX_RET_PRD_PTR, GI_TX_CSM_PTR, GI_STATS_PTR,
  GEN_INFO_BYTES, RCB_DISABLED, RCB_TX_HOST_RING, BD_JUMBO, BD_MINI, E_FW_RUNNING, E_STATS_UPDATED, E_LINK,
  E_C_LINK_UP, E_C_LINK_DOWN, E_ERROR, E_C_ERR_INVAL_CMD, E_C_ERR_UNIMP_CMD, E_C_ERR_BAD_CFG, E_RESET_JUMBO_RNG,
  C_HOST_STATE, C_UPDATE_STATS, C_RESET_JUMBO_RNG, C_SET_PROMISC_MODE, C_LNK_NEGOTIATION, C_SET_MAC_ADDR,
  C_CLEAR_PROFILE, C_SET_MULTICAST_MODE, C_CLEAR_STATS, C_REFRESH_STATS, C_FDR_FILTERING, C_SET_RX_PRD_IDX,
  C_ADD_MULTICAST_ADDR, C_DEL_MULTICAST_ADDR, C_SET_RX_JUMBO_PRD_IDX, C_EXT_ADD_MULTICAST_ADDR,
  C_EXT_DEL_MULTICAST_ADDR, EVT_RING_ENTRIES, CMD_RING_ENTRIES, TX_RING_ENTRIES, RX_STD_RING_ENTRIES,
  RX_JUMBO_RING_ENTRIES, RX_MINI_RING_ENTRIES, RX_RETURN_RING_ENTRIES, TX_BD_BYTES, RX_BD_BYTES, ST_IF_INDEX,
  ST_IF_TYPE, ST_IF_MTU, ST_IF_SPEED, ST_IF_HIGH_SPEED, ST_IF_OPER_STATUS, ST_IF_ADMIN_STATUS, ST_IF_PROMISC,
  ST_IF_PHYS_ADDRESS, ST_CMDS_UNKNOWN, ST_EVT_FW_RUNNING, ST_EVT_STATS_UPDATED, ST_EVT_LINK, ST_EVT_ERROR,
  ST_EVT_RESET_JUMBO, ST_EVENT_RING_FULL, ST_INTERRUPTS, ST_AVOIDED_INTERRUPTS, ST_DMA_WR_ABORTS,
} from "../common/acenic-regs.js";
import {
  ACENIC_TIMING, CMD_STAT, MAX_FRAME, MAX_TX_FRAGS, ST_U64, TX_STAGING, W, addr64, hex, parseMac,
  type AceNicOptions, type AceNicTiming, type RxRing,
} from "./acenic-data.js";

export abstract class AceNicCore {
  readonly name = "acenic";
  readonly size = 0x4000;
  readonly timing: Readonly<AceNicTiming>;
  /** Statistics counters, ti_stats word index (see ST_*); DMA'd as u32 words. */
  readonly stat = new Float64Array(256);
  /** Frames lost by fault injection (not seen by the NIC's own counters as such). */
  readonly faults = { rxDropped: 0, txDropped: 0 };
  /** The serial EEPROM on LocalCtrl (acenic-eeprom.ts), the MAC at EEPROM_MAC_OFF. */
  readonly eeprom = new I2cEeprom(8192, EEPROM_DEVICE);

  protected readonly sched: Scheduler;
  protected readonly mem: PhysMem;
  protected readonly trace: ((line: string) => void) | undefined;
  protected readonly rxRng: Rng;
  protected readonly txRng: Rng;
  protected readonly rxDropP: number;
  protected readonly txDropP: number;

  /** Register file 0x000-0xFFF, one u32 per word; special registers interpret it. */
  protected readonly reg = new Uint32Array(0x1000 >> 2);
  /** NIC SRAM (the window and SramAddr/SramData reach it). */
  protected readonly sram: Uint32Array;
  protected readonly sramMask: number;

  // Interrupt
  /** The firmware wants the host's attention (HostCtrl.IN_INT). */
  protected irqPending = false;
  /** Level last driven on the line (updateIrq only). */
  protected irqLevel = false;

  // Firmware
  /** HALT cleared and boot done: rings, events and commands are live. */
  protected running = false;
  protected hostUp = false;
  protected promisc = false;
  protected allMulti = false;
  protected carrier = true;
  protected linkUp = false;
  protected macHi = 0; // station address bytes 0-1
  protected macLo = 0; // bytes 2-5
  protected statsNext = 0;

  // gen_info as read at boot (host addresses; -1 = invalid, a DMA fault when used)
  protected evtRing = -1;
  protected evtPrdPtr = -1;
  protected rxRetPrdPtr = -1;
  protected txCsmPtr = -1;
  protected statsPtr = -1;
  protected evtPrd = 0;

  // TX
  protected txBase = -1;
  protected txEntries = TX_RING_ENTRIES;
  protected txFlags = 0;
  protected txFaulted = false;
  /** Next BD the DMA engine takes. */
  protected txNext = 0;
  /** Consumer index reported to the coalescing logic / host. */
  protected txCsm = 0;
  /** Value last DMA-written to *tx_csm. */
  protected txCsmWritten = 0;
  /** Time each BD became visible (TxPrd write), for the firmware pipeline. */
  protected txPostedAt = new Float64Array(TX_RING_ENTRIES);
  protected txFwFree = 0;
  /** Frames in the NIC transmit buffer: time each leaves the wire, its bytes. */
  protected readonly txqLeave = new Float64Array(4096);
  protected readonly txqBytes = new Int32Array(4096);
  protected txqHead = 0;
  protected txqCount = 0;
  protected txBufUsed = 0;
  protected readonly txBufCap: number;
  protected txUnsignalled = 0;
  /** NIC SRAM buffers (TX staging, RX FIFO) and the checksum offload engine over them. */
  protected readonly cs: ChecksumEngine;
  /** The same SIMD sums over guest RAM, for payload fragments summed where they lie. */
  protected readonly ramCs: ChecksumEngine;
  /** IP/TCP/UDP checksums, transmit and receive (acenic-offload.ts). */
  protected readonly offload: ChecksumOffload;
  /** The gather list of the frame being sent in pieces (txPieces). */
  protected readonly txParts = new FrameParts();
  /** Staging buffer at cs offset 0: a frame gathered from its fragments (offset 4
   *  leaves room for a VLAN tag). */
  protected readonly txBuf: Uint8Array;
  protected readonly txViews0: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(MAX_FRAME + 8).fill(undefined);
  protected readonly txViews4: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(MAX_FRAME + 8).fill(undefined);
  /** Direct-mapped cache of guest-memory views for DMA (see guestView). */
  protected readonly dmaViews: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(1024).fill(undefined);
  protected readonly fragAddr = new Float64Array(MAX_TX_FRAGS);
  protected readonly fragLen = new Int32Array(MAX_TX_FRAGS);
  protected port: Port | undefined;

  // RX
  protected readonly std: RxRing;
  protected readonly jumbo: RxRing;
  protected readonly mini: RxRing;
  protected retBase = -1;
  protected retEntries = RX_RETURN_RING_ENTRIES;
  protected retPrd = 0;
  protected rxFaulted = false;
  protected rxUnsignalled = 0;
  protected rxFwFree = 0;
  /** NIC SRAM receive FIFO at cs offset TX_STAGING: frames, 4-byte aligned entries. */
  protected readonly rxFifo: Uint8Array;
  protected rxFifoHead = 0;
  protected rxFifoTail = 0;
  protected readonly rxqOff = new Int32Array(4096);
  protected readonly rxqLen = new Int32Array(4096);
  protected readonly rxqReady = new Float64Array(4096);
  protected rxqHead = 0;
  protected rxqCount = 0;
  /** Return-ring indices waiting for their DMA to finish: value, time. */
  protected readonly pubIdx = new Int32Array(4096);
  protected readonly pubTime = new Float64Array(4096);
  protected pubHead = 0;
  protected pubCount = 0;
  protected rxWorkAt = Infinity;

  // PCI DMA engines: time each is next free
  protected rdFree = 0;
  protected wrFree = 0;

  // Events of this device
  protected readonly fwBoot: OneShot;
  protected readonly linkTimer: OneShot;
  protected readonly cmdWork: OneShot;
  protected readonly txWork: OneShot;
  protected readonly rxWork: OneShot;
  protected readonly rxCoal: OneShot;
  protected readonly txCoal: OneShot;
  protected readonly statsTimer: OneShot;

  constructor(protected readonly ctx: DeviceContext, opts: AceNicOptions) {
    this.sched = ctx.sched;
    this.mem = ctx.mem;
    this.trace = ctx.trace;
    this.timing = { ...ACENIC_TIMING, ...opts.timing };
    const sramBytes = opts.sramBytes ?? 512 * 1024;
    if (sramBytes < 512 * 1024 || (sramBytes & (sramBytes - 1)) !== 0) throw new Error(`acenic: sramBytes ${sramBytes} must be a power of two >= 512 KiB`);
    this.sram = new Uint32Array(sramBytes >> 2);
    this.sramMask = sramBytes - 1;
    this.txBufCap = opts.txBufferBytes ?? 128 * 1024;
    const rxBytes = ((opts.rxBufferBytes ?? 256 * 1024) + 3) & ~3;
    this.cs = new ChecksumEngine(TX_STAGING + rxBytes);
    this.ramCs = new ChecksumEngine(this.mem.memory);
    this.txBuf = this.cs.u8.subarray(0, TX_STAGING);
    this.rxFifo = this.cs.u8.subarray(TX_STAGING, TX_STAGING + rxBytes);
    this.offload = new ChecksumOffload(this.cs, this.ramCs, this.txBuf, TX_STAGING, this.fragAddr, this.fragLen);
    this.rxDropP = opts.rxDropProbability ?? 0;
    this.txDropP = opts.txDropProbability ?? 0;
    this.rxRng = ctx.rng.fork("acenic-rx-drop");
    this.txRng = ctx.rng.fork("acenic-tx-drop");
    const mac = parseMac(opts.mac);
    this.eeprom.data[EEPROM_MAC_OFF] = 0;
    this.eeprom.data[EEPROM_MAC_OFF + 1] = 0;
    this.eeprom.data.set(mac, EEPROM_MAC_OFF + 2);
    this.std = { name: "std", entries: RX_STD_RING_ENTRIES, kind: 0, prdReg: W(RxStdPrd), base: -1, flags: 0, maxLen: 0, enabled: false, cons: 0 };
    this.jumbo = { name: "jumbo", entries: RX_JUMBO_RING_ENTRIES, kind: BD_JUMBO, prdReg: W(RxJumboPrd), base: -1, flags: 0, maxLen: 0, enabled: false, cons: 0 };
    this.mini = { name: "mini", entries: RX_MINI_RING_ENTRIES, kind: BD_MINI, prdReg: W(RxMiniPrd), base: -1, flags: 0, maxLen: 0, enabled: false, cons: 0 };
    const s = ctx.sched;
    this.fwBoot = new OneShot(s, "acenic.boot", () => this.firmwareStart());
    this.linkTimer = new OneShot(s, "acenic.link", () => this.setLinkUp(true));
    this.cmdWork = new OneShot(s, "acenic.cmd", () => this.runCommands());
    this.txWork = new OneShot(s, "acenic.tx", () => this.txRun());
    this.rxWork = new OneShot(s, "acenic.rx", () => this.rxRun());
    this.rxCoal = new OneShot(s, "acenic.rxcoal", () => this.coalesceExpired(MODE_NO_RX_IRQ));
    this.txCoal = new OneShot(s, "acenic.txcoal", () => this.coalesceExpired(MODE_NO_TX_IRQ));
    this.statsTimer = new OneShot(s, "acenic.stats", () => this.statsTick());
  }

  // The other parts, which the firmware calls on
  /** TX (acenic-tx.ts): the TX event: report finished BDs, take the next chunk. */
  protected abstract txRun(): void;
  /** TX: DMA the TX consumer index to the host, if it moved. */
  protected abstract writeTxCsm(): void;
  /** RX (acenic-rx.ts): the RX event: publish finished return BDs, deliver frames. */
  protected abstract rxRun(): void;
  /** The chip (acenic.ts): the interrupt line, computed in one place. */
  protected abstract updateIrq(): void;

  // -------------------------------------------------------------------------------
  // Firmware: boot, commands, events, statistics, link

  protected resetRings(): void {
    this.evtRing = this.evtPrdPtr = this.rxRetPrdPtr = this.txCsmPtr = this.statsPtr = -1;
    this.evtPrd = 0;
    this.txBase = -1;
    this.txFaulted = this.rxFaulted = false;
    this.txNext = this.txCsm = this.txCsmWritten = 0;
    this.txFwFree = 0;
    this.txqHead = this.txqCount = this.txBufUsed = 0;
    this.txUnsignalled = this.rxUnsignalled = 0;
    for (const r of [this.std, this.jumbo, this.mini]) {
      r.base = -1;
      r.enabled = false;
      r.cons = 0;
    }
    this.retBase = -1;
    this.retPrd = 0;
    this.rxFwFree = 0;
    this.rxFifoHead = this.rxFifoTail = 0;
    this.rxqHead = this.rxqCount = 0;
    this.pubHead = this.pubCount = 0;
    this.rxWorkAt = Infinity;
  }

  protected firmwareStart(): void {
    this.resetRings();
    this.running = true;
    const info = addr64(this.reg[W(InfoPtrHi)], this.reg[W(InfoPtrLo)]);
    if (!this.mem.inRam(info, GEN_INFO_BYTES)) {
      // The real firmware would hang or crash here; the driver times out.
      this.ctx.log("guest-error", `gen_info at 0x${info.toString(16)} is not in RAM; firmware cannot start`);
      this.running = false;
      return;
    }
    const rd = (o: number): number => this.mem.dv.getUint32(info + o, true);
    const ptr = (o: number): number => addr64(rd(o), rd(o + 4));
    this.evtRing = ptr(GI_EVT_RCB);
    this.evtPrdPtr = ptr(GI_EVT_PRD_PTR);
    this.rxRetPrdPtr = ptr(GI_RX_RET_PRD_PTR);
    this.txCsmPtr = ptr(GI_TX_CSM_PTR);
    this.statsPtr = ptr(GI_STATS_PTR);
    this.txBase = ptr(GI_TX_RCB);
    this.txFlags = rd(GI_TX_RCB + 8) & 0xffff;
    this.txEntries = rd(GI_TX_RCB + 8) >>> 16 || TX_RING_ENTRIES;
    if (this.txPostedAt.length < this.txEntries) this.txPostedAt = new Float64Array(this.txEntries);
    this.retBase = ptr(GI_RET_RCB);
    this.retEntries = rd(GI_RET_RCB + 8) >>> 16 || RX_RETURN_RING_ENTRIES;
    for (const [ring, at] of [[this.std, GI_STD_RCB], [this.jumbo, GI_JUMBO_RCB], [this.mini, GI_MINI_RCB]] as const) {
      ring.base = ptr(at);
      ring.flags = rd(at + 8) & 0xffff;
      ring.maxLen = rd(at + 8) >>> 16;
      ring.enabled = (ring.flags & RCB_DISABLED) === 0;
    }
    const mac = this.reg[W(MacAddrHi)] !== 0 || this.reg[W(MacAddrLo)] !== 0;
    if (mac) this.setStationFromRegs();
    else {
      const e = this.eeprom.data;
      const m = EEPROM_MAC_OFF + 2; // past the two zero bytes
      this.macHi = (e[m] << 8) | e[m + 1];
      this.macLo = ((e[m + 2] << 24) | (e[m + 3] << 16) | (e[m + 4] << 8) | e[m + 5]) >>> 0;
    }
    this.writeEvtPrd();
    this.postEvent(E_FW_RUNNING, 0, 0);
    this.stat[ST_EVT_FW_RUNNING]++;
    this.checkRings();
    if (this.carrier) {
      if (this.timing.linkUpNs === 0) this.setLinkUp(true);
      else this.linkTimer.armAt(this.sched.now + this.timing.linkUpNs);
    }
    this.armStats(this.sched.now);
    if (this.reg[W(CmdPrd)] !== this.reg[W(CmdCsm)]) this.kickCommands();
    if (this.reg[W(TxPrd)] !== 0 && !this.txFaulted) this.txWork.armAt(this.sched.now);
  }

  /** Rings the firmware cannot use stop, with an ERROR event (bad configuration). */
  protected checkRings(): void {
    const m = this.mem;
    if (!m.inRam(this.evtRing, EVT_RING_ENTRIES * 8)) this.ctx.log("guest-error", `event ring at 0x${this.evtRing.toString(16)} not in RAM`);
    if ((this.txFlags & RCB_DISABLED) !== 0) this.txFaulted = true;
    else if ((this.txFlags & RCB_TX_HOST_RING) === 0) {
      this.ctx.log("unimp", "TX ring in NIC SRAM (Tigon I style) is not modelled; set RCB_TX_HOST_RING");
      this.ringFault("tx");
    } else if (!m.inRam(this.txBase, this.txEntries * TX_BD_BYTES)) this.ringFault("tx");
    for (const r of [this.std, this.jumbo, this.mini]) {
      if (r.enabled && !m.inRam(r.base, r.entries * RX_BD_BYTES)) {
        if (r === this.std) this.ringFault("rx std");
        else {
          this.ctx.log("guest-error", `${r.name} ring at 0x${r.base.toString(16)} not in RAM; ring disabled`);
          r.enabled = false;
        }
      }
    }
    if (!m.inRam(this.retBase, this.retEntries * RX_BD_BYTES)) this.ringFault("rx return");
  }

  protected ringFault(which: string): void {
    this.ctx.log("guest-error", `${which} ring unusable (DMA outside RAM or bad RCB); ring stopped`);
    if (which === "tx") this.txFaulted = true;
    else this.rxFaulted = true;
    this.postEvent(E_ERROR, E_C_ERR_BAD_CFG, 0);
    this.stat[ST_EVT_ERROR]++;
  }

  protected setStationFromRegs(): void {
    this.macHi = this.reg[W(MacAddrHi)] & 0xffff;
    this.macLo = this.reg[W(MacAddrLo)];
  }

  protected kickCommands(): void {
    if (this.running && !this.cmdWork.armed) this.cmdWork.armAt(this.sched.now + this.timing.commandNs);
  }

  protected runCommands(): void {
    let csm = this.reg[W(CmdCsm)] % CMD_RING_ENTRIES;
    const prd = this.reg[W(CmdPrd)];
    while (csm !== prd && this.running) {
      this.command(this.reg[W(CmdRng) + csm]);
      csm = (csm + 1) % CMD_RING_ENTRIES;
    }
    this.reg[W(CmdCsm)] = csm;
  }

  protected command(word: number): void {
    const op = word >>> 24;
    const code = (word >>> 12) & 0xfff;
    if (this.trace !== undefined) this.trace(`acenic: command ${hex(op, 2)} code ${code}`);
    const st = op < CMD_STAT.length ? CMD_STAT[op] : -1;
    this.stat[st >= 0 ? st : ST_CMDS_UNKNOWN]++;
    switch (op) {
      case C_HOST_STATE:
        this.hostUp = code === 1;
        this.stat[ST_IF_ADMIN_STATUS] = this.hostUp ? 1 : 2;
        return;
      case C_UPDATE_STATS:
      case C_REFRESH_STATS:
        return this.statsUpdate();
      case C_RESET_JUMBO_RNG:
        this.jumbo.cons = 0;
        this.stat[ST_EVT_RESET_JUMBO]++;
        return this.postEvent(E_RESET_JUMBO_RNG, 0, 0);
      case C_SET_PROMISC_MODE:
        this.promisc = code === 1;
        this.stat[ST_IF_PROMISC] = this.promisc ? 1 : 0;
        return;
      case C_LNK_NEGOTIATION:
        if (this.carrier) this.linkTimer.armAt(this.sched.now + this.timing.linkUpNs);
        return;
      case C_SET_MAC_ADDR:
        return this.setStationFromRegs();
      case C_CLEAR_PROFILE:
        return;
      case C_SET_MULTICAST_MODE:
        this.allMulti = code === 1;
        return;
      case C_CLEAR_STATS:
        this.stat.fill(0);
        return;
      case C_FDR_FILTERING: // Tigon I
      case C_SET_RX_PRD_IDX: // Tigon I
      case C_ADD_MULTICAST_ADDR: // Tigon I
      case C_DEL_MULTICAST_ADDR:
      case C_SET_RX_JUMBO_PRD_IDX: // Tigon I
      case C_EXT_ADD_MULTICAST_ADDR: // BSD, Tigon II firmware 12.4
      case C_EXT_DEL_MULTICAST_ADDR:
        this.ctx.log("unimp", `command 0x${op.toString(16)} not modelled`);
        this.stat[ST_EVT_ERROR]++;
        return this.postEvent(E_ERROR, E_C_ERR_UNIMP_CMD, 0);
      default:
        this.ctx.log("guest-error", `invalid command word 0x${word.toString(16)}`);
        this.stat[ST_EVT_ERROR]++;
        return this.postEvent(E_ERROR, E_C_ERR_INVAL_CMD, 0);
    }
  }

  /** Post an event to the host's event ring and interrupt (events are not coalesced). */
  protected postEvent(type: number, code: number, idx: number): void {
    if (!this.running) return;
    const next = (this.evtPrd + 1) % EVT_RING_ENTRIES;
    if (next === this.reg[W(EvtCsm)] % EVT_RING_ENTRIES) {
      this.stat[ST_EVENT_RING_FULL]++;
      this.ctx.log("guest-error", `event ring full, event ${hex(type, 2)} lost`);
      return;
    }
    const a = this.evtRing + this.evtPrd * 8;
    if (!this.dmaWriteOk(a, 8, "event ring")) return;
    this.mem.dv.setUint32(a, ((type << 24) | ((code & 0xfff) << 12) | (idx & 0xfff)) >>> 0, true);
    this.mem.dv.setUint32(a + 4, 0, true);
    this.evtPrd = next;
    this.chargeWrite(a, 8);
    this.ctx.dmaWritten?.(a, 8, true);
    this.writeEvtPrd();
    if (this.trace !== undefined) this.trace(`acenic: event ${hex(type, 2)} code ${code} -> evt_prd ${next}`);
    if ((this.reg[W(ModeStat)] & MODE_NO_EVT_IRQ) === 0) this.raise();
  }

  protected writeEvtPrd(): void {
    if (this.dmaWriteOk(this.evtPrdPtr, 4, "evt_prd")) {
      this.mem.dv.setUint32(this.evtPrdPtr, this.evtPrd, true);
      this.chargeWrite(this.evtPrdPtr, 4);
      this.ctx.dmaWritten?.(this.evtPrdPtr, 4, true);
    }
  }

  /** Periodic statistics at absolute deadlines every TuneStatTicks us (0 = off). */
  protected armStats(from: number): void {
    const ticks = this.reg[W(TuneStatTicks)];
    if (ticks === 0) {
      this.statsTimer.cancel();
      return;
    }
    this.statsNext = from + ticks * 1000;
    this.statsTimer.armAt(this.statsNext);
  }

  protected statsTick(): void {
    this.statsUpdate();
    const ticks = this.reg[W(TuneStatTicks)];
    if (ticks !== 0) {
      this.statsNext += ticks * 1000;
      this.statsTimer.armAt(this.statsNext);
    }
  }

  /** DMA the statistics block (1 KiB) to stats_ptr, then post STATS_UPDATED. */
  protected statsUpdate(): void {
    const s = this.stat;
    s[ST_IF_INDEX] = this.reg[W(IfIdx)];
    s[ST_IF_TYPE] = 6; // ethernetCsmacd
    s[ST_IF_MTU] = this.reg[W(IfMtu)];
    s[ST_IF_SPEED] = this.linkUp ? 1e9 : 0;
    s[ST_IF_HIGH_SPEED] = this.linkUp ? 1000 : 0;
    s[ST_IF_OPER_STATUS] = this.linkUp ? 1 : 2;
    const a = this.statsPtr;
    if (this.dmaWriteOk(a, 1024, "stats block")) {
      const dv = this.mem.dv;
      for (let i = 0; i < 256; i++) dv.setUint32(a + i * 4, s[i] >>> 0, true);
      for (const i of ST_U64) {
        dv.setUint32(a + i * 4, s[i] % 4294967296, true);
        dv.setUint32(a + i * 4 + 4, Math.floor(s[i] / 4294967296), true);
      }
      // ifPhysAddress: the station address as bytes
      const p = a + ST_IF_PHYS_ADDRESS * 4;
      this.mem.u8[p] = this.macHi >>> 8;
      this.mem.u8[p + 1] = this.macHi & 0xff;
      dv.setUint32(p + 2, this.macLo, false);
      dv.setUint16(p + 6, 0, true);
      this.chargeWrite(a, 1024);
      this.ctx.dmaWritten?.(a, 1024, false); // read by the driver only when asked for
    }
    this.stat[ST_EVT_STATS_UPDATED]++;
    this.postEvent(E_STATS_UPDATED, 0, 0);
  }

  /** Cable in or out (the wire itself is always up): LINK events while running. */
  setCarrier(up: boolean): void {
    this.carrier = up;
    if (!this.running) return;
    if (up) {
      if (this.timing.linkUpNs === 0) this.setLinkUp(true);
      else this.linkTimer.armAt(this.sched.now + this.timing.linkUpNs);
    } else {
      this.linkTimer.cancel();
      this.setLinkUp(false);
    }
  }

  protected setLinkUp(up: boolean): void {
    this.linkUp = up;
    this.reg[W(GigLnkState)] = up ? (LNK_UP | LNK_1000MB | LNK_FULL_DUPLEX) >>> 0 : 0;
    this.stat[ST_EVT_LINK]++;
    this.postEvent(E_LINK, up ? E_C_LINK_UP : E_C_LINK_DOWN, 0);
  }

  // -------------------------------------------------------------------------------
  // DMA timing: the read engine (TX data, TX BDs) and the write engine (RX data, return
  // BDs, indices, events, statistics), each busy until rdFree / wrFree

  /** Bus time of one DMA of len bytes at addr: setup per burst + 4 bytes per clock. */
  protected dmaNs(addr: number, len: number, setupClocks: number): number {
    const b = this.timing.dmaBurstBoundary;
    const bursts = len > 0 ? 1 + Math.floor((addr + len - 1) / b) - Math.floor(addr / b) : 1;
    return (bursts * setupClocks + ((len + 3) >>> 2)) * this.timing.pciClockNs;
  }

  protected chargeWrite(addr: number, len: number): void {
    const start = Math.max(this.sched.now, this.wrFree);
    this.wrFree = start + this.dmaNs(addr, len, this.timing.dmaWriteSetupClocks);
  }

  protected dmaWriteOk(addr: number, len: number, what: string): boolean {
    if (this.mem.inRam(addr, len)) return true;
    this.dmaFault("write", addr, len, what);
    this.stat[ST_DMA_WR_ABORTS]++;
    return false;
  }

  protected dmaFault(dir: string, addr: number, len: number, what: string): void {
    this.ctx.log("guest-error", `DMA ${dir} outside RAM: ${what} at 0x${addr.toString(16)} (+${len})`);
  }

  // -------------------------------------------------------------------------------
  // Interrupt: coalescing and the host's attention (the line itself: acenic.ts updateIrq)

  /** Coalescing says interrupt now (count reached, timer expired or no coalescing). */
  protected coalesceExpired(modeBit: number): void {
    if ((this.reg[W(ModeStat)] & modeBit) === 0) return this.raise();
    // ModeStat says this kind of work does not interrupt (the host polls): forget it.
    if (modeBit === MODE_NO_TX_IRQ) {
      this.writeTxCsm();
      this.txUnsignalled = 0;
      this.txCoal.cancel();
    } else {
      this.rxUnsignalled = 0;
      this.rxCoal.cancel();
    }
  }

  /** Ask for the host's attention: flush the status it will read, then interrupt. */
  protected raise(): void {
    this.writeTxCsm();
    this.txUnsignalled = this.rxUnsignalled = 0;
    this.rxCoal.cancel();
    this.txCoal.cancel();
    if (this.irqPending) this.stat[ST_AVOIDED_INTERRUPTS]++;
    else this.stat[ST_INTERRUPTS]++;
    this.irqPending = true;
    this.updateIrq();
  }
}
