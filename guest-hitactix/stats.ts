// HiTactix's statistics block: counters the host reads without asking (run summaries,
// experiment results), at a fixed address in the shared region. Layout in
// common/platform.ts (HTX_STATS_*). Written as the counters change, which is rare
// (stream start and end, a failed or late read, one word per period), so it costs the
// periodic paths nothing measurable.
//
// Interface:
//   statsInit(tableSize)              magic, version, zeroed totals and records
//   statsStreamStart(i, file, port)   a table slot begins a stream (its record reset)
//   statsStreamEnd(i), statsActive(n)
//   statsReadError(i, chunk)          a chunk read failed
//   statsLateRead(i)                  a chunk was still being read when due
//   statsSkipped(i)                   a period the stream sent nothing
//   statsRefusedMemory()  statsHeapFree(bytes)  statsPeriod(k)

import {
  HTX_STATS_BASE, HTX_STATS_MAGIC_VALUE, HTX_STATS_VERSION, HTX_STATS_RECORD,
  HTXS_MAGIC, HTXS_VERSION, HTXS_STREAMS, HTXS_ACTIVE, HTXS_READ_ERRORS, HTXS_LATE_READS, HTXS_SKIPPED,
  HTXS_REFUSED_MEMORY, HTXS_HEAP_FREE, HTXS_PERIODS, HTXS_RECORDS,
  HTXR_STATE, HTXR_FILE, HTXR_PORT, HTXR_READ_ERRORS, HTXR_LATE_READS, HTXR_SKIPPED, HTXR_FIRST_FAILED,
} from "../common/platform";

const BASE: usize = <usize>HTX_STATS_BASE;

@inline function rec(i: u32): usize {
  return BASE + <usize>HTXS_RECORDS + <usize>i * <usize>HTX_STATS_RECORD;
}

@inline function bump(addr: usize): void {
  store<u32>(addr, load<u32>(addr) + 1);
}

export function statsInit(tableSize: u32): void {
  memory.fill(BASE, 0, <usize>HTXS_RECORDS + <usize>tableSize * <usize>HTX_STATS_RECORD);
  store<u32>(BASE + HTXS_VERSION, HTX_STATS_VERSION);
  store<u32>(BASE + HTXS_STREAMS, tableSize);
  store<u32>(BASE + HTXS_MAGIC, HTX_STATS_MAGIC_VALUE); // last: the block is valid
}

export function statsStreamStart(i: u32, file: u32, port: u32): void {
  let r = rec(i);
  memory.fill(r, 0, <usize>HTX_STATS_RECORD);
  store<u32>(r + HTXR_FILE, file);
  store<u32>(r + HTXR_PORT, port);
  store<u32>(r + HTXR_STATE, 1);
}

export function statsStreamEnd(i: u32): void {
  store<u32>(rec(i) + HTXR_STATE, 2);
}

export function statsActive(n: u32): void {
  store<u32>(BASE + HTXS_ACTIVE, n);
}

export function statsReadError(i: u32, chunk: u32): void {
  let r = rec(i);
  bump(r + HTXR_READ_ERRORS);
  if (load<u32>(r + HTXR_FIRST_FAILED) == 0) store<u32>(r + HTXR_FIRST_FAILED, chunk + 1);
  bump(BASE + HTXS_READ_ERRORS);
}

export function statsLateRead(i: u32): void {
  bump(rec(i) + HTXR_LATE_READS);
  bump(BASE + HTXS_LATE_READS);
}

export function statsSkipped(i: u32): void {
  bump(rec(i) + HTXR_SKIPPED);
  bump(BASE + HTXS_SKIPPED);
}

export function statsRefusedMemory(): void {
  bump(BASE + HTXS_REFUSED_MEMORY);
}

export function statsHeapFree(bytes: usize): void {
  store<u32>(BASE + HTXS_HEAP_FREE, <u32>bytes);
}

export function statsPeriod(k: u64): void {
  store<u32>(BASE + HTXS_PERIODS, <u32>k);
}

/** Totals, for the console report. */
export function statsTotal(field: u32): u32 {
  return load<u32>(BASE + <usize>field);
}
