// AceNIC model, the data: the register table (the Tigon II's registers as Linux's
// acenic.h lays them out, struct ace_regs; offsets from common/acenic-regs.ts, which
// the driver shares), the timing constants with their sources, the statistics block's
// bookkeeping, and small helpers. No behaviour here; the model is devices/acenic.ts
// (registers, reset, interrupt) and its parts: acenic-fw.ts (firmware: boot, commands,
// events, statistics, link, coalescing), acenic-tx.ts, acenic-rx.ts,
// acenic-offload.ts (checksums), acenic-eeprom.ts (the serial EEPROM).
// Sources: DEVICES-REF.md section B ([S4] Linux acenic.c/acenic.h, [S5] FreeBSD if_ti).
//
// Interface:
//   REGS, R, RegDef, REG_AT, W(off)      the register table; offsets by name; word index
//   AceNicTiming, ACENIC_TIMING          every timing constant, with its source
//   AceNicOptions, RxRing                options; an RX producer ring as the firmware caches it
//   ST_U64, CMD_STAT, MAC_STAT_WORD      statistics words written as u64; per-command counters;
//                                        the MAC statistics registers' sources
//   MAX_FRAME, MAX_TX_FRAGS, TX_STAGING, PCI_STATUS_BITS
//   addr64, isBroadcast, hex, parseMac

import * as A from "../common/acenic-regs.js";
import {
  ST_IN_OCTETS, ST_IN_UCAST, ST_IN_MCAST, ST_IN_BCAST, ST_OUT_OCTETS, ST_OUT_UCAST, ST_OUT_MCAST, ST_OUT_BCAST,
} from "../common/acenic-regs.js";

// ---------------------------------------------------------------------------------
// Register table: name, byte offset (common/acenic-regs.ts), 32-bit words, reset value,
// access. `action` marks registers whose write does more than store the value.

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

const REG_TABLE = [
  { name: "HostCtrl", off: A.HostCtrl, reset: A.TIGON_II_REV << A.HC_REV_SHIFT, action: true },
  { name: "LocalCtrl", off: A.LocalCtrl, action: true }, // I2C EEPROM pins, SRAM bank
  { name: "MiscCfg", off: A.MiscCfg },
  { name: "PciState", off: A.PciState, reset: 0x00100000, action: true }, // 32-bit, 33 MHz
  { name: "WinBase", off: A.WinBase, action: true },
  { name: "WinData", off: A.WinData, action: true },
  { name: "DmaWriteState", off: A.DmaWriteState },
  { name: "DmaReadState", off: A.DmaReadState },
  { name: "AssistState", off: A.AssistState },
  { name: "CpuCtrl", off: A.CpuCtrl, reset: 0x00010000, action: true }, // halted
  { name: "Pc", off: A.Pc },
  { name: "SramAddr", off: A.SramAddr },
  { name: "SramData", off: A.SramData, action: true },
  { name: "CpuBCtrl", off: A.CpuBCtrl, reset: 0x00010000 },
  { name: "PcB", off: A.PcB },
  { name: "MacStats", off: A.MacStats, words: 32, access: "ro" },
  { name: "Mb0Hi", off: A.Mb0Hi },
  { name: "Mb0Lo", off: A.Mb0Lo, action: true }, // host interrupt mailbox
  { name: "Mb1Hi", off: A.Mb1Hi },
  { name: "CmdPrd", off: A.CmdPrd, action: true },
  { name: "Mb2Hi", off: A.Mb2Hi },
  { name: "TxPrd", off: A.TxPrd, action: true },
  { name: "Mb3Hi", off: A.Mb3Hi },
  { name: "RxStdPrd", off: A.RxStdPrd, action: true },
  { name: "Mb4Hi", off: A.Mb4Hi },
  { name: "RxJumboPrd", off: A.RxJumboPrd, action: true },
  { name: "Mb5Hi", off: A.Mb5Hi },
  { name: "RxMiniPrd", off: A.RxMiniPrd, action: true },
  { name: "MbSpare", off: A.MbSpare, words: 20 }, // Mb6Hi .. MbFLo
  { name: "MacAddrHi", off: A.MacAddrHi },
  { name: "MacAddrLo", off: A.MacAddrLo },
  { name: "InfoPtrHi", off: A.InfoPtrHi },
  { name: "InfoPtrLo", off: A.InfoPtrLo },
  { name: "MultiCastHi", off: A.MultiCastHi },
  { name: "MultiCastLo", off: A.MultiCastLo },
  { name: "ModeStat", off: A.ModeStat },
  { name: "DmaReadCfg", off: A.DmaReadCfg },
  { name: "DmaWriteCfg", off: A.DmaWriteCfg },
  { name: "TxBufRat", off: A.TxBufRat },
  { name: "EvtCsm", off: A.EvtCsm },
  { name: "CmdCsm", off: A.CmdCsm },
  { name: "TuneRxCoalTicks", off: A.TuneRxCoalTicks },
  { name: "TuneTxCoalTicks", off: A.TuneTxCoalTicks },
  { name: "TuneStatTicks", off: A.TuneStatTicks, action: true },
  { name: "TuneMaxTxDesc", off: A.TuneMaxTxDesc },
  { name: "TuneMaxRxDesc", off: A.TuneMaxRxDesc },
  { name: "TuneTrace", off: A.TuneTrace },
  { name: "TuneLink", off: A.TuneLink },
  { name: "TuneFastLink", off: A.TuneFastLink },
  { name: "TracePtr", off: A.TracePtr },
  { name: "TraceStrt", off: A.TraceStrt },
  { name: "TraceLen", off: A.TraceLen },
  { name: "IfIdx", off: A.IfIdx },
  { name: "IfMtu", off: A.IfMtu },
  { name: "MaskInt", off: A.MaskInt }, // Tigon I only: stored
  { name: "GigLnkState", off: A.GigLnkState, access: "ro" },
  { name: "FastLnkState", off: A.FastLnkState, access: "ro" },
  { name: "RxRetCsm", off: A.RxRetCsm }, // Tigon I only: stored
  { name: "CmdRng", off: A.CmdRng, words: 64 },
  { name: "Window", off: A.Window, words: 512, action: true }, // NIC SRAM at WinBase
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
export const REG_AT = new Int16Array(0x1000 >> 2).fill(-1);
REGS.forEach((r, i) => {
  for (let w = 0; w < r.words; w++) REG_AT[(r.off >> 2) + w] = i;
});
export const W = (off: number): number => off >> 2; // word index into the register file

/** PciState bits the host cannot change (a 32-bit, 33 MHz bus). */
export const PCI_STATUS_BITS = A.PCI_66MHZ | A.PCI_32BIT;
/** Largest frame handled (jumbo 9000 MTU + 14 + VLAN 4), FCS excluded. */
export const MAX_FRAME = 9018 + 4;
export const MAX_TX_FRAGS = 64;
/** Bytes of TX staging buffer before the RX FIFO in the checksum engine's memory. */
export const TX_STAGING = 16384;

/** Statistics words (common/acenic-regs.ts ST_*) the NIC writes as u64, low word first. */
export const ST_U64 = [ST_IN_OCTETS, ST_IN_UCAST, ST_IN_MCAST, ST_IN_BCAST, ST_OUT_OCTETS, ST_OUT_UCAST, ST_OUT_MCAST, ST_OUT_BCAST];
/** The MAC statistics registers 0x480-0x4FF (Linux struct ace_mac_stats), by word: the
 *  statistics-block counter each reads (-1: not kept, reads 0). */
export const MAC_STAT_WORD = new Int16Array(32).fill(-1);
MAC_STAT_WORD[18] = A.ST_FCS_ERRORS; // crc_err
MAC_STAT_WORD[24] = A.ST_RX_DROP_ULA; // drop_ula
MAC_STAT_WORD[25] = A.ST_RX_DROP_MCAST; // drop_mc
MAC_STAT_WORD[27] = A.ST_RX_DROP_SPACE; // drop_space
MAC_STAT_WORD[29] = A.ST_IN_BCAST; // kept_bc
MAC_STAT_WORD[30] = A.ST_IN_MCAST; // kept_mc
MAC_STAT_WORD[31] = A.ST_IN_UCAST; // kept_uc
/** ti_stats nicCmds* word for each command opcode (-1: counted as unknown). */
export const CMD_STAT = [-1, 56, 57, 58, 59, 60, -1, -1, 61, 62, 63, 64, 65, 66, 67, 68, 69, 71];

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

/** One RX producer ring (std, jumbo or mini) as the firmware caches it from gen_info. */
export interface RxRing {
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

// ---------------------------------------------------------------------------------
// Helpers

/** A 64-bit bus address from its words; -1 (never RAM) when the high word is set. */
export function addr64(hi: number, lo: number): number {
  return hi === 0 ? lo : -1;
}

export function isBroadcast(b: Uint8Array, o: number): boolean {
  return (b[o] & b[o + 1] & b[o + 2] & b[o + 3] & b[o + 4] & b[o + 5]) === 0xff;
}

export function hex(v: number, digits: number): string {
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
