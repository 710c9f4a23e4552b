// Per-CPU registers every kernel uses: which CPU am I, virtual time, the one-shot
// timer, interrupt masking and the inter-processor interrupt.
//
// Interface: cpuId(), now(), setDeadline(ns), cancelDeadline(), sendIpi(cpu),
// irqMask(mask), bootArg(offset), dmaSyncForCpu(addr, len)

import { mmioRead32, mmioWrite32 } from "./hw";
import {
  LAPIC_BASE, LAPIC_ID, LAPIC_MASK, LAPIC_IPI,
  TIMER_BASE, TIMER_NOW_LO, TIMER_NOW_HI, TIMER_DEADLINE_LO, TIMER_DEADLINE_HI, TIMER_CANCEL,
  BOOTINFO_BASE, BOOTINFO_SIZE,
} from "../common/platform";

export function cpuId(): u32 {
  return mmioRead32(LAPIC_BASE + LAPIC_ID);
}

/** Virtual time in ns: the board's clock plus this CPU's progress in its current run. */
export function now(): u64 {
  let lo = mmioRead32(TIMER_BASE + TIMER_NOW_LO);
  let hi = mmioRead32(TIMER_BASE + TIMER_NOW_HI);
  return (<u64>hi << 32) | <u64>lo;
}

/** Arm the one-shot timer for an absolute time (IRQ_TIMER fires then, or at once if past). */
export function setDeadline(t: u64): void {
  mmioWrite32(TIMER_BASE + TIMER_DEADLINE_LO, <u32>t);
  mmioWrite32(TIMER_BASE + TIMER_DEADLINE_HI, <u32>(t >> 32));
}

export function cancelDeadline(): void {
  mmioWrite32(TIMER_BASE + TIMER_CANCEL, 1);
}

export function sendIpi(cpu: u32): void {
  mmioWrite32(LAPIC_BASE + LAPIC_IPI, cpu);
}

export function irqMask(mask: u32): void {
  mmioWrite32(LAPIC_BASE + LAPIC_MASK, mask);
}

/** A 32-bit boot parameter the board wrote for this CPU (see platform.ts BOOT_*). */
export function bootArg(cpu: u32, offset: u32): u32 {
  return load<u32>(<usize>(BOOTINFO_BASE + cpu * BOOTINFO_SIZE + offset));
}

@external("env", "dma_sync_for_cpu")
declare function dma_sync_for_cpu(addr: usize, len: usize): void;

/** About to read `len` bytes at `addr` that a device may have written by DMA (Linux's
 *  dma_sync_single_for_cpu). On the board's x86 it does nothing to memory; it tells the
 *  cost model that the CPU now reads those lines, so lines a device wrote since the
 *  CPU last held them are charged as cache misses (host/costs.ts, memory model). */
export function dmaSyncForCpu(addr: usize, len: usize): void {
  dma_sync_for_cpu(addr, len);
}
