// Devices under /dev (character devices only): null, zero, console (the kernel's
// log console: each line shows with the time on the board's console), tty and ttyerr
// (the host session's terminal, out and err streams; reading either reads its
// input), random, kstat (the kernel's statistics as text, see kstat.ts) and htx
// (the HiTactix driver, htx.ts). A device number is its index in the name table.
//
// Interface: devLookup(name, len) -> dev or -1, devName(dev), devOpen(dev) -> minor or
// -errno, devRead(dev, minor, off, buf, n, nonblock), devWrite(dev, minor, buf, n),
// devClose(dev, minor), devReadable(dev, minor)

import { mmioWrite32 } from "../../guest-lib/hw";
import { cflush } from "../../guest-lib/console";
import { CONSOLE_BASE, CONSOLE_ADDR, CONSOLE_LEN } from "../../common/platform";
import { E_NOSPC } from "../../common/bsd-abi";
import { ttyRead, ttyWrite, ttyReadable, ttyIsTerminal } from "./tty";
import { FT_CHAR_DEVICE, FT_UNKNOWN } from "../../common/bsd-abi";
import { randomFill } from "./random";
import { kstatText } from "./kstat";
import { htxOpen, htxRead, htxWrite, htxClose, htxReadable } from "./htx";

export const DEV_NULL: u32 = 0;
export const DEV_ZERO: u32 = 1;
export const DEV_CONSOLE: u32 = 2;
export const DEV_TTY: u32 = 3;
export const DEV_TTYERR: u32 = 4;
export const DEV_RANDOM: u32 = 5;
export const DEV_KSTAT: u32 = 6;
export const DEV_HTX: u32 = 7;
export const NDEV: u32 = 8;

const names: StaticArray<string> = ["null", "zero", "console", "tty", "ttyerr", "random", "kstat", "htx"];

export function devName(dev: u32): string {
  return names[dev];
}

/** The device whose name is the `len` bytes at `name`, or -1. */
export function devLookup(name: usize, len: u32): i32 {
  for (let d: u32 = 0; d < NDEV; d++) {
    let s = names[d];
    if (<u32>s.length != len) continue;
    let same = true;
    for (let i: u32 = 0; i < len; i++) if (<u32>s.charCodeAt(i) != <u32>load<u8>(name + i)) { same = false; break; }
    if (same) return <i32>d;
  }
  return -1;
}

/** The WASI file type an open of dev shows. The terminal's ends are character devices
 *  (terminals) only when the host's stream behind them is one; else they look like the
 *  pipe or file they are, so a program's isatty() answers as it would on the host. */
export function devFiletype(dev: u32, writable: bool): u32 {
  if (dev == DEV_TTY) return ttyIsTerminal(writable ? 1 : 0) ? FT_CHAR_DEVICE : FT_UNKNOWN;
  if (dev == DEV_TTYERR) return ttyIsTerminal(2) ? FT_CHAR_DEVICE : FT_UNKNOWN;
  return FT_CHAR_DEVICE;
}

/** A new open of dev: its minor number (a session of htx), or -errno. */
export function devOpen(dev: u32): i64 {
  if (dev == DEV_HTX) return <i64>htxOpen();
  return 0;
}

export function devRead(dev: u32, minor: u32, off: u64, buf: usize, n: u32, nonblock: bool): i64 {
  if (dev == DEV_NULL || dev == DEV_CONSOLE) return 0;
  if (dev == DEV_ZERO) { memory.fill(buf, 0, n); return <i64>n; }
  if (dev == DEV_RANDOM) { randomFill(buf, n); return <i64>n; }
  if (dev == DEV_TTY || dev == DEV_TTYERR) return ttyRead(buf, n, nonblock);
  if (dev == DEV_KSTAT) return kstatText(off, buf, n);
  if (dev == DEV_HTX) return htxRead(minor, buf, n, nonblock);
  return 0;
}

export function devWrite(dev: u32, minor: u32, buf: usize, n: u32): i64 {
  if (dev == DEV_NULL || dev == DEV_ZERO || dev == DEV_RANDOM) return <i64>n;
  if (dev == DEV_TTY) return ttyWrite(0, buf, n);
  if (dev == DEV_TTYERR) return ttyWrite(1, buf, n);
  if (dev == DEV_CONSOLE) { consoleWrite(buf, n); return <i64>n; }
  if (dev == DEV_HTX) return htxWrite(minor, buf, n);
  return -E_NOSPC;
}

export function devClose(dev: u32, minor: u32): void {
  if (dev == DEV_HTX) htxClose(minor);
}

export function devReadable(dev: u32, minor: u32): bool {
  if (dev == DEV_TTY || dev == DEV_TTYERR) return ttyReadable();
  if (dev == DEV_HTX) return htxReadable(minor);
  return true;
}

/** Raw bytes to the log console (the board splits them into timestamped lines). */
function consoleWrite(buf: usize, n: u32): void {
  cflush(); // the kernel's own partial line first
  for (let done: u32 = 0; done < n;) {
    let k = min<u32>(n - done, 4096);
    mmioWrite32(CONSOLE_BASE + CONSOLE_ADDR, <u32>(buf + done));
    mmioWrite32(CONSOLE_BASE + CONSOLE_LEN, k);
    done += k;
  }
}
