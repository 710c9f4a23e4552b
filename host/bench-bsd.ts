// The BSD kernel's costs for `npm run bench`, lmbench style, each in simulated time
// (from the program's own CLOCK_MONOTONIC: what the cost table and the metered kernel
// make it) and in host wall time per operation (the difference of two runs, N and
// 11N operations, so the board's boot is not counted):
//   null system call   getpid, N times (lmbench lat_syscall null)
//   context switch     a byte bounced between two processes over two pipes (lat_ctx
//                      2p/0K): per switch, half a round trip
//   spawn              spawn a small program (cat, 35 KB) and wait for it to exit
// The program is build/test-userland/lat.wasm (test/userland/lat.ts).
//
// Interface: benchBsd() -> BsdBench

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildMachineAsync } from "./machine.js";
import { defaultBoard, packageRoot } from "./config.js";
import { BsdFs, type FsBackend } from "./fs-image.js";
import type { BlockBackend } from "../devices/block-backend.js";

export interface BsdOp {
  /** Simulated ns and cycles (at the CPU's clock) per operation. */
  simNs: number;
  cycles: number;
  /** Host wall ns per operation. */
  hostNs: number;
}

export interface BsdBench {
  syscall: BsdOp;
  contextSwitch: BsdOp;
  spawn: BsdOp;
}

function fsOf(b: BlockBackend): FsBackend {
  return { blocks: Math.floor(b.sectors / 8), read: (k, d) => b.read(k * 8, 8, d, 0), write: (k, s) => b.write(k * 8, 8, s, 0), flush: () => b.flush() };
}

/** One run of `lat KIND N ARGS`: its reported simulated ns per op, and the wall time of the run after boot. */
async function lat(kind: string, n: number, args: string[] = []): Promise<{ simNs: number; wallNs: number }> {
  const cfg = defaultBoard();
  cfg.bsd = { cmdline: ["init", "-x", "/tmp/lat", kind, String(n), ...args], ttyAttached: true };
  let out = "";
  const m = await buildMachineAsync(cfg, { ttyOutput: (s, b) => { if (s === 0) out += Buffer.from(b).toString(); } });
  try {
    const fs = new BsdFs(fsOf(m.disks2[0].backend));
    fs.mount();
    fs.writeFile("/tmp/lat", readFileSync(join(packageRoot(), "build", "test-userland", "lat.wasm")), 0o755);
    fs.unmount();
    fs.release();
    m.tty!.endInput();
    const b = m.board;
    b.run(0.29e9); // boot: the disk's bus reset, the root's mount, init
    const t0 = performance.now();
    while (!b.sched.halted && b.sched.now < 600e9) b.run(b.sched.now + 1e9);
    const wallNs = (performance.now() - t0) * 1e6;
    const r = /lat: \S+ \d+ ([\d.]+) ns/.exec(out);
    if (!r || b.sysctl.powerOffStatus !== 0) throw new Error(`bench: lat ${kind} failed: ${out}`);
    return { simNs: Number(r[1]), wallNs };
  } finally {
    m.close();
  }
}

async function op(kind: string, n: number, perOp: number, args: string[] = []): Promise<BsdOp> {
  const small = await lat(kind, n, args);
  const big = await lat(kind, 11 * n, args);
  const hz = defaultBoard().costs.hz;
  return { simNs: big.simNs, cycles: (big.simNs * hz) / 1e9, hostNs: (big.wallNs - small.wallNs) / (10 * n * perOp) };
}

export async function benchBsd(): Promise<BsdBench> {
  return {
    syscall: await op("syscall", 10_000, 1),
    contextSwitch: await op("ctx", 2_000, 2),
    spawn: await op("spawn", 20, 1, ["/bin/cat"]),
  };
}
