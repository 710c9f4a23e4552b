// Kernel console output without the heap: text is assembled in a static line buffer
// and sent to the per-CPU console device by DMA (two register writes per flush).
//
// Interface: cputs(s) for string literals, cputu(n), cputd(n), cputx(n), cputc(ch),
// cflush(); kprint(s) = cputs(s) + newline + flush.

import { mmioWrite32 } from "./hw";
import { CONSOLE_BASE, CONSOLE_ADDR, CONSOLE_LEN } from "../common/platform";

const CAP: u32 = 240;
const buf: usize = memory.data(256);
let len: u32 = 0;

export function cflush(): void {
  if (len == 0) return;
  mmioWrite32(CONSOLE_BASE + CONSOLE_ADDR, <u32>buf);
  mmioWrite32(CONSOLE_BASE + CONSOLE_LEN, len);
  len = 0;
}

export function cputc(ch: u32): void {
  if (len >= CAP) cflush();
  store<u8>(buf + len, <u8>ch);
  len++;
  if (ch == 10) cflush();
}

export function cputs(s: string): void {
  let n = s.length;
  for (let i = 0; i < n; i++) cputc(<u32>s.charCodeAt(i) & 0x7f);
}

export function cputu(n: u64): void {
  let digits = memory.data(24);
  let i = 0;
  do {
    store<u8>(digits + i, <u8>(48 + <u32>(n % 10)));
    n /= 10;
    i++;
  } while (n != 0);
  while (i > 0) { i--; cputc(load<u8>(digits + i)); }
}

export function cputd(n: i64): void {
  if (n < 0) { cputc(45); cputu(<u64>(-n)); } else cputu(<u64>n);
}

export function cputx(n: u32): void {
  cputs("0x");
  for (let s: i32 = 28; s >= 0; s -= 4) {
    let d = (n >> <u32>s) & 15;
    cputc(d < 10 ? 48 + d : 87 + d);
  }
}

/** Fixed-point seconds with 3 decimals from nanoseconds. */
export function cputsec(ns: u64): void {
  cputu(ns / 1000000000);
  cputc(46);
  let ms = <u32>((ns / 1000000) % 1000);
  if (ms < 100) cputc(48);
  if (ms < 10) cputc(48);
  cputu(ms);
  cputc(115);
}

export function kprint(s: string): void {
  cputs(s);
  cputc(10);
}
