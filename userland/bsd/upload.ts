// upload: a content provider's uploader. It writes to HiTactix's stream disks through
// the HiTactix driver (/dev/htx "write" requests): non-real-time writes that HiTactix's
// disk I/O control thread schedules around the streams' reads (PAPER.md section 4).
//
//   upload [-b BYTES] [-n INFLIGHT] [-d DISKS] [-l LBA] [-t SECONDS] [-c COUNT] [-w SECONDS]
//     -b  bytes per write (default 10000000: the paper's ~10 MB writes)
//     -n  writes kept in flight (default 1)
//     -d  disks to rotate over (default 3); write k goes to disk k % DISKS at
//         LBA + (k / DISKS) * sectors
//     -l  first LBA (default 20000000, away from the stream files)
//     -t  stop issuing after this many seconds (default: never); -c after COUNT writes
//     -w  wait this many seconds before the first write
// Prints one line per completed write ("upload: T s write K disk D done") and a summary.

import { open, writeStr, writeBytes, readBytes, sleepNs, monoNs, errText, O_READ, O_WRITE } from "./lib";

let bytes: i64 = 10000000;
let inflight: i32 = 1;
let disks: i32 = 3;
let lba0: i64 = 20000000;
let seconds: f64 = -1;
let count: i64 = -1;
let waitS: f64 = 0;
let argv = process.argv;
for (let i = 1; i < argv.length; i++) {
  let a = argv[i];
  let v = i + 1 < argv.length ? argv[i + 1] : "";
  if (a == "-b") { bytes = I64.parseInt(v); i++; }
  else if (a == "-n") { inflight = I32.parseInt(v); i++; }
  else if (a == "-d") { disks = I32.parseInt(v); i++; }
  else if (a == "-l") { lba0 = I64.parseInt(v); i++; }
  else if (a == "-t") { seconds = F64.parseFloat(v); i++; }
  else if (a == "-c") { count = I64.parseInt(v); i++; }
  else if (a == "-w") { waitS = F64.parseFloat(v); i++; }
  else { writeStr(2, "upload: unknown option " + a + "\n"); process.exit(2); }
}
if (bytes <= 0 || inflight <= 0 || inflight > 16 || disks <= 0) { writeStr(2, "upload: bad -b, -n (1..16) or -d\n"); process.exit(2); }

let dev = open("/dev/htx", O_READ | O_WRITE);
if (dev < 0) { writeStr(2, "upload: /dev/htx: " + errText(dev) + "\n"); process.exit(1); }
if (waitS > 0) sleepNs(<u64>(waitS * 1e9));
let sectors = (bytes + 511) / 512;
// One buffer: the request line, then the data (a pattern: the content is not checked here).
let data = new ArrayBuffer(<i32>bytes + 64);
let p = changetype<usize>(data);
for (let i: i64 = 0; i < bytes; i += 4) store<u32>(p + 64 + <usize>i, <u32>i ^ 0x5a5a5a5a);
let reply = new ArrayBuffer(128);
let t0 = monoNs();
let issued: i64 = 0;
let done: i64 = 0;
let failures: i64 = 0;
let outstanding = 0;

function issue(): bool {
  if (count >= 0 && issued >= count) return false;
  if (seconds >= 0 && <f64>(monoNs() - t0) / 1e9 >= seconds) return false;
  let k = issued;
  let disk = <i32>(k % <i64>disks);
  let lba = lba0 + (k / <i64>disks) * sectors;
  let head = String.UTF8.encode("write " + disk.toString() + " " + lba.toString() + " " + bytes.toString() + "\n");
  let hl = head.byteLength;
  let at = p + 64 - <usize>hl;
  memory.copy(at, changetype<usize>(head), <usize>hl);
  let w = writeBytes(dev, at, <usize>(hl + <i32>bytes));
  if (w < 0) { writeStr(2, "upload: write " + k.toString() + ": " + errText(w) + "\n"); failures++; return false; }
  issued++;
  outstanding++;
  return true;
}

while (outstanding < inflight && issue()) {}
while (outstanding > 0) {
  let n = readBytes(dev, changetype<usize>(reply), 128);
  if (n <= 0) break;
  outstanding--;
  let text = String.UTF8.decodeUnsafe(changetype<usize>(reply), n);
  if (text.startsWith("ok")) done++; else failures++;
  let t = <f64>(monoNs() - t0) / 1e9;
  writeStr(1, "upload: " + t.toString() + " s " + text);
  while (outstanding < inflight && issue()) {}
}
let t = <f64>(monoNs() - t0) / 1e9;
writeStr(1, "upload: " + done.toString() + " writes of " + bytes.toString() + " bytes in " + t.toString() + " s, " + failures.toString() + " failed\n");
process.exit(failures > 0 ? 1 : 0);
