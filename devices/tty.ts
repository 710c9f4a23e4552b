// The BSD side's terminal: a paravirtual device in the spirit of virtio-console (not a
// model of a UART chip), through which a host session (`hitactix bsd exec`) is the
// standard input and output of BSD processes. Registers: common/platform.ts TTY_*.
//
//   Output: the guest writes TX_ADDR, then TX_LEN; the device reads the bytes from
//   RAM (DMA) at once and hands them to the host on stream 0 (out) or 1 (err), as
//   TX_STREAM says. Every byte is folded into the trace hash.
//   Input: the guest arms one receive (RX_ADDR, RX_LEN). As soon as input is queued
//   (or the input has ended), the device copies up to RX_LEN bytes to RAM, sets
//   RX_COUNT and STATUS.RX_DONE (and RX_EOF once the end has been reached and every
//   byte delivered) and raises its interrupt line until the guest acks RX_DONE.
// Not modelled: a line speed (bytes move at once), flow control, a line discipline
// (the kernel has none either), more than one input stream.
//
// Interface: new Tty(ctx, { onOutput, attached }), input(bytes), endInput(), output
// counters; MmioDevice (read/write/reset).

import type { DeviceContext, MmioDevice, Width } from "../host/device.js";
import type { Handler } from "../host/sched.js";
import {
  TTY_TX_ADDR, TTY_TX_LEN, TTY_TX_STREAM, TTY_RX_ADDR, TTY_RX_LEN, TTY_RX_COUNT, TTY_STATUS,
  TTY_ST_RX_DONE, TTY_ST_RX_EOF, TTY_ST_RX_ARMED, TTY_ST_ATTACHED, TTY_ST_IN_TERMINAL, TTY_ST_OUT_TERMINAL,
  TTY_ST_ERR_TERMINAL,
} from "../common/platform.js";

const TX_MAX = 65536;

export interface TtyOptions {
  /** Bytes the guest sent on stream 0 (out) or 1 (err). */
  onOutput?: (stream: number, bytes: Uint8Array) => void;
  /** A host session is attached (else the input is at its end from the start). */
  attached?: boolean;
  /** Which of the host's streams are terminals (STATUS bits IN/OUT/ERR_TERMINAL). */
  terminals?: { in?: boolean; out?: boolean; err?: boolean };
}

export class Tty implements MmioDevice {
  readonly name = "tty";
  readonly size = 0x100;
  private txAddr = 0;
  private txStream = 0;
  private rxAddr = 0;
  private rxLen = 0;
  private rxCount = 0;
  private status = 0;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private completeQueued = false;
  private readonly completeH: Handler;
  /** Bytes out per stream, and bytes delivered in. */
  readonly sent = [0, 0];
  delivered = 0;

  constructor(private readonly ctx: DeviceContext, private readonly opts: TtyOptions = {}) {
    this.completeH = ctx.sched.handler("tty.rx", () => this.complete());
    this.reset();
  }

  reset(): void {
    this.txAddr = 0; this.txStream = 0; this.rxAddr = 0; this.rxLen = 0; this.rxCount = 0;
    const t = this.opts.terminals ?? {};
    this.status = (this.opts.attached ? TTY_ST_ATTACHED : 0) | (t.in ? TTY_ST_IN_TERMINAL : 0) |
      (t.out ? TTY_ST_OUT_TERMINAL : 0) | (t.err ? TTY_ST_ERR_TERMINAL : 0);
    if (!this.opts.attached) this.ended = true;
    this.updateIrq();
  }

  /** Host: queue input bytes for the guest. */
  input(bytes: Uint8Array): void {
    if (this.ended) throw new Error("tty: input after its end");
    if (bytes.length === 0) return;
    this.queue.push(bytes.slice());
    this.queued += bytes.length;
    this.kick();
  }

  /** Host: no more input will come. */
  endInput(): void {
    this.ended = true;
    this.kick();
  }

  read(off: number, _width: Width): number {
    switch (off) {
      case TTY_RX_COUNT: return this.rxCount;
      case TTY_STATUS: return this.status;
      default:
        this.ctx.log("guest-error", `read of write-only or unknown register 0x${off.toString(16)}`);
        return 0;
    }
  }

  write(off: number, _width: Width, value: number): void {
    switch (off) {
      case TTY_TX_ADDR: this.txAddr = value >>> 0; return;
      case TTY_TX_STREAM: this.txStream = value === 1 ? 1 : 0; return;
      case TTY_TX_LEN: this.transmit(value >>> 0); return;
      case TTY_RX_ADDR: this.rxAddr = value >>> 0; return;
      case TTY_RX_LEN:
        this.rxLen = value >>> 0;
        this.status |= TTY_ST_RX_ARMED;
        this.kick();
        return;
      case TTY_STATUS:
        if (value & TTY_ST_RX_DONE) this.status &= ~TTY_ST_RX_DONE;
        this.updateIrq();
        return;
      default:
        this.ctx.log("guest-error", `write of read-only or unknown register 0x${off.toString(16)}`);
    }
  }

  private transmit(n: number): void {
    if (n > TX_MAX || !this.ctx.mem.inRam(this.txAddr, n)) {
      this.ctx.log("guest-error", `send of ${n} bytes at 0x${this.txAddr.toString(16)} is outside RAM or over ${TX_MAX}`);
      return;
    }
    const bytes = this.ctx.mem.u8.subarray(this.txAddr, this.txAddr + n);
    for (let i = 0; i < n; i += 4) this.ctx.sched.mix(bytes[i], bytes[i + 1] ?? 0, (bytes[i + 2] ?? 0) | ((bytes[i + 3] ?? 0) << 8));
    this.sent[this.txStream] += n;
    this.ctx.trace?.(`tx stream ${this.txStream} ${n} bytes`);
    this.opts.onOutput?.(this.txStream, bytes.slice());
  }

  /** Complete the armed receive as an event, when there is something to report. */
  private kick(): void {
    if (this.completeQueued || (this.status & TTY_ST_RX_ARMED) === 0) return;
    if (this.queued === 0 && !this.ended) return;
    this.completeQueued = true;
    this.ctx.sched.after(0, this.completeH);
  }

  private complete(): void {
    this.completeQueued = false;
    if ((this.status & TTY_ST_RX_ARMED) === 0) return;
    const n = Math.min(this.rxLen, this.queued);
    if (!this.ctx.mem.inRam(this.rxAddr, n)) {
      this.ctx.log("guest-error", `receive of ${n} bytes at 0x${this.rxAddr.toString(16)} is outside RAM`);
      this.status &= ~TTY_ST_RX_ARMED;
      return;
    }
    let done = 0;
    while (done < n) {
      const head = this.queue[0];
      const k = Math.min(head.length, n - done);
      this.ctx.mem.u8.set(head.subarray(0, k), this.rxAddr + done);
      done += k;
      if (k === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(k);
    }
    this.queued -= n;
    this.delivered += n;
    this.rxCount = n;
    this.status &= ~TTY_ST_RX_ARMED;
    this.status |= TTY_ST_RX_DONE;
    if (this.ended && this.queued === 0) this.status |= TTY_ST_RX_EOF;
    this.ctx.trace?.(`rx ${n} bytes${this.status & TTY_ST_RX_EOF ? ", end of input" : ""}`);
    this.updateIrq();
  }

  private updateIrq(): void {
    this.ctx.irq.set((this.status & TTY_ST_RX_DONE) !== 0);
  }
}
