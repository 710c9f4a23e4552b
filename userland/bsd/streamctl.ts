// streamctl: start and stop streams on HiTactix through the HiTactix driver
// (/dev/htx, guest-bsd/kern/htx.ts): one request, one reply.
//
//   streamctl start FILE IP:PORT [loop] [noadmit] [mac XX:XX:XX:XX:XX:XX] [sport N]
//   streamctl stop ID
//   streamctl stats ID
//   streamctl ping
//   streamctl -f FILE      the requests in FILE, one a line (# comments)
// Each reply is printed as it comes ("ok start 3", "error start admission-refused").
// Exit status 0 if every request succeeded, 1 if any failed, 2 on a usage error.

import { open, writeStr, readBytes, readFile, errText, O_READ, O_WRITE } from "./lib";

function usage(): void {
  writeStr(2, "usage: streamctl start FILE IP:PORT [loop] [noadmit] [mac M] [sport N] | stop ID | stats ID | ping | -f FILE\n");
  process.exit(2);
}

let failed = false;
let dev = open("/dev/htx", O_READ | O_WRITE);
if (dev < 0) { writeStr(2, "streamctl: /dev/htx: " + errText(dev) + "\n"); process.exit(1); }
let reply = new ArrayBuffer(128);

function request(line: string): void {
  let w = writeStr(dev, line + "\n");
  if (w < 0) { writeStr(2, "streamctl: " + line + ": " + errText(w) + "\n"); failed = true; return; }
  let n = readBytes(dev, changetype<usize>(reply), 128);
  if (n <= 0) { writeStr(2, "streamctl: no reply to " + line + "\n"); failed = true; return; }
  let text = String.UTF8.decodeUnsafe(changetype<usize>(reply), n);
  if (text.startsWith("error")) failed = true;
  writeStr(1, text);
}

let argv = process.argv;
if (argv.length < 2) usage();
if (argv[1] == "-f") {
  if (argv.length != 3) usage();
  let bytes = readFile(argv[2]);
  if (bytes == null) { writeStr(2, "streamctl: cannot read " + argv[2] + "\n"); process.exit(1); }
  let lines = String.UTF8.decode(bytes!).split("\n");
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i].trim();
    if (l.length == 0 || l.startsWith("#")) continue;
    request(l);
  }
} else {
  request(argv.slice(1).join(" "));
}
process.exit(failed ? 1 : 0);
