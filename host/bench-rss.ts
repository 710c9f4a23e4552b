// Peak memory of a long run, for `npm run bench`: one child process per run length,
// so each peak RSS is its own (the bench runs a 1-hour and a 100-hour run side by side
// and compares them; the goal is within 1.5x).
//
// The board is the default machine (both CPUs' devices, 256 MiB RAM, the NIC, the SCSI
// controller and three disks) with cheap guests: BSD ticking once a virtual second with
// no pings, and the load generator (test/guests/loadgen.ts) on CPU 1 ticking once a
// second. HiTactix itself is not booted: its 1 ms pacing tick makes 100 virtual hours
// 360 M guest runs (measured: `run --until 1h` on the default board took 21 s wall and
// 108 MB peak RSS on this 2-core machine under load, so 100 hours would take ~35 min). What grows with virtual time in a run is per-window state, which
// these guests exercise as HiTactix would: each CPU's load windows (before the bound,
// 36 M windows of 10 ms per CPU at 100 hours, ~1 GB for the two).
//
// Usage: node dist/host/bench-rss.js HOURS  -> one JSON line
//   { hours, maxRssBytes, wallSeconds, events }

import { join } from "node:path";
import { readFileSync } from "node:fs";
import { buildMachine } from "./machine.js";
import { defaultBoard, packageRoot } from "./config.js";
import { BOOT_TICK_NS, BOOT_PING_TOTAL, BOOT_REPORT_TICKS, BOOT_SPIN } from "../common/platform.js";

export interface LongRun {
  hours: number;
  maxRssBytes: number;
  wallSeconds: number;
  events: number;
}

export function longRun(hours: number): LongRun {
  const c = defaultBoard();
  c.cpus[0].bootArgs = { ...c.cpus[0].bootArgs, [BOOT_TICK_NS]: 1e9, [BOOT_PING_TOTAL]: 0, [BOOT_REPORT_TICKS]: 0 };
  c.cpus[1] = { ...c.cpus[1], name: "loadgen", wasm: join(packageRoot(), "build", "test-loadgen.wasm"), bootArgs: { [BOOT_TICK_NS]: 1e9, [BOOT_SPIN]: 1000 } };
  const m = buildMachine(c);
  const until = hours * 3600e9;
  const t0 = performance.now();
  // The run command's loop: 1 s virtual steps.
  for (let t = 0; t < until;) {
    t = Math.min(until, t + 1e9);
    m.board.run(t);
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  m.close();
  return { hours, maxRssBytes: peakRss(), wallSeconds, events: m.board.sched.events };
}

/** This process's peak RSS. Linux's VmHWM belongs to the address space, which exec
 *  replaces; getrusage's maxrss survives exec, so a child forked from a big parent
 *  would report the parent's size. */
function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall back
  }
  return process.resourceUsage().maxRSS * 1024;
}

if (process.argv[1]?.endsWith("bench-rss.js")) {
  const hours = Number(process.argv[2]);
  if (!(hours > 0)) {
    console.error("usage: node dist/host/bench-rss.js HOURS");
    process.exit(1);
  }
  console.log(JSON.stringify(longRun(hours)));
}
