// AceNIC device tests: register sequences as Linux's acenic.c issues them, run by a
// small driver written here (reset, EEPROM MAC, gen_info + rings in RAM, clear HALT,
// FW_RUNNING through the interrupt and the event ring, RX buffers, TX frames).
// Board stand-in: Scheduler, 32 MiB PhysMem, an IrqLine that records levels and runs
// the driver's interrupt handler as an event, Rng(1).

import { RecordingIrq } from "./recording-irq.js";
import { spawnSync } from "node:child_process";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DeviceContext, LogKind } from "../host/device.js";
import { PhysMem } from "../host/memory.js";
import { Rng } from "../host/rng.js";
import { Scheduler } from "../host/sched.js";
import { ChecksumEngine } from "../devices/checksum.js";
import { AceNic, type AceNicOptions, ACENIC_TIMING, R, REGS } from "../devices/acenic.js";
import {
  BD_END, BD_ERROR, BD_IP_SUM, BD_MINI, BD_TCP_UDP_SUM, BD_UCAST, BD_VLAN_TAG, C_CLEAR_STATS, C_HOST_STATE,
  C_SET_PROMISC_MODE, C_UPDATE_STATS, CPU_HALT, E_C_ERR_BAD_CFG, E_C_ERR_INVAL_CMD, E_C_LINK_UP, E_ERROR,
  E_FW_RUNNING, E_LINK, E_STATS_UPDATED, GI_EVT_PRD_PTR, GI_EVT_RCB, GI_JUMBO_RCB, GI_MINI_RCB, GI_RET_RCB,
  GI_RX_RET_PRD_PTR, GI_STATS_PTR, GI_STD_RCB, GI_TX_CSM_PTR, GI_TX_RCB, HC_CLR_INT, HC_HW_RESET, HC_IN_INT,
  HC_MASK_INTS, HC_WORD_SWAP, LC_EEPROM_CLK, LC_EEPROM_DIN, LC_EEPROM_DOUT, LC_EEPROM_OUT_EN,
  LC_SRAM_BANK_512K, LNK_1000MB, LNK_ENABLE, LNK_FULL_DUPLEX, LNK_NEGOTIATE, LNK_UP, RCB_COAL_INT_ONLY,
  RCB_DISABLED, RCB_IP_SUM, RCB_NO_PSEUDO_HDR, RCB_TCP_UDP_SUM, RCB_TX_HOST_RING, RCB_VLAN_ASSIST,
  ST_DMA_RD_ABORTS, ST_DMA_WR_ABORTS, ST_FCS_ERRORS, ST_IN_OCTETS, ST_IN_UCAST, ST_NO_MORE_RX_BDS,
  ST_OUT_OCTETS, ST_OUT_UCAST, RXERR_DMA_FAULT,
} from "../common/acenic-regs.js";
import { checksumSum, ipv4, MeasureClient, writeUdpFrame, type UdpFrameSpec } from "../devices/measure-client.js";
import { PcapWriter } from "../devices/pcap.js";
import { type Endpoint, type FrameParts, Wire } from "../devices/wire.js";

const NIC_MAC = [0x00, 0x60, 0xcf, 0x20, 0x01, 0x02]; // Alteon OUI
const CLIENT_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
const SERVER_IP = ipv4("10.0.0.1");
const CLIENT_IP = ipv4("10.0.0.2");

// Guest memory layout of the test driver
const INFO = 0x10000;
const EVT_RING = 0x11000;
const EVT_PRD = 0x11800;
const RX_RET_PRD = 0x11804;
const TX_CSM = 0x11808;
const TX_RING = 0x12000;
const RX_STD = 0x20000;
const RX_JUMBO = 0x24000;
const RX_MINI = 0x26000;
const RX_RET = 0x2e000;
const TX_BUFS = 0x100000;
const RX_STD_BUFS = 0x200000;
const RX_MINI_BUFS = 0x400000;
const BUF_STRIDE = 2048;
const STD_BUFSIZE = 1536;
const MINI_BUFSIZE = 128;

// ---------------------------------------------------------------------------------
// Board stand-in


function bench(opts: Partial<AceNicOptions> = {}, seed = 1, trace?: (line: string) => void) {
  const sched = new Scheduler();
  const mem = new PhysMem(32 << 20);
  const irq = new RecordingIrq(sched);
  const logs: [LogKind, string][] = [];
  const ctx: DeviceContext = { sched, mem, irq, rng: new Rng(seed), log: (k, m) => logs.push([k, m]), trace };
  const nic = new AceNic(ctx, { mac: NIC_MAC, ...opts });
  const wire = new Wire();
  const client = new MeasureClient({ windowsNs: [10_000_000, 100_000_000] });
  nic.connect(wire.attach(0, nic));
  client.connect(wire.attach(1, client));
  return { sched, mem, irq, logs, nic, wire, client };
}
type Bench = ReturnType<typeof bench>;

/** Run events until pred() holds or the next event lies beyond limitNs. */
function runUntil(sched: Scheduler, pred: () => boolean, limitNs: number): boolean {
  while (!pred()) {
    const t = sched.nextTime;
    if (t === Infinity || t > limitNs) return false;
    sched.runUntil(t);
  }
  return true;
}

// ---------------------------------------------------------------------------------
// The test driver: what acenic.c does, in the same order.

interface RxSeen {
  ret: number;
  addr: number;
  len: number;
  idx: number;
  flags: number;
  l4sum: number;
  ipsum: number;
  vlan: number;
  err: number;
  opaque: number;
  time: number;
}

interface DriverConfig {
  rxCoalTicks: number;
  rxMaxDesc: number;
  txCoalTicks: number;
  txMaxDesc: number;
  statTicks: number;
  txFlags: number;
  rxFlags: number;
  stdBuffers: number;
  miniBuffers: number;
  /** Post a fresh buffer for each one the NIC returns. */
  repost: boolean;
  /** gen_info overrides, for fault tests. */
  txRingAddr: number;
}

const LINUX_CONFIG: DriverConfig = {
  rxCoalTicks: 120, // DEF_RX_COAL
  rxMaxDesc: 25,
  txCoalTicks: 400,
  txMaxDesc: 60,
  statTicks: 2_000_000,
  txFlags: RCB_TCP_UDP_SUM | RCB_NO_PSEUDO_HDR | RCB_VLAN_ASSIST | RCB_TX_HOST_RING | RCB_COAL_INT_ONLY,
  rxFlags: RCB_TCP_UDP_SUM | RCB_NO_PSEUDO_HDR | RCB_VLAN_ASSIST,
  stdBuffers: 72,
  miniBuffers: 0,
  repost: true,
  txRingAddr: TX_RING,
};

class Driver {
  fwRunning = false;
  linkUp = false;
  readonly events: { type: number; code: number; time: number }[] = [];
  readonly rx: RxSeen[] = [];
  irqs = 0;
  spurious = 0;
  curRx = 0;
  txPrd = 0;
  txRetCsm = 0;
  txDone = 0;
  stdPrd = 0;
  miniPrd = 0;
  mac: number[] = [];
  onTx: (() => void) | undefined;
  private readonly b: Bench;
  readonly cfg: DriverConfig;

  constructor(b: Bench, cfg: Partial<DriverConfig> = {}) {
    this.b = b;
    this.cfg = { ...LINUX_CONFIG, ...cfg };
    const h = b.sched.handler("test.isr", () => this.isr());
    b.irq.onRise = () => b.sched.at(b.sched.now, h);
  }

  rd(off: number): number {
    return this.b.nic.read(off, 4);
  }
  wr(off: number, v: number): void {
    this.b.nic.write(off, 4, v >>> 0);
  }
  private m32(a: number): number {
    return this.b.mem.dv.getUint32(a, true);
  }
  private w32(a: number, v: number): void {
    this.b.mem.dv.setUint32(a, v >>> 0, true);
  }

  /** ace_init up to "firmware running", then ace_load_std_rx_ring and ace_open. */
  init(): void {
    const { sched } = this.b;
    const c = this.cfg;
    this.wr(R.HostCtrl, HC_HW_RESET | (HC_HW_RESET << 24));
    this.rd(R.HostCtrl);
    this.wr(R.HostCtrl, HC_CLR_INT | HC_WORD_SWAP | ((HC_CLR_INT | HC_WORD_SWAP) << 24));
    this.rd(R.HostCtrl);
    this.wr(R.CpuCtrl, this.rd(R.CpuCtrl) | CPU_HALT);
    this.wr(R.Mb0Lo, 0);
    if (this.rd(R.HostCtrl) >>> 28 !== 6) throw new Error("not a Tigon II");
    this.wr(R.CpuBCtrl, this.rd(R.CpuBCtrl) | CPU_HALT);
    this.wr(R.LocalCtrl, LC_SRAM_BANK_512K);
    this.wr(R.MiscCfg, 0x100000);
    this.wr(R.ModeStat, 0x10 | 0x08 | 0x40000000 | 0x04 | 0x200);
    let mac1 = 0;
    for (let i = 0; i < 4; i++) mac1 = (mac1 << 8) | this.eepromByte(0x8c + i);
    let mac2 = 0;
    for (let i = 4; i < 8; i++) mac2 = ((mac2 << 8) | this.eepromByte(0x8c + i)) >>> 0;
    this.wr(R.MacAddrHi, mac1);
    this.wr(R.MacAddrLo, mac2);
    this.mac = [(mac1 >> 8) & 255, mac1 & 255, mac2 >>> 24, (mac2 >>> 16) & 255, (mac2 >>> 8) & 255, mac2 & 255];
    this.wr(R.PciState, 0x06000000 | 0x70000000 | 0x20000);
    // "Load the firmware": the model ignores it, but the window must take it.
    this.wr(R.WinBase, 0x4000);
    for (let i = 0; i < 16; i++) this.wr(R.Window + i * 4, 0x27bdffe0 + i);
    // gen_info and the rings
    this.b.mem.u8.fill(0, INFO, INFO + 0x490);
    this.wr(R.InfoPtrHi, 0);
    this.wr(R.InfoPtrLo, INFO);
    this.rcb(GI_EVT_RCB, EVT_RING, 0, 0);
    this.w32(EVT_PRD, 0);
    this.ptr(GI_EVT_PRD_PTR, EVT_PRD);
    this.wr(R.EvtCsm, 0);
    this.rcb(0x410, 0x100, 0, 0);
    for (let i = 0; i < 64; i++) this.wr(R.CmdRng + i * 4, 0);
    this.wr(R.CmdPrd, 0);
    this.wr(R.CmdCsm, 0);
    this.ptr(GI_STATS_PTR, INFO);
    this.rcb(GI_STD_RCB, RX_STD, c.rxFlags, STD_BUFSIZE);
    this.rcb(GI_JUMBO_RCB, RX_JUMBO, c.rxFlags, 0);
    this.rcb(GI_MINI_RCB, RX_MINI, c.miniBuffers > 0 ? c.rxFlags : RCB_DISABLED, c.miniBuffers > 0 ? MINI_BUFSIZE : 0);
    this.rcb(GI_RET_RCB, RX_RET, 0, 2048);
    this.ptr(GI_RX_RET_PRD_PTR, RX_RET_PRD);
    this.w32(RX_RET_PRD, 0);
    this.rcb(GI_TX_RCB, c.txRingAddr, c.txFlags, 256);
    this.ptr(GI_TX_CSM_PTR, TX_CSM);
    this.wr(R.DmaReadCfg, 0x80);
    this.wr(R.DmaWriteCfg, 0x80);
    this.wr(R.MaskInt, 0);
    this.wr(R.IfIdx, 1);
    this.wr(R.TuneStatTicks, c.statTicks);
    this.wr(R.TuneTxCoalTicks, c.txCoalTicks);
    this.wr(R.TuneMaxTxDesc, c.txMaxDesc);
    this.wr(R.TuneRxCoalTicks, c.rxCoalTicks);
    this.wr(R.TuneMaxRxDesc, c.rxMaxDesc);
    const link = LNK_ENABLE | LNK_FULL_DUPLEX | LNK_1000MB | LNK_NEGOTIATE;
    this.wr(R.TuneLink, link);
    this.wr(R.TuneFastLink, link);
    this.wr(R.Pc, 0x4000);
    this.wr(R.Mb0Lo, 0);
    this.w32(TX_CSM, 0);
    this.wr(R.TxPrd, 0);
    this.wr(R.RxRetCsm, 0);
    this.wr(R.AssistState, 1);
    this.wr(R.CpuCtrl, this.rd(R.CpuCtrl) & ~(CPU_HALT | 0x02));
    this.rd(R.CpuCtrl);
    if (!runUntil(sched, () => this.fwRunning, sched.now + 3e9)) throw new Error("Firmware NOT running");
    this.postStd(c.stdBuffers);
    if (c.miniBuffers > 0) this.postMini(c.miniBuffers);
    // ace_open
    this.wr(R.IfMtu, 1500 + 14 + 4);
    this.command(C_CLEAR_STATS, 0);
    this.command(C_HOST_STATE, 1);
    runUntil(sched, () => this.rd(R.CmdCsm) === this.rd(R.CmdPrd), sched.now + 1e6);
  }

  private rcb(at: number, addr: number, flags: number, maxLen: number): void {
    this.w32(INFO + at, 0);
    this.w32(INFO + at + 4, addr);
    this.w32(INFO + at + 8, flags | (maxLen << 16));
  }
  private ptr(at: number, addr: number): void {
    this.w32(INFO + at, 0);
    this.w32(INFO + at + 4, addr);
  }

  command(op: number, code: number): void {
    const idx = this.rd(R.CmdPrd);
    this.wr(R.CmdRng + idx * 4, (op << 24) | (code << 12));
    this.wr(R.CmdPrd, (idx + 1) % 64);
  }

  postStd(n: number): void {
    for (let i = 0; i < n; i++) {
      const slot = this.stdPrd;
      const bd = RX_STD + slot * 32;
      this.w32(bd, 0);
      this.w32(bd + 4, RX_STD_BUFS + slot * BUF_STRIDE);
      this.w32(bd + 8, STD_BUFSIZE | (slot << 16));
      this.w32(bd + 12, BD_TCP_UDP_SUM);
      this.w32(bd + 28, 0xc0de0000 | slot);
      this.stdPrd = (slot + 1) % 512;
    }
    this.wr(R.RxStdPrd, this.stdPrd);
  }

  postMini(n: number): void {
    for (let i = 0; i < n; i++) {
      const slot = this.miniPrd;
      const bd = RX_MINI + slot * 32;
      this.w32(bd, 0);
      this.w32(bd + 4, RX_MINI_BUFS + slot * MINI_BUFSIZE);
      this.w32(bd + 8, MINI_BUFSIZE | (slot << 16));
      this.w32(bd + 12, BD_TCP_UDP_SUM | BD_MINI);
      this.miniPrd = (slot + 1) % 1024;
    }
    this.wr(R.RxMiniPrd, this.miniPrd);
  }

  /** ace_interrupt */
  isr(): void {
    if ((this.rd(R.HostCtrl) & HC_IN_INT) === 0) {
      this.spurious++;
      return;
    }
    this.wr(R.Mb0Lo, 0);
    this.rd(R.Mb0Lo);
    this.irqs++;
    const rxprd = this.m32(RX_RET_PRD);
    let std = 0;
    let mini = 0;
    while (this.curRx !== rxprd) {
      const a = RX_RET + this.curRx * 32;
      const w2 = this.m32(a + 8);
      const w4 = this.m32(a + 16);
      const w5 = this.m32(a + 20);
      const r: RxSeen = {
        ret: this.curRx, addr: this.m32(a + 4), len: w2 & 0xffff, idx: w2 >>> 16, flags: this.m32(a + 12) & 0xffff,
        l4sum: w4 & 0xffff, ipsum: w4 >>> 16, vlan: w5 & 0xffff, err: w5 >>> 16, opaque: this.m32(a + 28), time: this.b.sched.now,
      };
      this.rx.push(r);
      if ((r.flags & BD_MINI) !== 0) mini++;
      else std++;
      this.curRx = (this.curRx + 1) % 2048;
    }
    if (this.cfg.repost) {
      if (std > 0) this.postStd(std);
      if (mini > 0) this.postMini(mini);
    }
    const txcsm = this.m32(TX_CSM);
    if (txcsm !== this.txRetCsm) {
      this.txDone += (txcsm - this.txRetCsm + 256) % 256;
      this.txRetCsm = txcsm;
      this.onTx?.();
    }
    let evtcsm = this.rd(R.EvtCsm);
    const evtprd = this.m32(EVT_PRD);
    while (evtcsm !== evtprd) {
      const w = this.m32(EVT_RING + evtcsm * 8);
      const e = { type: w >>> 24, code: (w >>> 12) & 0xfff, time: this.b.sched.now };
      this.events.push(e);
      if (e.type === E_FW_RUNNING) this.fwRunning = true;
      if (e.type === E_LINK) this.linkUp = e.code === E_C_LINK_UP;
      evtcsm = (evtcsm + 1) % 256;
    }
    this.wr(R.EvtCsm, evtcsm);
  }

  txSpace(): number {
    return (this.txRetCsm - this.txPrd - 1) & 255;
  }

  /** ace_start_xmit: one BD per fragment, END on the last, then TxPrd. */
  xmit(frags: readonly (readonly [number, number])[], flags: number, vlan = 0): void {
    frags.forEach(([addr, len], i) => {
      const bd = TX_RING + this.txPrd * 16;
      this.w32(bd, 0);
      this.w32(bd + 4, addr);
      this.w32(bd + 8, ((len << 16) | flags | (i === frags.length - 1 ? BD_END : 0)) >>> 0);
      this.w32(bd + 12, vlan);
      this.txPrd = (this.txPrd + 1) % 256;
    });
    this.wr(R.TxPrd, this.txPrd);
  }

  /** read_eeprom_byte, bit for bit (the delays are irrelevant to the model). */
  eepromByte(offset: number): number {
    const start = (): void => {
      let l = this.rd(R.LocalCtrl);
      l |= LC_EEPROM_DOUT | LC_EEPROM_OUT_EN;
      this.wr(R.LocalCtrl, l);
      l |= LC_EEPROM_CLK;
      this.wr(R.LocalCtrl, l);
      l &= ~LC_EEPROM_DOUT;
      this.wr(R.LocalCtrl, l);
      l &= ~LC_EEPROM_CLK;
      this.wr(R.LocalCtrl, l);
    };
    const prep = (magic: number): void => {
      let l = this.rd(R.LocalCtrl);
      l &= ~LC_EEPROM_DOUT;
      l |= LC_EEPROM_OUT_EN;
      this.wr(R.LocalCtrl, l);
      for (let i = 0; i < 8; i++, magic <<= 1) {
        if (magic & 0x80) l |= LC_EEPROM_DOUT;
        else l &= ~LC_EEPROM_DOUT;
        this.wr(R.LocalCtrl, l);
        l |= LC_EEPROM_CLK;
        this.wr(R.LocalCtrl, l);
        l &= ~(LC_EEPROM_CLK | LC_EEPROM_DOUT);
        this.wr(R.LocalCtrl, l);
      }
    };
    const checkAck = (): number => {
      let l = this.rd(R.LocalCtrl);
      l &= ~LC_EEPROM_OUT_EN;
      this.wr(R.LocalCtrl, l);
      l |= LC_EEPROM_CLK;
      this.wr(R.LocalCtrl, l);
      const state = (this.rd(R.LocalCtrl) & LC_EEPROM_DIN) !== 0 ? 1 : 0;
      this.wr(R.LocalCtrl, this.rd(R.LocalCtrl) & ~LC_EEPROM_CLK);
      return state;
    };
    const stop = (): void => {
      let l = this.rd(R.LocalCtrl);
      l |= LC_EEPROM_OUT_EN;
      this.wr(R.LocalCtrl, l);
      l &= ~LC_EEPROM_DOUT;
      this.wr(R.LocalCtrl, l);
      l |= LC_EEPROM_CLK;
      this.wr(R.LocalCtrl, l);
      l |= LC_EEPROM_DOUT;
      this.wr(R.LocalCtrl, l);
      l &= ~LC_EEPROM_CLK;
      this.wr(R.LocalCtrl, l);
    };
    start();
    prep(0xa0);
    if (checkAck()) throw new Error("Unable to sync eeprom");
    prep((offset >> 8) & 0xff);
    if (checkAck()) throw new Error("Unable to set address byte 0");
    prep(offset & 0xff);
    if (checkAck()) throw new Error("Unable to set address byte 1");
    start();
    prep(0xa1);
    if (checkAck()) throw new Error("Unable to set READ_SELECT");
    let result = 0;
    let l = 0;
    for (let i = 0; i < 8; i++) {
      l = this.rd(R.LocalCtrl);
      l &= ~LC_EEPROM_OUT_EN;
      this.wr(R.LocalCtrl, l);
      l |= LC_EEPROM_CLK;
      this.wr(R.LocalCtrl, l);
      result = (result << 1) | ((this.rd(R.LocalCtrl) & LC_EEPROM_DIN) !== 0 ? 1 : 0);
      l = this.rd(R.LocalCtrl);
      l &= ~LC_EEPROM_CLK;
      this.wr(R.LocalCtrl, l);
      if (i === 7) {
        l |= LC_EEPROM_OUT_EN;
        this.wr(R.LocalCtrl, l);
      }
    }
    l |= LC_EEPROM_DOUT;
    this.wr(R.LocalCtrl, l);
    this.wr(R.LocalCtrl, this.rd(R.LocalCtrl) | LC_EEPROM_CLK);
    this.wr(R.LocalCtrl, this.rd(R.LocalCtrl) & ~LC_EEPROM_CLK);
    stop();
    return result & 0xff;
  }
}

function udpSpec(seq: number, payloadLength: number, over: Partial<UdpFrameSpec> = {}): UdpFrameSpec {
  return {
    dstMac: CLIENT_MAC, srcMac: NIC_MAC, srcIp: SERVER_IP, dstIp: CLIENT_IP, srcPort: 4000, dstPort: 5000, payloadLength,
    stream: { id: 7, seq, byteOffset: seq * (payloadLength - 16) }, ipId: seq & 0xffff, ...over,
  };
}

/** Ones' complement checks of a received frame: IPv4 header and UDP (pseudo header). */
function checksumsValid(f: Uint8Array): { ip: boolean; udp: boolean } {
  const ip = checksumSum(f, 14, 20, 0) === 0xffff;
  const udpLen = (f[38] << 8) | f[39];
  const pseudo = checksumSum(f, 26, 8, 17 + udpLen);
  const udp = ((f[40] << 8) | f[41]) !== 0 && checksumSum(f, 34, udpLen, pseudo) === 0xffff;
  return { ip, udp };
}

/** An endpoint that keeps copies of what arrives (small tests only). */
class Catcher implements Endpoint {
  readonly frames: { data: Uint8Array; time: number }[] = [];
  receive(frame: Uint8Array, timeNs: number): void {
    this.frames.push({ data: frame.slice(), time: timeNs });
  }
}

/** Catcher that takes frames in pieces too, joining them itself; counts the pieces. */
class PartsCatcher extends Catcher {
  readonly pieces: number[] = [];
  override receive(frame: Uint8Array, timeNs: number): void {
    this.pieces.push(1);
    super.receive(frame, timeNs);
  }
  receiveParts(p: FrameParts, timeNs: number): void {
    this.pieces.push(p.n);
    const out = new Uint8Array(p.length);
    p.joinInto(out);
    this.frames.push({ data: out, time: timeNs });
  }
}

// ---------------------------------------------------------------------------------

describe("AceNIC checksum engine", () => {
  it("SIMD and JavaScript sums agree with the RFC 1071 reference at every alignment and length", () => {
    const simd = new ChecksumEngine(65536);
    const js = new ChecksumEngine(65536, false);
    const rng = new Rng(7);
    for (let i = 0; i < 65536; i++) simd.u8[i] = js.u8[i] = rng.u32() & 0xff;
    for (let k = 0; k < 2000; k++) {
      const off = rng.below(4096);
      const len = k < 64 ? k : rng.below(9100);
      const init = rng.below(0x40000);
      const ref = checksumSum(simd.u8, off, len, init);
      expect(simd.sum(off, len, init)).toBe(ref);
      expect(js.sum(off, len, init)).toBe(ref);
    }
  });
});

describe("AceNIC registers", () => {
  it("reset values come from the register table; plain registers read back what is written", () => {
    const b = bench();
    const { nic } = b;
    for (const r of REGS) {
      for (let w = 0; w < r.words; w++) {
        const off = r.off + w * 4;
        if (r.name === "Window") continue; // SRAM through WinBase
        const expect_ = r.name === "LocalCtrl" ? r.reset | LC_EEPROM_DIN : r.reset; // SDA idles high
        expect(nic.read(off, 4), `${r.name}[${w}] reset`).toBe(expect_ >>> 0);
      }
    }
    expect(nic.read(R.HostCtrl, 4) >>> 28).toBe(6); // Tigon II
    expect(nic.read(R.CpuCtrl, 4) & CPU_HALT).toBe(CPU_HALT); // halted out of reset
    const plain = REGS.filter((r) => r.access === "rw" && !r.action);
    expect(plain.length).toBeGreaterThan(40);
    for (const r of plain) {
      for (let w = 0; w < r.words; w++) {
        const v = (0xa5000000 | (r.off << 8) | w) >>> 0;
        nic.write(r.off + w * 4, 4, v);
        expect(nic.read(r.off + w * 4, 4), r.name).toBe(v);
      }
    }
    // Read-only registers ignore writes and log a guest error.
    nic.write(R.GigLnkState, 4, 0xffffffff);
    expect(nic.read(R.GigLnkState, 4)).toBe(0);
    expect(b.logs.some(([k, m]) => k === "guest-error" && m.includes("GigLnkState"))).toBe(true);
    // PciState keeps its status bits (32-bit bus, 33 MHz) whatever Linux writes.
    nic.write(R.PciState, 4, 0x76020000);
    expect(nic.read(R.PciState, 4)).toBe(0x76120000);
    // Narrow reads come from the word; narrow writes are refused.
    nic.write(R.MacAddrLo, 4, 0x11223344);
    expect(nic.read(R.MacAddrLo + 1, 1)).toBe(0x33);
    expect(nic.read(R.MacAddrLo + 2, 2)).toBe(0x1122);
    nic.write(R.MacAddrLo, 2, 0);
    expect(nic.read(R.MacAddrLo, 4)).toBe(0x11223344);
    // Unmapped offsets read 0 and are logged as the guest's error.
    expect(nic.read(0x3000, 4)).toBe(0);
    expect(b.logs).toContainEqual(["guest-error", "read of unmapped offset 0x3000"]);
  });

  it("the SRAM window: WinBase selects a 2 KiB page, WinData and SramData reach the same words", () => {
    const { nic } = bench();
    nic.write(R.WinBase, 4, 0x3800);
    nic.write(R.Window + 0x10, 4, 0xdeadbeef);
    nic.write(R.WinBase, 4, 0x3810);
    expect(nic.read(R.WinData, 4)).toBe(0xdeadbeef);
    nic.write(R.SramAddr, 4, 0x3810);
    expect(nic.read(R.SramData, 4)).toBe(0xdeadbeef);
    nic.write(R.WinBase, 4, 0x7f800); // the last page of 512 KiB
    nic.write(R.Window + 0x7fc, 4, 0x12345678);
    nic.write(R.SramAddr, 4, 0x7fffc);
    expect(nic.read(R.SramData, 4)).toBe(0x12345678);
  });

  it("HW_RESET restores reset values but keeps the SRAM bank settings", () => {
    const { nic } = bench();
    nic.write(R.LocalCtrl, 4, LC_SRAM_BANK_512K);
    nic.write(R.TuneRxCoalTicks, 4, 120);
    nic.write(R.HostCtrl, 4, HC_HW_RESET | (HC_HW_RESET << 24));
    expect(nic.read(R.TuneRxCoalTicks, 4)).toBe(0);
    expect(nic.read(R.LocalCtrl, 4) & LC_SRAM_BANK_512K).toBe(LC_SRAM_BANK_512K);
    expect(nic.read(R.HostCtrl, 4)).toBe(0x60000000);
  });
});

describe("AceNIC EEPROM", () => {
  it("Linux's bit-banged I2C random read returns the MAC at 0x8C-0x93", () => {
    const b = bench();
    const d = new Driver(b);
    const bytes = [];
    for (let i = 0; i < 8; i++) bytes.push(d.eepromByte(0x8c + i));
    expect(bytes).toEqual([0, 0, ...NIC_MAC]);
    expect(d.eepromByte(0x200)).toBe(0xff); // erased
  });

  it("the EEPROM does not acknowledge another device address", () => {
    const b = bench();
    const d = new Driver(b);
    const nic = b.nic;
    // START, then 0xB0: the ninth clock samples SDA high (no ACK).
    let l = LC_EEPROM_DOUT | LC_EEPROM_OUT_EN;
    nic.write(R.LocalCtrl, 4, l);
    nic.write(R.LocalCtrl, 4, (l |= LC_EEPROM_CLK));
    nic.write(R.LocalCtrl, 4, (l &= ~LC_EEPROM_DOUT));
    nic.write(R.LocalCtrl, 4, (l &= ~LC_EEPROM_CLK));
    for (let i = 7; i >= 0; i--) {
      l = (0xb0 >> i) & 1 ? l | LC_EEPROM_DOUT : l & ~LC_EEPROM_DOUT;
      nic.write(R.LocalCtrl, 4, l);
      nic.write(R.LocalCtrl, 4, l | LC_EEPROM_CLK);
      nic.write(R.LocalCtrl, 4, l);
    }
    nic.write(R.LocalCtrl, 4, (l &= ~LC_EEPROM_OUT_EN));
    nic.write(R.LocalCtrl, 4, l | LC_EEPROM_CLK);
    expect(nic.read(R.LocalCtrl, 4) & LC_EEPROM_DIN).toBe(LC_EEPROM_DIN);
    nic.write(R.LocalCtrl, 4, l);
    expect(d.eepromByte(0x8e)).toBe(NIC_MAC[0]); // and a proper read still works
  });
});

describe("AceNIC firmware start", () => {
  it("clearing HALT reads gen_info, posts FW_RUNNING and LINK up through the event ring and the IRQ", () => {
    const b = bench();
    const d = new Driver(b);
    d.init();
    expect(d.mac).toEqual(NIC_MAC);
    expect(d.events.slice(0, 2).map((e) => [e.type, e.code])).toEqual([[E_FW_RUNNING, 0], [E_LINK, E_C_LINK_UP]]);
    // HALT was cleared at t = 0 (the driver's register writes take no virtual time here).
    expect(d.events[0].time).toBe(ACENIC_TIMING.bootNs);
    expect(b.nic.read(R.GigLnkState, 4)).toBe((LNK_UP | LNK_1000MB | LNK_FULL_DUPLEX) >>> 0);
    expect(b.nic.read(R.CpuCtrl, 4) & CPU_HALT).toBe(0);
    expect(b.irq.rises).toBe(1); // both events in one interrupt
    expect(b.mem.dv.getUint32(EVT_PRD, true)).toBe(2);
    expect(b.nic.read(R.EvtCsm, 4)).toBe(2);
    expect(b.nic.read(R.CmdCsm, 4)).toBe(2); // CLEAR_STATS, HOST_STATE up
    expect(b.logs.filter(([k]) => k === "guest-error")).toEqual([]);
  });

  it("the trace names registers, events, interrupts and frames", () => {
    const lines: string[] = [];
    const b = bench({}, 1, (l) => lines.push(l));
    const d = new Driver(b);
    d.init();
    const len = writeUdpFrame(b.mem.u8, TX_BUFS, udpSpec(0, 100));
    d.xmit([[TX_BUFS, len]], 0);
    b.sched.runUntil(b.sched.now + 1e6);
    for (const want of ["W HostCtrl <- 08000008", "W LocalCtrl", "W CmdRng[0]", "HALT cleared", "event 01", "irq 1", "W Mb0Lo <- 00000000", "tx 142 bytes"]) {
      expect(lines.some((l) => l.includes(want)), want).toBe(true);
    }
  });

  it("a bad command answers an ERROR event; STATS update DMAs the block and posts STATS_UPDATED", () => {
    const b = bench();
    const d = new Driver(b);
    d.init();
    d.command(0x3f, 0);
    d.command(C_UPDATE_STATS, 0);
    runUntil(b.sched, () => d.events.length >= 4, b.sched.now + 1e6);
    expect(d.events.slice(2).map((e) => [e.type, e.code])).toEqual([[E_ERROR, E_C_ERR_INVAL_CMD], [E_STATS_UPDATED, 0]]);
    // ifPhysAddress in the statistics block (words 25-26)
    expect([...b.mem.u8.subarray(INFO + 25 * 4, INFO + 25 * 4 + 6)]).toEqual(NIC_MAC);
  });
});

describe("AceNIC transmit", () => {
  it("1500-byte IP packets back to back reach the client at 1e9*1500/1538 bit/s", () => {
    const b = bench();
    const cfg: Partial<DriverConfig> = { txFlags: LINUX_CONFIG.txFlags | RCB_IP_SUM };
    const d = new Driver(b, cfg);
    d.init();
    const N = 20_000;
    const PAY = 1472; // 1500-byte IP packets: 20 IP + 8 UDP + 1472
    const M = 1 << 20;
    const pattern = new Uint8Array(M + 4096);
    for (let i = 0; i < pattern.length; i++) pattern[i] = ((i % M) * 131 + ((i % M) >> 9)) & 0xff;
    b.client.expected = (_k, off, len) => pattern.subarray(off % M, (off % M) + len);
    let sent = 0;
    const pump = (): void => {
      while (sent < N && d.txSpace() > 0) {
        const addr = TX_BUFS + d.txPrd * BUF_STRIDE;
        const off = sent * (PAY - 16);
        const len = writeUdpFrame(b.mem.u8, addr, udpSpec(sent, PAY, { data: pattern.subarray(off % M, (off % M) + PAY - 16), ipChecksum: "zero", udpChecksum: "pseudo" }));
        d.xmit([[addr, len]], BD_TCP_UDP_SUM | BD_IP_SUM);
        sent++;
      }
    };
    d.onTx = pump;
    const t0 = b.sched.now;
    pump();
    runUntil(b.sched, () => d.txDone === N, t0 + 1e9);
    b.sched.runUntil(b.sched.now + 1e6);
    const f = b.client.flow("10.0.0.2:5000")!;
    expect(f.frames).toBe(N);
    expect(f.mismatches).toBe(0);
    expect(f.verifiedBytes).toBe(N * (PAY - 16));
    expect(f.lost + f.reordered).toBe(0);
    // Back to back: every frame 1538 byte times (12,304 ns) after the previous one.
    expect(f.lastNs - f.firstNs).toBe((N - 1) * 1538 * 8);
    const ipRate = ((N - 1) * 1500 * 8 * 1e9) / (f.lastNs - f.firstNs);
    expect(ipRate).toBeCloseTo((1e9 * 1500) / 1538, 6); // 975,292,587.8 bit/s
    // A full 100 ms window in steady state holds 8127 or 8128 frames: within 0.1%.
    const w = f.seriesOf(1)[1];
    const windowRate = ((w / PAY) * 1500 * 8) / 0.1;
    expect(Math.abs(windowRate / ((1e9 * 1500) / 1538) - 1)).toBeLessThan(0.001);
    // Statistics count the frames (+4 FCS bytes each).
    expect(b.nic.stat[ST_OUT_UCAST]).toBe(N);
    expect(b.nic.stat[ST_OUT_OCTETS]).toBe(N * 1518);
    // TX interrupts with Linux's coalescing (400 us / 60 BDs): recorded for the report.
    const txIrqs = d.irqs;
    expect(txIrqs).toBeGreaterThan(N / 60);
    expect(txIrqs).toBeLessThan(N / 20);
    console.log(`line rate: ${N} frames, ${(ipRate / 1e6).toFixed(3)} Mbit/s IP payload, ${txIrqs} interrupts (${(N / txIrqs).toFixed(1)} frames each)`);
  });

  it("multi-fragment frames are gathered; VLAN tags inserted; short frames padded", () => {
    const b = bench();
    const catcher = new Catcher();
    const wire = new Wire();
    b.nic.connect(wire.attach(0, b.nic));
    wire.attach(1, catcher);
    const d = new Driver(b);
    d.init();
    const frame = new Uint8Array(200);
    const len = writeUdpFrame(frame, 0, udpSpec(1, 150));
    // Header (42 bytes) and payload in three fragments at scattered addresses.
    b.mem.u8.set(frame.subarray(0, 42), 0x300000);
    b.mem.u8.set(frame.subarray(42, 100), 0x310003);
    b.mem.u8.set(frame.subarray(100, len), 0x320ff0);
    d.xmit([[0x300000, 42], [0x310003, 58], [0x320ff0, len - 100]], 0);
    const small = new Uint8Array(42);
    writeUdpFrame(small, 0, udpSpec(2, 0, { stream: undefined }));
    b.mem.u8.set(small, 0x330000);
    d.xmit([[0x330000, 42]], BD_VLAN_TAG, 0x0123);
    b.sched.runUntil(b.sched.now + 1e6);
    expect(catcher.frames.length).toBe(2);
    expect(catcher.frames[0].data).toEqual(frame.subarray(0, len));
    const v = catcher.frames[1].data;
    expect(v.length).toBe(60); // 46 bytes + padding to the 60-byte minimum
    expect([...v.subarray(12, 16)]).toEqual([0x81, 0x00, 0x01, 0x23]);
    expect(v.subarray(0, 12)).toEqual(small.subarray(0, 12));
    expect(v.subarray(16, 46)).toEqual(small.subarray(12, 42));
    expect([...v.subarray(46)].every((x) => x === 0)).toBe(true);
    expect(d.txDone).toBe(4);
  });

  it("checksum offload produces valid IPv4 and UDP checksums (with and without the pseudo header)", () => {
    for (const noPseudo of [true, false]) {
      const b = bench();
      const catcher = new Catcher();
      const wire = new Wire();
      b.nic.connect(wire.attach(0, b.nic));
      wire.attach(1, catcher);
      const d = new Driver(b, { txFlags: RCB_TX_HOST_RING | RCB_TCP_UDP_SUM | RCB_IP_SUM | (noPseudo ? RCB_NO_PSEUDO_HDR : 0) });
      d.init();
      for (let i = 0; i < 20; i++) {
        const addr = TX_BUFS + i * BUF_STRIDE + (i & 3); // odd alignments too
        const len = writeUdpFrame(b.mem.u8, addr, udpSpec(i, 17 + i * 71, { ipChecksum: "zero", udpChecksum: noPseudo ? "pseudo" : "zero" }));
        d.xmit([[addr, len]], BD_TCP_UDP_SUM | BD_IP_SUM);
      }
      b.sched.runUntil(b.sched.now + 2e6);
      expect(catcher.frames.length).toBe(20);
      for (const f of catcher.frames) expect(checksumsValid(f.data)).toEqual({ ip: true, udp: true });
      // Without the BD flags the NIC leaves the checksums alone.
      const addr = TX_BUFS;
      const len = writeUdpFrame(b.mem.u8, addr, udpSpec(99, 100, { ipChecksum: "zero", udpChecksum: "zero" }));
      d.xmit([[addr, len]], 0);
      b.sched.runUntil(b.sched.now + 1e6);
      const last = catcher.frames[20].data;
      expect((last[24] << 8) | last[25]).toBe(0);
      expect((last[40] << 8) | last[41]).toBe(0);
    }
  });
});

describe("AceNIC transmit in pieces", () => {
  it("offloaded checksums over a payload left in guest RAM equal the gathered frame's, at any split", () => {
    // Where a 1200-byte UDP frame is cut into fragments, each at an odd or even address.
    const splits: number[][] = [[42], [58], [43], [42, 43], [42, 619, 622], [20], [30, 42], [13]];
    const run = (endpoint: Catcher): Catcher => {
      const b = bench();
      const wire = new Wire();
      b.nic.connect(wire.attach(0, b.nic));
      wire.attach(1, endpoint);
      const d = new Driver(b, { txFlags: RCB_TX_HOST_RING | RCB_TCP_UDP_SUM | RCB_IP_SUM });
      d.init();
      const frame = new Uint8Array(1300);
      splits.forEach((cuts, i) => {
        const len = writeUdpFrame(frame, 0, udpSpec(i, 1158, { ipChecksum: "zero", udpChecksum: "zero" }));
        const frags: [number, number][] = [];
        let at = 0;
        for (const [k, end] of [...cuts, len].entries()) {
          const addr = 0x300000 + i * 0x10000 + k * 0x2000 + (k & 1) + (i & 1);
          b.mem.u8.set(frame.subarray(at, end), addr);
          frags.push([addr, end - at]);
          at = end;
        }
        d.xmit(frags, BD_TCP_UDP_SUM | BD_IP_SUM);
      });
      b.sched.runUntil(b.sched.now + 2e6);
      expect(b.logs).toEqual([]);
      return endpoint;
    };
    const joined = run(new Catcher());
    const pieces = run(new PartsCatcher()) as PartsCatcher;
    expect(joined.frames.length).toBe(splits.length);
    for (let i = 0; i < splits.length; i++) {
      expect(checksumsValid(joined.frames[i].data), `split ${splits[i]}`).toEqual({ ip: true, udp: true });
      expect(pieces.frames[i].data).toEqual(joined.frames[i].data);
      expect(pieces.frames[i].time).toBe(joined.frames[i].time);
    }
    // Headers whole in the first fragment: pieces; a header cut short: gathered (one).
    expect(pieces.pieces).toEqual([2, 2, 2, 3, 4, 1, 1, 1]);
  });
});

describe("AceNIC receive", () => {
  it("frames land in the posted buffers; return BDs give slot, length, flags and checksums", () => {
    const b = bench();
    const d = new Driver(b, { rxFlags: RCB_TCP_UDP_SUM | RCB_IP_SUM | RCB_NO_PSEUDO_HDR | RCB_VLAN_ASSIST, miniBuffers: 16, repost: false });
    d.init();
    const sent: Uint8Array[] = [];
    const buf = new Uint8Array(2048);
    let t = b.sched.now + 1000;
    for (let i = 0; i < 10; i++) {
      const small = i % 3 === 0;
      const len = writeUdpFrame(buf, 0, udpSpec(i, small ? 40 : 1400 + i, { dstMac: NIC_MAC, srcMac: CLIENT_MAC, srcIp: CLIENT_IP, dstIp: SERVER_IP, vlan: i === 4 ? 0x0042 : undefined }));
      sent.push(buf.slice(0, len));
      t = b.client.send(buf.subarray(0, len), t);
    }
    b.sched.runUntil(b.sched.now + 1e6);
    expect(d.rx.length).toBe(10);
    let std = 0;
    let mini = 0;
    d.rx.forEach((r, i) => {
      const f = sent[i];
      const tagged = i === 4;
      const body = tagged ? new Uint8Array([...f.subarray(0, 12), ...f.subarray(16)]) : f;
      expect(r.ret).toBe(i);
      expect(r.len).toBe(body.length);
      expect(r.err).toBe(0);
      const isMini = body.length <= MINI_BUFSIZE;
      if (isMini) {
        expect(r.flags & BD_MINI).toBe(BD_MINI);
        expect(r.idx).toBe(mini);
        expect(r.addr).toBe(RX_MINI_BUFS + mini++ * MINI_BUFSIZE);
      } else {
        expect(r.flags & BD_MINI).toBe(0);
        expect(r.idx).toBe(std);
        expect(r.opaque).toBe((0xc0de0000 | std) >>> 0);
        expect(r.addr).toBe(RX_STD_BUFS + std++ * BUF_STRIDE);
      }
      expect(b.mem.u8.subarray(r.addr, r.addr + r.len)).toEqual(body);
      expect(r.flags & (BD_END | BD_UCAST | BD_TCP_UDP_SUM | BD_IP_SUM)).toBe(BD_END | BD_UCAST | BD_TCP_UDP_SUM | BD_IP_SUM);
      expect(r.ipsum).toBe(0xffff); // sum over a valid IPv4 header
      // NO_PSEUDO_HDR: the UDP sum without the pseudo header; adding it gives 0xffff.
      const udpLen = (body[38] << 8) | body[39];
      expect(checksumSum(body, 26, 8, 17 + udpLen + r.l4sum)).toBe(0xffff);
      expect(r.flags & BD_VLAN_TAG).toBe(tagged ? BD_VLAN_TAG : 0);
      if (tagged) expect(r.vlan).toBe(0x42);
    });
    expect(mini).toBe(4);
    expect(b.nic.stat[ST_IN_UCAST]).toBe(10);
    expect(b.nic.stat[ST_IN_OCTETS]).toBe(sent.reduce((s, f) => s + f.length + 4, 0));
    // Timing: frame 0 arrived (last bit) at its wire time; firmware 3 us; DMA of data,
    // return BD and index at 33 MHz: the index is published no earlier than that.
    expect(d.rx[0].time).toBeGreaterThan(b.sched.now - 1e6);
  });

  it("with no buffer posted the frame is dropped and counted; frames for other MACs are filtered", () => {
    const b = bench();
    const d = new Driver(b, { stdBuffers: 5, repost: false });
    d.init();
    const buf = new Uint8Array(2048);
    let t = b.sched.now + 1000;
    for (let i = 0; i < 8; i++) {
      const len = writeUdpFrame(buf, 0, udpSpec(i, 1000, { dstMac: NIC_MAC, srcMac: CLIENT_MAC }));
      t = b.client.send(buf.subarray(0, len), t);
    }
    const len = writeUdpFrame(buf, 0, udpSpec(9, 1000, { dstMac: [2, 0, 0, 0, 0, 9], srcMac: CLIENT_MAC }));
    b.client.send(buf.subarray(0, len), t);
    b.sched.runUntil(b.sched.now + 1e6);
    expect(d.rx.length).toBe(5);
    expect(b.nic.stat[ST_NO_MORE_RX_BDS]).toBe(3);
    expect(b.nic.stat[116]).toBe(1); // nicMacRxDropUla
    // The counters reach the host in the statistics block (UPDATE_STATS).
    d.command(C_UPDATE_STATS, 0);
    runUntil(b.sched, () => d.events.some((e) => e.type === E_STATS_UPDATED), b.sched.now + 1e6);
    expect(b.mem.dv.getUint32(INFO + ST_NO_MORE_RX_BDS * 4, true)).toBe(3);
    expect(b.mem.dv.getUint32(INFO + ST_IN_UCAST * 4, true)).toBe(5);
    // Promiscuous mode takes the foreign frame.
    d.postStd(1);
    d.command(C_SET_PROMISC_MODE, 1);
    b.sched.runUntil(b.sched.now + 1e5);
    b.client.send(buf.subarray(0, len), b.sched.now);
    b.sched.runUntil(b.sched.now + 1e6);
    expect(d.rx.length).toBe(6);
  });
});

describe("AceNIC interrupts", () => {
  it("Mb0Lo protocol: any write acks; no IRQ while Mb0Lo != 0 or MASK_INTS; work after the ack raises again", () => {
    const b = bench();
    const d = new Driver(b);
    d.init();
    const nic = b.nic;
    b.irq.onRise = undefined; // drive by hand from here
    const post = (): void => {
      d.command(C_UPDATE_STATS, 0);
      b.sched.runUntil(b.sched.now + 1e5);
    };
    post();
    expect(b.irq.level).toBe(true);
    expect(nic.read(R.HostCtrl, 4) & HC_IN_INT).toBe(HC_IN_INT);
    nic.write(R.Mb0Lo, 4, 1); // BSD: ack + hold off
    expect(b.irq.level).toBe(false);
    expect(nic.read(R.HostCtrl, 4) & HC_IN_INT).toBe(0);
    post(); // work while held off: pending, line low
    expect(nic.read(R.HostCtrl, 4) & HC_IN_INT).toBe(HC_IN_INT);
    expect(b.irq.level).toBe(false);
    nic.write(R.Mb0Lo, 4, 0); // end of hold-off: raises for that work
    expect(b.irq.level).toBe(true);
    nic.write(R.Mb0Lo, 4, 0); // Linux: ack
    expect(b.irq.level).toBe(false);
    post();
    expect(b.irq.level).toBe(true);
    nic.write(R.HostCtrl, 4, nic.read(R.HostCtrl, 4) | HC_MASK_INTS);
    expect(b.irq.level).toBe(false);
    nic.write(R.HostCtrl, 4, nic.read(R.HostCtrl, 4) & ~HC_MASK_INTS);
    expect(b.irq.level).toBe(true);
    nic.write(R.HostCtrl, 4, HC_CLR_INT | HC_WORD_SWAP);
    expect(b.irq.level).toBe(false);
  });

  // Frames back to back from the client arrive every 12,304 ns; each is published
  // 3 us (firmware) + 12,000 ns (DMA: 1514 + 32 + 4 bytes at 33 MHz) after its arrival.
  const coalesceCases: [string, number, number, number][] = [
    // name, RxCoalTicks, MaxRxDesc, interrupts for 100 frames
    ["no coalescing", 0, 0, 100],
    ["25 BDs, long timer", 1_000_000, 25, 4],
    // 120 us after the first unsignalled BD: that one and the 9 after it (9 x 12.304 < 120)
    ["120 us timer", 120, 1000, 10],
    ["Linux defaults 120 us / 25 BDs", 120, 25, 10],
  ];
  for (const [name, ticks, max, irqs] of coalesceCases) {
    it(`RX coalescing, ${name}: ${irqs} interrupts for 100 frames`, () => {
      const b = bench();
      const d = new Driver(b, { rxCoalTicks: ticks, rxMaxDesc: max, statTicks: 0, stdBuffers: 200 });
      d.init();
      const before = d.irqs;
      const buf = new Uint8Array(2048);
      const len = writeUdpFrame(buf, 0, udpSpec(0, 1472, { dstMac: NIC_MAC, srcMac: CLIENT_MAC }));
      let t = b.sched.now + 1000;
      for (let i = 0; i < 100; i++) t = b.client.send(buf.subarray(0, len), t);
      b.sched.runUntil(b.sched.now + 5e6);
      expect(d.rx.length).toBe(100);
      expect(d.irqs - before).toBe(irqs);
      expect(d.spurious).toBe(0);
    });
  }
});

describe("AceNIC faults", () => {
  it("seeded RX/TX drop probability: the same seed drops the same frames", () => {
    const run = (seed: number) => {
      const b = bench({ rxDropProbability: 0.1, txDropProbability: 0.05 }, seed);
      const d = new Driver(b, { stdBuffers: 300 });
      d.init();
      const buf = new Uint8Array(2048);
      let t = b.sched.now + 1000;
      for (let i = 0; i < 200; i++) {
        const len = writeUdpFrame(buf, 0, udpSpec(i, 200, { dstMac: NIC_MAC, srcMac: CLIENT_MAC }));
        t = b.client.send(buf.subarray(0, len), t);
      }
      for (let i = 0; i < 100; i++) {
        const addr = TX_BUFS + (i % 200) * BUF_STRIDE;
        const len = writeUdpFrame(b.mem.u8, addr, udpSpec(i, 300));
        d.xmit([[addr, len]], 0);
        if (d.txSpace() < 2) b.sched.runUntil(b.sched.now + 1e6);
      }
      b.sched.runUntil(b.sched.now + 1e7);
      const got = d.rx.map((r) => b.mem.dv.getUint32(r.addr + 46, false)); // stream seq
      return { got, rxDropped: b.nic.faults.rxDropped, txDropped: b.nic.faults.txDropped, fcs: b.nic.stat[ST_FCS_ERRORS], clientFrames: b.client.counters.frames, hash: b.sched.traceHash };
    };
    const a = run(1);
    const again = run(1);
    const other = run(2);
    expect(again).toEqual(a);
    expect(a.rxDropped).toBeGreaterThan(5);
    expect(a.rxDropped).toBeLessThan(40);
    expect(a.got.length).toBe(200 - a.rxDropped);
    expect(a.fcs).toBe(a.rxDropped);
    expect(a.clientFrames).toBe(100 - a.txDropped);
    expect(other.got).not.toEqual(a.got);
    console.log(`fault injection (seed 1): ${a.rxDropped}/200 RX and ${a.txDropped}/100 TX frames lost`);
  });

  it("DMA outside RAM never crashes the host: bad TX buffers are dropped, bad RX buffers come back with ERROR", () => {
    const b = bench();
    const d = new Driver(b, { stdBuffers: 0, repost: false });
    d.init();
    // TX: a BD far outside the 32 MiB of RAM, then a good frame.
    d.xmit([[0x7ffff000, 1000]], 0);
    const len = writeUdpFrame(b.mem.u8, TX_BUFS, udpSpec(1, 100));
    d.xmit([[TX_BUFS, len]], 0);
    b.sched.runUntil(b.sched.now + 1e6);
    expect(b.client.counters.frames).toBe(1);
    expect(b.nic.stat[ST_DMA_RD_ABORTS]).toBe(1);
    expect(d.txDone).toBe(2); // both BDs consumed
    // RX: a posted buffer outside RAM.
    const bd = RX_STD;
    b.mem.dv.setUint32(bd, 0, true);
    b.mem.dv.setUint32(bd + 4, 0x7ffff000, true);
    b.mem.dv.setUint32(bd + 8, STD_BUFSIZE, true);
    d.stdPrd = 1;
    b.nic.write(R.RxStdPrd, 4, 1);
    const buf = new Uint8Array(2048);
    const rl = writeUdpFrame(buf, 0, udpSpec(2, 500, { dstMac: NIC_MAC, srcMac: CLIENT_MAC }));
    b.client.send(buf.subarray(0, rl), b.sched.now);
    b.sched.runUntil(b.sched.now + 1e6);
    expect(d.rx.length).toBe(1);
    expect(d.rx[0].flags & BD_ERROR).toBe(BD_ERROR);
    expect(d.rx[0].err).toBe(RXERR_DMA_FAULT);
    expect(d.rx[0].len).toBe(0);
    expect(b.nic.stat[ST_DMA_WR_ABORTS]).toBe(1);
    expect(b.logs.filter(([k, m]) => k === "guest-error" && m.includes("outside RAM")).length).toBe(2);
  });

  it("a ring outside RAM stops that ring with an ERROR event; gen_info outside RAM never starts", () => {
    const b = bench();
    const d = new Driver(b, { txRingAddr: 0x1fff800 }); // the ring's end passes 32 MiB
    d.init();
    expect(d.events.some((e) => e.type === E_ERROR && e.code === E_C_ERR_BAD_CFG)).toBe(true);
    d.xmit([[TX_BUFS, 60]], 0); // writes BDs at the in-RAM start of that ring: nothing is sent
    b.sched.runUntil(b.sched.now + 1e6);
    expect(b.client.counters.frames).toBe(0);

    const b2 = bench();
    b2.nic.write(R.InfoPtrHi, 4, 1); // a 64-bit address: never RAM here
    b2.nic.write(R.CpuCtrl, 4, 0);
    b2.sched.runUntil(10e6);
    expect(b2.irq.rises).toBe(0);
    expect(b2.logs.some(([k, m]) => k === "guest-error" && m.includes("gen_info"))).toBe(true);
  });
});

describe("AceNIC + pcap + tshark", () => {
  it("frames sent through the NIC with checksum offload decode in tshark with good IPv4/UDP checksums", () => {
    const tshark = ["/usr/bin/tshark", "/usr/local/bin/tshark"].find((p) => existsSync(p));
    if (tshark === undefined) {
      if (process.env.HITACTIX_SKIP_TSHARK === "1") return;
      throw new Error("tshark is not installed: install it (apt-get install -y tshark; CI installs it) or set HITACTIX_SKIP_TSHARK=1");
    }
    const dir = mkdtempSync(join(tmpdir(), "acenic-pcap-"));
    const path = join(dir, "nic.pcap");
    const pcap = new PcapWriter(path);
    const b = bench();
    b.wire.tap = pcap;
    const d = new Driver(b, { txFlags: RCB_TX_HOST_RING | RCB_TCP_UDP_SUM | RCB_IP_SUM | RCB_NO_PSEUDO_HDR | RCB_VLAN_ASSIST });
    d.init();
    const N = 50;
    for (let i = 0; i < N; i++) {
      const addr = TX_BUFS + i * BUF_STRIDE;
      const len = writeUdpFrame(b.mem.u8, addr, udpSpec(i, 16 + ((i * 97) % 1457), { ipChecksum: "zero", udpChecksum: "pseudo" }));
      d.xmit([[addr, 34], [addr + 34, len - 34]], BD_TCP_UDP_SUM | BD_IP_SUM);
    }
    // A control frame whose IPv4 checksum is wrong (no offload asked): tshark must say bad.
    const addr = TX_BUFS + N * BUF_STRIDE;
    const len = writeUdpFrame(b.mem.u8, addr, udpSpec(N, 100, { ipChecksum: "zero" }));
    d.xmit([[addr, len]], 0);
    b.sched.runUntil(b.sched.now + 5e6);
    pcap.close();
    expect(pcap.frames).toBe(N + 1);
    const r = spawnSync(tshark, ["-r", path, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields", "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "frame.time_delta"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.length).toBe(N + 1);
    // proto_checksum_enum_e in Wireshark: 0 bad, 1 good, 2 unverified, 3 not present.
    for (const l of lines.slice(0, N)) expect(l.split("\t").slice(0, 2)).toEqual(["1", "1"]);
    expect(lines[N].split("\t")[0]).toBe("0");
    expect(r.stderr.replace(/Running as user "root".*\n?/, "").trim()).toBe("");
  });
});
