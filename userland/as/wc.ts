// wc: word, line, character and byte count, as FreeBSD's wc(1) prints them.
//
// A userland program written for WASI preview 1 only, not for our kernel: built by
// asc with @assemblyscript/wasi-shim (userland/asconfig.json), it runs the same under
// node:wasi, any other WASI runtime, or as a BSD process. It reads the files named in
// argv (or stdin when there are none, or for "-"), writes the counts on stdout, and
// exits 1 if any file could not be read (the others are still counted).
//
//   wc [-clmw] [file ...]
//   -l lines (newlines)   -w words (runs of non-space)   -c bytes   -m characters
//   Default -lwc. -c and -m cancel each other (the last one wins), as in FreeBSD.
//   Each count is printed as " %7u"; then " NAME" for a file; a " total" line follows
//   when there is more than one file.
//
// -m counts characters of the locale: UTF-8 when LC_ALL, else LC_CTYPE, else LANG
// (the first one set and not empty, POSIX's order) names a UTF-8 codeset; bytes in
// the C/POSIX locale. A UTF-8 character is counted at each byte that is not a
// continuation byte (10xxxxxx).
//
// Interface: the command line above; exit status 0, or 1 on any error.

import { closeFd, getenv, openRead, strerror } from "./wasi-lib";
import { errno, fd_read, iovec } from "bindings/wasi_snapshot_preview1";

/** Read size: 64 KiB, large enough that system calls are a small part of the work. */
const BUFSIZE: i32 = 65536;
const buffer = new ArrayBuffer(BUFSIZE);
const iov = memory.data(8);
const nreadOut = memory.data(4);

let doLines = false, doWords = false, doBytes = false, doChars = false;
let utf8 = false;
let totalLines: u64 = 0, totalWords: u64 = 0, totalBytes: u64 = 0, totalChars: u64 = 0;
let status = 0;

/** isspace() of the C locale: space, \t \n \v \f \r. */
// @ts-ignore: decorator
@inline function isSpace(c: u32): bool {
  return c == 0x20 || (c >= 0x09 && c <= 0x0d);
}

function pad7(n: u64): string {
  let s = n.toString();
  while (s.length < 7) s = " " + s;
  return " " + s;
}

function printCounts(lines: u64, words: u64, bytes: u64, chars: u64, name: string | null): void {
  let out = "";
  if (doLines) out += pad7(lines);
  if (doWords) out += pad7(words);
  if (doBytes) out += pad7(bytes);
  if (doChars) out += pad7(chars);
  if (name !== null) out += " " + name;
  process.stdout.write(out + "\n");
}

function warn(name: string, err: errno): void {
  process.stderr.write("wc: " + name + ": " + strerror(err) + "\n");
  status = 1;
}

/** Counts one descriptor to its end; false (after a message) on a read error. */
function count(fd: u32, name: string | null): bool {
  let lines: u64 = 0, words: u64 = 0, bytes: u64 = 0, chars: u64 = 0;
  let inWord = false;
  const base = changetype<usize>(buffer);
  for (;;) {
    changetype<iovec>(iov).buf = base;
    changetype<iovec>(iov).buf_len = BUFSIZE;
    const err = fd_read(fd, iov, 1, nreadOut);
    if (err != errno.SUCCESS) {
      warn(name !== null ? name : "stdin", err);
      return false;
    }
    const n = <usize>load<u32>(nreadOut);
    if (n == 0) break;
    bytes += n;
    for (let p = base, end = base + n; p < end; p++) {
      const c = <u32>load<u8>(p);
      if (c == 0x0a) lines++;
      if ((c & 0xc0) != 0x80) chars++;
      if (isSpace(c)) inWord = false;
      else if (!inWord) { inWord = true; words++; }
    }
  }
  if (!utf8) chars = bytes;
  totalLines += lines; totalWords += words; totalBytes += bytes; totalChars += chars;
  printCounts(lines, words, bytes, chars, name);
  return true;
}

function localeIsUtf8(): bool {
  const keys = ["LC_ALL", "LC_CTYPE", "LANG"];
  for (let i = 0; i < keys.length; i++) {
    const v = getenv(keys[i]);
    if (v === null || v.length == 0) continue;
    const codeset = v.toUpperCase();
    return codeset.includes(".UTF-8") || codeset.includes(".UTF8");
  }
  return false;
}

function usage(bad: string): void {
  process.stderr.write("wc: illegal option -- " + bad + "\nusage: wc [-clmw] [file ...]\n");
  process.exit(1);
}

function main(): void {
  const argv = process.argv;
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a == "--") { i++; break; }
    if (a.length < 2 || a.charAt(0) != "-") break;
    for (let k = 1; k < a.length; k++) {
      const f = a.charAt(k);
      if (f == "l") doLines = true;
      else if (f == "w") doWords = true;
      else if (f == "c") { doBytes = true; doChars = false; }
      else if (f == "m") { doChars = true; doBytes = false; }
      else usage(f);
    }
  }
  if (!doLines && !doWords && !doBytes && !doChars) doLines = doWords = doBytes = true;
  utf8 = localeIsUtf8();

  const files = argv.length - i;
  if (files == 0) {
    count(0, null);
  } else {
    for (; i < argv.length; i++) {
      const name = argv[i];
      if (name == "-") { count(0, name); continue; }
      const o = openRead(name);
      if (o.err != errno.SUCCESS) { warn(name, o.err); continue; }
      count(o.fd, name);
      closeFd(o.fd);
    }
    if (files > 1) printCounts(totalLines, totalWords, totalBytes, totalChars, "total");
  }
  process.exit(status);
}

main();
