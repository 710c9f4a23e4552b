// cron: runs the jobs of /etc/crontab on their schedule, in the kernel's virtual time
// (CLOCK_REALTIME: the board's power-on date plus virtual time; UTC, no time zones).
//
// /etc/crontab has one job a line, in the standard five-field syntax:
//   minute hour day-of-month month day-of-week command...
//   fields: *  N  N-M  */S  N-M/S  and lists of those (1,15,30-40/5); month names
//   jan..dec and day names sun..sat; day-of-week 0 and 7 are Sunday. When both day
//   fields are restricted, a day matches either (as Vixie cron does).
//   Blank lines and lines starting with # are ignored; NAME=value lines set the
//   environment of the jobs. A line that does not parse is logged and skipped.
// Each job runs as `/bin/sh -c command`, standard output and error appended to
// /var/log/cron after a line "cron: YYYY-MM-DD HH:MM:SS.mmm job N: command" (the time
// cron started it). The crontab is read again when its modification time changes.
//
//   cron [-f crontab] [-l log]

import { spawnv, waitpid, open, close, writeStr, readFile, nowNs, sleepNs, errText, O_WRITE, O_CREATE, O_APPEND } from "./lib";
import { path_filestat_get, errno, lookupflags, filestat } from "bindings/wasi_snapshot_preview1";

class Job {
  minutes: StaticArray<bool> = new StaticArray<bool>(60);
  hours: StaticArray<bool> = new StaticArray<bool>(24);
  doms: StaticArray<bool> = new StaticArray<bool>(32);
  months: StaticArray<bool> = new StaticArray<bool>(13);
  dows: StaticArray<bool> = new StaticArray<bool>(8);
  domStar: bool = false;
  dowStar: bool = false;
  command: string = "";
  line: i32 = 0;
}

let crontab = "/etc/crontab";
let logPath = "/var/log/cron";
let jobs = new Array<Job>();
let env = new Array<string>();
let crontabMtime: u64 = 0xffffffffffffffff;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

function log(msg: string): void {
  let fd = open(logPath, O_WRITE | O_CREATE | O_APPEND);
  if (fd < 0) { writeStr(2, msg); return; }
  writeStr(fd, msg);
  close(fd);
}

/** A number or a name (names: index + base) at the whole of s; -1 if neither. */
function value(s: string, names: string[] | null, base: i32): i32 {
  if (s.length == 0) return -1;
  if (names != null) {
    let l = s.toLowerCase();
    for (let i = 0; i < names!.length; i++) if (names![i] == l) return i + base;
  }
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
    if (v > 1000) return -1;
  }
  return v;
}

/** Parse one field into `set` (indexes lo..hi); false if malformed or out of range. */
function field(text: string, set: StaticArray<bool>, lo: i32, hi: i32, names: string[] | null, base: i32): bool {
  let items = text.split(",");
  for (let k = 0; k < items.length; k++) {
    let item = items[k];
    let step = 1;
    let slash = item.indexOf("/");
    if (slash >= 0) {
      step = value(item.substring(slash + 1), null, 0);
      if (step <= 0) return false;
      item = item.substring(0, slash);
    }
    let a: i32, b: i32;
    if (item == "*") { a = lo; b = hi; }
    else {
      let dash = item.indexOf("-");
      if (dash >= 0) {
        a = value(item.substring(0, dash), names, base);
        b = value(item.substring(dash + 1), names, base);
      } else {
        a = value(item, names, base);
        b = slash >= 0 ? hi : a; // "N/S" means N-hi/S
      }
    }
    if (a < lo || b > hi || a > b) return false;
    for (let v = a; v <= b; v += step) set[v] = true;
  }
  return true;
}

function parse(text: string): void {
  jobs = new Array<Job>();
  env = new Array<string>();
  let lines = text.split("\n");
  for (let ln = 0; ln < lines.length; ln++) {
    let line = lines[ln].trim();
    if (line.length == 0 || line.startsWith("#")) continue;
    let f = new Array<string>();
    let rest = line;
    for (let k = 0; k < 5; k++) {
      rest = rest.trimStart();
      let sp = rest.indexOf(" ");
      let tab = rest.indexOf("\t");
      if (tab >= 0 && (sp < 0 || tab < sp)) sp = tab;
      if (sp < 0) { f.push(rest); rest = ""; break; }
      f.push(rest.substring(0, sp));
      rest = rest.substring(sp + 1);
    }
    if (f.length >= 1 && f[0].indexOf("=") > 0) { env.push(line); continue; } // NAME=value
    let j = new Job();
    j.line = ln + 1;
    j.command = rest.trim();
    let ok = f.length == 5 && j.command.length > 0;
    let why = ok ? "" : "needs five time fields and a command";
    if (ok && !field(f[0], j.minutes, 0, 59, null, 0)) { ok = false; why = "bad minute field '" + f[0] + "'"; }
    if (ok && !field(f[1], j.hours, 0, 23, null, 0)) { ok = false; why = "bad hour field '" + f[1] + "'"; }
    if (ok && !field(f[2], j.doms, 1, 31, null, 0)) { ok = false; why = "bad day-of-month field '" + f[2] + "'"; }
    if (ok && !field(f[3], j.months, 1, 12, MONTHS, 1)) { ok = false; why = "bad month field '" + f[3] + "'"; }
    if (ok && !field(f[4], j.dows, 0, 7, DAYS, 0)) { ok = false; why = "bad day-of-week field '" + f[4] + "'"; }
    if (!ok) { log("cron: " + crontab + " line " + (ln + 1).toString() + ": " + why + ": skipped\n"); continue; }
    if (j.dows[7]) j.dows[0] = true;
    j.domStar = f[2].startsWith("*");
    j.dowStar = f[4].startsWith("*");
    jobs.push(j);
  }
}

/** Read the crontab again if it changed (or was never read). */
function reload(): void {
  let st = memory.data(64);
  let b = String.UTF8.encode(crontab.startsWith("/") ? crontab.substring(1) : crontab);
  let mtime: u64 = 0;
  if (path_filestat_get(3, lookupflags.SYMLINK_FOLLOW, changetype<usize>(b), <usize>b.byteLength, changetype<filestat>(st)) == errno.SUCCESS) mtime = load<u64>(st, 48);
  if (mtime == crontabMtime) return;
  crontabMtime = mtime;
  let text = readFile(crontab);
  if (text == null) { log("cron: cannot read " + crontab + "\n"); jobs = new Array<Job>(); return; }
  parse(String.UTF8.decode(text!));
  log("cron: " + jobs.length.toString() + " jobs from " + crontab + "\n");
}

// Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
let year = 0, month = 0, day = 0, hour = 0, minute = 0, weekday = 0;
function breakDown(sec: i64): void {
  let days = sec / 86400;
  let rem = sec % 86400;
  hour = <i32>(rem / 3600);
  minute = <i32>((rem % 3600) / 60);
  weekday = <i32>((days + 4) % 7); // 1970-01-01 was a Thursday
  let z = days + 719468;
  let era = z / 146097;
  let doe = z - era * 146097;
  let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  let y = yoe + era * 400;
  let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  let mp = (5 * doy + 2) / 153;
  day = <i32>(doy - (153 * mp + 2) / 5 + 1);
  month = <i32>(mp < 10 ? mp + 3 : mp - 9);
  year = <i32>(month <= 2 ? y + 1 : y);
}

function two(n: i32): string { return n < 10 ? "0" + n.toString() : n.toString(); }

function matches(j: Job): bool {
  if (!j.minutes[minute] || !j.hours[hour] || !j.months[month]) return false;
  if (j.domStar || j.dowStar) return j.doms[day] && j.dows[weekday];
  return j.doms[day] || j.dows[weekday];
}

function three(n: i32): string { return n < 10 ? "00" + n.toString() : n < 100 ? "0" + n.toString() : n.toString(); }

function runJob(k: i32, j: Job): void {
  let t = nowNs();
  let secs = <i32>((t / 1000000000) % 60);
  let ms = <i32>((t / 1000000) % 1000);
  let stamp = year.toString() + "-" + two(month) + "-" + two(day) + " " + two(hour) + ":" + two(minute) + ":" + two(secs) + "." + three(ms);
  log("cron: " + stamp + " job " + j.line.toString() + ": " + j.command + "\n");
  let fd = open(logPath, O_WRITE | O_CREATE | O_APPEND);
  let fds = new Array<i32>(3);
  fds[0] = -1; fds[1] = fd; fds[2] = fd;
  let e = env.slice(0);
  e.push("PATH=/bin");
  let pid = spawnv("/bin/sh", ["sh", "-c", j.command], e, fds);
  if (fd >= 0) close(fd);
  if (pid < 0) log("cron: job " + j.line.toString() + ": cannot run /bin/sh: " + errText(pid) + "\n");
}

let argv = process.argv;
for (let i = 1; i + 1 < argv.length; i += 2) {
  if (argv[i] == "-f") crontab = argv[i + 1];
  else if (argv[i] == "-l") logPath = argv[i + 1];
}
reload();
for (;;) {
  // Sleep to the start of the next minute, then run what is due in it.
  let t = nowNs();
  let next = (t / 60000000000 + 1) * 60000000000;
  sleepNs(next - t);
  while (waitpid(-1, true) > 0) {} // reap finished jobs
  reload();
  breakDown(<i64>(next / 1000000000));
  for (let k = 0; k < jobs.length; k++) if (matches(jobs[k])) runJob(k, jobs[k]);
}
