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
// Register offsets and bits mirror devices/acenic.ts (Linux acenic.h names); the
// firmware image is not loaded: the device model is the firmware.
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

// ---------------------------------------------------------------------------------
// Tunables (Linux's defaults where Linux has one)

const TX_RING: u32 = 256; // TX BDs in host RAM (Tigon II MAX_TX_RING_ENTRIES)
const RX_STD_RING: u32 = 512; // fixed by the firmware
const RX_RET_RING: u32 = 2048; // return ring (RX_RETURN_RING_ENTRIES)
const EVT_RING: u32 = 256; // fixed by the firmware
const CMD_RING: u32 = 64; // in the register file
const RX_BUFS: u32 = 256; // buffers posted on the std ring (half of it, as Linux)
const RX_BUF_SIZE: u32 = 1536; // a 1518-byte frame fits; also the jumbo cutoff
const MTU_FRAME: u32 = 1500 + 14 + 4; // IfMtu: MTU + Ethernet header + VLAN tag
const TX_COAL_TICKS: u32 = 400; // us (DEF_TX_COAL)
const TX_MAX_DESC: u32 = 60; // BDs (DEF_TX_MAX_DESC): 30 two-fragment frames
const RX_COAL_TICKS: u32 = 120; // us (DEF_RX_COAL)
const RX_MAX_DESC: u32 = 25; // BDs (DEF_RX_MAX_DESC)
const STAT_TICKS: u32 = 2000000; // us: statistics block DMA'd every 2 s (DEF_STAT)

// ---------------------------------------------------------------------------------
// Registers (byte offsets in the 16 KiB BAR at NIC_BASE)

const HOST_CTRL: u32 = 0x040;
const LOCAL_CTRL: u32 = 0x044;
const MISC_CFG: u32 = 0x050;
const PCI_STATE: u32 = 0x05c;
const ASSIST_STATE: u32 = 0x11c;
const CPU_CTRL: u32 = 0x140;
const CPU_PC: u32 = 0x144;
const CPU_B_CTRL: u32 = 0x240;
const MB0_LO: u32 = 0x504; // host interrupt mailbox
const CMD_PRD: u32 = 0x50c;
const TX_PRD: u32 = 0x514;
const RX_STD_PRD: u32 = 0x51c;
const MAC_ADDR_HI: u32 = 0x600;
const MAC_ADDR_LO: u32 = 0x604;
const INFO_PTR_HI: u32 = 0x608;
const INFO_PTR_LO: u32 = 0x60c;
const MODE_STAT: u32 = 0x618;
const DMA_READ_CFG: u32 = 0x61c;
const DMA_WRITE_CFG: u32 = 0x620;
const EVT_CSM: u32 = 0x628;
const CMD_CSM: u32 = 0x62c;
const TUNE_RX_COAL_TICKS: u32 = 0x630;
const TUNE_TX_COAL_TICKS: u32 = 0x634;
const TUNE_STAT_TICKS: u32 = 0x638;
const TUNE_MAX_TX_DESC: u32 = 0x63c;
const TUNE_MAX_RX_DESC: u32 = 0x640;
const TUNE_LINK: u32 = 0x648;
const TUNE_FAST_LINK: u32 = 0x64c;
const IF_IDX: u32 = 0x65c;
const IF_MTU: u32 = 0x660;
const GIG_LNK_STATE: u32 = 0x668;
const CMD_RNG: u32 = 0x700;

// Bits
const HC_IN_INT: u32 = 0x01;
const HC_CLR_INT: u32 = 0x02;
const HC_HW_RESET: u32 = 0x08;
const HC_WORD_SWAP: u32 = 0x20;
const LC_EEPROM_DIN: u32 = 0x800000;
const LC_EEPROM_DOUT: u32 = 0x400000;
const LC_EEPROM_OUT_EN: u32 = 0x200000;
const LC_EEPROM_CLK: u32 = 0x100000;
const LC_SRAM_BANK_512K: u32 = 0x200;
const CPU_HALT: u32 = 0x10000;
const MODE_LINUX: u32 = 0x10 | 0x08 | 0x40000000 | 0x04 | 0x200; // swaps, warn, fatal, no jumbo frag
const PCI_LINUX: u32 = 0x06000000 | 0x70000000 | 0x20000; // read/write commands, DMA write max
const LNK_1000_FDX_NEG: u32 = 0x40000000 | 0x80000 | 0x40000 | 0x20000000; // enable, FDX, 1000, negotiate
const LNK_UP: u32 = 0x80000000;

// gen_info (0x490 bytes; the 1 KiB statistics block is its first part)
const GI_EVT_RCB: usize = 0x400;
const GI_CMD_RCB: usize = 0x410;
const GI_TX_RCB: usize = 0x420;
const GI_STD_RCB: usize = 0x430;
const GI_JUMBO_RCB: usize = 0x440;
const GI_MINI_RCB: usize = 0x450;
const GI_RET_RCB: usize = 0x460;
const GI_EVT_PRD_PTR: usize = 0x470;
const GI_RX_RET_PRD_PTR: usize = 0x478;
const GI_TX_CSM_PTR: usize = 0x480;
const GI_STATS_PTR: usize = 0x488;
const GEN_INFO_BYTES: usize = 0x490;

const RCB_TCP_UDP_SUM: u32 = 0x01;
const RCB_IP_SUM: u32 = 0x02;
const RCB_COAL_INT_ONLY: u32 = 0x20;
const RCB_TX_HOST_RING: u32 = 0x40;
const RCB_DISABLED: u32 = 0x200;

// Buffer descriptors: TX 16 bytes (addr hi, addr lo, len << 16 | flags, vlan);
// RX 32 bytes (addr hi, addr lo, idx << 16 | size, type << 16 | flags, sums, vlan/err,
// reserved, opaque).
const BD_TCP_UDP_SUM: u32 = 0x0001;
const BD_IP_SUM: u32 = 0x0002;
const BD_END: u32 = 0x0004;
const BD_ERROR: u32 = 0x0400;

// Events and commands: type << 24 | code << 12 | index
const E_FW_RUNNING: u32 = 0x01;
const E_STATS_UPDATED: u32 = 0x04;
const E_LINK: u32 = 0x06;
const E_C_LINK_UP: u32 = 0x01;
const E_ERROR: u32 = 0x07;
const C_HOST_STATE: u32 = 0x01;
const C_CLEAR_STATS: u32 = 0x0f;
const EEPROM_DEVICE: u32 = 0xa0;

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
  wr(HOST_CTRL, HC_HW_RESET | (HC_HW_RESET << 24));
  rd(HOST_CTRL); // flush the posted write
  wr(HOST_CTRL, (HC_CLR_INT | HC_WORD_SWAP) | ((HC_CLR_INT | HC_WORD_SWAP) << 24));
  wr(CPU_CTRL, rd(CPU_CTRL) | CPU_HALT);
  wr(MB0_LO, 0);
  if (rd(HOST_CTRL) >> 28 != 6) return fail("not a Tigon II");
  wr(CPU_B_CTRL, rd(CPU_B_CTRL) | CPU_HALT);
  wr(LOCAL_CTRL, LC_SRAM_BANK_512K);
  wr(MISC_CFG, 0x100000); // SYNC_SRAM_TIMING
  wr(MODE_STAT, MODE_LINUX);
  if (nic.info == 0) allocRings();
  if (!readMac()) return fail("EEPROM does not answer");
  wr(PCI_STATE, PCI_LINUX);
  setupGenInfo();
  wr(INFO_PTR_HI, 0);
  wr(INFO_PTR_LO, <u32>nic.info);
  nic.evtCsm = 0;
  wr(EVT_CSM, 0);
  for (let i: u32 = 0; i < CMD_RING; i++) wr(CMD_RNG + (i << 2), 0);
  nic.cmdPrd = 0;
  wr(CMD_PRD, 0);
  wr(CMD_CSM, 0);
  wr(DMA_READ_CFG, 0x80);
  wr(DMA_WRITE_CFG, 0x80);
  wr(IF_IDX, 1);
  wr(TUNE_STAT_TICKS, STAT_TICKS);
  wr(TUNE_TX_COAL_TICKS, TX_COAL_TICKS);
  wr(TUNE_MAX_TX_DESC, TX_MAX_DESC);
  wr(TUNE_RX_COAL_TICKS, RX_COAL_TICKS);
  wr(TUNE_MAX_RX_DESC, RX_MAX_DESC);
  wr(TUNE_LINK, LNK_1000_FDX_NEG);
  wr(TUNE_FAST_LINK, LNK_1000_FDX_NEG);
  wr(CPU_PC, 0x4000); // the firmware's entry point (the model's firmware ignores it)
  wr(MB0_LO, 0);
  nic.txPrd = 0; nic.txPrdPosted = 0; nic.txCsm = 0; nic.stdPrd = 0; nic.rxRetCsm = 0;
  wr(TX_PRD, 0);
  wr(ASSIST_STATE, 1);
  nic.state = NIC_BOOTING;
  wr(CPU_CTRL, rd(CPU_CTRL) & ~(CPU_HALT | 0x02)); // the firmware boots: FW_RUNNING follows
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
  rcb(GI_CMD_RCB, 0x100, 0, 0); // the command ring is the NIC's own (CmdRng)
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
@inline function lcw(v: u32): void { lc = v; wr(LOCAL_CTRL, v); }

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
  let nack = (rd(LOCAL_CTRL) & LC_EEPROM_DIN) != 0;
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
    v = (v << 1) | ((rd(LOCAL_CTRL) & LC_EEPROM_DIN) != 0 ? 1 : 0);
    lcw(lc & ~LC_EEPROM_CLK);
  }
  lcw(lc | LC_EEPROM_OUT_EN | LC_EEPROM_DOUT); // NACK: the last byte we want
  lcw(lc | LC_EEPROM_CLK);
  lcw(lc & ~LC_EEPROM_CLK);
  i2cStop();
  return <i32>v;
}

/** The MAC is at EEPROM 0x8C-0x93 (two zero bytes, then the six address bytes). */
function readMac(): bool {
  lc = LC_SRAM_BANK_512K;
  let hi: u32 = 0;
  let lo: u32 = 0;
  for (let i: u32 = 0; i < 8; i++) {
    let b = eepromByte(0x8c + i);
    if (b < 0) return false;
    if (i < 4) hi = (hi << 8) | <u32>b; else lo = (lo << 8) | <u32>b;
    if (i >= 2) store<u8>(nic.mac + i - 2, <u8>b);
  }
  wr(MAC_ADDR_HI, hi);
  wr(MAC_ADDR_LO, lo);
  return true;
}

// ---------------------------------------------------------------------------------
// Bring-up, second half (on FW_RUNNING): ace_load_std_rx_ring + ace_open

function firmwareRunning(): void {
  nic.state = NIC_RUNNING;
  for (let i: u32 = 0; i < RX_BUFS; i++) rxPost(i);
  wr(RX_STD_PRD, nic.stdPrd);
  wr(IF_MTU, MTU_FRAME);
  command(C_CLEAR_STATS, 0);
  command(C_HOST_STATE, 1);
}

function command(op: u32, code: u32): void {
  let i = nic.cmdPrd;
  wr(CMD_RNG + (i << 2), (op << 24) | (code << 12));
  nic.cmdPrd = (i + 1) & (CMD_RING - 1);
  wr(CMD_PRD, nic.cmdPrd);
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
  let s = rd(GIG_LNK_STATE);
  cputs(", link up"); if ((s & LNK_UP) != 0 && (s & 0x40000) != 0) cputs(" 1000 Mb/s");
  if ((s & 0x80000) != 0) cputs(" full duplex");
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
  wr(TX_PRD, nic.txPrd);
}

/** The interrupt (ace_interrupt): ack, then RX return ring, TX consumer, events. */
export function nicIntr(): void {
  if (nic.state == NIC_DOWN || nic.state == NIC_FAILED || (rd(HOST_CTRL) & HC_IN_INT) == 0) { nic.spurious++; return; }
  // Ack first, so work the NIC publishes while we run raises a new interrupt; the
  // read flushes the posted write (Linux does the same).
  wr(MB0_LO, 0);
  rd(MB0_LO);
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
  wr(RX_STD_PRD, nic.stdPrd);
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
  wr(EVT_CSM, csm);
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
