// Cyclic disk I/O scheduling (PAPER.md section 4; Fig. 5-7), per disk:
//   RT phase   issue real-time requests until the RT queue is empty (and the RT
//              requests issued have completed), then the NRT phase;
//   NRT phase  issue non-real-time requests (each at most NRT_SPLIT_BYTES: they were
//              split when enqueued) one at a time; when the NRT queue is empty go
//              idle; once one period has passed since the RT phase began, go back to
//              the RT phase (checked before every NRT request, so the worst delay of
//              the next period's reads is one small request);
//   idle       no disk I/O; one period after the RT phase began, the RT phase.
// One addition to the paper's rules: real-time requests waiting also end the NRT and
// idle phases (checked at the same points). The paper's distribution thread enqueues
// its reads at the very instant the period turns; here the two are separate events,
// and a read that arrived just after an empty RT phase would otherwise wait a whole
// period (seen in test/diskio.test.ts before this rule: 432 ms latency, 2 misses).
// Phase boundaries stay on the period grid set by the first RT phase (the grid of the
// distribution thread, which enqueues its reads at period starts): the RT phase
// begins at the last grid point, so an NRT request that overruns a boundary delays
// that period's reads without pushing later periods back.

import { BlkReq, ReqQueue, CLASS_RT } from "./blkdev";
import { DiskPolicy } from "./diskpolicy";
import { PERIOD_NS, NRT_SPLIT_BYTES, RT_DEPTH, NRT_DEPTH } from "./param";

export const PHASE_RT: u32 = 0;
export const PHASE_NRT: u32 = 1;
export const PHASE_IDLE: u32 = 2;

export class CyclicPolicy extends DiskPolicy {
  rt: ReqQueue = new ReqQueue();
  nrt: ReqQueue = new ReqQueue();
  phase: u32 = PHASE_IDLE;
  started: bool = false; // the grid is set by the first RT request
  rtStart: u64 = 0; // when the current (or last) RT phase began, on the grid
  phaseSince: u64 = 0; // when the current phase began (for the time counters)
  period: u64 = PERIOD_NS;
  split: u32 = NRT_SPLIT_BYTES;
  // counters
  rtIssued: u64 = 0;
  nrtIssued: u64 = 0;
  rtPhases: u64 = 0;
  timeIn: StaticArray<u64> = new StaticArray<u64>(3);

  name(): string { return "cyclic"; }
  splitBytes(): u32 { return this.split; }

  enqueue(r: BlkReq, now: u64): void {
    if (r.cls == CLASS_RT) {
      this.rt.push(r);
      if (!this.started) { // the first real-time request sets the period grid
        this.started = true;
        this.rtStart = now;
        this.enter(PHASE_RT, now);
        this.rtPhases++;
      }
    } else {
      this.nrt.push(r);
    }
  }

  private enter(p: u32, now: u64): void {
    this.timeIn[this.phase] += now - this.phaseSince;
    this.phase = p;
    this.phaseSince = now;
  }

  private periodOver(now: u64): bool {
    return this.started && now >= this.rtStart + this.period;
  }

  private newRtPhase(now: u64): void {
    this.rtStart += ((now - this.rtStart) / this.period) * this.period; // last grid point
    this.enter(PHASE_RT, now);
    this.rtPhases++;
  }

  pick(now: u64, outstanding: u32): BlkReq | null {
    for (let guard = 0; guard < 4; guard++) {
      if (this.phase == PHASE_RT) {
        if (this.rt.count > 0) {
          if (outstanding >= RT_DEPTH) return null;
          this.rtIssued++;
          return this.rt.shift();
        }
        if (outstanding > 0) return null; // the period's reads are still at the disk
        this.enter(PHASE_NRT, now);
      }
      if (this.phase == PHASE_NRT) {
        if (this.periodOver(now) || this.rt.count > 0) { if (outstanding > 0) return null; this.newRtPhase(now); continue; }
        if (this.nrt.count > 0) {
          if (outstanding >= NRT_DEPTH) return null;
          this.nrtIssued++;
          return this.nrt.shift();
        }
        this.enter(PHASE_IDLE, now);
      }
      if (this.phase == PHASE_IDLE) {
        if (this.periodOver(now) || this.rt.count > 0) { if (outstanding > 0) return null; this.newRtPhase(now); continue; }
        if (!this.started && this.nrt.count > 0) { this.enter(PHASE_NRT, now); continue; } // no streams yet
        return null;
      }
    }
    return null;
  }

  wakeAt(): u64 {
    return this.started && this.phase != PHASE_RT ? this.rtStart + this.period : 0;
  }

  counters(): u32 { return 6; }
  counterName(i: u32): string {
    if (i == 0) return "rtIssued";
    if (i == 1) return "nrtIssued";
    if (i == 2) return "rtPhases";
    if (i == 3) return "rtPhaseNs";
    if (i == 4) return "nrtPhaseNs";
    return "idleNs";
  }
  counter(i: u32): u64 {
    if (i == 0) return this.rtIssued;
    if (i == 1) return this.nrtIssued;
    if (i == 2) return this.rtPhases;
    return this.timeIn[i - 3];
  }
}
