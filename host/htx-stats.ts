// The host's reading of HiTactix's statistics block (layout: common/platform.ts
// HTX_STATS_*; written by guest-hitactix/stats.ts): failed reads, late reads and
// skipped periods per stream and in total, refusals for memory, HiTactix's free heap.
// Read from RAM at the end of a run or an experiment point; nothing is asked of the
// guest, so reading changes nothing in the simulation.
//
// Interface:
//   readHitactixStats(mem) -> HitactixStats, or undefined when HiTactix has not
//                             initialised the block (another guest, or not booted)
//   formatHitactixStats(s) -> lines for the run summary

import type { PhysMem } from "./memory.js";
import {
  HTX_STATS_BASE, HTX_STATS_MAGIC_VALUE, HTX_STATS_VERSION, HTX_STATS_RECORD, HTX_MAX_STREAMS,
  HTXS_MAGIC, HTXS_VERSION, HTXS_STREAMS, HTXS_ACTIVE, HTXS_READ_ERRORS, HTXS_LATE_READS, HTXS_SKIPPED,
  HTXS_REFUSED_MEMORY, HTXS_HEAP_FREE, HTXS_PERIODS, HTXS_RECORDS,
  HTXR_STATE, HTXR_FILE, HTXR_PORT, HTXR_READ_ERRORS, HTXR_LATE_READS, HTXR_SKIPPED, HTXR_FIRST_FAILED,
} from "../common/platform.js";

export interface StreamCounters {
  /** Table slot (HiTactix's stream id). */
  stream: number;
  state: "playing" | "ended";
  file: number;
  port: number;
  readErrors: number;
  lateReads: number;
  skippedPeriods: number;
  /** First chunk whose read failed, or -1. */
  firstFailedChunk: number;
}

export interface HitactixStats {
  activeStreams: number;
  readErrors: number;
  lateReads: number;
  skippedPeriods: number;
  refusedForMemory: number;
  heapFreeBytes: number;
  periods: number;
  /** Every table slot that has held a stream. */
  streams: StreamCounters[];
}

export function readHitactixStats(mem: PhysMem): HitactixStats | undefined {
  const dv = mem.dv;
  const u32 = (off: number): number => dv.getUint32(HTX_STATS_BASE + off, true);
  if (u32(HTXS_MAGIC) !== HTX_STATS_MAGIC_VALUE || u32(HTXS_VERSION) !== HTX_STATS_VERSION) return undefined;
  const n = Math.min(u32(HTXS_STREAMS), HTX_MAX_STREAMS);
  const streams: StreamCounters[] = [];
  for (let i = 0; i < n; i++) {
    const r = HTXS_RECORDS + i * HTX_STATS_RECORD;
    const state = u32(r + HTXR_STATE);
    if (state === 0) continue;
    streams.push({
      stream: i,
      state: state === 1 ? "playing" : "ended",
      file: u32(r + HTXR_FILE),
      port: u32(r + HTXR_PORT),
      readErrors: u32(r + HTXR_READ_ERRORS),
      lateReads: u32(r + HTXR_LATE_READS),
      skippedPeriods: u32(r + HTXR_SKIPPED),
      firstFailedChunk: u32(r + HTXR_FIRST_FAILED) - 1,
    });
  }
  return {
    activeStreams: u32(HTXS_ACTIVE),
    readErrors: u32(HTXS_READ_ERRORS),
    lateReads: u32(HTXS_LATE_READS),
    skippedPeriods: u32(HTXS_SKIPPED),
    refusedForMemory: u32(HTXS_REFUSED_MEMORY),
    heapFreeBytes: u32(HTXS_HEAP_FREE),
    periods: u32(HTXS_PERIODS),
    streams,
  };
}

/** The run summary's lines: totals, then each stream that lost periods. */
export function formatHitactixStats(s: HitactixStats): string[] {
  const lines = [
    `hitactix: ${s.activeStreams} streams playing, ${s.streams.length} started; read errors ${s.readErrors}, late reads ${s.lateReads}, skipped periods ${s.skippedPeriods}` +
      (s.refusedForMemory ? `, ${s.refusedForMemory} starts refused for memory` : ""),
  ];
  for (const t of s.streams) {
    if (t.readErrors + t.lateReads + t.skippedPeriods === 0) continue;
    lines.push(`  stream ${t.stream} (file ${t.file}, port ${t.port}, ${t.state}): read errors ${t.readErrors}` +
      (t.firstFailedChunk >= 0 ? ` (first at chunk ${t.firstFailedChunk})` : "") +
      `, late reads ${t.lateReads}, skipped periods ${t.skippedPeriods}`);
  }
  return lines;
}
