// init: the first process (pid 1). The kernel starts it with the boot command line as
// its argv.
//   init              run `/bin/sh /etc/rc` (the system's start-up script), then reap
//                     every process whose parent has gone (the kernel gives orphans
//                     to init) for ever.
//   init -x [-e NAME=VALUE]... [-0 ARGV0] [-r DIR] PROG ARGS
//                     run PROG with ARGS (and that environment) on the host session's
//                     terminal (/dev/tty as standard input and output, /dev/ttyerr as
//                     standard error), wait for it and power the board off with its
//                     exit status (128 + the signal if one ended it): `hitactix bsd exec`.
//                     -0 gives the program another argv[0] than its path; -r gives
//                     it DIR as its preopened root (descriptor 3, "/") instead of /,
//                     and -r - none (descriptor 3 closed, as under wasmtime without --dir).

import { spawnv, waitpid, reboot, open, writeStr, sleepNs, errText, lastStatus, lastSignal, O_READ, O_WRITE, O_DIR } from "./lib";

const argv = process.argv;

if (argv.length >= 3 && argv[1] == "-x") runOne();
else runSystem();

function runOne(): void {
  let env = new Array<string>();
  let at = 2;
  let argv0: string | null = null;
  let root: string | null = null;
  for (;;) {
    if (at + 1 < argv.length && argv[at] == "-e") { env.push(argv[at + 1]); at += 2; }
    else if (at + 1 < argv.length && argv[at] == "-0") { argv0 = argv[at + 1]; at += 2; }
    else if (at + 1 < argv.length && argv[at] == "-r") { root = argv[at + 1]; at += 2; }
    else break;
  }
  if (at >= argv.length) { reboot(125); return; }
  let prog = argv[at];
  let args = argv.slice(at);
  if (argv0 != null) args[0] = argv0!;
  let tin = open("/dev/tty", O_READ);
  let tout = open("/dev/tty", O_WRITE);
  let terr = open("/dev/ttyerr", O_WRITE);
  let fds = new Array<i32>(3);
  fds[0] = tin; fds[1] = tout; fds[2] = terr;
  if (root == "-") fds.push(-1);
  else if (root != null) {
    let d = open(root!, O_READ | O_DIR);
    if (d < 0) { writeStr(terr, "init: " + root! + ": " + errText(d) + "\n"); reboot(125); return; }
    fds.push(d);
  }
  let pid = spawnv(prog, args, env, fds);
  if (pid < 0) {
    writeStr(terr, "init: " + prog + ": " + errText(pid) + "\n");
    reboot(pid == -44 ? 127 : 126);
    return;
  }
  for (;;) {
    let w = waitpid(-1, false);
    if (w == pid) {
      reboot(lastSignal != 0 ? <u32>(128 + lastSignal) : <u32>lastStatus);
      return;
    }
    if (w < 0) { reboot(125); return; }
  }
}

function runSystem(): void {
  writeStr(1, "init: starting /etc/rc\n");
  let fds = new Array<i32>(3);
  fds[0] = 0; fds[1] = 1; fds[2] = 2;
  let rc = spawnv("/bin/sh", ["sh", "/etc/rc"], ["PATH=/bin", "HOME=/"], fds);
  if (rc < 0) writeStr(2, "init: cannot run /bin/sh /etc/rc: " + errText(rc) + "\n");
  for (;;) {
    let w = waitpid(-1, false);
    if (w == rc) {
      writeStr(1, "init: /etc/rc finished, status " + lastStatus.toString() + "\n");
    } else if (w < 0) {
      sleepNs(3600000000000); // no children at all: nothing to reap for now
    }
  }
}
