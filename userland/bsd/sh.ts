// sh: a small Bourne-style shell for our BSD kernel: /etc/rc, cron's jobs and people
// at the terminal use it. It runs a script (sh FILE), a command string (sh -c CMD) or
// its standard input.
//
// What it understands (a subset of POSIX sh):
//   commands and arguments; 'single' and "double" quotes, backslash escapes;
//   $NAME, ${NAME}, $? (last status), $$ (pid), $! (last background pid), $0-$9;
//   NAME=value (a shell variable; exported to children with `export NAME`, or when
//   it came from the environment); NAME=value before a command (that command only);
//   pipelines a | b | c; lists with ; & && || and newlines; # comments;
//   redirections < FILE, > FILE, >> FILE, 2> FILE, 2>> FILE, 2>&1, >&2;
//   builtins: exit [N], true, false, :, export NAME[=value]..., wait [PID], echo,
//   kill [-N] PID (any signal ends a process: WASI programs have no handlers).
// A command name without "/" is looked up in $PATH (default /bin), as NAME or
// NAME.wasm. Not supported: control flow (if, while, for, case), functions, globbing,
// here-documents, subshells, job control, cd (processes have no working directory).
//
// Exit status: that of the last command (127 when a command was not found).

import {
  spawnv, waitpid, makePipe, open, close, writeStr, readFile, readBytes, getpid, kill, errText, lastStatus, lastSignal,
  O_READ, O_WRITE, O_CREATE, O_TRUNC, O_APPEND,
} from "./lib";
import { environ_get, environ_sizes_get, errno } from "bindings/wasi_snapshot_preview1";

// ---- tokens ---------------------------------------------------------------------

const T_WORD = 0;
const T_PIPE = 1; // |
const T_AMP = 2; // &
const T_SEMI = 3; // ; or newline
const T_AND = 4; // &&
const T_OR = 5; // ||
const T_IN = 6; // <
const T_OUT = 7; // >
const T_APPEND = 8; // >>
const T_ERR = 9; // 2>
const T_ERRAPPEND = 10; // 2>>
const T_ERRTOOUT = 11; // 2>&1
const T_OUTTOERR = 12; // >&2 or 1>&2

/** A token. A word keeps its pieces: literal text, and variables expanded only when
 *  the command runs (so `X=1; echo $X` sees the new value). */
class Token {
  parts: string[] = new Array<string>();
  vars: bool[] = new Array<bool>();
  constructor(public type: i32, public text: string, public assign: bool = false) {}
  /** The word with its variables expanded now. */
  get value(): string {
    let s = "";
    for (let i = 0; i < this.parts.length; i++) s += this.vars[i] ? getVar(this.parts[i]) : this.parts[i];
    return s;
  }
}

let names = new Array<string>();
let values = new Array<string>();
let exported = new Array<bool>();
let status = 0;
let lastBg = 0;
let scriptArgs = new Array<string>();
let background = new Array<i32>();

function getVar(name: string): string {
  if (name == "?") return status.toString();
  if (name == "$") return getpid().toString();
  if (name == "!") return lastBg.toString();
  if (name.length == 1 && name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57) {
    let i = name.charCodeAt(0) - 48;
    return i < scriptArgs.length ? scriptArgs[i] : "";
  }
  for (let i = 0; i < names.length; i++) if (names[i] == name) return values[i];
  return "";
}

function setVar(name: string, value: string, exp: bool): void {
  for (let i = 0; i < names.length; i++) {
    if (names[i] == name) { values[i] = value; if (exp) exported[i] = true; return; }
  }
  names.push(name); values.push(value); exported.push(exp);
}

function isNameChar(c: i32, first: bool): bool {
  return c == 95 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (!first && c >= 48 && c <= 57);
}

/** Split a script into tokens, expanding variables as POSIX says (not in '...'). */
function lex(src: string): Token[] {
  let out = new Array<Token>();
  let i = 0;
  let n = src.length;
  while (i < n) {
    let c = src.charCodeAt(i);
    if (c == 32 || c == 9) { i++; continue; }
    if (c == 35) { while (i < n && src.charCodeAt(i) != 10) i++; continue; } // comment
    if (c == 10 || c == 59) { out.push(new Token(T_SEMI, ";")); i++; continue; }
    if (c == 124) {
      if (i + 1 < n && src.charCodeAt(i + 1) == 124) { out.push(new Token(T_OR, "||")); i += 2; }
      else { out.push(new Token(T_PIPE, "|")); i++; }
      continue;
    }
    if (c == 38) {
      if (i + 1 < n && src.charCodeAt(i + 1) == 38) { out.push(new Token(T_AND, "&&")); i += 2; }
      else { out.push(new Token(T_AMP, "&")); i++; }
      continue;
    }
    if (c == 60) { out.push(new Token(T_IN, "<")); i++; continue; }
    if (c == 49 && src.substr(i, 4) == "1>&2") { out.push(new Token(T_OUTTOERR, ">&2")); i += 4; continue; }
    if (c == 62) {
      if (src.substr(i, 3) == ">&2") { out.push(new Token(T_OUTTOERR, ">&2")); i += 3; continue; }
      if (i + 1 < n && src.charCodeAt(i + 1) == 62) { out.push(new Token(T_APPEND, ">>")); i += 2; }
      else { out.push(new Token(T_OUT, ">")); i++; }
      continue;
    }
    if (c == 50 && i + 1 < n && src.charCodeAt(i + 1) == 62) { // 2> 2>> 2>&1
      if (src.substr(i, 4) == "2>&1") { out.push(new Token(T_ERRTOOUT, "2>&1")); i += 4; continue; }
      if (i + 2 < n && src.charCodeAt(i + 2) == 62) { out.push(new Token(T_ERRAPPEND, "2>>")); i += 3; continue; }
      out.push(new Token(T_ERR, "2>")); i += 2; continue;
    }
    // A word: runs of plain characters, quotes and escapes, until a blank or operator.
    let word = "";
    let quotedAny = false;
    let assign = false;
    let startLen = out.length;
    let tok = new Token(T_WORD, "");
    while (i < n) {
      c = src.charCodeAt(i);
      if (c == 32 || c == 9 || c == 10 || c == 59 || c == 124 || c == 38 || c == 60 || c == 62) break;
      if (c == 39) { // '...'
        let j = src.indexOf("'", i + 1);
        if (j < 0) j = n;
        word += src.substring(i + 1, j);
        i = j + 1; quotedAny = true; continue;
      }
      if (c == 34) { // "..."
        i++;
        while (i < n && src.charCodeAt(i) != 34) {
          let d = src.charCodeAt(i);
          if (d == 92 && i + 1 < n) {
            let e = src.charCodeAt(i + 1);
            if (e == 34 || e == 92 || e == 36 || e == 96) { word += String.fromCharCode(e); i += 2; continue; }
            if (e == 10) { i += 2; continue; }
          }
          if (d == 36) { let r = expand(src, i); if (r.isVar) { tok.parts.push(word); tok.vars.push(false); tok.parts.push(r.text); tok.vars.push(true); word = ""; } else word += r.text; i = r.end; continue; }
          word += String.fromCharCode(d); i++;
        }
        i++; quotedAny = true; continue;
      }
      if (c == 92 && i + 1 < n) { // \x
        if (src.charCodeAt(i + 1) != 10) word += String.fromCharCode(src.charCodeAt(i + 1));
        i += 2; quotedAny = true; continue;
      }
      if (c == 36) { let r = expand(src, i); if (r.isVar) { tok.parts.push(word); tok.vars.push(false); tok.parts.push(r.text); tok.vars.push(true); word = ""; quotedAny = true; } else word += r.text; i = r.end; continue; }
      if (c == 61 && !quotedAny && !assign && word.length > 0 && tok.parts.length == 0 && isName(word)) assign = true;
      word += String.fromCharCode(c); i++;
    }
    if (word.length > 0 || quotedAny) {
      tok.parts.push(word); tok.vars.push(false);
      tok.assign = assign;
      out.push(tok);
    }
    if (out.length == startLen && i < n) i++; // never stall
  }
  return out;
}

function isName(s: string): bool {
  if (s.length == 0 || !isNameChar(s.charCodeAt(0), true)) return false;
  for (let i = 1; i < s.length; i++) if (!isNameChar(s.charCodeAt(i), false)) return false;
  return true;
}

class Expanded {
  constructor(public text: string, public end: i32, public isVar: bool) {}
}

/** $NAME ${NAME} $? $$ $! $0-$9 at src[i] ("$"): the variable's name, or a plain "$". */
function expand(src: string, i: i32): Expanded {
  let n = src.length;
  if (i + 1 >= n) return new Expanded("$", i + 1, false);
  let c = src.charCodeAt(i + 1);
  if (c == 123) {
    let j = src.indexOf("}", i + 2);
    if (j < 0) return new Expanded("$", i + 1, false);
    return new Expanded(src.substring(i + 2, j), j + 1, true);
  }
  if (c == 63 || c == 36 || c == 33 || (c >= 48 && c <= 57)) return new Expanded(String.fromCharCode(c), i + 2, true);
  let j = i + 1;
  while (j < n && isNameChar(src.charCodeAt(j), j == i + 1)) j++;
  if (j == i + 1) return new Expanded("$", i + 1, false);
  return new Expanded(src.substring(i + 1, j), j, true);
}

// ---- commands ---------------------------------------------------------------------

class Command {
  words: string[] = new Array<string>();
  assigns: string[] = new Array<string>();
  inFile: string | null = null;
  outFile: string | null = null;
  outAppend: bool = false;
  errFile: string | null = null;
  errAppend: bool = false;
  errToOut: bool = false;
  outToErr: bool = false;
}

function err(msg: string): void {
  writeStr(2, "sh: " + msg + "\n");
}

/** Run tokens [from, to) as a list; returns the status of the last pipeline. */
function runList(toks: Token[]): void {
  let i = 0;
  let skip = false; // the && / || condition said not to run the next pipeline
  while (i < toks.length) {
    let pipe = new Array<Command>();
    let cmd = new Command();
    let bad = false;
    while (i < toks.length) {
      let t = toks[i];
      if (t.type == T_SEMI || t.type == T_AMP || t.type == T_AND || t.type == T_OR) break;
      i++;
      if (t.type == T_PIPE) { pipe.push(cmd); cmd = new Command(); continue; }
      if (t.type == T_ERRTOOUT) { cmd.errToOut = true; continue; }
      if (t.type == T_OUTTOERR) { cmd.outToErr = true; continue; }
      if (t.type >= T_IN && t.type <= T_ERRAPPEND) {
        if (i >= toks.length || toks[i].type != T_WORD) { err("syntax error: " + t.text + " needs a file name"); bad = true; continue; }
        let f = toks[i++].value;
        if (t.type == T_IN) cmd.inFile = f;
        else if (t.type == T_OUT || t.type == T_APPEND) { cmd.outFile = f; cmd.outAppend = t.type == T_APPEND; }
        else { cmd.errFile = f; cmd.errAppend = t.type == T_ERRAPPEND; }
        continue;
      }
      if (t.assign && cmd.words.length == 0) cmd.assigns.push(t.value);
      else cmd.words.push(t.value);
    }
    pipe.push(cmd);
    let sep = i < toks.length ? toks[i].type : T_SEMI;
    i++;
    let empty = pipe.length == 1 && pipe[0].words.length == 0 && pipe[0].assigns.length == 0 && pipe[0].inFile == null && pipe[0].outFile == null;
    if (bad) status = 2;
    else if (!skip && !empty) runPipeline(pipe, sep == T_AMP);
    if (sep == T_AND) skip = status != 0;
    else if (sep == T_OR) skip = status == 0;
    else skip = false;
  }
}

function childEnv(extra: string[]): string[] {
  let env = new Array<string>();
  for (let i = 0; i < names.length; i++) {
    if (!exported[i]) continue;
    let overridden = false;
    for (let k = 0; k < extra.length; k++) if (extra[k].startsWith(names[i] + "=")) overridden = true;
    if (!overridden) env.push(names[i] + "=" + values[i]);
  }
  for (let k = 0; k < extra.length; k++) env.push(extra[k]);
  return env;
}

/** A builtin: true if it was one (status set). */
function builtin(c: Command): bool {
  let w = c.words;
  let name = w[0];
  if (name == "exit") { exitWith(w.length > 1 ? I32.parseInt(w[1]) : status); return true; }
  if (name == "true" || name == ":") { status = 0; return true; }
  if (name == "false") { status = 1; return true; }
  if (name == "wait") {
    if (w.length > 1) {
      let pid = I32.parseInt(w[1]);
      let r = waitpid(pid, false);
      status = r > 0 ? (lastSignal != 0 ? 128 + lastSignal : lastStatus) : 127;
      return true;
    }
    for (let k = 0; k < background.length; k++) waitpid(background[k], false);
    background = new Array<i32>();
    status = 0;
    return true;
  }
  if (name == "kill") {
    let sig = 15;
    let k = 1;
    if (w.length > 1 && w[1].startsWith("-")) { sig = I32.parseInt(w[1].substring(1)); k = 2; }
    status = 0;
    for (; k < w.length; k++) {
      let r = kill(I32.parseInt(w[k]), sig);
      if (r < 0) { err("kill " + w[k] + ": " + errText(r)); status = 1; }
    }
    return true;
  }
  if (name == "export") {
    for (let k = 1; k < w.length; k++) {
      let eq = w[k].indexOf("=");
      if (eq > 0) setVar(w[k].substring(0, eq), w[k].substring(eq + 1), true);
      else setVar(w[k], getVar(w[k]), true);
    }
    status = 0;
    return true;
  }
  return false;
}

function openRedirect(path: string, flags: u32, what: string): i32 {
  let fd = open(path, flags);
  if (fd < 0) err(path + ": " + errText(fd) + " (" + what + ")");
  return fd;
}

function runPipeline(cmds: Command[], bg: bool): void {
  // Assignments alone set shell variables.
  if (cmds.length == 1 && cmds[0].words.length == 0) {
    let a = cmds[0].assigns;
    for (let k = 0; k < a.length; k++) { let eq = a[k].indexOf("="); setVar(a[k].substring(0, eq), a[k].substring(eq + 1), false); }
    status = 0;
    return;
  }
  if (cmds.length == 1 && !bg && builtin(cmds[0])) return;
  let pids = new Array<i32>();
  let prevRead = -1;
  let toClose = new Array<i32>();
  for (let k = 0; k < cmds.length; k++) {
    let c = cmds[k];
    let fin = prevRead >= 0 ? prevRead : 0;
    let fout = 1;
    let ferr = 2;
    let nextRead = -1;
    if (k + 1 < cmds.length) {
      let p = makePipe();
      if (p == null) { err("cannot make a pipe"); status = 1; break; }
      fout = p[1]; nextRead = p[0];
      toClose.push(p[0]); toClose.push(p[1]);
    }
    if (c.inFile != null) { fin = openRedirect(c.inFile!, O_READ, "input"); if (fin < 0) { status = 1; break; } toClose.push(fin); }
    if (c.outFile != null) {
      fout = openRedirect(c.outFile!, O_WRITE | O_CREATE | (c.outAppend ? O_APPEND : O_TRUNC), "output");
      if (fout < 0) { status = 1; break; }
      toClose.push(fout);
    }
    if (c.errToOut) ferr = fout;
    if (c.outToErr) fout = ferr;
    if (c.errFile != null) {
      ferr = openRedirect(c.errFile!, O_WRITE | O_CREATE | (c.errAppend ? O_APPEND : O_TRUNC), "error output");
      if (ferr < 0) { status = 1; break; }
      toClose.push(ferr);
    }
    let pid = spawnCommand(c, fin, fout, ferr);
    if (pid > 0) pids.push(pid);
    prevRead = nextRead;
  }
  for (let k = 0; k < toClose.length; k++) close(toClose[k]);
  if (pids.length == 0) return;
  if (bg) {
    lastBg = pids[pids.length - 1];
    for (let k = 0; k < pids.length; k++) background.push(pids[k]);
    status = 0;
    return;
  }
  for (let k = 0; k < pids.length; k++) {
    let w = waitpid(pids[k], false);
    if (k == pids.length - 1) status = w > 0 ? (lastSignal != 0 ? 128 + lastSignal : lastStatus) : 1;
  }
}

function spawnCommand(c: Command, fin: i32, fout: i32, ferr: i32): i32 {
  let name = c.words[0];
  let fds = new Array<i32>(3);
  fds[0] = fin; fds[1] = fout; fds[2] = ferr;
  if (name == "echo") return echo(c, fout);
  let env = childEnv(c.assigns);
  if (name.indexOf("/") >= 0) {
    let pid = spawnv(name, c.words, env, fds);
    if (pid < 0) { err(name + ": " + errText(pid)); status = pid == -44 ? 127 : 126; }
    return pid;
  }
  let path = getVar("PATH");
  if (path.length == 0) path = "/bin";
  let dirs = path.split(":");
  let last = -44;
  for (let d = 0; d < dirs.length; d++) {
    let base = dirs[d].length == 0 ? "." : dirs[d];
    for (let ext = 0; ext < 2; ext++) {
      let full = base + "/" + name + (ext == 1 ? ".wasm" : "");
      let pid = spawnv(full, c.words, env, fds);
      if (pid > 0) return pid;
      if (pid != -44) last = pid;
    }
  }
  err(name + ": " + (last == -44 ? "not found" : errText(last)));
  status = last == -44 ? 127 : 126;
  return -1;
}

/** echo [-n] ARGS as a builtin (no process for it). */
function echo(c: Command, fout: i32): i32 {
  let w = c.words;
  let k = 1;
  let nl = true;
  if (w.length > 1 && w[1] == "-n") { nl = false; k = 2; }
  let s = "";
  for (; k < w.length; k++) { s += w[k]; if (k + 1 < w.length) s += " "; }
  if (nl) s += "\n";
  writeStr(fout, s);
  status = 0;
  return 0;
}

function exitWith(code: i32): void {
  process.exit(code & 0xff);
}

// ---- main -----------------------------------------------------------------------

function importEnvironment(): void {
  let sizes = memory.data(8);
  if (environ_sizes_get(sizes, sizes + 4) != errno.SUCCESS) return;
  let count = load<u32>(sizes);
  let size = load<u32>(sizes, 4);
  if (count == 0) return;
  let ptrs = new ArrayBuffer(<i32>count * 4);
  let data = new ArrayBuffer(<i32>size);
  if (environ_get(changetype<usize>(ptrs), changetype<usize>(data)) != errno.SUCCESS) return;
  for (let i: u32 = 0; i < count; i++) {
    let start = <usize>load<u32>(changetype<usize>(ptrs) + i * 4);
    let end = start;
    while (end < changetype<usize>(data) + size && load<u8>(end) != 0) end++;
    let e = String.UTF8.decodeUnsafe(start, end - start);
    let eq = e.indexOf("=");
    if (eq > 0) setVar(e.substring(0, eq), e.substring(eq + 1), true);
  }
}

/** Commands from standard input, run a line at a time as they arrive (an operator at
 *  the terminal, or a program typing into it), until its end. */
function interactive(): void {
  let pending = "";
  let buf = new ArrayBuffer(4096);
  for (;;) {
    let n = readBytes(0, changetype<usize>(buf), 4096);
    if (n <= 0) break;
    pending += String.UTF8.decodeUnsafe(changetype<usize>(buf), n);
    let nl = pending.lastIndexOf("\n");
    if (nl < 0) continue;
    runList(lex(pending.substring(0, nl + 1)));
    pending = pending.substring(nl + 1);
  }
  if (pending.length > 0) runList(lex(pending));
}

importEnvironment();
if (getVar("PATH").length == 0) setVar("PATH", "/bin", true);
let argv = process.argv;
if (argv.length >= 3 && argv[1] == "-c") {
  scriptArgs = argv.slice(3);
  scriptArgs.unshift("sh");
  runList(lex(argv[2]));
} else if (argv.length >= 2) {
  let bytes = readFile(argv[1]);
  if (bytes == null) { err(argv[1] + ": cannot open"); exitWith(127); }
  scriptArgs = argv.slice(1);
  runList(lex(String.UTF8.decode(bytes!)));
} else {
  scriptArgs.push("sh");
  interactive();
}
exitWith(status);
