// streamctl: start and stop streams on HiTactix through the HiTactix driver
// (/dev/htx, guest-bsd/kern/htx.ts): one request, one reply.
//
//   streamctl start FILE IP:PORT [loop] [noadmit] [mac XX:XX:XX:XX:XX:XX] [sport N]
//                          FILE: a file's name, or its index as #N (a name made
//                          only of digits in double quotes: '"42"')
//   streamctl ls           the stream volume's files: index, bytes, rate (bits/s), name
//   streamctl file FILE    one file's line, as ls prints it
//   streamctl stop ID
//   streamctl stats ID
//   streamctl ping
//   streamctl -f FILE      the requests in FILE, one a line (# comments)
// Each reply is printed as it comes ("ok start 3", "error start admission-refused").
// Exit status 0 if every request succeeded, 1 if any failed, 2 on a usage error.

import { open, writeStr, readBytes, readFile, errText, O_READ, O_WRITE } from "./lib";

function usage(): void {
  writeStr(2, "usage: streamctl start FILE IP:PORT [loop] [noadmit] [mac M] [sport N] | ls | file FILE | stop ID | stats ID | ping | -f FILE\n");
  process.exit(2);
}

let failed = false;
let dev = open("/dev/htx", O_READ | O_WRITE);
if (dev < 0) { writeStr(2, "streamctl: /dev/htx: " + errText(dev) + "\n"); process.exit(1); }
let reply = new ArrayBuffer(256);

/** One request's reply line, or null (the reason printed). */
function ask(line: string): string | null {
  let w = writeStr(dev, line + "\n");
  if (w < 0) { writeStr(2, "streamctl: " + line + ": " + errText(w) + "\n"); return null; }
  let n = readBytes(dev, changetype<usize>(reply), 256);
  if (n <= 0) { writeStr(2, "streamctl: no reply to " + line + "\n"); return null; }
  return String.UTF8.decodeUnsafe(changetype<usize>(reply), n);
}

function request(line: string): void {
  let text = ask(line);
  if (text == null) { failed = true; return; }
  if (text.startsWith("error")) failed = true;
  writeStr(1, text);
}

/** "ok file INDEX SIZE RATE NAME\n" -> "#INDEX SIZE RATE NAME\n" */
function fileLine(text: string): string {
  return "#" + text.slice(8);
}

function ls(): void {
  writeStr(1, "FILE BYTES BITS/S NAME\n");
  for (let i = 0; ; i++) {
    let text = ask("file #" + i.toString());
    if (text == null) { failed = true; return; }
    if (text.startsWith("error file no-such-file")) return;
    if (text.startsWith("error")) { writeStr(2, "streamctl: " + text); failed = true; return; }
    writeStr(1, fileLine(text));
  }
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
    if (l == "ls") ls(); else request(l);
  }
} else if (argv[1] == "ls") {
  if (argv.length != 2) usage();
  ls();
} else {
  // An argument with a space in it (a file's name) goes in double quotes, as the driver
  // reads them.
  let words = argv.slice(1);
  for (let i = 0; i < words.length; i++) {
    if (words[i].includes(" ") || words[i].includes("\t")) words[i] = "\"" + words[i] + "\"";
  }
  request(words.join(" "));
}
process.exit(failed ? 1 : 0);
