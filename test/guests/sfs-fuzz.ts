// Test guest (CPU 1): HiTactix's real mount code (guest-hitactix/sfs.ts, through the
// disk I/O control thread) over disks held in memory, many volumes per boot, for the
// SFS fuzz test (test/sfs-fuzz.test.ts). The host writes a batch of volumes into the
// job area and bumps `seq`; a 1 ms alarm sees it, mounts every volume of the batch in
// turn, stores each verdict (common/sfs.ts error code, files) and sets `done = seq`.
//
// Disks are sparse: only the sectors the host lists exist, the rest read as zeros; a
// read at or past a disk's capacity fails with CHECK CONDITION, ILLEGAL REQUEST, LBA
// OUT OF RANGE, as the SCSI disk model answers. Requests complete at once but never
// inside submit(): the batch loop serves them one by one (a trampoline), so a mount's
// chain of completions does not nest on the stack.
//
// Job area (at JOB, little-endian):
//   +0 seq u32 (host), +4 count u32 (host), +8 done u32 (guest)
//   +RESULTS  count x { code i32, files u32 }   code -1: the mount never finished
//   +IMAGES   count records: { bytes u32 (whole record), disks u32, then per disk:
//             capacity u64, n u32, 0 u32, n x lba u32 (padded to 8 bytes),
//             n x 512 bytes of sector data }

import { IRQ_TIMER } from "../../common/platform";
import { now } from "../../guest-lib/cpu";
import { kprint } from "../../guest-lib/console";
import { alarmNew, alarmAt, alarmFire } from "../../guest-hitactix/alarm";
import { BlkReq, BlockDevice, ReqQueue, REQ_CAPACITY, blkComplete } from "../../guest-hitactix/blkdev";
import { diskioInit, POLICY_FIFO } from "../../guest-hitactix/diskio";
import { sfsMount, sfsError, sfsFiles } from "../../guest-hitactix/sfs";

const JOB: usize = 0x0c000000;
const RESULTS: usize = 0x100;
const IMAGES: usize = 0x10000;
const MAX_DISKS: u32 = 8;
const LBA_OUT_OF_RANGE: u32 = (0x02 << 24) | (0x05 << 16) | (0x21 << 8);

class MemDisk extends BlockDevice {
  q: ReqQueue = new ReqQueue();
  disks: u32 = 0;
  capacity: StaticArray<u64> = new StaticArray<u64>(MAX_DISKS);
  count: StaticArray<u32> = new StaticArray<u32>(MAX_DISKS);
  lbas: StaticArray<usize> = new StaticArray<usize>(MAX_DISKS);
  data: StaticArray<usize> = new StaticArray<usize>(MAX_DISKS);
  submit(r: BlkReq): void { this.q.push(r); }
  sectors(disk: u32): u64 { return disk < this.disks ? this.capacity[disk] : 0; }

  /** Point the disks at the record at p; returns the record's length. */
  load(p: usize): u32 {
    let bytes = load<u32>(p);
    this.disks = min<u32>(load<u32>(p + 4), MAX_DISKS);
    let at = p + 8;
    for (let d: u32 = 0; d < this.disks; d++) {
      this.capacity[d] = load<u64>(at);
      let n = load<u32>(at + 8);
      this.count[d] = n;
      this.lbas[d] = at + 16;
      at += 16 + ((<usize>n * 4 + 7) & ~7);
      this.data[d] = at;
      at += <usize>n * 512;
    }
    return bytes;
  }

  /** Serve the oldest request; false when none is waiting. */
  serve(): bool {
    let r = this.q.shift();
    if (r == null) return false;
    r.status = 0;
    if (r.disk >= this.disks) r.status = (0x02 << 24) | (0x05 << 16) | (0x25 << 8);
    else if (r.op == REQ_CAPACITY) store<u64>(r.buf, this.capacity[r.disk]);
    else {
      for (let k: u32 = 0; k < r.sectors; k++) {
        let lba = r.lba + k;
        if (lba >= this.capacity[r.disk]) { r.status = LBA_OUT_OF_RANGE; break; }
        this.readSector(r.disk, lba, r.buf + <usize>k * 512);
      }
    }
    blkComplete(r);
    return true;
  }

  readSector(d: u32, lba: u64, dst: usize): void {
    let n = this.count[d];
    let t = this.lbas[d];
    for (let i: u32 = 0; i < n; i++) {
      if (<u64>load<u32>(t + <usize>i * 4) == lba) { memory.copy(dst, this.data[d] + <usize>i * 512, 512); return; }
    }
    memory.fill(dst, 0, 512);
  }
}

let disk = new MemDisk();
let tick: i32 = 0;
let finished: bool = false;

function mounted(ok: bool): void { finished = true; }

function runBatch(): void {
  let seq = load<u32>(JOB);
  let count = load<u32>(JOB + 4);
  let p = JOB + IMAGES;
  for (let i: u32 = 0; i < count; i++) {
    p += disk.load(p);
    finished = false;
    sfsMount(disk.disks, mounted);
    while (disk.serve()) {}
    store<i32>(JOB + RESULTS + <usize>i * 8, finished ? sfsError : -1);
    store<u32>(JOB + RESULTS + <usize>i * 8 + 4, sfsFiles);
  }
  store<u32>(JOB + 8, seq);
}

function onTick(arg: u32): void {
  if (load<u32>(JOB) != load<u32>(JOB + 8)) runBatch();
  alarmAt(tick, now() + 1000000);
}

export function boot(): void {
  diskioInit(disk, POLICY_FIFO);
  tick = alarmNew(onTick, 0);
  alarmAt(tick, now() + 1000000);
  kprint("sfs-fuzz: ready");
}

export function irq(vector: u32): void {
  if (vector == IRQ_TIMER) alarmFire();
}
