// The terminal driver: the TTY device (common/platform.ts, devices/tty.ts) as the
// standard input and output of a host session (`hitactix bsd exec`). Input arrives by
// DMA into a landing buffer and goes into a ring the readers take from; a receive is
// kept armed while the ring has room. Output is sent at once on stream 0 (out) or
// 1 (err). No line discipline: bytes pass as they are (a raw terminal).
//
// Interface: ttyInit(), ttyIntr() from irq(IRQ_TTY), ttyRead(buf, n, nonblock),
// ttyWrite(stream, buf, n), ttyReadable(), ttyIsTerminal(0 in | 1 out | 2 err)

import { mmioRead32, mmioWrite32 } from "../../guest-lib/hw";
import {
  TTY_BASE, TTY_TX_ADDR, TTY_TX_LEN, TTY_TX_STREAM, TTY_RX_ADDR, TTY_RX_LEN, TTY_RX_COUNT, TTY_STATUS,
  TTY_ST_RX_DONE, TTY_ST_RX_EOF, TTY_ST_RX_ARMED, TTY_ST_ATTACHED, TTY_ST_IN_TERMINAL, TTY_ST_OUT_TERMINAL,
  TTY_ST_ERR_TERMINAL,
} from "../../common/platform";
import { E_AGAIN, SYS_BLOCK } from "../../common/bsd-abi";
import { TTY_BUF } from "./param";
import { sleep, wakeup } from "./sched";

const TTY_CHAN: u32 = 0x30000001;
const LANDING: u32 = 4096;
let ring: usize = 0;
let landing: usize = 0;
let head: u32 = 0; // bytes received in all
let tail: u32 = 0; // bytes read in all
let eof: bool = false;
let armed: bool = false;
let stream: u32 = 0xffffffff;
let terminals: u32 = 0;
export let ttyIn: u64 = 0;
export let ttyOut: u64 = 0;

export function ttyInit(): void {
  ring = heap.alloc(TTY_BUF);
  landing = heap.alloc(LANDING);
  let st = mmioRead32(TTY_BASE + TTY_STATUS);
  eof = (st & TTY_ST_ATTACHED) == 0;
  terminals = st;
  arm();
}

/** Whether the host's stream behind this end is a terminal: 0 in, 1 out, 2 err. */
export function ttyIsTerminal(which: u32): bool {
  let bit = which == 0 ? TTY_ST_IN_TERMINAL : which == 1 ? TTY_ST_OUT_TERMINAL : TTY_ST_ERR_TERMINAL;
  return (terminals & bit) != 0;
}

function arm(): void {
  if (eof || armed || TTY_BUF - (head - tail) < LANDING) return;
  mmioWrite32(TTY_BASE + TTY_RX_ADDR, <u32>landing);
  mmioWrite32(TTY_BASE + TTY_RX_LEN, LANDING);
  armed = true;
}

export function ttyIntr(): void {
  let st = mmioRead32(TTY_BASE + TTY_STATUS);
  if ((st & TTY_ST_RX_DONE) == 0) return;
  let n = mmioRead32(TTY_BASE + TTY_RX_COUNT);
  mmioWrite32(TTY_BASE + TTY_STATUS, TTY_ST_RX_DONE);
  armed = (st & TTY_ST_RX_ARMED) != 0;
  for (let i: u32 = 0; i < n; i++) store<u8>(ring + (head + i) % TTY_BUF, load<u8>(landing + i));
  head += n;
  ttyIn += <u64>n;
  if ((st & TTY_ST_RX_EOF) != 0) eof = true;
  wakeup(TTY_CHAN);
  arm();
}

export function ttyReadable(): bool {
  return head != tail || eof;
}

export function ttyRead(buf: usize, n: u32, nonblock: bool): i64 {
  let avail = head - tail;
  if (avail == 0) {
    if (eof) return 0;
    if (nonblock) return -E_AGAIN;
    sleep(TTY_CHAN);
    return SYS_BLOCK;
  }
  let m = min<u32>(n, avail);
  for (let i: u32 = 0; i < m; i++) store<u8>(buf + i, load<u8>(ring + (tail + i) % TTY_BUF));
  tail += m;
  arm();
  return <i64>m;
}

export function ttyWrite(s: u32, buf: usize, n: u32): i64 {
  if (s != stream) { mmioWrite32(TTY_BASE + TTY_TX_STREAM, s); stream = s; }
  mmioWrite32(TTY_BASE + TTY_TX_ADDR, <u32>buf);
  mmioWrite32(TTY_BASE + TTY_TX_LEN, n);
  ttyOut += <u64>n;
  return <i64>n;
}
