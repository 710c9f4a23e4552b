// What AssemblyScript programs built with @assemblyscript/wasi-shim need beyond the
// shim's `process` object: files by name and environment variables, done the way
// wasi-libc does them.
//
// A WASI program has no open(): it may only open files under the directories the
// runtime preopened for it (fd 3, 4, ... with fd_prestat_get). wasi-libc finds the
// preopen whose name is the longest prefix of the path and opens the rest relative to
// it; this file does the same for AssemblyScript programs built with
// @assemblyscript/wasi-shim, whose `process` object has stdin/stdout but no files.
// Paths are compared as wasi-libc compares them with its working directory at "/":
// leading "/" and "./" are ignored, so a preopen named "/" or "." serves "x", "./x"
// and "/x" alike.
//
// getenv() exists because the shim's `process.env` calls environ_get even for an empty
// environment; node:wasi (uvwasi) answers that with EINVAL and the shim aborts, so any
// program that mentions process.env dies at startup under node:wasi with no variables.
// wasi-libc skips the call when the count is 0; so does getenv().
//
// Interface:
//   getenv(name)      -> the variable's value, or null
//   openRead(path)    -> { fd, err }  err is a WASI errno (0 on success)
//   closeFd(fd)
//   strerror(err)     -> the C library's message for a WASI errno ("No such file...")

import {
  environ_get, environ_sizes_get, errno, errnoToString, fd_close, fd_prestat_dir_name, fd_prestat_get, path_open,
  lookupflags, prestat, prestat_dir, preopentype, rights,
} from "bindings/wasi_snapshot_preview1";

/** First descriptor a runtime may preopen (0-2 are stdin, stdout, stderr). */
const FIRST_PREOPEN: u32 = 3;

export class Opened {
  constructor(public fd: u32, public err: errno) {}
}

class Preopen {
  constructor(public fd: u32, public name: string) {}
}

let preopens: Preopen[] | null = null;

/** "/", "./", "." and trailing "/" removed: the name as a sequence of components. */
function normalize(path: string): string {
  let s = path;
  for (;;) {
    if (s.startsWith("/")) s = s.substring(1);
    else if (s.startsWith("./")) s = s.substring(2);
    else break;
  }
  if (s == ".") s = "";
  while (s.endsWith("/")) s = s.substring(0, s.length - 1);
  return s;
}

/** The preopened directories, found once: fd 3, 4, ... until fd_prestat_get fails. */
function listPreopens(): Preopen[] {
  let list = preopens;
  if (list) return list;
  list = new Array<Preopen>();
  const st = memory.data(8);
  for (let fd = FIRST_PREOPEN; ; fd++) {
    if (fd_prestat_get(fd, changetype<prestat>(st)) != errno.SUCCESS) break;
    const p = changetype<prestat_dir>(st);
    if (p.type != preopentype.DIR) continue;
    const len = <i32>p.name_len;
    const buf = new ArrayBuffer(len);
    if (fd_prestat_dir_name(fd, changetype<usize>(buf), len) != errno.SUCCESS) continue;
    // Some runtimes count a terminating NUL in name_len.
    let name = String.UTF8.decode(buf, true);
    list.push(new Preopen(fd, normalize(name)));
  }
  preopens = list;
  return list;
}

/** The value of an environment variable, or null if it is not set. */
export function getenv(name: string): string | null {
  const sizes = memory.data(8);
  if (environ_sizes_get(sizes, sizes + 4) != errno.SUCCESS) return null;
  const count = load<u32>(sizes);
  const dataSize = load<u32>(sizes, 4);
  if (count == 0) return null;
  const ptrs = new ArrayBuffer(<i32>count * 4);
  const data = new ArrayBuffer(<i32>dataSize);
  const base = changetype<usize>(data);
  if (environ_get(changetype<usize>(ptrs), base) != errno.SUCCESS) return null;
  const prefix = name + "=";
  for (let i: u32 = 0; i < count; i++) {
    const start = <usize>load<u32>(changetype<usize>(ptrs) + i * 4);
    let end = start;
    while (end < base + <usize>dataSize && load<u8>(end) != 0) end++;
    const entry = String.UTF8.decodeUnsafe(start, end - start);
    if (entry.startsWith(prefix)) return entry.substring(prefix.length);
  }
  return null;
}

/** Opens an existing file for reading. */
export function openRead(path: string): Opened {
  const want = normalize(path);
  let best: Preopen | null = null;
  const list = listPreopens();
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    const matches = p.name.length == 0 || want == p.name || want.startsWith(p.name + "/");
    if (matches && (best == null || p.name.length > best.name.length)) best = p;
  }
  if (best == null) return new Opened(0, errno.NOTCAPABLE);
  let rest = want.substring(best.name.length);
  if (rest.startsWith("/")) rest = rest.substring(1);
  if (rest.length == 0) rest = ".";
  const bytes = String.UTF8.encode(rest);
  const fdOut = memory.data(4);
  const err = path_open(best.fd, lookupflags.SYMLINK_FOLLOW, changetype<usize>(bytes), bytes.byteLength,
    0, rights.FD_READ, 0, 0, fdOut);
  return new Opened(load<u32>(fdOut), err);
}

export function closeFd(fd: u32): void {
  fd_close(fd);
}

/** What strerror() says for the errors a reading program meets. */
export function strerror(err: errno): string {
  switch (err) {
    case errno.NOENT: return "No such file or directory";
    case errno.ISDIR: return "Is a directory";
    case errno.ACCES: return "Permission denied";
    case errno.NOTDIR: return "Not a directory";
    case errno.NOTCAPABLE: return "Capabilities insufficient";
    case errno.BADF: return "Bad file descriptor";
    case errno.IO: return "Input/output error";
    case errno.NOMEM: return "Cannot allocate memory";
    case errno.NAMETOOLONG: return "File name too long";
    case errno.LOOP: return "Too many levels of symbolic links";
    default: return "WASI error " + errnoToString(err);
  }
}
