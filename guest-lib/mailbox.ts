// Mailboxes: one-direction message rings in the shared region, plus an IPI to tell the
// other CPU. The layout is in common/platform.ts (MBOX_*). Indices are free-running
// u32 counters; slot = index & (slots - 1).
//
// Back-pressure, nothing dropped: a producer that finds its ring full sets the ring's
// `waiting` flag and keeps the message in its own backlog; a consumer that frees slots
// and sees `waiting` clears it and sends an IPI back, and the producer's IPI handler
// pushes its backlog again. The producer re-checks after setting the flag, so a
// consumer that drained in between is not missed.
//
// Interface:
//   mboxSend(ring, type, seq, a0, a1, a2, a3)  -> true if queued, false if full
//   mboxRecv(ring)                              -> true if a message was copied to rx*
//   mboxDone(ring, producerCpu)                 consumer: after draining, wake a waiter
//   rxType, rxSeq, rxArg(i)                     the last received message

import { MBOX_HEAD, MBOX_TAIL, MBOX_SLOTS, MBOX_WAITING, MBOX_HEADER_SIZE, MBOX_SLOT_SIZE,
  MBOX_DEFAULT_SLOTS, MSG_TYPE, MSG_SEQ, MSG_ARG0, MSG_ARGS } from "../common/platform";
import { sendIpi } from "./cpu";

export let rxType: u32 = 0;
export let rxSeq: u32 = 0;
const rxArgs: usize = memory.data(MSG_ARGS * 4);

export function rxArg(i: u32): u32 {
  return load<u32>(rxArgs + (i << 2));
}

/** Producer side, once at boot: publish the ring size (consumers use the constant). */
export function mboxInit(ring: usize): void {
  store<u32>(ring + MBOX_SLOTS, MBOX_DEFAULT_SLOTS);
}

function slotAddr(ring: usize, index: u32): usize {
  return ring + MBOX_HEADER_SIZE + <usize>((index & <u32>(MBOX_DEFAULT_SLOTS - 1)) * <u32>MBOX_SLOT_SIZE);
}

export function mboxSend(ring: usize, type: u32, seq: u32, a0: u32, a1: u32, a2: u32, a3: u32): bool {
  let head = load<u32>(ring + MBOX_HEAD);
  if (head - load<u32>(ring + MBOX_TAIL) >= <u32>MBOX_DEFAULT_SLOTS) {
    store<u32>(ring + MBOX_WAITING, 1);
    if (head - load<u32>(ring + MBOX_TAIL) >= <u32>MBOX_DEFAULT_SLOTS) return false;
    store<u32>(ring + MBOX_WAITING, 0);
  }
  let s = slotAddr(ring, head);
  store<u32>(s + MSG_TYPE, type);
  store<u32>(s + MSG_SEQ, seq);
  store<u32>(s + MSG_ARG0, a0);
  store<u32>(s + MSG_ARG0 + 4, a1);
  store<u32>(s + MSG_ARG0 + 8, a2);
  store<u32>(s + MSG_ARG0 + 12, a3);
  store<u32>(ring + MBOX_HEAD, head + 1); // publish after the record is complete
  return true;
}

export function mboxRecv(ring: usize): bool {
  let tail = load<u32>(ring + MBOX_TAIL);
  if (tail == load<u32>(ring + MBOX_HEAD)) return false;
  let s = slotAddr(ring, tail);
  rxType = load<u32>(s + MSG_TYPE);
  rxSeq = load<u32>(s + MSG_SEQ);
  memory.copy(rxArgs, s + MSG_ARG0, MSG_ARGS * 4);
  store<u32>(ring + MBOX_TAIL, tail + 1);
  return true;
}

/** Like mboxSend with `n` (at most MSG_ARGS) u32 arguments read from `args`. */
export function mboxSendArgs(ring: usize, type: u32, seq: u32, args: usize, n: u32): bool {
  let head = load<u32>(ring + MBOX_HEAD);
  if (head - load<u32>(ring + MBOX_TAIL) >= <u32>MBOX_DEFAULT_SLOTS) {
    store<u32>(ring + MBOX_WAITING, 1);
    if (head - load<u32>(ring + MBOX_TAIL) >= <u32>MBOX_DEFAULT_SLOTS) return false;
    store<u32>(ring + MBOX_WAITING, 0);
  }
  let s = slotAddr(ring, head);
  store<u32>(s + MSG_TYPE, type);
  store<u32>(s + MSG_SEQ, seq);
  memory.fill(s + MSG_ARG0, 0, MSG_ARGS * 4);
  memory.copy(s + MSG_ARG0, args, <usize>(min<u32>(n, MSG_ARGS) * 4));
  store<u32>(ring + MBOX_HEAD, head + 1);
  return true;
}

export function mboxDone(ring: usize, producerCpu: u32): void {
  if (load<u32>(ring + MBOX_WAITING) != 0) {
    store<u32>(ring + MBOX_WAITING, 0);
    sendIpi(producerCpu);
  }
}
