// Test and bench program: the BSD kernel's costs in virtual time, lmbench style.
//   lat syscall N        N null system calls (getpid): ns per call
//   lat ctx N            a byte bounced N times between this process and a child over
//                        two pipes (lat_ctx 2p/0K): ns per context switch (round trip / 2)
//   lat spawn N PROG     spawn PROG (no arguments) and wait for it, N times: ns per spawn
// Prints "lat: KIND N VALUE ns" with VALUE to 0.1 ns, from CLOCK_MONOTONIC.
import { spawnv, waitpid, makePipe, getpid, readBytes, writeBytes, writeStr, close, monoNs } from "../../userland/bsd/lib";

let argv = process.argv;
let kind = argv[1];
let n = I32.parseInt(argv[2]);
let one = memory.data(8);

function report(total: u64, per: i32): void {
  let v = <f64>total / <f64>per;
  writeStr(1, "lat: " + kind + " " + n.toString() + " " + (Math.round(v * 10) / 10).toString() + " ns\n");
}

if (kind == "syscall") {
  let t0 = monoNs();
  let s = 0;
  for (let i = 0; i < n; i++) s += getpid();
  report(monoNs() - t0, n);
  if (s == 0) writeStr(2, "?");
} else if (kind == "ctx") {
  let a = makePipe()!;
  let b = makePipe()!;
  let fds = new Array<i32>(3);
  fds[0] = a[0]; fds[1] = b[1]; fds[2] = 2;
  let child = spawnv(argv[0], [argv[0], "ctx-child", n.toString()], [], fds);
  if (child < 0) { writeStr(2, "lat: cannot spawn the child\n"); process.exit(1); }
  close(a[0]); close(b[1]);
  let t0 = monoNs();
  for (let i = 0; i < n; i++) {
    writeBytes(a[1], one, 1);
    readBytes(b[0], one, 1);
  }
  report(monoNs() - t0, 2 * n);
  close(a[1]);
  waitpid(child, false);
} else if (kind == "ctx-child") {
  for (let i = 0; i < n; i++) {
    if (readBytes(0, one, 1) != 1) break;
    writeBytes(1, one, 1);
  }
} else if (kind == "spawn") {
  let prog = argv[3];
  let fds = new Array<i32>(3);
  fds[0] = 0; fds[1] = 1; fds[2] = 2;
  let t0 = monoNs();
  for (let i = 0; i < n; i++) {
    let pid = spawnv(prog, [prog], [], fds);
    if (pid < 0) { writeStr(2, "lat: spawn failed\n"); process.exit(1); }
    waitpid(pid, false);
  }
  report(monoNs() - t0, n);
}
