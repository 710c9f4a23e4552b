// The disk I/O control thread (PAPER.md section 4): every disk request of HiTactix
// goes through here. Real-time requests (the distribution thread's periodic reads)
// and non-real-time ones (upload writes, management) meet a per-disk policy object
// that decides the order (policy-cyclic.ts: the paper's cyclic schedule;
// policy-fifo.ts: arrival order, the paper's "without"). Non-real-time requests are
// split into pieces of at most policy.splitBytes() when enqueued; the caller is told
// when the whole request is done.
//
// It is event-driven (run-to-completion): it acts when a request arrives, when a
// request completes (the block device's upcall) and when a policy's period boundary
// comes (an alarm), and each time issues what its policies pick.
//
// Interface:
//   diskioInit(dev, policy)   policy: POLICY_CYCLIC or POLICY_FIFO
//   diskioSubmit(r)           enqueue a request (r.done is called when it completes)
//   diskioComplete(r)         the block device's completion upcall
//   diskioPolicy(disk)        the policy object (for counters)

import { BlkReq, BlockDevice, CLASS_NRT, setBlkComplete } from "./blkdev";
import { DiskPolicy } from "./diskpolicy";
import { CyclicPolicy } from "./policy-cyclic";
import { FifoPolicy } from "./policy-fifo";
import { NDISK, NREQ, SECTOR } from "./param";
import { alarmNew, alarmAt, alarmCancel } from "./alarm";
import { now } from "../guest-lib/cpu";

export const POLICY_CYCLIC: u32 = 0;
export const POLICY_FIFO: u32 = 1;

let dev: BlockDevice | null = null;
let policies: StaticArray<DiskPolicy | null> = new StaticArray<DiskPolicy | null>(NDISK);
let outstanding = new StaticArray<u32>(NDISK);
let alarms = new StaticArray<i32>(NDISK);
let freePieces: BlkReq | null = null;

// Statistics, all disks
export let completedRt: u64 = 0;
export let completedNrt: u64 = 0;
export let bytesRead: u64 = 0;
export let bytesWritten: u64 = 0;
export let errors: u64 = 0;

export function diskioInit(d: BlockDevice, policy: u32): void {
  dev = d;
  setBlkComplete(diskioComplete);
  for (let i: u32 = 0; i < NDISK; i++) {
    policies[i] = policy == POLICY_FIFO ? <DiskPolicy>new FifoPolicy() : <DiskPolicy>new CyclicPolicy();
    alarms[i] = alarmNew(kickAlarm, i);
  }
  for (let i: u32 = 0; i < NREQ; i++) {
    let p = new BlkReq();
    p.next = freePieces;
    freePieces = p;
  }
}

export function diskioOutstanding(disk: u32): u32 {
  return outstanding[disk];
}

export function diskioPolicy(disk: u32): DiskPolicy {
  return policies[disk]!;
}

export function diskioSubmit(r: BlkReq): void {
  let t = now();
  r.enqueuedAt = t;
  r.status = 0;
  let pol = policies[r.disk]!;
  let split = pol.splitBytes() / SECTOR;
  if (r.cls == CLASS_NRT && split != 0 && r.sectors > split && !r.whole) {
    // Split into pieces of at most `split` sectors; the parent completes with the last.
    r.pending = 0;
    let off: u32 = 0;
    while (off < r.sectors) {
      let p = freePieces;
      assert(p != null, "diskio: out of request pieces");
      freePieces = p!.next;
      let n = min<u32>(split, r.sectors - off);
      p!.disk = r.disk; p!.lba = r.lba + off; p!.sectors = n;
      p!.buf = r.buf + <usize>off * SECTOR; p!.op = r.op; p!.cls = r.cls;
      p!.parent = r; p!.status = 0; p!.enqueuedAt = t;
      r.pending++;
      pol.enqueue(p!, t);
      off += n;
    }
  } else {
    r.parent = null;
    pol.enqueue(r, t);
  }
  kick(r.disk);
}

function kickAlarm(disk: u32): void {
  kick(disk);
}

function kick(disk: u32): void {
  let pol = policies[disk]!;
  let t = now();
  for (;;) {
    let r = pol.pick(t, outstanding[disk]);
    if (r == null) break;
    outstanding[disk]++;
    r.issuedAt = t;
    dev!.submit(r);
  }
  // Wake at the policy's next boundary, only if it is still ahead: a boundary already
  // past means the policy waits for a request at the disk, whose completion kicks us.
  // (Re-arming a past alarm here made the timer fire every 8.8 us forever, starving the
  // SCSI interrupt that would have ended the wait: a livelock seen under upload.)
  let w = pol.wakeAt();
  if (w > t) alarmAt(alarms[disk], w); else alarmCancel(alarms[disk]);
}

export function diskioComplete(r: BlkReq): void {
  let t = now();
  r.doneAt = t;
  outstanding[r.disk]--;
  let bytes = <u64>r.sectors * SECTOR;
  if (r.op == 0) bytesRead += bytes; else bytesWritten += bytes;
  if (r.status != 0) errors++;
  let parent = r.parent;
  if (parent != null) {
    if (r.status != 0) parent.status = r.status;
    parent.pending--;
    r.parent = null;
    r.next = freePieces;
    freePieces = r;
    if (parent.pending == 0) {
      parent.doneAt = t;
      completedNrt++;
      parent.done(parent);
    }
  } else {
    if (r.cls == CLASS_NRT) completedNrt++; else completedRt++;
    r.done(r);
  }
  kick(r.disk);
}
