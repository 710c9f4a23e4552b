// Alteon AceNIC gigabit Ethernet NIC, Tigon II (revision 6): the host interface. This
// file is the chip as the CPU sees it: the register file (the BAR's registers, the NIC
// SRAM window, the mailboxes), reset, the EEPROM pins, the interrupt line.
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
// The model in seven files, one subsystem of the chip each:
//   acenic-data.ts     the register table (offsets: common/acenic-regs.ts, shared with
//                      the driver), timing constants, helpers
//   acenic.ts          register file, reset, interrupt line (this file)
//   acenic-eeprom.ts   the I2C serial EEPROM on LocalCtrl (its own chip)
//   acenic-fw.ts       the NIC's state and firmware: boot, commands, events,
//                      statistics, link, interrupt coalescing, DMA engine timing
//   acenic-tx.ts       transmit: BDs, gather, the NIC's transmit buffer, the wire
//   acenic-rx.ts       receive: filter, FIFO, producer rings, return ring
//   acenic-offload.ts  IP/TCP/UDP checksum offload, both directions
// They are one class in layers (AceNic extends AceNicRx extends AceNicTx extends
// AceNicCore), so the hot TX path reads the NIC's state directly.
//
// Interface:
//   new AceNic(ctx, { mac, ... })   MmioDevice: read/write/reset, size 0x4000
//   connect(port)                   the wire transmitter (wire.ts Port)
//   receive(frame, timeNs)          wire Endpoint: a frame arriving from the link
//   setCarrier(up)                  cable in/out: link events
//   stat[ST_*]                      statistics block words (ti_stats layout)
//   faults                          frames lost by fault injection
//   eeprom                          the serial EEPROM (its contents: eeprom.data)
//   REGS, R, ACENIC_TIMING, parseMac   from acenic-data.ts

import type { DeviceContext, MmioDevice, Width } from "../host/device.js";
import type { Endpoint, Port } from "./wire.js";
import {
  HostCtrl, LocalCtrl, PciState, WinBase, WinData, CpuCtrl, SramAddr, SramData, MacStats, Mb0Lo, CmdPrd, TxPrd,
  RxStdPrd, RxJumboPrd, RxMiniPrd, TuneStatTicks, MiscCfg, Window, HC_IN_INT, HC_CLR_INT, HC_HW_RESET, HC_BYTE_SWAP,
  HC_WORD_SWAP, HC_MASK_INTS, HC_REV_SHIFT, TIGON_II_REV, LC_EEPROM_DIN, LC_EEPROM_DOUT, LC_EEPROM_OUT_EN,
  LC_EEPROM_CLK, LC_SRAM_BANK_512K, CPU_RESET, CPU_HALT, CMD_RING_ENTRIES,
} from "../common/acenic-regs.js";
import { AceNicRx } from "./acenic-rx.js";
import { REGS, REG_AT, W, PCI_STATUS_BITS, MAC_STAT_WORD, hex, type AceNicOptions } from "./acenic-data.js";

export { REGS, R, ACENIC_TIMING, parseMac } from "./acenic-data.js";
export type { RegDef, AceNicTiming, AceNicOptions } from "./acenic-data.js";

export class AceNic extends AceNicRx implements MmioDevice, Endpoint {
  constructor(ctx: DeviceContext, opts: AceNicOptions) {
    super(ctx, opts);
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
    const localCtrl = this.reg[W(LocalCtrl)] & LC_SRAM_BANK_512K;
    const miscCfg = this.reg[W(MiscCfg)];
    this.reg.fill(0);
    for (const r of REGS) for (let w = 0; w < r.words; w++) this.reg[W(r.off) + w] = r.reset;
    if (keep) {
      this.reg[W(LocalCtrl)] = localCtrl;
      this.reg[W(MiscCfg)] = miscCfg;
    } else this.sram.fill(0);
    for (const t of [this.fwBoot, this.linkTimer, this.cmdWork, this.txWork, this.rxWork, this.rxCoal, this.txCoal, this.statsTimer]) t.cancel();
    this.running = this.hostUp = this.promisc = this.allMulti = this.linkUp = false;
    this.macHi = this.macLo = 0;
    this.stat.fill(0);
    this.resetRings();
    this.rdFree = this.wrFree = 0;
    this.eeprom.reset();
    this.irqPending = false;
    this.updateIrq();
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
    if (off >= Window) return this.sram[(((this.reg[W(WinBase)] & ~0x7ff) + (off - Window)) & this.sramMask) >> 2];
    if (off >= MacStats && off < MacStats + 0x80) return this.macStat((off - MacStats) >> 2);
    switch (off) {
      case HostCtrl:
        return (this.reg[W(off)] | (this.irqPending ? HC_IN_INT : 0)) >>> 0;
      case LocalCtrl:
        return (this.reg[W(off)] | (this.sdaLine() ? LC_EEPROM_DIN : 0)) >>> 0;
      case WinData:
        return this.sram[(this.reg[W(WinBase)] & this.sramMask) >> 2];
      case SramData:
        return this.sram[(this.reg[W(SramAddr)] & this.sramMask) >> 2];
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
    if (off >= Window) {
      this.sram[(((this.reg[W(WinBase)] & ~0x7ff) + (off - Window)) & this.sramMask) >> 2] = value;
      return;
    }
    switch (off) {
      case HostCtrl:
        return this.writeHostCtrl(value);
      case LocalCtrl:
        return this.writeLocalCtrl(value);
      case PciState:
        this.reg[W(off)] = ((value & ~PCI_STATUS_BITS) | (this.reg[W(off)] & PCI_STATUS_BITS)) >>> 0;
        return;
      case WinBase:
        this.reg[W(off)] = value & this.sramMask;
        return;
      case WinData:
        this.sram[(this.reg[W(WinBase)] & this.sramMask) >> 2] = value;
        return;
      case SramData:
        this.sram[(this.reg[W(SramAddr)] & this.sramMask) >> 2] = value;
        return;
      case CpuCtrl:
        return this.writeCpuCtrl(value);
      case Mb0Lo:
        return this.writeMb0Lo(value);
      case CmdPrd:
        this.reg[W(off)] = value % CMD_RING_ENTRIES;
        return this.kickCommands();
      case TxPrd:
        return this.writeTxPrd(value);
      case RxStdPrd:
      case RxJumboPrd:
      case RxMiniPrd: {
        const ring = off === RxStdPrd ? this.std : off === RxJumboPrd ? this.jumbo : this.mini;
        if (value >= ring.entries) this.ctx.log("guest-error", `${ring.name} producer ${value} >= ${ring.entries}`);
        this.reg[W(off)] = value % ring.entries;
        return;
      }
      case TuneStatTicks:
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
    this.reg[W(HostCtrl)] = ((TIGON_II_REV << HC_REV_SHIFT) | (v & (HC_BYTE_SWAP | HC_WORD_SWAP | HC_MASK_INTS))) >>> 0;
    this.updateIrq();
  }

  private writeCpuCtrl(v: number): void {
    const wasHalted = (this.reg[W(CpuCtrl)] & CPU_HALT) !== 0;
    this.reg[W(CpuCtrl)] = v;
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
    const old = this.reg[W(Mb0Lo)];
    this.reg[W(Mb0Lo)] = v;
    if (!(old !== 0 && v === 0)) this.irqPending = false;
    this.updateIrq();
  }

  /** MAC statistics registers 0x480-0x4FF (Linux struct ace_mac_stats), live. */
  private macStat(i: number): number {
    const w = MAC_STAT_WORD[i];
    return w < 0 ? 0 : this.stat[w] >>> 0;
  }

  // -------------------------------------------------------------------------------
  // The EEPROM's pins on LocalCtrl: SCL = CLK; SDA = (OUT_EN ? DOUT : released) AND the
  // EEPROM's own drive; DIN reads SDA. The EEPROM itself is acenic-eeprom.ts.

  private sdaLine(): number {
    const lc = this.reg[W(LocalCtrl)];
    const host = (lc & LC_EEPROM_OUT_EN) !== 0 ? ((lc & LC_EEPROM_DOUT) !== 0 ? 1 : 0) : 1;
    return host & this.eeprom.sda;
  }

  private writeLocalCtrl(v: number): void {
    const oldScl = (this.reg[W(LocalCtrl)] & LC_EEPROM_CLK) !== 0;
    const oldSda = this.sdaLine();
    this.reg[W(LocalCtrl)] = v & ~LC_EEPROM_DIN;
    this.eeprom.edge(oldScl, oldSda, (v & LC_EEPROM_CLK) !== 0, this.sdaLine());
  }

  // -------------------------------------------------------------------------------
  // Interrupt

  /** The one place the interrupt line is computed. */
  protected updateIrq(): void {
    const level = this.irqPending && this.reg[W(Mb0Lo)] === 0 && (this.reg[W(HostCtrl)] & HC_MASK_INTS) === 0;
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
