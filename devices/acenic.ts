// Alteon AceNIC gigabit Ethernet NIC, Tigon II (revision 6): the host interface.
//
// What it models. The Tigon is a PCI NIC whose MIPS CPUs run firmware that owns every
// ring, event, command and coalescing rule the host sees. This model keeps the real
// chip's registers (a 16 KiB BAR, 32-bit accesses) and replaces the firmware with a
// model of its behaviour, so an unmodified acenic.c-style driver runs on it:
//   - HostCtrl (HW_RESET, CLR_INT, IN_INT, MASK_INTS, rev 6), CpuCtrl HALT: clearing
//     HALT "boots" the firmware, which reads gen_info (InfoPtrHi/Lo) and posts the
//     FW_RUNNING and LINK-up events (GigLnkState = UP | 1000M | FDX).
//   - The NIC SRAM behind WinBase/WinData and the 0x800 window (512 KiB; what the
//     driver loads there, the real firmware image, is kept but never run).
//   - The I2C EEPROM (2 address bytes, device A0/A1) bit-banged through LocalCtrl, with
//     the MAC at 0x8E-0x93 (0x8C/0x8D = 0), which is how Linux reads it.
//   - Command ring in the register file (0x700, 64 entries; CmdPrd/CmdCsm), event ring
//     in host memory (256 x 8 B, evt_prd DMA-written), TX ring in host memory (16-byte
//     BDs, multi-fragment frames ending with END, tx_csm DMA-written, IP and TCP/UDP
//     checksum offload, VLAN insertion), RX std/jumbo/mini producer rings (32-byte BDs,
//     producer mailboxes), the RX return ring (32-byte BDs, rx_ret_prd DMA-written),
//     interrupt coalescing (Tune*CoalTicks, TuneMax*Desc; 1 tick = 1 us), the Mb0Lo
//     interrupt protocol, the statistics block (DMA'd every TuneStatTicks and on
//     command) and link events.
// Sources: DEVICES-REF.md section B (digest of Linux acenic.c/acenic.h and FreeBSD
// if_ti.c/if_tireg.h, which give the register map, gen_info, descriptor and event
// layouts, the EEPROM protocol, and the statistics block layout `struct ti_stats`).
//
// Byte order: the model is the little-endian host with Linux's swap settings, so every
// descriptor is a sequence of little-endian u32 words, 64-bit addresses high word
// first (ModeStat's swap bits are stored, not acted upon). Guest RAM is 32-bit: a
// non-zero high address word is a DMA fault.
//
// Timing. PCI is 33 MHz, 32 bits: 30 ns per clock, 4 bytes per clock = 133 MB/s peak
// (PCI Local Bus Specification 2.1). Each DMA burst adds setup clocks (address phase,
// target latency, turnaround; reads from host memory 10 clocks, posted writes 4
// [est]) and bursts end at 4 KiB boundaries [est]. The Tigon's DMA read engine (TX
// data, TX BDs) and write engine (RX data, return BDs, indices, events, statistics)
// are timed separately: the bus they share is not arbitrated in this model. The
// firmware's per-frame work (3 us per frame and direction [est], pipelined with the
// DMA) limits small-frame rates (~330 kframes/s), not 1500-byte ones. A TX frame then
// waits in the NIC's transmit buffer (128 KiB [est]; the real split of the 512 KiB SRAM
// is set by TxBufRat) until the wire takes it: the NIC never sends faster than the
// wire, and DMA stalls when that buffer is full. See ACENIC_TIMING for every number.
//
// Cost per frame (DESIGN.md budget): TX is processed in chunks of up to 32 frames per
// scheduler event (times by arithmetic; frames are handed to the wire with their
// future times), RX costs about two events per frame (DMA start, index publication).
// A frame of several fragments whose headers are all in the first one (HiTactix's
// header + payload) goes to the wire as a gather list (wire.ts FrameParts): the first
// fragment is copied to the NIC's staging memory, where the offloaded checksums are
// written, and the payload stays in guest RAM, summed where it lies by a WebAssembly
// SIMD kernel (checksum.ts, ~50 ns per 1500 bytes); the bytes on the wire are those of
// a gathered frame. Other frames are gathered into staging memory; a frame the NIC
// does not change goes out as a view of guest memory. Views of guest buffers are
// cached for buffers a guest reuses (guestView).
// Not emulated: the MIPS CPUs and the firmware image (the model *is* the firmware),
// Tigon I (rev 4/5) features (TX ring in NIC SRAM, MaskInt, RxRetCsm, commands 02/03/
// 08/09/10 answer ERROR/unimplemented), the multicast hash list (multicast frames are
// accepted only in promiscuous or all-multicast mode), flow control, 10/100 links,
// the trace buffer, PCI arbitration between the NIC's two DMA engines, partial-width
// register writes (the BAR takes 32-bit accesses; narrower reads are served).
// Fault injection: seeded probabilities of losing an RX frame (counted as an FCS
// error) or a TX frame (lost on the link: counted as sent by the NIC).
// DMA outside RAM never throws: a bad buffer drops the frame (counted, guest-error
// logged, RX buffers returned with the ERROR flag); a bad ring stops that ring and
// posts an ERROR event (code 3, bad configuration).
//
// Interface:
//   new AceNic(ctx, { mac, ... })   MmioDevice: read/write/reset, size 0x4000
//   connect(port)                   the wire transmitter (wire.ts Port)
//   receive(frame, timeNs)          wire Endpoint: a frame arriving from the link
//   setCarrier(up)                  cable in/out: link events
//   stat[ST_*]                      statistics block words (ti_stats layout)
//   faults                          frames lost by fault injection

import type { DeviceContext, MmioDevice, Width } from "../host/device.js";
import type { PhysMem } from "../host/memory.js";
import type { Rng } from "../host/rng.js";
import { OneShot, type Scheduler } from "../host/sched.js";
import { FrameParts, type Endpoint, type Port } from "./wire.js";
import { ChecksumEngine, addAt, pseudoSum } from "./checksum.js";

// ---------------------------------------------------------------------------------
// Register table: name, byte offset, 32-bit words, reset value, access. `action`
// marks registers whose write does more than store the value.

type Access = "rw" | "ro";
interface RegSpec {
  readonly name: string;
  readonly off: number;
  readonly reset?: number;
  readonly access?: Access;
  readonly action?: boolean;
  readonly words?: number;
}
export interface RegDef {
  readonly name: string;
  readonly off: number;
  readonly words: number;
  readonly reset: number;
  readonly access: Access;
  readonly action: boolean;
}

const TIGON_REV = 6;
const REG_TABLE = [
  { name: "HostCtrl", off: 0x040, reset: TIGON_REV << 28, action: true },
  { name: "LocalCtrl", off: 0x044, action: true }, // I2C EEPROM pins, SRAM bank
  { name: "MiscCfg", off: 0x050 },
  { name: "PciState", off: 0x05c, reset: 0x00100000, action: true }, // 32-bit, 33 MHz
  { name: "WinBase", off: 0x068, action: true },
  { name: "WinData", off: 0x06c, action: true },
  { name: "DmaWriteState", off: 0x0a0 },
  { name: "DmaReadState", off: 0x0b0 },
  { name: "AssistState", off: 0x11c },
  { name: "CpuCtrl", off: 0x140, reset: 0x00010000, action: true }, // halted
  { name: "Pc", off: 0x144 },
  { name: "SramAddr", off: 0x154 },
  { name: "SramData", off: 0x158, action: true },
  { name: "CpuBCtrl", off: 0x240, reset: 0x00010000 },
  { name: "PcB", off: 0x244 },
  { name: "MacStats", off: 0x480, words: 32, access: "ro" },
  { name: "Mb0Hi", off: 0x500 },
  { name: "Mb0Lo", off: 0x504, action: true }, // host interrupt mailbox
  { name: "Mb1Hi", off: 0x508 },
  { name: "CmdPrd", off: 0x50c, action: true },
  { name: "Mb2Hi", off: 0x510 },
  { name: "TxPrd", off: 0x514, action: true },
  { name: "Mb3Hi", off: 0x518 },
  { name: "RxStdPrd", off: 0x51c, action: true },
  { name: "Mb4Hi", off: 0x520 },
  { name: "RxJumboPrd", off: 0x524, action: true },
  { name: "Mb5Hi", off: 0x528 },
  { name: "RxMiniPrd", off: 0x52c, action: true },
  { name: "MbSpare", off: 0x530, words: 20 }, // Mb6Hi .. MbFLo
  { name: "MacAddrHi", off: 0x600 },
  { name: "MacAddrLo", off: 0x604 },
  { name: "InfoPtrHi", off: 0x608 },
  { name: "InfoPtrLo", off: 0x60c },
  { name: "MultiCastHi", off: 0x610 },
  { name: "MultiCastLo", off: 0x614 },
  { name: "ModeStat", off: 0x618 },
  { name: "DmaReadCfg", off: 0x61c },
  { name: "DmaWriteCfg", off: 0x620 },
  { name: "TxBufRat", off: 0x624 },
  { name: "EvtCsm", off: 0x628 },
  { name: "CmdCsm", off: 0x62c },
  { name: "TuneRxCoalTicks", off: 0x630 },
  { name: "TuneTxCoalTicks", off: 0x634 },
  { name: "TuneStatTicks", off: 0x638, action: true },
  { name: "TuneMaxTxDesc", off: 0x63c },
  { name: "TuneMaxRxDesc", off: 0x640 },
  { name: "TuneTrace", off: 0x644 },
  { name: "TuneLink", off: 0x648 },
  { name: "TuneFastLink", off: 0x64c },
  { name: "TracePtr", off: 0x650 },
  { name: "TraceStrt", off: 0x654 },
  { name: "TraceLen", off: 0x658 },
  { name: "IfIdx", off: 0x65c },
  { name: "IfMtu", off: 0x660 },
  { name: "MaskInt", off: 0x664 }, // Tigon I only: stored
  { name: "GigLnkState", off: 0x668, access: "ro" },
  { name: "FastLnkState", off: 0x66c, access: "ro" },
  { name: "RxRetCsm", off: 0x680 }, // Tigon I only: stored
  { name: "CmdRng", off: 0x700, words: 64 },
  { name: "Window", off: 0x800, words: 512, action: true }, // NIC SRAM at WinBase
] as const satisfies readonly RegSpec[];

type RegName = (typeof REG_TABLE)[number]["name"];
export const REGS: readonly RegDef[] = REG_TABLE.map((r: RegSpec) => ({
  name: r.name,
  off: r.off,
  words: r.words ?? 1,
  reset: r.reset ?? 0,
  access: r.access ?? "rw",
  action: r.action ?? false,
}));
/** Byte offset of each register, by name. */
export const R = Object.fromEntries(REGS.map((r) => [r.name, r.off])) as { readonly [K in RegName]: number };
/** Register-table index for each 32-bit word of 0x000-0xFFF, -1 where nothing is mapped. */
const REG_AT = new Int16Array(0x1000 >> 2).fill(-1);
REGS.forEach((r, i) => {
  for (let w = 0; w < r.words; w++) REG_AT[(r.off >> 2) + w] = i;
});
const W = (off: number): number => off >> 2; // word index into the register file

// ---------------------------------------------------------------------------------
// Bit constants

export const HC_IN_INT = 0x01;
export const HC_CLR_INT = 0x02;
export const HC_HW_RESET = 0x08;
export const HC_BYTE_SWAP = 0x10;
export const HC_WORD_SWAP = 0x20;
export const HC_MASK_INTS = 0x40;

export const LC_EEPROM_DIN = 0x800000; // SDA as seen on the bus (read only)
export const LC_EEPROM_DOUT = 0x400000;
export const LC_EEPROM_OUT_EN = 0x200000; // host drives SDA
export const LC_EEPROM_CLK = 0x100000; // SCL
export const LC_SRAM_BANK_512K = 0x200;

export const PCI_66MHZ = 0x080000;
export const PCI_32BIT = 0x100000;
const PCI_STATUS_BITS = PCI_66MHZ | PCI_32BIT;

export const CPU_RESET = 0x01;
export const CPU_HALT = 0x10000;

export const MODE_NO_EVT_IRQ = 0x1000;
export const MODE_NO_TX_IRQ = 0x2000;
export const MODE_NO_RX_IRQ = 0x4000;

export const LNK_10MB = 0x10000;
export const LNK_100MB = 0x20000;
export const LNK_1000MB = 0x40000;
export const LNK_FULL_DUPLEX = 0x80000;
export const LNK_NEGOTIATE = 0x20000000;
export const LNK_ENABLE = 0x40000000;
export const LNK_UP = 0x80000000;

// gen_info (host memory, 0x490 bytes)
export const GI_STATS = 0x000;
export const GI_EVT_RCB = 0x400;
export const GI_CMD_RCB = 0x410;
export const GI_TX_RCB = 0x420;
export const GI_STD_RCB = 0x430;
export const GI_JUMBO_RCB = 0x440;
export const GI_MINI_RCB = 0x450;
export const GI_RET_RCB = 0x460;
export const GI_EVT_PRD_PTR = 0x470;
export const GI_RX_RET_PRD_PTR = 0x478;
export const GI_TX_CSM_PTR = 0x480;
export const GI_STATS_PTR = 0x488;
export const GEN_INFO_BYTES = 0x490;

// RCB flags (ring control block word 2, bits 15:0; max_len in 31:16)
export const RCB_TCP_UDP_SUM = 0x01;
export const RCB_IP_SUM = 0x02;
export const RCB_NO_PSEUDO_HDR = 0x08;
export const RCB_VLAN_ASSIST = 0x10;
export const RCB_COAL_INT_ONLY = 0x20;
export const RCB_TX_HOST_RING = 0x40;
export const RCB_EXT_RX_BD = 0x100;
export const RCB_DISABLED = 0x200;

// BD flags
export const BD_TCP_UDP_SUM = 0x0001;
export const BD_IP_SUM = 0x0002;
export const BD_END = 0x0004;
export const BD_MORE = 0x0008;
export const BD_JUMBO = 0x0010;
export const BD_UCAST = 0x0020;
export const BD_MCAST = 0x0040;
export const BD_BCAST = 0x0060;
export const BD_IP_FRAG = 0x0080;
export const BD_VLAN_TAG = 0x0200;
export const BD_ERROR = 0x0400;
export const BD_COAL_NOW = 0x0800;
export const BD_MINI = 0x1000;
/** err_flags of a return BD with BD_ERROR (this model's codes). */
export const RXERR_DMA_FAULT = 0x0001;
export const RXERR_BUFFER_SMALL = 0x0002;

// Events (word 31:24 type, 23:12 code, 11:0 index; 8 bytes each)
export const E_FW_RUNNING = 0x01;
export const E_STATS_UPDATED = 0x04;
export const E_LINK = 0x06;
export const E_C_LINK_UP = 0x01;
export const E_C_LINK_DOWN = 0x02;
export const E_ERROR = 0x07;
export const E_C_ERR_INVAL_CMD = 0x01;
export const E_C_ERR_UNIMP_CMD = 0x02;
export const E_C_ERR_BAD_CFG = 0x03;
export const E_RESET_JUMBO_RNG = 0x09;

// Commands (same word layout, 4 bytes each in CmdRng)
export const C_HOST_STATE = 0x01; // code 1 up, 2 down
export const C_UPDATE_STATS = 0x04;
export const C_RESET_JUMBO_RNG = 0x05;
export const C_SET_PROMISC_MODE = 0x0a; // code 1 on, 2 off
export const C_LNK_NEGOTIATION = 0x0b;
export const C_SET_MAC_ADDR = 0x0c;
export const C_CLEAR_PROFILE = 0x0d;
export const C_SET_MULTICAST_MODE = 0x0e; // code 1 all-multicast on, 2 off
export const C_CLEAR_STATS = 0x0f;
export const C_REFRESH_STATS = 0x11;

// Ring sizes fixed by the firmware (Linux acenic.h)
export const EVT_RING_ENTRIES = 256;
export const CMD_RING_ENTRIES = 64;
export const TX_RING_ENTRIES = 256; // default when the TX RCB's max_len is 0
export const RX_STD_RING_ENTRIES = 512;
export const RX_JUMBO_RING_ENTRIES = 256;
export const RX_MINI_RING_ENTRIES = 1024;
export const RX_RETURN_RING_ENTRIES = 2048; // default when the return RCB's max_len is 0
export const TX_BD_BYTES = 16;
export const RX_BD_BYTES = 32;

/** Largest frame handled (jumbo 9000 MTU + 14 + VLAN 4), FCS excluded. */
const MAX_FRAME = 9018 + 4;
const MAX_TX_FRAGS = 64;
/** Bytes of TX staging buffer before the RX FIFO in the checksum engine's memory. */
const TX_STAGING = 16384;
const EEPROM_DEVICE = 0xa0;

// Statistics block word indices (FreeBSD if_tireg.h struct ti_stats, 256 words).
// Words marked u64 are written low word first.
export const ST_FCS_ERRORS = 1;
export const ST_FRAME_TOO_LONGS = 10;
export const ST_IF_INDEX = 12;
export const ST_IF_TYPE = 13;
export const ST_IF_MTU = 14;
export const ST_IF_SPEED = 15;
export const ST_IF_ADMIN_STATUS = 16;
export const ST_IF_OPER_STATUS = 17;
export const ST_IF_IN_DISCARDS = 19;
export const ST_IF_IN_ERRORS = 20;
export const ST_IF_OUT_DISCARDS = 22;
export const ST_IF_OUT_ERRORS = 23;
export const ST_IF_PHYS_ADDRESS = 25; // 8 bytes
export const ST_IN_OCTETS = 36; // u64, frame bytes + FCS
export const ST_IN_UCAST = 38; // u64
export const ST_IN_MCAST = 40; // u64
export const ST_IN_BCAST = 42; // u64
export const ST_OUT_OCTETS = 44; // u64
export const ST_OUT_UCAST = 46; // u64
export const ST_OUT_MCAST = 48; // u64
export const ST_OUT_BCAST = 50; // u64
export const ST_IF_HIGH_SPEED = 53;
export const ST_IF_PROMISC = 54;
export const ST_CMDS_BASE = 56; // 56..72: per-command counters (index table below)
export const ST_CMDS_UNKNOWN = 72;
export const ST_EVT_FW_RUNNING = 73;
export const ST_EVT_STATS_UPDATED = 74;
export const ST_EVT_LINK = 75;
export const ST_EVT_ERROR = 76;
export const ST_EVT_RESET_JUMBO = 78;
export const ST_INTERRUPTS = 82;
export const ST_AVOIDED_INTERRUPTS = 83;
export const ST_DMA_WR_ABORTS = 91;
export const ST_DMA_RD_ABORTS = 92;
export const ST_EVENT_RING_FULL = 95;
export const ST_NO_MORE_RX_BDS = 100;
export const ST_RX_DROP_ULA = 116;
export const ST_RX_DROP_MCAST = 117;
export const ST_RX_DROP_SPACE = 119;
const ST_U64 = [ST_IN_OCTETS, ST_IN_UCAST, ST_IN_MCAST, ST_IN_BCAST, ST_OUT_OCTETS, ST_OUT_UCAST, ST_OUT_MCAST, ST_OUT_BCAST];
/** ti_stats nicCmds* word for each command opcode (-1: counted as unknown). */
const CMD_STAT = [-1, 56, 57, 58, 59, 60, -1, -1, 61, 62, 63, 64, 65, 66, 67, 68, 69, 71];

// ---------------------------------------------------------------------------------
// Timing (every number with its source)

export interface AceNicTiming {
  /** PCI clock period: 33.33 MHz (PCI Local Bus Spec 2.1) = 30 ns; 4 bytes per clock. */
  pciClockNs: number;
  /** Clocks a DMA read burst from host memory spends not moving data: address phase,
   *  host-bridge initial latency (spec limit 16 clocks), turnaround. [est] */
  dmaReadSetupClocks: number;
  /** Same for a posted DMA write burst. [est] */
  dmaWriteSetupClocks: number;
  /** Bursts end at this boundary (bridges disconnect at page boundaries). [est] */
  dmaBurstBoundary: number;
  /** Firmware work per transmitted frame (BD parse, DMA setup, MAC hand-off), pipelined
   *  with the DMA. ~260 cycles of the Tigon II's 88 MHz MIPS. [est] */
  txFirmwareNs: number;
  /** Firmware work per received frame (buffer choice, return BD), pipelined. [est] */
  rxFirmwareNs: number;
  /** From a CmdPrd write to the command's effect. [est] */
  commandNs: number;
  /** From clearing HALT to FW_RUNNING (firmware initialisation). [est] */
  bootNs: number;
  /** From FW_RUNNING (or a negotiate command) to LINK up. [model: the wire has no
   *  auto-negotiation; real 1000BASE-X needs tens of ms] */
  linkUpNs: number;
  /** TX frames processed per scheduler event at most. [model] */
  txChunkFrames: number;
  /** A TX chunk ends once its DMA reaches this far ahead of the event. [model] */
  txHorizonNs: number;
}

export const ACENIC_TIMING: Readonly<AceNicTiming> = {
  pciClockNs: 30,
  dmaReadSetupClocks: 10,
  dmaWriteSetupClocks: 4,
  dmaBurstBoundary: 4096,
  txFirmwareNs: 3000,
  rxFirmwareNs: 3000,
  commandNs: 5000,
  bootNs: 500_000,
  linkUpNs: 0,
  txChunkFrames: 32,
  txHorizonNs: 100_000,
};

export interface AceNicOptions {
  /** Station address burnt into the EEPROM: "02:00:00:00:00:01" or 6 bytes. */
  mac: string | ArrayLike<number>;
  /** NIC SRAM behind the window, bytes (power of two, >= 512 KiB). */
  sramBytes?: number;
  /** Transmit buffer in NIC SRAM, bytes. [est: 512 KiB SRAM, TxBufRat share] */
  txBufferBytes?: number;
  /** Receive FIFO in NIC SRAM, bytes. [est] */
  rxBufferBytes?: number;
  /** Probability that a frame from the wire is lost (FCS error). Seeded: ctx.rng. */
  rxDropProbability?: number;
  /** Probability that a transmitted frame is lost on the link. */
  txDropProbability?: number;
  timing?: Partial<AceNicTiming>;
}

// ---------------------------------------------------------------------------------
// State

/** One RX producer ring (std, jumbo or mini) as the firmware caches it from gen_info. */
interface RxRing {
  readonly name: string;
  readonly entries: number;
  /** Return-BD flag that names the ring (0, BD_JUMBO, BD_MINI). */
  readonly kind: number;
  /** Mailbox register word holding the host's producer index. */
  readonly prdReg: number;
  base: number;
  flags: number;
  /** std: jumbo cutoff; mini: buffer size; jumbo: unused. */
  maxLen: number;
  enabled: boolean;
  /** Next BD the NIC takes. */
  cons: number;
}

const I2C_IDLE = 0;
const I2C_RECV = 1;
const I2C_ACK_OUT = 2;
const I2C_SEND = 3;
const I2C_ACK_IN = 4;
const PH_DEVSEL = 0;
const PH_ADDR_HI = 1;
const PH_ADDR_LO = 2;
const PH_WRITE = 3;

export class AceNic implements MmioDevice, Endpoint {
  readonly name = "acenic";
  readonly size = 0x4000;
  readonly timing: Readonly<AceNicTiming>;
  /** Statistics counters, ti_stats word index (see ST_*); DMA'd as u32 words. */
  readonly stat = new Float64Array(256);
  /** Frames lost by fault injection (not seen by the NIC's own counters as such). */
  readonly faults = { rxDropped: 0, txDropped: 0 };
  /** Non-volatile EEPROM contents (MAC at 0x8C..0x93). */
  readonly eeprom = new Uint8Array(8192);

  private readonly sched: Scheduler;
  private readonly mem: PhysMem;
  private readonly trace: ((line: string) => void) | undefined;
  private readonly rxRng: Rng;
  private readonly txRng: Rng;
  private readonly rxDropP: number;
  private readonly txDropP: number;

  /** Register file 0x000-0xFFF, one u32 per word; special registers interpret it. */
  private readonly reg = new Uint32Array(0x1000 >> 2);
  /** NIC SRAM (the window and SramAddr/SramData reach it). */
  private readonly sram: Uint32Array;
  private readonly sramMask: number;

  // Interrupt
  /** The firmware wants the host's attention (HostCtrl.IN_INT). */
  private irqPending = false;
  /** Level last driven on the line (updateIrq only). */
  private irqLevel = false;

  // Firmware
  /** HALT cleared and boot done: rings, events and commands are live. */
  private running = false;
  private hostUp = false;
  private promisc = false;
  private allMulti = false;
  private carrier = true;
  private linkUp = false;
  private macHi = 0; // station address bytes 0-1
  private macLo = 0; // bytes 2-5
  private statsNext = 0;

  // gen_info as read at boot (host addresses; -1 = invalid, a DMA fault when used)
  private evtRing = -1;
  private evtPrdPtr = -1;
  private rxRetPrdPtr = -1;
  private txCsmPtr = -1;
  private statsPtr = -1;
  private evtPrd = 0;

  // TX
  private txBase = -1;
  private txEntries = TX_RING_ENTRIES;
  private txFlags = 0;
  private txFaulted = false;
  /** Next BD the DMA engine takes. */
  private txNext = 0;
  /** Consumer index reported to the coalescing logic / host. */
  private txCsm = 0;
  /** Value last DMA-written to *tx_csm. */
  private txCsmWritten = 0;
  /** Time each BD became visible (TxPrd write), for the firmware pipeline. */
  private txPostedAt = new Float64Array(TX_RING_ENTRIES);
  private txFwFree = 0;
  /** Frames in the NIC transmit buffer: time each leaves the wire, its bytes. */
  private readonly txqLeave = new Float64Array(4096);
  private readonly txqBytes = new Int32Array(4096);
  private txqHead = 0;
  private txqCount = 0;
  private txBufUsed = 0;
  private readonly txBufCap: number;
  private txUnsignalled = 0;
  /** NIC SRAM buffers (TX staging, RX FIFO) and the checksum offload engine over them. */
  private readonly cs: ChecksumEngine;
  /** The same SIMD sums over guest RAM, for payload fragments summed where they lie. */
  private readonly ramCs: ChecksumEngine;
  /** The gather list of the frame being sent in pieces (txPieces). */
  private readonly txParts = new FrameParts();
  /** Staging buffer at cs offset 0: a frame gathered from its fragments (offset 4
   *  leaves room for a VLAN tag). */
  private readonly txBuf: Uint8Array;
  private readonly txViews0: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(MAX_FRAME + 8).fill(undefined);
  private readonly txViews4: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(MAX_FRAME + 8).fill(undefined);
  /** Direct-mapped cache of guest-memory views for DMA (see guestView). */
  private readonly dmaViews: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(1024).fill(undefined);
  private readonly fragAddr = new Float64Array(MAX_TX_FRAGS);
  private readonly fragLen = new Int32Array(MAX_TX_FRAGS);
  private port: Port | undefined;

  // RX
  private readonly std: RxRing;
  private readonly jumbo: RxRing;
  private readonly mini: RxRing;
  private retBase = -1;
  private retEntries = RX_RETURN_RING_ENTRIES;
  private retPrd = 0;
  private rxFaulted = false;
  private rxUnsignalled = 0;
  private rxFwFree = 0;
  /** NIC SRAM receive FIFO at cs offset TX_STAGING: frames, 4-byte aligned entries. */
  private readonly rxFifo: Uint8Array;
  private rxFifoHead = 0;
  private rxFifoTail = 0;
  private readonly rxqOff = new Int32Array(4096);
  private readonly rxqLen = new Int32Array(4096);
  private readonly rxqReady = new Float64Array(4096);
  private rxqHead = 0;
  private rxqCount = 0;
  /** Return-ring indices waiting for their DMA to finish: value, time. */
  private readonly pubIdx = new Int32Array(4096);
  private readonly pubTime = new Float64Array(4096);
  private pubHead = 0;
  private pubCount = 0;
  private rxWorkAt = Infinity;

  // PCI DMA engines: time each is next free
  private rdFree = 0;
  private wrFree = 0;

  // I2C EEPROM slave
  private i2cState = I2C_IDLE;
  private i2cPhase = PH_DEVSEL;
  private i2cNextPhase = PH_DEVSEL;
  private i2cBits = 0;
  private i2cShift = 0;
  private i2cAddr = 0;
  private i2cRead = false;
  private i2cMasterAck = false;
  /** Level the EEPROM drives on SDA (1 = released). */
  private i2cSda = 1;

  // Events of this device
  private readonly fwBoot: OneShot;
  private readonly linkTimer: OneShot;
  private readonly cmdWork: OneShot;
  private readonly txWork: OneShot;
  private readonly rxWork: OneShot;
  private readonly rxCoal: OneShot;
  private readonly txCoal: OneShot;
  private readonly statsTimer: OneShot;

  constructor(private readonly ctx: DeviceContext, opts: AceNicOptions) {
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
    this.rxDropP = opts.rxDropProbability ?? 0;
    this.txDropP = opts.txDropProbability ?? 0;
    this.rxRng = ctx.rng.fork("acenic-rx-drop");
    this.txRng = ctx.rng.fork("acenic-tx-drop");
    const mac = parseMac(opts.mac);
    this.eeprom.fill(0xff);
    this.eeprom[0x8c] = 0;
    this.eeprom[0x8d] = 0;
    this.eeprom.set(mac, 0x8e);
    this.std = { name: "std", entries: RX_STD_RING_ENTRIES, kind: 0, prdReg: W(R.RxStdPrd), base: -1, flags: 0, maxLen: 0, enabled: false, cons: 0 };
    this.jumbo = { name: "jumbo", entries: RX_JUMBO_RING_ENTRIES, kind: BD_JUMBO, prdReg: W(R.RxJumboPrd), base: -1, flags: 0, maxLen: 0, enabled: false, cons: 0 };
    this.mini = { name: "mini", entries: RX_MINI_RING_ENTRIES, kind: BD_MINI, prdReg: W(R.RxMiniPrd), base: -1, flags: 0, maxLen: 0, enabled: false, cons: 0 };
    const s = ctx.sched;
    this.fwBoot = new OneShot(s, "acenic.boot", () => this.firmwareStart());
    this.linkTimer = new OneShot(s, "acenic.link", () => this.setLinkUp(true));
    this.cmdWork = new OneShot(s, "acenic.cmd", () => this.runCommands());
    this.txWork = new OneShot(s, "acenic.tx", () => this.txRun());
    this.rxWork = new OneShot(s, "acenic.rx", () => this.rxRun());
    this.rxCoal = new OneShot(s, "acenic.rxcoal", () => this.coalesceExpired(MODE_NO_RX_IRQ));
    this.txCoal = new OneShot(s, "acenic.txcoal", () => this.coalesceExpired(MODE_NO_TX_IRQ));
    this.statsTimer = new OneShot(s, "acenic.stats", () => this.statsTick());
    this.reset();
  }

  /** The wire transmitter this NIC sends on. */
  connect(port: Port): void {
    this.port = port;
  }

  // -------------------------------------------------------------------------------
  // Reset

  reset(): void {
    this.resetState(false);
  }

  /** Power-on (keep = false) or HostCtrl.HW_RESET (keep = true: SRAM bank settings
   *  survive, as Linux's comment in ace_init says). The EEPROM is non-volatile. */
  private resetState(keep: boolean): void {
    const localCtrl = this.reg[W(R.LocalCtrl)] & LC_SRAM_BANK_512K;
    const miscCfg = this.reg[W(R.MiscCfg)];
    this.reg.fill(0);
    for (const r of REGS) for (let w = 0; w < r.words; w++) this.reg[W(r.off) + w] = r.reset;
    if (keep) {
      this.reg[W(R.LocalCtrl)] = localCtrl;
      this.reg[W(R.MiscCfg)] = miscCfg;
    } else this.sram.fill(0);
    for (const t of [this.fwBoot, this.linkTimer, this.cmdWork, this.txWork, this.rxWork, this.rxCoal, this.txCoal, this.statsTimer]) t.cancel();
    this.running = this.hostUp = this.promisc = this.allMulti = this.linkUp = false;
    this.macHi = this.macLo = 0;
    this.stat.fill(0);
    this.resetRings();
    this.rdFree = this.wrFree = 0;
    this.i2cState = I2C_IDLE;
    this.i2cSda = 1;
    this.irqPending = false;
    this.updateIrq();
  }

  private resetRings(): void {
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

  // -------------------------------------------------------------------------------
  // Register read/write

  read(off: number, width: Width): number {
    const v = this.readWord(off & ~3);
    if (width === 4 && (off & 3) === 0) {
      if (this.trace !== undefined) this.traceReg("R", off, v);
      return v;
    }
    // The BAR takes 32-bit accesses; serve narrower reads from the word.
    const sh = (off & 3) * 8;
    const r = width === 1 ? (v >>> sh) & 0xff : width === 2 ? (v >>> sh) & 0xffff : v;
    if (this.trace !== undefined) this.traceReg(`R${width}`, off, r);
    return r;
  }

  private readWord(off: number): number {
    const i = off >= 0 && off < 0x1000 ? REG_AT[off >> 2] : -1;
    if (i < 0) {
      this.ctx.log("guest-error", `read of unmapped offset 0x${off.toString(16)}`);
      return 0;
    }
    if (off >= R.Window) return this.sram[(((this.reg[W(R.WinBase)] & ~0x7ff) + (off - R.Window)) & this.sramMask) >> 2];
    if (off >= R.MacStats && off < R.MacStats + 0x80) return this.macStat((off - R.MacStats) >> 2);
    switch (off) {
      case R.HostCtrl:
        return (this.reg[W(off)] | (this.irqPending ? HC_IN_INT : 0)) >>> 0;
      case R.LocalCtrl:
        return (this.reg[W(off)] | (this.sdaLine() ? LC_EEPROM_DIN : 0)) >>> 0;
      case R.WinData:
        return this.sram[(this.reg[W(R.WinBase)] & this.sramMask) >> 2];
      case R.SramData:
        return this.sram[(this.reg[W(R.SramAddr)] & this.sramMask) >> 2];
      default:
        return this.reg[W(off)];
    }
  }

  write(off: number, width: Width, value: number): void {
    value >>>= 0;
    if (this.trace !== undefined) this.traceReg(width === 4 ? "W" : `W${width}`, off, value);
    if (width !== 4 || (off & 3) !== 0) {
      this.ctx.log("guest-error", `${width}-byte write at 0x${off.toString(16)} ignored (32-bit register file)`);
      return;
    }
    const i = off >= 0 && off < 0x1000 ? REG_AT[off >> 2] : -1;
    if (i < 0) {
      this.ctx.log("guest-error", `write of unmapped offset 0x${off.toString(16)} = 0x${value.toString(16)}`);
      return;
    }
    const def = REGS[i];
    if (def.access === "ro") {
      this.ctx.log("guest-error", `write to read-only ${def.name} (0x${off.toString(16)}) ignored`);
      return;
    }
    if (off >= R.Window) {
      this.sram[(((this.reg[W(R.WinBase)] & ~0x7ff) + (off - R.Window)) & this.sramMask) >> 2] = value;
      return;
    }
    switch (off) {
      case R.HostCtrl:
        return this.writeHostCtrl(value);
      case R.LocalCtrl:
        return this.writeLocalCtrl(value);
      case R.PciState:
        this.reg[W(off)] = ((value & ~PCI_STATUS_BITS) | (this.reg[W(off)] & PCI_STATUS_BITS)) >>> 0;
        return;
      case R.WinBase:
        this.reg[W(off)] = value & this.sramMask;
        return;
      case R.WinData:
        this.sram[(this.reg[W(R.WinBase)] & this.sramMask) >> 2] = value;
        return;
      case R.SramData:
        this.sram[(this.reg[W(R.SramAddr)] & this.sramMask) >> 2] = value;
        return;
      case R.CpuCtrl:
        return this.writeCpuCtrl(value);
      case R.Mb0Lo:
        return this.writeMb0Lo(value);
      case R.CmdPrd:
        this.reg[W(off)] = value % CMD_RING_ENTRIES;
        return this.kickCommands();
      case R.TxPrd:
        return this.writeTxPrd(value);
      case R.RxStdPrd:
      case R.RxJumboPrd:
      case R.RxMiniPrd: {
        const ring = off === R.RxStdPrd ? this.std : off === R.RxJumboPrd ? this.jumbo : this.mini;
        if (value >= ring.entries) this.ctx.log("guest-error", `${ring.name} producer ${value} >= ${ring.entries}`);
        this.reg[W(off)] = value % ring.entries;
        return;
      }
      case R.TuneStatTicks:
        this.reg[W(off)] = value;
        if (this.running) this.armStats(this.sched.now);
        return;
      default:
        this.reg[W(off)] = value;
    }
  }

  private writeHostCtrl(v: number): void {
    // Linux writes v | v << 24 so that either byte order works; the low byte rules.
    if ((v & HC_HW_RESET) !== 0) {
      this.resetState(true);
      return;
    }
    if ((v & HC_CLR_INT) !== 0) this.irqPending = false;
    this.reg[W(R.HostCtrl)] = ((TIGON_REV << 28) | (v & (HC_BYTE_SWAP | HC_WORD_SWAP | HC_MASK_INTS))) >>> 0;
    this.updateIrq();
  }

  private writeCpuCtrl(v: number): void {
    const wasHalted = (this.reg[W(R.CpuCtrl)] & CPU_HALT) !== 0;
    this.reg[W(R.CpuCtrl)] = v;
    const halted = (v & CPU_HALT) !== 0;
    if ((v & CPU_RESET) !== 0) this.ctx.log("unimp", "CpuCtrl.RESET (MIPS reset) has no effect");
    if (wasHalted && !halted) {
      if (this.trace !== undefined) this.trace("acenic: HALT cleared, firmware boots");
      this.fwBoot.armAt(this.sched.now + this.timing.bootNs);
    } else if (!wasHalted && halted) {
      if (this.trace !== undefined) this.trace("acenic: firmware halted");
      this.fwBoot.cancel();
      this.running = false;
      for (const t of [this.linkTimer, this.cmdWork, this.txWork, this.rxWork, this.rxCoal, this.txCoal, this.statsTimer]) t.cancel();
    }
  }

  /**
   * Mb0Lo, the host interrupt mailbox. Any write acknowledges (clears) the pending
   * interrupt, except a write of 0 that ends a hold-off (Mb0Lo was non-zero, as BSD's
   * driver does it): work posted during the hold-off then interrupts at once. While
   * Mb0Lo != 0 the line stays low. [inferred from the drivers, DEVICES-REF B]
   */
  private writeMb0Lo(v: number): void {
    const old = this.reg[W(R.Mb0Lo)];
    this.reg[W(R.Mb0Lo)] = v;
    if (!(old !== 0 && v === 0)) this.irqPending = false;
    this.updateIrq();
  }

  private writeTxPrd(v: number): void {
    const n = this.txEntries;
    if (v >= n) this.ctx.log("guest-error", `TxPrd ${v} >= ring size ${n}`);
    const old = this.reg[W(R.TxPrd)];
    const prd = v % n;
    this.reg[W(R.TxPrd)] = prd;
    const now = this.sched.now;
    for (let i = old % n; i !== prd; i = (i + 1) % n) this.txPostedAt[i] = now;
    if (this.running && !this.txFaulted && !this.txWork.armed) this.txWork.armAt(now);
  }

  /** MAC statistics registers 0x480-0x4FF (Linux struct ace_mac_stats), live. */
  private macStat(i: number): number {
    const s = this.stat;
    switch (i) {
      case 18: // crc_err
        return s[ST_FCS_ERRORS] >>> 0;
      case 24: // drop_ula
        return s[ST_RX_DROP_ULA] >>> 0;
      case 25: // drop_mc
        return s[ST_RX_DROP_MCAST] >>> 0;
      case 27: // drop_space
        return s[ST_RX_DROP_SPACE] >>> 0;
      case 29: // kept_bc
        return s[ST_IN_BCAST] >>> 0;
      case 30: // kept_mc
        return s[ST_IN_MCAST] >>> 0;
      case 31: // kept_uc
        return s[ST_IN_UCAST] >>> 0;
      default:
        return 0;
    }
  }

  // -------------------------------------------------------------------------------
  // I2C EEPROM on LocalCtrl: SCL = CLK; SDA = (OUT_EN ? DOUT : released) AND the
  // EEPROM's own drive; DIN reads SDA. START/STOP = SDA falling/rising while SCL is
  // high; bits are sampled on SCL rising edges and changed after falling edges.

  private sdaLine(): number {
    const lc = this.reg[W(R.LocalCtrl)];
    const host = (lc & LC_EEPROM_OUT_EN) !== 0 ? ((lc & LC_EEPROM_DOUT) !== 0 ? 1 : 0) : 1;
    return host & this.i2cSda;
  }

  private writeLocalCtrl(v: number): void {
    const oldScl = (this.reg[W(R.LocalCtrl)] & LC_EEPROM_CLK) !== 0;
    const oldSda = this.sdaLine();
    this.reg[W(R.LocalCtrl)] = v & ~LC_EEPROM_DIN;
    const scl = (v & LC_EEPROM_CLK) !== 0;
    const sda = this.sdaLine();
    if (oldScl && scl) {
      if (oldSda === 1 && sda === 0) this.i2cStart();
      else if (oldSda === 0 && sda === 1) this.i2cStop();
    } else if (!oldScl && scl) this.i2cRise(sda);
    else if (oldScl && !scl) this.i2cFall();
  }

  private i2cStart(): void {
    this.i2cState = I2C_RECV;
    this.i2cPhase = PH_DEVSEL;
    this.i2cBits = this.i2cShift = 0;
    this.i2cSda = 1;
  }

  private i2cStop(): void {
    this.i2cState = I2C_IDLE;
    this.i2cSda = 1;
  }

  private i2cRise(sda: number): void {
    if (this.i2cState === I2C_RECV) {
      this.i2cShift = ((this.i2cShift << 1) | sda) & 0xff;
      this.i2cBits++;
    } else if (this.i2cState === I2C_SEND) this.i2cBits++;
    else if (this.i2cState === I2C_ACK_IN) this.i2cMasterAck = sda === 0;
  }

  private i2cFall(): void {
    switch (this.i2cState) {
      case I2C_RECV:
        if (this.i2cBits === 8) this.i2cByte(this.i2cShift);
        return;
      case I2C_ACK_OUT:
        this.i2cSda = 1;
        if (this.i2cPhase === PH_DEVSEL && this.i2cRead) return this.i2cLoad();
        this.i2cPhase = this.i2cNextPhase;
        this.i2cState = I2C_RECV;
        this.i2cBits = this.i2cShift = 0;
        return;
      case I2C_SEND:
        if (this.i2cBits < 8) this.i2cSda = (this.i2cShift >> (7 - this.i2cBits)) & 1;
        else {
          this.i2cSda = 1;
          this.i2cState = I2C_ACK_IN;
        }
        return;
      case I2C_ACK_IN:
        if (this.i2cMasterAck) this.i2cLoad();
        else this.i2cState = I2C_IDLE; // NACK: the master ends with STOP
        return;
    }
  }

  /** A byte received from the master: acknowledge it (drive SDA low next clock). */
  private i2cByte(b: number): void {
    const mask = this.eeprom.length - 1;
    switch (this.i2cPhase) {
      case PH_DEVSEL:
        if ((b & 0xfe) !== EEPROM_DEVICE) {
          this.i2cState = I2C_IDLE; // not us: no ACK
          return;
        }
        this.i2cRead = (b & 1) !== 0;
        this.i2cNextPhase = PH_ADDR_HI;
        break;
      case PH_ADDR_HI:
        this.i2cAddr = ((b << 8) | (this.i2cAddr & 0xff)) & mask;
        this.i2cNextPhase = PH_ADDR_LO;
        break;
      case PH_ADDR_LO:
        this.i2cAddr = ((this.i2cAddr & 0xff00) | b) & mask;
        this.i2cNextPhase = PH_WRITE;
        break;
      default:
        this.eeprom[this.i2cAddr] = b; // byte write (no programming delay modelled)
        this.i2cAddr = (this.i2cAddr + 1) & mask;
        this.i2cNextPhase = PH_WRITE;
    }
    this.i2cSda = 0;
    this.i2cState = I2C_ACK_OUT;
  }

  /** Start sending the byte at the current address (sequential reads advance). */
  private i2cLoad(): void {
    this.i2cShift = this.eeprom[this.i2cAddr];
    this.i2cAddr = (this.i2cAddr + 1) & (this.eeprom.length - 1);
    this.i2cBits = 0;
    this.i2cState = I2C_SEND;
    this.i2cSda = (this.i2cShift >> 7) & 1;
  }

  // -------------------------------------------------------------------------------
  // Events: firmware boot, commands, events, statistics, link

  private firmwareStart(): void {
    this.resetRings();
    this.running = true;
    const info = addr64(this.reg[W(R.InfoPtrHi)], this.reg[W(R.InfoPtrLo)]);
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
    const mac = this.reg[W(R.MacAddrHi)] !== 0 || this.reg[W(R.MacAddrLo)] !== 0;
    if (mac) this.setStationFromRegs();
    else {
      const e = this.eeprom;
      this.macHi = (e[0x8e] << 8) | e[0x8f];
      this.macLo = ((e[0x90] << 24) | (e[0x91] << 16) | (e[0x92] << 8) | e[0x93]) >>> 0;
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
    if (this.reg[W(R.CmdPrd)] !== this.reg[W(R.CmdCsm)]) this.kickCommands();
    if (this.reg[W(R.TxPrd)] !== 0 && !this.txFaulted) this.txWork.armAt(this.sched.now);
  }

  /** Rings the firmware cannot use stop, with an ERROR event (bad configuration). */
  private checkRings(): void {
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

  private ringFault(which: string): void {
    this.ctx.log("guest-error", `${which} ring unusable (DMA outside RAM or bad RCB); ring stopped`);
    if (which === "tx") this.txFaulted = true;
    else this.rxFaulted = true;
    this.postEvent(E_ERROR, E_C_ERR_BAD_CFG, 0);
    this.stat[ST_EVT_ERROR]++;
  }

  private setStationFromRegs(): void {
    this.macHi = this.reg[W(R.MacAddrHi)] & 0xffff;
    this.macLo = this.reg[W(R.MacAddrLo)];
  }

  private kickCommands(): void {
    if (this.running && !this.cmdWork.armed) this.cmdWork.armAt(this.sched.now + this.timing.commandNs);
  }

  private runCommands(): void {
    let csm = this.reg[W(R.CmdCsm)] % CMD_RING_ENTRIES;
    const prd = this.reg[W(R.CmdPrd)];
    while (csm !== prd && this.running) {
      this.command(this.reg[W(R.CmdRng) + csm]);
      csm = (csm + 1) % CMD_RING_ENTRIES;
    }
    this.reg[W(R.CmdCsm)] = csm;
  }

  private command(word: number): void {
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
      case 0x02: // FDR filtering (Tigon I)
      case 0x03: // set RX producer (Tigon I)
      case 0x08: // add / delete multicast address (Tigon I)
      case 0x09:
      case 0x10: // set jumbo producer (Tigon I)
      case 0x12: // extended multicast add / delete (BSD, Tigon II firmware 12.4)
      case 0x13:
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
  private postEvent(type: number, code: number, idx: number): void {
    if (!this.running) return;
    const next = (this.evtPrd + 1) % EVT_RING_ENTRIES;
    if (next === this.reg[W(R.EvtCsm)] % EVT_RING_ENTRIES) {
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
    this.writeEvtPrd();
    if (this.trace !== undefined) this.trace(`acenic: event ${hex(type, 2)} code ${code} -> evt_prd ${next}`);
    if ((this.reg[W(R.ModeStat)] & MODE_NO_EVT_IRQ) === 0) this.raise();
  }

  private writeEvtPrd(): void {
    if (this.dmaWriteOk(this.evtPrdPtr, 4, "evt_prd")) {
      this.mem.dv.setUint32(this.evtPrdPtr, this.evtPrd, true);
      this.chargeWrite(this.evtPrdPtr, 4);
    }
  }

  /** Periodic statistics at absolute deadlines every TuneStatTicks us (0 = off). */
  private armStats(from: number): void {
    const ticks = this.reg[W(R.TuneStatTicks)];
    if (ticks === 0) {
      this.statsTimer.cancel();
      return;
    }
    this.statsNext = from + ticks * 1000;
    this.statsTimer.armAt(this.statsNext);
  }

  private statsTick(): void {
    this.statsUpdate();
    const ticks = this.reg[W(R.TuneStatTicks)];
    if (ticks !== 0) {
      this.statsNext += ticks * 1000;
      this.statsTimer.armAt(this.statsNext);
    }
  }

  /** DMA the statistics block (1 KiB) to stats_ptr, then post STATS_UPDATED. */
  private statsUpdate(): void {
    const s = this.stat;
    s[ST_IF_INDEX] = this.reg[W(R.IfIdx)];
    s[ST_IF_TYPE] = 6; // ethernetCsmacd
    s[ST_IF_MTU] = this.reg[W(R.IfMtu)];
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

  private setLinkUp(up: boolean): void {
    this.linkUp = up;
    this.reg[W(R.GigLnkState)] = up ? (LNK_UP | LNK_1000MB | LNK_FULL_DUPLEX) >>> 0 : 0;
    this.stat[ST_EVT_LINK]++;
    this.postEvent(E_LINK, up ? E_C_LINK_UP : E_C_LINK_DOWN, 0);
  }

  // -------------------------------------------------------------------------------
  // Transmit. txRun is the one TX event: it reports the previous chunk's BDs (their
  // DMA has finished by now), then takes the next chunk: for each frame, walk its BDs,
  // work out firmware, buffer-space and DMA times, and hand the frame to the wire with
  // the time it is ready (txFrame). It re-arms itself at the chunk's last DMA end.

  private txRun(): void {
    const now = this.sched.now;
    if (this.txNext !== this.txCsm) this.txPublish(now);
    if (!this.running || this.txFaulted) return;
    while (this.txqCount > 0 && this.txqLeave[this.txqHead] <= now) this.txqPop();
    const t = this.timing;
    const n = this.txEntries;
    const prd = this.reg[W(R.TxPrd)];
    const dv = this.mem.dv;
    // End the chunk where the coalescing count will be reached, so that interrupt is on time.
    const threshold = Math.max(1, Math.max(1, this.reg[W(R.TuneMaxTxDesc)]) - this.txUnsignalled);
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
  private txFrame(nfrag: number, len: number, flags0: number, vlan: number, readyNs: number, occupy: number): void {
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
      if (sums) this.txChecksums(start, len, flags0, len, nfrag);
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
  private txView(start: number, len: number): Uint8Array {
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
  private txPieces(nfrag: number, len: number, flags0: number, sums: boolean): boolean {
    const l0 = this.fragLen[0];
    this.txBuf.set(this.guestView(this.fragAddr[0], l0), 4);
    if (sums && !this.txChecksums(4, len, flags0, l0, nfrag)) return false;
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
  private guestView(addr: number, len: number): Uint8Array {
    const i = Math.imul(addr ^ (len << 20), 0x9e3779b1) >>> 22;
    const v = this.dmaViews[i];
    if (v !== undefined && v.byteOffset === addr && v.length === len) return v;
    return (this.dmaViews[i] = new Uint8Array(this.mem.u8.buffer, addr, len));
  }

  /**
   * IP and TCP/UDP checksum offload, as the TX RCB and the first BD's flags ask. The
   * frame's first headLen bytes are in txBuf at `start`; the rest (when headLen < len)
   * are fragments 1..nfrag-1 in guest RAM. False when a header field the offload needs
   * lies past headLen (the caller then gathers the whole frame and asks again).
   */
  private txChecksums(start: number, len: number, flags: number, headLen: number, nfrag: number): boolean {
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
    if ((flags & BD_IP_SUM) !== 0 && (this.txFlags & RCB_IP_SUM) !== 0) {
      b[l3 + 10] = b[l3 + 11] = 0;
      const c = ~this.cs.sum(l3, ihl, 0) & 0xffff;
      b[l3 + 10] = c >>> 8;
      b[l3 + 11] = c & 0xff;
    }
    if ((flags & BD_TCP_UDP_SUM) === 0 || (this.txFlags & RCB_TCP_UDP_SUM) === 0) return true;
    if ((((b[l3 + 6] << 8) | b[l3 + 7]) & 0x3fff) !== 0) return true; // a fragment: no whole-datagram sum
    const proto = b[l3 + 9];
    const at = proto === 6 ? 16 : proto === 17 ? 6 : -1;
    const l4 = l3 + ihl;
    const l4len = Math.min(((b[l3 + 2] << 8) | b[l3 + 3]) - ihl, fend - l4);
    if (at < 0 || l4len < at + 2) return true;
    if (l4 + at + 2 > end) return false;
    let init = 0;
    if ((this.txFlags & RCB_NO_PSEUDO_HDR) === 0) {
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

  /** The chunk's BDs are in NIC memory: tell the host (tx_csm) and coalesce. */
  private txPublish(now: number): void {
    const done = (this.txNext - this.txCsm + this.txEntries) % this.txEntries;
    this.txCsm = this.txNext;
    this.txUnsignalled += done;
    if ((this.txFlags & RCB_COAL_INT_ONLY) !== 0) this.writeTxCsm();
    const max = Math.max(1, this.reg[W(R.TuneMaxTxDesc)]);
    const ticks = this.reg[W(R.TuneTxCoalTicks)];
    if (this.txUnsignalled >= max || ticks === 0) this.coalesceExpired(MODE_NO_TX_IRQ);
    else if (!this.txCoal.armed) this.txCoal.armAt(now + ticks * 1000);
  }

  private writeTxCsm(): void {
    if (this.txCsmWritten === this.txCsm) return;
    if (!this.dmaWriteOk(this.txCsmPtr, 4, "tx_csm")) return;
    this.mem.dv.setUint32(this.txCsmPtr, this.txCsm, true);
    this.txCsmWritten = this.txCsm;
    this.chargeWrite(this.txCsmPtr, 4);
  }

  private txqPush(leave: number, bytes: number): void {
    const cap = this.txqLeave.length;
    if (this.txqCount === cap) this.txqPop(); // cannot happen with sane buffer sizes
    const i = (this.txqHead + this.txqCount) % cap;
    this.txqLeave[i] = leave;
    this.txqBytes[i] = bytes;
    this.txqCount++;
    this.txBufUsed += bytes;
  }

  private txqPop(): void {
    this.txBufUsed -= this.txqBytes[this.txqHead];
    this.txqHead = (this.txqHead + 1) % this.txqLeave.length;
    this.txqCount--;
  }

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

  private armRx(t: number): void {
    this.rxWorkAt = t;
    this.rxWork.armAt(t);
  }

  private rxRun(): void {
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
  private rxDeliver(off: number, len: number, now: number): void {
    const s = this.stat;
    if (!this.hostUp || this.rxFaulted) {
      s[ST_IF_IN_DISCARDS]++;
      return;
    }
    const f = this.rxFifo;
    const mtu = this.reg[W(R.IfMtu)];
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
      flags |= (f[off] & 1) === 0 ? BD_UCAST : isBroadcast(f, off) ? BD_BCAST : BD_MCAST;
      if (tagged) flags |= BD_VLAN_TAG;
      // Receive checksums over the frame still in the FIFO.
      const l3 = off + (tagged ? 18 : 14);
      const et = (f[l3 - 2] << 8) | f[l3 - 1];
      if (et === 0x0800 && f[l3] >> 4 === 4 && l3 + 20 <= off + len) {
        const ihl = (f[l3] & 15) * 4;
        const fragWord = ((f[l3 + 6] << 8) | f[l3 + 7]) & 0x3fff;
        if (fragWord !== 0) flags |= BD_IP_FRAG;
        if ((ring.flags & RCB_IP_SUM) !== 0 && l3 + ihl <= off + len) {
          ipsum = this.cs.sum(TX_STAGING + l3, ihl, 0);
          flags |= BD_IP_SUM;
        }
        const proto = f[l3 + 9];
        const l4len = Math.min(((f[l3 + 2] << 8) | f[l3 + 3]) - ihl, off + len - l3 - ihl);
        if ((ring.flags & RCB_TCP_UDP_SUM) !== 0 && fragWord === 0 && (proto === 6 || proto === 17) && l4len > 0) {
          const init = (ring.flags & RCB_NO_PSEUDO_HDR) !== 0 ? 0 : pseudoSum(f, l3, proto, l4len);
          l4sum = this.cs.sum(TX_STAGING + l3 + ihl, l4len, init);
          flags |= BD_TCP_UDP_SUM;
        }
      }
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
  private rxChooseRing(len: number): RxRing | undefined {
    const m = this.mini;
    if (m.enabled && m.maxLen > 0 && len <= m.maxLen && this.rxAvail(m) > 0) return m;
    const cutoff = this.std.maxLen > 0 ? this.std.maxLen : 1518;
    if (len <= cutoff) return this.std.enabled && this.rxAvail(this.std) > 0 ? this.std : undefined;
    return this.jumbo.enabled && this.rxAvail(this.jumbo) > 0 ? this.jumbo : undefined;
  }

  private rxAvail(r: RxRing): number {
    return (this.reg[r.prdReg] - r.cons + r.entries) % r.entries;
  }

  private writeRxRetPrd(v: number): void {
    if (this.dmaWriteOk(this.rxRetPrdPtr, 4, "rx_ret_prd")) this.mem.dv.setUint32(this.rxRetPrdPtr, v, true);
  }

  private rxPublished(now: number, n: number): void {
    this.rxUnsignalled += n;
    const max = Math.max(1, this.reg[W(R.TuneMaxRxDesc)]);
    const ticks = this.reg[W(R.TuneRxCoalTicks)];
    if (this.rxUnsignalled >= max || ticks === 0) this.coalesceExpired(MODE_NO_RX_IRQ);
    else if (!this.rxCoal.armed) this.rxCoal.armAt(now + ticks * 1000);
  }

  /** Allocate `len` bytes (rounded to 4) in the receive FIFO; -1 when it is full. */
  private rxFifoAlloc(len: number): number {
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

  // -------------------------------------------------------------------------------
  // DMA helpers

  /** Bus time of one DMA of len bytes at addr: setup per burst + 4 bytes per clock. */
  private dmaNs(addr: number, len: number, setupClocks: number): number {
    const b = this.timing.dmaBurstBoundary;
    const bursts = len > 0 ? 1 + Math.floor((addr + len - 1) / b) - Math.floor(addr / b) : 1;
    return (bursts * setupClocks + ((len + 3) >>> 2)) * this.timing.pciClockNs;
  }

  private chargeWrite(addr: number, len: number): void {
    const start = Math.max(this.sched.now, this.wrFree);
    this.wrFree = start + this.dmaNs(addr, len, this.timing.dmaWriteSetupClocks);
  }

  private dmaWriteOk(addr: number, len: number, what: string): boolean {
    if (this.mem.inRam(addr, len)) return true;
    this.dmaFault("write", addr, len, what);
    this.stat[ST_DMA_WR_ABORTS]++;
    return false;
  }

  private dmaFault(dir: string, addr: number, len: number, what: string): void {
    this.ctx.log("guest-error", `DMA ${dir} outside RAM: ${what} at 0x${addr.toString(16)} (+${len})`);
  }

  // -------------------------------------------------------------------------------
  // Interrupt

  /** Coalescing says interrupt now (count reached, timer expired or no coalescing). */
  private coalesceExpired(modeBit: number): void {
    if ((this.reg[W(R.ModeStat)] & modeBit) === 0) return this.raise();
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
  private raise(): void {
    this.writeTxCsm();
    this.txUnsignalled = this.rxUnsignalled = 0;
    this.rxCoal.cancel();
    this.txCoal.cancel();
    if (this.irqPending) this.stat[ST_AVOIDED_INTERRUPTS]++;
    else this.stat[ST_INTERRUPTS]++;
    this.irqPending = true;
    this.updateIrq();
  }

  /** The one place the interrupt line is computed. */
  private updateIrq(): void {
    const level = this.irqPending && this.reg[W(R.Mb0Lo)] === 0 && (this.reg[W(R.HostCtrl)] & HC_MASK_INTS) === 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    if (this.trace !== undefined) this.trace(`acenic: irq ${level ? 1 : 0}`);
    this.ctx.irq.set(level);
  }

  private traceReg(dir: string, off: number, v: number): void {
    const i = off >= 0 && off < 0x1000 ? REG_AT[off >> 2] : -1;
    const r = i >= 0 ? REGS[i] : undefined;
    const name = r === undefined ? `0x${off.toString(16)}` : r.words > 1 ? `${r.name}[${(off - r.off) >> 2}]` : r.name;
    this.trace?.(`acenic: ${dir} ${name} ${dir.startsWith("W") ? "<-" : "->"} ${hex(v, 8)}`);
  }
}

// ---------------------------------------------------------------------------------
// Helpers

/** A 64-bit bus address from its words; -1 (never RAM) when the high word is set. */
function addr64(hi: number, lo: number): number {
  return hi === 0 ? lo : -1;
}

function isBroadcast(b: Uint8Array, o: number): boolean {
  return (b[o] & b[o + 1] & b[o + 2] & b[o + 3] & b[o + 4] & b[o + 5]) === 0xff;
}

function hex(v: number, digits: number): string {
  return (v >>> 0).toString(16).padStart(digits, "0");
}

export function parseMac(mac: string | ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(6);
  if (typeof mac === "string") {
    const parts = mac.split(/[:-]/);
    if (parts.length !== 6) throw new Error(`bad MAC address ${mac}`);
    parts.forEach((p, i) => (out[i] = parseInt(p, 16)));
  } else {
    if (mac.length !== 6) throw new Error("a MAC address has 6 bytes");
    for (let i = 0; i < 6; i++) out[i] = mac[i];
  }
  return out;
}
