// AceNIC (Alteon Tigon II) gigabit Ethernet driver, shared by both kernels.
//
// What Linux's acenic.c does, in the same order, as an interrupt-driven state machine
// (a guest runs to completion: nothing here ever waits for the NIC):
//   nicInit   reset (HostCtrl.HW_RESET), halt both NIC CPUs, read the station address
//             from the I2C EEPROM (bit-banged through LocalCtrl, as read_eeprom_byte),
//             allocate gen_info, the event ring, the TX ring, the RX std and return
//             rings and the RX buffers in guest RAM (dmaAlloc: a guest pointer is the
//             bus address the NIC DMAs to), program coalescing (Tune*), clear HALT.
//             Returns at once: the NIC's firmware boots in the background.
//   nicIntr   FW_RUNNING event: post the RX buffers, set the MTU, CLEAR_STATS,
//             HOST_STATE up (ace_load_std_rx_ring + ace_open). LINK up event: the
//             device is ready, onReady() runs once. After that: RX return ring (each
//             frame to the RX upcall, its buffer posted again), TX consumer (the
//             TX-done upcall), events.
// Sending is zero copy: a frame is one BD per fragment, so a stream server sends a
// header it built and a payload straight out of its ring buffer (nicSend2). With
// csum = true the NIC fills in the IPv4 header checksum and the UDP/TCP checksum
// (pseudo header included: the TX ring has IP_SUM | TCP_UDP_SUM and not
// NO_PSEUDO_HDR); the caller leaves both fields zero. "TX done" means the NIC has
// DMA'd the frame (header and payload may be reused), not that it has left the wire.
// Cost of zero copy on this board: two DMA bursts per frame on 32-bit 33 MHz PCI take
// the NIC ~12.35 us per 1514-byte frame against 12.304 us on the wire, so two-fragment
// frames run at 99.6% of line rate; one fragment reaches it (test/nic.test.ts).
// Register offsets, bits and layouts come from common/acenic-regs.ts, which the device
// model uses too (Linux acenic.h names); the firmware image is not loaded: the device
// model is the firmware.
// Not done: jumbo and mini RX rings (disabled), VLAN, multicast/promiscuous commands,
// RX checksum results (not asked for), link-down recovery beyond a flag, Tigon I.
//
// Interface (kernel code sees a network device, not registers; STYLE.md practice 8):
//   nicInit(onReady)                  bring-up; onReady() once the link is up
//   nicIntr()                         from irq(IRQ_NIC)
//   nicReady(): bool                  firmware running and link up
//   nicTxFree(): u32                  free TX descriptors (a frame takes one per fragment)
//   nicSend1(addr, len, csum): bool   one-fragment frame; false = no room / not ready
//   nicSend2(hdr, hdrLen, pay, payLen, csum): bool   header + payload fragments
//   nicSetTxDone(fn(frames, bds))     upcall when the NIC has taken frames (refill)
//   nicSetRx(fn(addr, len))           upcall per received frame; the buffer is lent for
//                                     the call only (reposted when it returns)
//   nic                               the state object: station address, counters

import { mmioRead32, mmioWrite32 } from "../hw";
import { dmaAlloc } from "../dma";
import { cputs, cputc, cputu, kprint } from "../console";
import { NIC_BASE } from "../../common/platform";
import {
  HostCtrl, LocalCtrl, MiscCfg, PciState, AssistState, CpuCtrl, Pc, CpuBCtrl, Mb0Lo, CmdPrd, TxPrd, RxStdPrd,
  MacAddrHi, MacAddrLo, InfoPtrHi, InfoPtrLo, ModeStat, DmaReadCfg, DmaWriteCfg, EvtCsm, CmdCsm, TuneRxCoalTicks,
  TuneTxCoalTicks, TuneStatTicks, TuneMaxTxDesc, TuneMaxRxDesc, TuneLink, TuneFastLink, IfIdx, IfMtu, GigLnkState, CmdRng,
  HC_IN_INT, HC_CLR_INT, HC_HW_RESET, HC_WORD_SWAP, HC_REV_SHIFT, TIGON_II_REV, LC_EEPROM_DIN, LC_EEPROM_DOUT,
  LC_EEPROM_OUT_EN, LC_EEPROM_CLK, LC_SRAM_BANK_512K, MISC_SYNC_SRAM_TIMING, PCI_READ_CMD_MEM, PCI_WRITE_CMD_MEM,
  PCI_MEM_READ_MULTIPLE, DMA_THRESH_8W, CPU_HALT, CPU_TRACE, MODE_BYTE_SWAP_DMA, MODE_WARN, MODE_FATAL,
  MODE_WORD_SWAP_BD, MODE_NO_JUMBO_FRAG, LNK_ENABLE, LNK_FULL_DUPLEX, LNK_1000MB, LNK_NEGOTIATE, LNK_UP,
  GI_EVT_RCB, GI_CMD_RCB, GI_TX_RCB, GI_STD_RCB, GI_JUMBO_RCB, GI_MINI_RCB, GI_RET_RCB, GI_EVT_PRD_PTR,
  GI_RX_RET_PRD_PTR, GI_TX_CSM_PTR, GI_STATS_PTR, GEN_INFO_BYTES, CMD_RING_NIC_ADDR, RCB_TCP_UDP_SUM, RCB_IP_SUM, RCB_COAL_INT_ONLY,
  RCB_TX_HOST_RING, RCB_DISABLED, BD_TCP_UDP_SUM, BD_IP_SUM, BD_END, BD_ERROR, E_FW_RUNNING, E_STATS_UPDATED, E_LINK,
  E_C_LINK_UP, E_ERROR, C_HOST_STATE, C_CLEAR_STATS, EEPROM_DEVICE, EEPROM_MAC_OFF, EVT_RING_ENTRIES,
  CMD_RING_ENTRIES, TX_RING_ENTRIES, RX_STD_RING_ENTRIES, RX_RETURN_RING_ENTRIES,
} from "../../common/acenic-regs";

// ---------------------------------------------------------------------------------
// Tunables (Linux's defaults where Linux has one)

const TX_RING: u32 = TX_RING_ENTRIES; // TX BDs in host RAM (Tigon II MAX_TX_RING_ENTRIES)
const RX_STD_RING: u32 = RX_STD_RING_ENTRIES; // fixed by the firmware
const RX_RET_RING: u32 = RX_RETURN_RING_ENTRIES; // return ring
const EVT_RING: u32 = EVT_RING_ENTRIES; // fixed by the firmware
const CMD_RING: u32 = CMD_RING_ENTRIES; // in the register file
const RX_BUFS: u32 = 256; // buffers posted on the std ring (half of it, as Linux)
const RX_BUF_SIZE: u32 = 1536; // a 1518-byte frame fits; also the jumbo cutoff
const MTU_FRAME: u32 = 1500 + 14 + 4; // IfMtu: MTU + Ethernet header + VLAN tag
const TX_COAL_TICKS: u32 = 400; // us (DEF_TX_COAL)
const TX_MAX_DESC: u32 = 60; // BDs (DEF_TX_MAX_DESC): 30 two-fragment frames
const RX_COAL_TICKS: u32 = 120; // us (DEF_RX_COAL)
const RX_MAX_DESC: u32 = 25; // BDs (DEF_RX_MAX_DESC)
const STAT_TICKS: u32 = 2000000; // us: statistics block DMA'd every 2 s (DEF_STAT)

// Driver settings made of the chip's bits (the bits themselves: common/acenic-regs.ts)

const MODE_LINUX: u32 = MODE_BYTE_SWAP_DMA | MODE_WARN | MODE_FATAL | MODE_WORD_SWAP_BD | MODE_NO_JUMBO_FRAG;
const PCI_LINUX: u32 = PCI_READ_CMD_MEM | PCI_WRITE_CMD_MEM | PCI_MEM_READ_MULTIPLE;
const LNK_1000_FDX_NEG: u32 = LNK_ENABLE | LNK_FULL_DUPLEX | LNK_1000MB | LNK_NEGOTIATE;
const FW_ENTRY: u32 = 0x4000; // where tg2.bin starts (the model's firmware ignores it)

// States of the bring-up
export const NIC_DOWN: u32 = 0;
export const NIC_BOOTING: u32 = 1; // HALT cleared, waiting for FW_RUNNING
export const NIC_RUNNING: u32 = 2; // firmware running, RX posted, waiting for the link
export const NIC_UP: u32 = 3; // link up: sends accepted
export const NIC_FAILED: u32 = 4; // not a Tigon II, or the EEPROM did not answer

// ---------------------------------------------------------------------------------
// State

@final
export class AceNicState {
  state: u32 = NIC_DOWN;
  linkUp: bool = false;
  /** Station address, 6 bytes (from the EEPROM). */
  mac: usize = 0;
  /** gen_info; its first 1 KiB is the statistics block the NIC DMAs (ti_stats). */
  info: usize = 0;
  /** Words the NIC DMA-writes: evt_prd (+0), rx_ret_prd (+4), tx_csm (+8). */
  status: usize = 0;
  evtRing: usize = 0;
  /** Next event to read; written back to EvtCsm (kept here: a register read is 0.75 us). */
  evtCsm: u32 = 0;
  /** Next free slot of the command ring (a shadow of CmdPrd). */
  cmdPrd: u32 = 0;
  txRing: usize = 0;
  /** Next TX BD the driver fills; BDs [txCsm, txPrd) belong to the NIC once posted. */
  txPrd: u32 = 0;
  /** The TX producer index last written to the NIC (nicKick). */
  txPrdPosted: u32 = 0;
  /** TX consumer last seen (*tx_csm): BDs before it are free again. */
  txCsm: u32 = 0;
  /** Per TX BD: 1 if it ends a frame (the TX-done upcall counts frames). */
  txEnd: StaticArray<u8> = new StaticArray<u8>(TX_RING);
  stdRing: usize = 0;
  /** Next std BD slot to fill (RxStdPrd). */
  stdPrd: u32 = 0;
  rxRet: usize = 0;
  /** Next return BD to read. */
  rxRetCsm: u32 = 0;
  /** RX buffers: RX_BUFS of RX_BUF_SIZE bytes; a buffer's number rides in its BD's idx. */
  rxBufs: usize = 0;
  // counters
  txFrames: u64 = 0; // frames queued
  txBds: u64 = 0; // BDs queued
  txDone: u64 = 0; // frames the NIC has taken (TX consumer passed their END BD)
  txRefused: u64 = 0; // sends refused (ring full or not ready)
  rxFrames: u64 = 0; // frames handed to the RX upcall
  rxBytes: u64 = 0;
  rxErrors: u64 = 0; // return BDs with ERROR (buffer reposted)
  interrupts: u64 = 0; // interrupts that were ours
  spurious: u64 = 0; // interrupts with HostCtrl.IN_INT clear
  events: u64 = 0; // events read from the event ring
  errorEvents: u64 = 0;
  statsUpdates: u64 = 0;
}

export const nic = new AceNicState();

function nothing(): void {}
function noTxDone(frames: u32, bds: u32): void {}
function noRx(addr: usize, len: u32): void {}
let onReady: () => void = nothing;
let onTxDone: (frames: u32, bds: u32) => void = noTxDone;
let onRx: (addr: usize, len: u32) => void = noRx;

// @ts-ignore: decorator
@inline function rd(off: u32): u32 { return mmioRead32(<u32>NIC_BASE + off); }
// @ts-ignore: decorator
@inline function wr(off: u32, v: u32): void { mmioWrite32(<u32>NIC_BASE + off, v); }

// ---------------------------------------------------------------------------------
// Init (ace_init): everything up to clearing HALT

export function nicInit(ready: () => void): void {
  onReady = ready;
  wr(HostCtrl, HC_HW_RESET | (HC_HW_RESET << 24));
  rd(HostCtrl); // flush the posted write
  wr(HostCtrl, (HC_CLR_INT | HC_WORD_SWAP) | ((HC_CLR_INT | HC_WORD_SWAP) << 24));
  wr(CpuCtrl, rd(CpuCtrl) | CPU_HALT);
  wr(Mb0Lo, 0);
  if (rd(HostCtrl) >> HC_REV_SHIFT != TIGON_II_REV) return fail("not a Tigon II");
  wr(CpuBCtrl, rd(CpuBCtrl) | CPU_HALT);
  wr(LocalCtrl, LC_SRAM_BANK_512K);
  wr(MiscCfg, MISC_SYNC_SRAM_TIMING);
  wr(ModeStat, MODE_LINUX);
  if (nic.info == 0) allocRings();
  if (!readMac()) return fail("EEPROM does not answer");
  wr(PciState, PCI_LINUX);
  setupGenInfo();
  wr(InfoPtrHi, 0);
  wr(InfoPtrLo, <u32>nic.info);
  nic.evtCsm = 0;
  wr(EvtCsm, 0);
  for (let i: u32 = 0; i < CMD_RING; i++) wr(CmdRng + (i << 2), 0);
  nic.cmdPrd = 0;
  wr(CmdPrd, 0);
  wr(CmdCsm, 0);
  wr(DmaReadCfg, DMA_THRESH_8W);
  wr(DmaWriteCfg, DMA_THRESH_8W);
  wr(IfIdx, 1);
  wr(TuneStatTicks, STAT_TICKS);
  wr(TuneTxCoalTicks, TX_COAL_TICKS);
  wr(TuneMaxTxDesc, TX_MAX_DESC);
  wr(TuneRxCoalTicks, RX_COAL_TICKS);
  wr(TuneMaxRxDesc, RX_MAX_DESC);
  wr(TuneLink, LNK_1000_FDX_NEG);
  wr(TuneFastLink, LNK_1000_FDX_NEG);
  wr(Pc, FW_ENTRY);
  wr(Mb0Lo, 0);
  nic.txPrd = 0; nic.txPrdPosted = 0; nic.txCsm = 0; nic.stdPrd = 0; nic.rxRetCsm = 0;
  wr(TxPrd, 0);
  wr(AssistState, 1);
  nic.state = NIC_BOOTING;
  wr(CpuCtrl, rd(CpuCtrl) & ~(CPU_HALT | CPU_TRACE)); // the firmware boots: FW_RUNNING follows
}

function fail(why: string): void {
  nic.state = NIC_FAILED;
  cputs("acenic: "); kprint(why);
}

/** Every ring and buffer, once, from the partition's heap. */
function allocRings(): void {
  nic.mac = dmaAlloc(8, 8);
  nic.info = dmaAlloc(GEN_INFO_BYTES, 64);
  nic.status = dmaAlloc(16, 16);
  nic.evtRing = dmaAlloc(<usize>EVT_RING * 8, 64);
  nic.txRing = dmaAlloc(<usize>TX_RING * 16, 64);
  nic.stdRing = dmaAlloc(<usize>RX_STD_RING * 32, 64);
  nic.rxRet = dmaAlloc(<usize>RX_RET_RING * 32, 64);
  nic.rxBufs = dmaAlloc(<usize>RX_BUFS * RX_BUF_SIZE, 64);
}

function rcb(at: usize, addr: usize, flags: u32, maxLen: u32): void {
  store<u32>(nic.info + at, 0);
  store<u32>(nic.info + at, <u32>addr, 4);
  store<u32>(nic.info + at, flags | (maxLen << 16), 8);
}

function hostPtr(at: usize, addr: usize): void {
  store<u32>(nic.info + at, 0);
  store<u32>(nic.info + at, <u32>addr, 4);
}

function setupGenInfo(): void {
  memory.fill(nic.info, 0, GEN_INFO_BYTES);
  memory.fill(nic.status, 0, 16);
  rcb(GI_EVT_RCB, nic.evtRing, 0, 0);
  hostPtr(GI_EVT_PRD_PTR, nic.status);
  rcb(GI_CMD_RCB, CMD_RING_NIC_ADDR, 0, 0); // the command ring is the NIC's own (CmdRng)
  hostPtr(GI_STATS_PTR, nic.info);
  rcb(GI_STD_RCB, nic.stdRing, 0, RX_BUF_SIZE);
  rcb(GI_JUMBO_RCB, 0, RCB_DISABLED, 0);
  rcb(GI_MINI_RCB, 0, RCB_DISABLED, 0);
  rcb(GI_RET_RCB, nic.rxRet, 0, RX_RET_RING);
  hostPtr(GI_RX_RET_PRD_PTR, nic.status + 4);
  rcb(GI_TX_RCB, nic.txRing, RCB_TX_HOST_RING | RCB_IP_SUM | RCB_TCP_UDP_SUM | RCB_COAL_INT_ONLY, TX_RING);
  hostPtr(GI_TX_CSM_PTR, nic.status + 8);
}

// ---------------------------------------------------------------------------------
// Station address from the EEPROM (read_eeprom_byte, I2C bit-banged on LocalCtrl).
// lc shadows LocalCtrl: the pins are only read back to sample SDA (DIN).

let lc: u32 = 0;

// @ts-ignore: decorator
@inline function lcw(v: u32): void { lc = v; wr(LocalCtrl, v); }

function i2cStart(): void {
  lcw(lc | LC_EEPROM_DOUT | LC_EEPROM_OUT_EN);
  lcw(lc | LC_EEPROM_CLK);
  lcw(lc & ~LC_EEPROM_DOUT); // SDA falls while SCL is high: START
  lcw(lc & ~LC_EEPROM_CLK);
}

function i2cStop(): void {
  lcw(lc | LC_EEPROM_OUT_EN);
  lcw(lc & ~LC_EEPROM_DOUT);
  lcw(lc | LC_EEPROM_CLK);
  lcw(lc | LC_EEPROM_DOUT); // SDA rises while SCL is high: STOP
  lcw(lc & ~LC_EEPROM_CLK);
}

/** Clock out one byte, MSB first; true if the EEPROM acknowledged it. */
function i2cSend(b: u32): bool {
  lcw((lc & ~LC_EEPROM_DOUT) | LC_EEPROM_OUT_EN);
  for (let i = 0; i < 8; i++, b <<= 1) {
    lcw((b & 0x80) != 0 ? lc | LC_EEPROM_DOUT : lc & ~LC_EEPROM_DOUT);
    lcw(lc | LC_EEPROM_CLK);
    lcw(lc & ~(LC_EEPROM_CLK | LC_EEPROM_DOUT));
  }
  lcw(lc & ~LC_EEPROM_OUT_EN); // release SDA for the ACK bit
  lcw(lc | LC_EEPROM_CLK);
  let nack = (rd(LocalCtrl) & LC_EEPROM_DIN) != 0;
  lcw(lc & ~LC_EEPROM_CLK);
  return !nack;
}

/** One byte at `offset` (random read), or -1 if the EEPROM does not acknowledge. */
function eepromByte(offset: u32): i32 {
  i2cStart();
  if (!i2cSend(EEPROM_DEVICE) || !i2cSend((offset >> 8) & 0xff) || !i2cSend(offset & 0xff)) { i2cStop(); return -1; }
  i2cStart();
  if (!i2cSend(EEPROM_DEVICE | 1)) { i2cStop(); return -1; }
  let v: u32 = 0;
  for (let i = 0; i < 8; i++) {
    lcw(lc & ~LC_EEPROM_OUT_EN);
    lcw(lc | LC_EEPROM_CLK);
    v = (v << 1) | ((rd(LocalCtrl) & LC_EEPROM_DIN) != 0 ? 1 : 0);
    lcw(lc & ~LC_EEPROM_CLK);
  }
  lcw(lc | LC_EEPROM_OUT_EN | LC_EEPROM_DOUT); // NACK: the last byte we want
  lcw(lc | LC_EEPROM_CLK);
  lcw(lc & ~LC_EEPROM_CLK);
  i2cStop();
  return <i32>v;
}

/** The MAC is at EEPROM_MAC_OFF (two zero bytes, then the six address bytes). */
function readMac(): bool {
  lc = LC_SRAM_BANK_512K;
  let hi: u32 = 0;
  let lo: u32 = 0;
  for (let i: u32 = 0; i < 8; i++) {
    let b = eepromByte(EEPROM_MAC_OFF + i);
    if (b < 0) return false;
    if (i < 4) hi = (hi << 8) | <u32>b; else lo = (lo << 8) | <u32>b;
    if (i >= 2) store<u8>(nic.mac + i - 2, <u8>b);
  }
  wr(MacAddrHi, hi);
  wr(MacAddrLo, lo);
  return true;
}

// ---------------------------------------------------------------------------------
// Bring-up, second half (on FW_RUNNING): ace_load_std_rx_ring + ace_open

function firmwareRunning(): void {
  nic.state = NIC_RUNNING;
  for (let i: u32 = 0; i < RX_BUFS; i++) rxPost(i);
  wr(RxStdPrd, nic.stdPrd);
  wr(IfMtu, MTU_FRAME);
  command(C_CLEAR_STATS, 0);
  command(C_HOST_STATE, 1);
}

function command(op: u32, code: u32): void {
  let i = nic.cmdPrd;
  wr(CmdRng + (i << 2), (op << 24) | (code << 12));
  nic.cmdPrd = (i + 1) & (CMD_RING - 1);
  wr(CmdPrd, nic.cmdPrd);
}

function linkChange(up: bool): void {
  nic.linkUp = up;
  if (!up) { kprint("acenic: link down"); return; }
  if (nic.state != NIC_RUNNING) return;
  nic.state = NIC_UP;
  cputs("acenic: ");
  for (let i: usize = 0; i < 6; i++) {
    let b = <u32>load<u8>(nic.mac + i);
    if (i > 0) cputc(58);
    cputc(hexDigit(b >> 4)); cputc(hexDigit(b & 15));
  }
  let s = rd(GigLnkState);
  cputs(", link up"); if ((s & LNK_UP) != 0 && (s & LNK_1000MB) != 0) cputs(" 1000 Mb/s");
  if ((s & LNK_FULL_DUPLEX) != 0) cputs(" full duplex");
  kprint("");
  onReady();
}

function hexDigit(d: u32): u32 { return d < 10 ? 48 + d : 87 + d; }

// ---------------------------------------------------------------------------------
// Operations

export function nicReady(): bool {
  return nic.state == NIC_UP;
}

export function nicSetTxDone(fn: (frames: u32, bds: u32) => void): void { onTxDone = fn; }
export function nicSetRx(fn: (addr: usize, len: u32) => void): void { onRx = fn; }

/** Free TX BDs (0 until ready); one stays empty so a full ring differs from an empty one. */
export function nicTxFree(): u32 {
  if (nic.state != NIC_UP) return 0;
  return (nic.txCsm - nic.txPrd - 1) & (TX_RING - 1);
}

// @ts-ignore: decorator
@inline function txBd(addr: usize, len: u32, flags: u32, end: bool): void {
  let i = nic.txPrd;
  let bd = nic.txRing + (<usize>i << 4);
  store<u32>(bd, 0);
  store<u32>(bd, <u32>addr, 4);
  store<u32>(bd, (len << 16) | flags | (end ? BD_END : 0), 8);
  store<u32>(bd, 0, 12);
  unchecked(nic.txEnd[i] = end ? 1 : 0);
  nic.txPrd = (i + 1) & (TX_RING - 1);
}

/** A frame of one fragment. csum: the NIC computes the IPv4 and UDP/TCP checksums. */
export function nicSend1(addr: usize, len: u32, csum: bool = false): bool {
  if (nicTxFree() < 1) { nic.txRefused++; return false; }
  txBd(addr, len, csum ? BD_IP_SUM | BD_TCP_UDP_SUM : 0, true);
  nicKick();
  nic.txFrames++;
  nic.txBds++;
  return true;
}

/** A frame of a header and a payload fragment, sent where they lie (zero copy). The
 *  NIC reads both after this returns: leave them alone until the TX-done upcall. */
export function nicSend2(hdr: usize, hdrLen: u32, pay: usize, payLen: u32, csum: bool): bool {
  if (!nicQueue2(hdr, hdrLen, pay, payLen, csum)) return false;
  nicKick();
  return true;
}

/** nicSend2 without the doorbell: the frame waits in the ring until nicKick(). A burst
 *  of frames then costs one MMIO write (as Linux's xmit_more), not one per frame. */
export function nicQueue2(hdr: usize, hdrLen: u32, pay: usize, payLen: u32, csum: bool): bool {
  if (nicTxFree() < 2) { nic.txRefused++; return false; }
  let flags: u32 = csum ? BD_IP_SUM | BD_TCP_UDP_SUM : 0;
  txBd(hdr, hdrLen, flags, false);
  txBd(pay, payLen, flags, true);
  nic.txFrames++;
  nic.txBds += 2;
  return true;
}

/** Tell the NIC about every BD queued so far (the TX producer doorbell), if any. */
export function nicKick(): void {
  if (nic.txPrd == nic.txPrdPosted) return;
  nic.txPrdPosted = nic.txPrd;
  wr(TxPrd, nic.txPrd);
}

/** The interrupt (ace_interrupt): ack, then RX return ring, TX consumer, events. */
export function nicIntr(): void {
  if (nic.state == NIC_DOWN || nic.state == NIC_FAILED || (rd(HostCtrl) & HC_IN_INT) == 0) { nic.spurious++; return; }
  // Ack first, so work the NIC publishes while we run raises a new interrupt; the
  // read flushes the posted write (Linux does the same).
  wr(Mb0Lo, 0);
  rd(Mb0Lo);
  nic.interrupts++;
  rxReap();
  txReap();
  evtReap();
}

/** RX buffer `i` onto the std ring at the producer slot (RxStdPrd written by the caller). */
function rxPost(i: u32): void {
  let bd = nic.stdRing + (<usize>nic.stdPrd << 5);
  store<u32>(bd, 0);
  store<u32>(bd, <u32>(nic.rxBufs + <usize>i * RX_BUF_SIZE), 4);
  store<u32>(bd, RX_BUF_SIZE | (i << 16), 8);
  store<u32>(bd, 0, 12);
  store<u32>(bd, i, 28); // opaque: the buffer number again
  nic.stdPrd = (nic.stdPrd + 1) & (RX_STD_RING - 1);
}

function rxReap(): void {
  let prd = load<u32>(nic.status + 4);
  let csm = nic.rxRetCsm;
  if (csm == prd) return;
  while (csm != prd) {
    let bd = nic.rxRet + (<usize>csm << 5);
    let w2 = load<u32>(bd, 8);
    let flags = load<u32>(bd, 12) & 0xffff;
    let buf = w2 >> 16;
    let len = w2 & 0xffff;
    if ((flags & BD_ERROR) != 0 || buf >= RX_BUFS) nic.rxErrors++;
    else {
      nic.rxFrames++;
      nic.rxBytes += len;
      onRx(nic.rxBufs + <usize>buf * RX_BUF_SIZE, len);
    }
    if (buf < RX_BUFS) rxPost(buf); // the buffer goes straight back to the NIC
    csm = (csm + 1) & (RX_RET_RING - 1);
  }
  nic.rxRetCsm = csm;
  wr(RxStdPrd, nic.stdPrd);
}

function txReap(): void {
  let csm = load<u32>(nic.status + 8) & (TX_RING - 1);
  let old = nic.txCsm;
  if (csm == old) return;
  let frames: u32 = 0;
  for (let i = old; i != csm; i = (i + 1) & (TX_RING - 1)) frames += <u32>unchecked(nic.txEnd[i]);
  nic.txCsm = csm;
  nic.txDone += frames;
  onTxDone(frames, (csm - old) & (TX_RING - 1));
}

function evtReap(): void {
  let prd = load<u32>(nic.status);
  let csm = nic.evtCsm;
  if (csm == prd) return;
  while (csm != prd) {
    let w = load<u32>(nic.evtRing + (<usize>csm << 3));
    csm = (csm + 1) & (EVT_RING - 1);
    nic.evtCsm = csm; // before the handlers, which may send or post
    nic.events++;
    event(w >> 24, (w >> 12) & 0xfff);
  }
  wr(EvtCsm, csm);
}

function event(type: u32, code: u32): void {
  if (type == E_FW_RUNNING) firmwareRunning();
  else if (type == E_LINK) linkChange(code == E_C_LINK_UP);
  else if (type == E_STATS_UPDATED) nic.statsUpdates++;
  else if (type == E_ERROR) {
    nic.errorEvents++;
    cputs("acenic: error event, code "); cputu(code); kprint("");
  }
}
