// cat: copy files (or standard input, or "-") to standard output.
//   cat [FILE...]        exit status 1 if a file could not be read

import { open, close, readBytes, writeBytes, writeStr, errText, O_READ } from "./lib";

let buf = new ArrayBuffer(65536);
let status = 0;

function copy(fd: i32, name: string): void {
  for (;;) {
    let n = readBytes(fd, changetype<usize>(buf), 65536);
    if (n < 0) { writeStr(2, "cat: " + name + ": " + errText(n) + "\n"); status = 1; return; }
    if (n == 0) return;
    if (writeBytes(1, changetype<usize>(buf), <usize>n) < 0) { status = 1; return; }
  }
}

let argv = process.argv;
if (argv.length < 2) copy(0, "stdin");
for (let i = 1; i < argv.length; i++) {
  if (argv[i] == "-") { copy(0, "stdin"); continue; }
  let fd = open(argv[i], O_READ);
  if (fd < 0) { writeStr(2, "cat: " + argv[i] + ": " + errText(fd) + "\n"); status = 1; continue; }
  copy(fd, argv[i]);
  close(fd);
}
process.exit(status);
