// spin: a CPU-bound process, for scheduler and isolation tests.
//   spin [-s SECONDS] [-f]
// Loops until SECONDS of CPU time (default: for ever). With -f each iteration fills a
// 64 KiB buffer (memory.fill: the meter charges it per byte, so a simulated CPU-second
// costs the host little); without it, an integer loop (every instruction metered).
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
let argv = process.argv;
for (let i = 1; i < argv.length; i++) {
  if (argv[i] == "-s" && i + 1 < argv.length) { limit = F64.parseFloat(argv[++i]); }
  else if (argv[i] == "-f") fill = true;
}
let buf = new ArrayBuffer(65536);
let x: u32 = 1;
let iterations: u64 = 0;
let start = cpuNs();
for (;;) {
  if (fill) memory.fill(changetype<usize>(buf), <u8>iterations, 65536);
  else for (let k = 0; k < 100000; k++) x = x * 1103515245 + 12345;
  iterations++;
  if (limit >= 0 && (iterations & 15) == 0 && <f64>(cpuNs() - start) / 1e9 >= limit) break;
}
writeStr(1, "spin: " + iterations.toString() + " iterations in " + (<f64>(cpuNs() - start) / 1e9).toString() + " s of CPU (" + x.toString() + ")\n");
