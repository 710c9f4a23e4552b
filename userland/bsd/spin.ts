// spin: a CPU-bound process, for scheduler and isolation tests.
//   spin [-s SECONDS] [-f [BYTES]]
// Loops until SECONDS of CPU time (default: for ever). With -f each iteration fills a
// buffer of BYTES (default 4096; memory.fill: the meter charges it per byte, so a
// simulated CPU-second costs the host little); without it, an integer loop (every
// instruction metered). A fill is one instruction: an interrupt waits for it to end
// (4 KiB: ~13,000 cycles, 22 us), so keep BYTES small where interrupt latency matters.
// Prints "spin: N iterations in S s of CPU" at the end.

import { writeStr } from "./lib";
import { clock_time_get, clockid } from "bindings/wasi_snapshot_preview1";

function cpuNs(): u64 {
  let t = memory.data(8);
  clock_time_get(clockid.PROCESS_CPUTIME_ID, 1, t);
  return load<u64>(t);
}

let limit: f64 = -1;
let fill = false;
let fillBytes: i32 = 4096;
let argv = process.argv;
for (let i = 1; i < argv.length; i++) {
  if (argv[i] == "-s" && i + 1 < argv.length) { limit = F64.parseFloat(argv[++i]); }
  else if (argv[i] == "-f") {
    fill = true;
    if (i + 1 < argv.length && argv[i + 1].charCodeAt(0) >= 48 && argv[i + 1].charCodeAt(0) <= 57) fillBytes = I32.parseInt(argv[++i]);
  }
}
let buf = new ArrayBuffer(fillBytes);
let x: u32 = 1;
let iterations: u64 = 0;
let start = cpuNs();
for (;;) {
  if (fill) memory.fill(changetype<usize>(buf), <u8>iterations, fillBytes);
  else for (let k = 0; k < 100000; k++) x = x * 1103515245 + 12345;
  iterations++;
  if (limit >= 0 && (iterations & 255) == 0 && <f64>(cpuNs() - start) / 1e9 >= limit) break;
}
writeStr(1, "spin: " + iterations.toString() + " iterations in " + (<f64>(cpuNs() - start) / 1e9).toString() + " s of CPU (" + x.toString() + ")\n");
