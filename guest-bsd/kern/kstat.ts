// The kernel's statistics as one line of text (/dev/kstat), for logs and tools:
//   t=SECONDS procs=N runq=N switches=N syscalls=N spawns=N spawnfail=N files=N
//   ticks_busy=N ticks_idle=N ttyin=N ttyout=N pipebytes=N htx_req=N htx_rep=N
//   htx_err=N htx_upload=N mem_free_pages=N
// A read at offset k returns the line's bytes from k (the line is made anew each read).
//
// Interface: kstatText(off, buf, n) -> bytes

import { KSTAT_MAX, NPROC } from "./param";
import { Out } from "./text";
import { procs, P_UNUSED, pagesFree, procsCreated } from "./proc";
import { switches, ticksBusy, ticksIdle, runQueueLength } from "./sched";
import { nsyscalls } from "./syscall";
import { spawns, spawnFailures } from "./exec";
import { filesOpen } from "./file";
import { ttyIn, ttyOut } from "./tty";
import { pipeBytes } from "./pipe";
import { htxRequests, htxReplies, htxErrors, htxUploadBytes } from "./htx";
import { uptimeNs } from "./clock";

let text: usize = 0;
const o = new Out();

export function kstatText(off: u64, buf: usize, n: u32): i64 {
  if (text == 0) text = heap.alloc(KSTAT_MAX);
  let live: u32 = 0;
  for (let i: i32 = 1; i < NPROC; i++) if (procs[i].state != P_UNUSED) live++;
  o.reset(text, KSTAT_MAX);
  o.lit("t=").dec3(uptimeNs() / 1000000);
  o.lit(" procs=").u(live).lit(" created=").u(procsCreated).lit(" runq=").u(runQueueLength());
  o.lit(" switches=").u(switches).lit(" syscalls=").u(nsyscalls);
  o.lit(" spawns=").u(spawns).lit(" spawnfail=").u(spawnFailures).lit(" files=").u(filesOpen);
  o.lit(" ticks_busy=").u(ticksBusy).lit(" ticks_idle=").u(ticksIdle);
  o.lit(" ttyin=").u(ttyIn).lit(" ttyout=").u(ttyOut).lit(" pipebytes=").u(pipeBytes);
  o.lit(" htx_req=").u(htxRequests).lit(" htx_rep=").u(htxReplies).lit(" htx_err=").u(htxErrors);
  o.lit(" htx_upload=").u(htxUploadBytes).lit(" mem_free_pages=").u(pagesFree);
  o.byte(10);
  if (off >= <u64>o.len) return 0;
  let m = min<u32>(n, o.len - <u32>off);
  memory.copy(buf, text + <usize>off, m);
  return <i64>m;
}
