// A fake disk for test guests: one request at a time in arrival order, each taking
// 5 ms + bytes / 27 MB/s, completed through an alarm the test guest owns (it sets
// `alarm` and calls finish() from it). With `stamp`, every sector read carries its LBA
// in its first word, so a test can check which data ended up where.

import { now } from "../../guest-lib/cpu";
import { alarmAt } from "../../guest-hitactix/alarm";
import { BlkReq, BlockDevice, ReqQueue, blkComplete } from "../../guest-hitactix/blkdev";

export class FakeDisk extends BlockDevice {
  q: ReqQueue = new ReqQueue();
  current: BlkReq | null = null;
  alarm: i32 = 0;
  served: u32 = 0;
  stamp: bool = false;
  submit(r: BlkReq): void {
    this.q.push(r);
    if (this.current == null) this.start();
  }
  sectors(disk: u32): u64 { return 35000000; }
  start(): void {
    let r = this.q.shift();
    this.current = r;
    if (r == null) return;
    let ns: u64 = 5000000 + (<u64>r.sectors * 512 * 1000) / 27; // 27 MB/s = 27 bytes per us
    alarmAt(this.alarm, now() + ns);
  }
  finish(): void {
    let r = this.current!;
    if (this.stamp) for (let k: u32 = 0; k < r.sectors; k++) store<u32>(r.buf + <usize>k * 512, <u32>r.lba + k);
    this.current = null;
    this.served++;
    blkComplete(r);
    if (this.current == null) this.start();
  }
}
