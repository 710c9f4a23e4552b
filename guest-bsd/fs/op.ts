// Framing of the file system's calls (log.ts has the mechanism): every changing call is
// begin() ... finish(r), every read-only call look() first; the clock; the errno values
// the calls answer with (WASI preview 1, negated by the callers).
//
// Interface:
//   begin(): i32                 a changing operation: 0, or FS_WAIT / -EIO (nothing begun)
//   finish(r): i32               r >= 0 keeps its changes, r < 0 undoes them all; returns r
//   look(): i32                  a read-only call: 0 or -EIO (not mounted)
//   ret(r)                       pass r on, counting FS_WAIT
//   nowNs(), setClock(fn)        time stamps (ns), from the kernel's clock
//   touchTimes(ip, t, m)         ctime (and mtime when m) of an inode in the transaction
//   opWaits                      calls answered FS_WAIT

import { I_MTIME, I_CTIME } from "../../common/bsdfs";
import { FS_WAIT, EIO, bioNextEpoch } from "./bio";
import { opBegin, opEnd, opAbort } from "./log";
import { allocDeltaApply, allocDeltaReset } from "./inode";
import { fsReason } from "./msg";
import { isMounted } from "./mount";

export const EEXIST: i32 = 20;
export const EISDIR: i32 = 31;
export const ENOTEMPTY: i32 = 55;
export const EPERM: i32 = 63;
export const EBUSY: i32 = 10;
export const EMLINK: i32 = 34;

export let opWaits: u64 = 0;
let clock: () => u64 = zeroClock;

function zeroClock(): u64 { return 0; }
export function setClock(fn: () => u64): void { clock = fn; }
export function nowNs(): u64 { return clock(); }

export function notMounted(): i32 {
  fsReason.reset().str("the file system is not mounted").end();
  return -EIO;
}

export function begin(): i32 {
  bioNextEpoch();
  if (!isMounted()) return notMounted();
  let r = opBegin();
  if (r == FS_WAIT) opWaits++;
  return r;
}

export function finish(r: i32): i32 {
  if (r < 0) {
    opAbort();
    allocDeltaReset();
    if (r == FS_WAIT) opWaits++;
  } else {
    allocDeltaApply();
    opEnd();
  }
  return r;
}

/** Its own epoch: the blocks a read-only call touches stay while it runs. */
export function look(): i32 {
  bioNextEpoch();
  return isMounted() ? 0 : notMounted();
}

export function ret(r: i64): i64 {
  if (r == FS_WAIT) opWaits++;
  return r;
}

export function touchTimes(ip: usize, t: u64, m: bool): void {
  if (m) store<u64>(ip + I_MTIME, t);
  store<u64>(ip + I_CTIME, t);
}
