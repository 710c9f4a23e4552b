// The mailbox service: HiTactix's side of the HiTactix driver. Requests arrive from
// BSD (or, in experiments, from the host standing in for it) in the BSD->HiTactix ring
// with an IPI; each gets one MSG_REPLY in the other ring. Stream start first checks
// that the stream's ring buffers fit HiTactix's free memory (ERR_NO_MEMORY otherwise,
// even with FLAG_NO_ADMISSION: past it the kernel would stop on a partition fault),
// then runs admission control and picks the start period that puts the stream in its
// admission group (past admission, FLAG_NO_ADMISSION, the verdict is still given, in
// the reply's reason: 0 admitted, ERR_ADMISSION started past admission);
// upload writes go to the disk I/O control thread as non-real-time requests and are
// answered when done. When the reply ring is full the request stays queued (nothing is
// dropped; BSD's draining wakes us).
//
// Interface: serviceInit(), serviceIntr() from irq(IRQ_IPI); serviceThread (accounting).

import { MBOX_BSD_TO_HTX, MBOX_HTX_TO_BSD } from "../common/memmap";
import { MSG_PING, MSG_PONG, MSG_REPLY, MSG_STREAM_START, MSG_STREAM_STOP, MSG_WRITE, MSG_STATS, MSG_LOOKUP, MSG_FILE_NAME, MSG_NAME_WORDS,
  MSG_ARGS, FLAG_LOOP, FLAG_NO_ADMISSION,
  ERR_NO_SUCH_FILE, ERR_ADMISSION, ERR_TABLE_FULL, ERR_NO_SUCH_STREAM, ERR_NOT_MOUNTED, ERR_BAD_REQUEST, ERR_NO_MEMORY } from "../common/platform";
import { mboxInit, mboxSend, mboxSendArgs, mboxRecv, mboxDone, rxType, rxSeq, rxArg } from "../guest-lib/mailbox";
import { sendIpi } from "../guest-lib/cpu";
import { dmaAlloc } from "../guest-lib/dma";
import { BlkReq, REQ_WRITE, CLASS_NRT } from "./blkdev";
import { diskioSubmit } from "./diskio";
import { distribStart, distribStop, distribRingFits, streams, tableSize, periodIndex, setStreamEnded, StreamFile, ERR_NO_RING_MEMORY } from "./distrib";
import { statsRefusedMemory, statsHeapFree } from "./stats";
import { dmaFree } from "../guest-lib/dma";
import { RING_SLOTS } from "./param";
import { admit, admitRelease, admitChunkNs, admitGroupLoadNs } from "./admission";
import { cputs, cputu, kprint } from "../guest-lib/console";
import { sfsFiles, sfsFile, sfsName, sfsLookup, sfsRate } from "./sfs";
import { DE_NAME_MAX } from "../common/sfs";
import { NDISK } from "./param";
import { Thread, threadEvent, threadRun } from "./isosched";

const BSD_CPU: u32 = 0;
const NWRITE: u32 = 16;

// The stream volume: MOUNT_PENDING from boot until HiTactix has mounted and calibrated
// its disks (a start that arrives meanwhile waits in the ring, and the requests behind
// it), then MOUNT_READY, or MOUNT_FAILED (starts are refused: not mounted).
const MOUNT_PENDING: u32 = 0;
const MOUNT_READY: u32 = 1;
const MOUNT_FAILED: u32 = 2;
let mountState: u32 = MOUNT_PENDING;
export let serviceThread: Thread | null = null;
let held: bool = false; // a request taken from the ring that could not be finished yet
let hType: u32 = 0, hSeq: u32 = 0;
let hArgs = new StaticArray<u32>(6);
let pendingReplies: u32 = 0; // replies we owe but could not send (ring full)
let prSeq = new StaticArray<u32>(64);
let prA0 = new StaticArray<i32>(64);
let prA1 = new StaticArray<u32>(64);
let prA2 = new StaticArray<u32>(64);
let prA3 = new StaticArray<u32>(64);
let writes = new StaticArray<BlkReq | null>(NWRITE);
let writeBusy = new StaticArray<bool>(NWRITE);
let mac: usize = 0;
const nameReply = new StaticArray<u32>(MSG_ARGS); // a lookup's or a name's reply arguments

export function serviceInit(): void {
  mboxInit(MBOX_HTX_TO_BSD);
  mac = dmaAlloc(8, 8);
  for (let i: u32 = 0; i < NWRITE; i++) {
    let r = new BlkReq();
    r.cookie = i;
    r.done = writeDone;
    writes[i] = r;
  }
  serviceThread = threadEvent("service");
  setStreamEnded(onStreamEnded);
}

export function setMounted(ok: bool): void {
  mountState = ok ? MOUNT_READY : MOUNT_FAILED;
  if (serviceThread) serviceIntr(); // a start may be waiting for this
}

function onStreamEnded(i: u32): void {
  let s = streams[i];
  if (s.group >= 0) admitRelease(<u32>s.group, s.cost);
  s.group = -1;
}

/** The highest LBA any chunk of a file occupies (its slowest zone). */
function maxLba(f: StreamFile): u64 {
  let m: u64 = 0;
  for (let c: u32 = 0; c < f.chunks; c++) {
    let e = f.extents + <usize>c * 16;
    let end = <u64>load<u32>(e + 4) + load<u32>(e + 8);
    if (end > m) m = end;
  }
  return m;
}

/** Queue a reply; sent at once if the ring has room, else with the next wakeup. */
function reply(seq: u32, a0: i32, a1: u32, a2: u32 = 0, a3: u32 = 0): void {
  if (pendingReplies == 0 && mboxSend(MBOX_HTX_TO_BSD, MSG_REPLY, seq, <u32>a0, a1, a2, a3)) {
    sendIpi(BSD_CPU);
    return;
  }
  assert(pendingReplies < 64, "service: too many replies owed");
  prSeq[pendingReplies] = seq; prA0[pendingReplies] = a0; prA1[pendingReplies] = a1;
  prA2[pendingReplies] = a2; prA3[pendingReplies] = a3;
  pendingReplies++;
}

function flushReplies(): void {
  let sent: u32 = 0;
  while (sent < pendingReplies && mboxSend(MBOX_HTX_TO_BSD, MSG_REPLY, prSeq[sent], <u32>prA0[sent], prA1[sent], prA2[sent], prA3[sent])) sent++;
  if (sent == 0) return;
  for (let i = sent; i < pendingReplies; i++) {
    prSeq[i - sent] = prSeq[i]; prA0[i - sent] = prA0[i]; prA1[i - sent] = prA1[i]; prA2[i - sent] = prA2[i]; prA3[i - sent] = prA3[i];
  }
  pendingReplies -= sent;
  sendIpi(BSD_CPU);
}

export function serviceIntr(): void {
  threadRun(serviceThread!, serve);
}

function serve(): void {
  flushReplies();
  for (;;) {
    if (pendingReplies >= 48) break; // stop taking work while BSD is not reading replies
    if (!held) {
      if (!mboxRecv(MBOX_BSD_TO_HTX)) break;
      held = true;
      hType = rxType; hSeq = rxSeq;
      for (let i: u32 = 0; i < 6; i++) hArgs[i] = rxArg(i);
    }
    if (!handle()) break; // could not finish it now (no write slot): keep it held
    held = false;
  }
  mboxDone(MBOX_BSD_TO_HTX, BSD_CPU);
}

/** Handle the held request; false if it must wait. */
function handle(): bool {
  if (hType == MSG_PING) {
    if (!mboxSend(MBOX_HTX_TO_BSD, MSG_PONG, hSeq, hArgs[0] + 1, 0, 0, 0)) return false;
    sendIpi(BSD_CPU);
  } else if (hType == MSG_STREAM_START) {
    if (mountState == MOUNT_PENDING) return false;
    startStream();
  } else if (hType == MSG_STREAM_STOP) {
    let id = hArgs[0];
    if (id >= tableSize || !streams[id].inUse) reply(hSeq, -1, ERR_NO_SUCH_STREAM);
    else { distribStop(id); reply(hSeq, 0, 0); }
  } else if (hType == MSG_WRITE) {
    let slot: i32 = -1;
    for (let i: u32 = 0; i < NWRITE; i++) if (!writeBusy[i]) { slot = <i32>i; break; }
    if (slot < 0) return false; // all write slots busy: the request waits in the ring
    if (hArgs[0] >= NDISK || hArgs[2] == 0) { reply(hSeq, -1, ERR_BAD_REQUEST); return true; }
    let r = writes[slot]!;
    writeBusy[slot] = true;
    r.disk = hArgs[0]; r.lba = <u64>hArgs[1]; r.sectors = hArgs[2]; r.buf = <usize>hArgs[3];
    r.op = REQ_WRITE; r.cls = CLASS_NRT; r.status = 0;
    r.cookie = <u32>slot | (hSeq << 8);
    diskioSubmit(r);
  } else if (hType == MSG_STATS) {
    // A slot that has held a stream keeps its counters after the stop (ringBytes: its
    // ring is kept for reuse); one that never has is no stream.
    let id = hArgs[0];
    if (id >= tableSize || streams[id].ringBytes == 0) reply(hSeq, -1, ERR_NO_SUCH_STREAM);
    else {
      let b = streams[id].bytesSent;
      reply(hSeq, 0, streams[id].lateReads, <u32>b, <u32>(b >> 32));
    }
  } else if (hType == MSG_LOOKUP || hType == MSG_FILE_NAME) {
    if (mountState == MOUNT_PENDING) return false;
    return fileQuery();
  } else {
    reply(hSeq, -1, ERR_BAD_REQUEST);
  }
  return true;
}

/** MSG_LOOKUP and MSG_FILE_NAME (the name-to-index map BSD's `streamctl` uses); false
 * if the reply ring has no room yet (the request stays held). Their replies carry more
 * than the four arguments the owed-reply queue keeps, so they wait for the ring instead. */
function fileQuery(): bool {
  if (mountState != MOUNT_READY) { reply(hSeq, -1, ERR_NOT_MOUNTED); return true; }
  let fi: i32;
  if (hType == MSG_LOOKUP) {
    // The name is in the receive buffer still: nothing is received while a request is held.
    let name = changetype<usize>(nameReply);
    for (let i: u32 = 0; i < <u32>MSG_NAME_WORDS; i++) store<u32>(name + (<usize>i << 2), rxArg(i));
    let len: u32 = 0;
    while (len <= DE_NAME_MAX && load<u8>(name + len) != 0) len++;
    fi = len == 0 || len > DE_NAME_MAX ? -1 : sfsLookup(name, len);
  } else {
    fi = hArgs[0] < sfsFiles ? <i32>hArgs[0] : -1;
  }
  if (fi < 0) { reply(hSeq, -1, ERR_NO_SUCH_FILE); return true; }
  if (pendingReplies != 0) return false; // replies keep their order
  let a = changetype<usize>(nameReply);
  memory.fill(a, 0, MSG_ARGS * 4);
  if (hType == MSG_LOOKUP) {
    let f = sfsFile(<u32>fi);
    let rate = sfsRate(<u32>fi);
    nameReply[0] = <u32>fi;
    nameReply[2] = <u32>f.size; nameReply[3] = <u32>(f.size >> 32);
    nameReply[4] = <u32>rate; nameReply[5] = <u32>(rate >> 32);
  } else {
    memory.copy(a + 8, sfsName(<u32>fi), <usize>(MSG_NAME_WORDS * 4));
  }
  if (!mboxSendArgs(MBOX_HTX_TO_BSD, MSG_REPLY, hSeq, a, MSG_ARGS)) return false;
  sendIpi(BSD_CPU);
  return true;
}

function startStream(): void {
  if (mountState != MOUNT_READY) { reply(hSeq, -1, ERR_NOT_MOUNTED); return; }
  let fi = hArgs[0];
  if (fi >= sfsFiles) { reply(hSeq, -1, ERR_NO_SUCH_FILE); return; }
  let f = sfsFile(fi);
  if (!distribRingFits(f)) { refuseMemory(fi, f); return; }
  let bypass = (hArgs[3] & FLAG_NO_ADMISSION) != 0;
  let cost = admitChunkNs(f.chunk, maxLba(f));
  // Admission's verdict is taken even past admission (FLAG_NO_ADMISSION): the reply
  // says whether it would have admitted the stream, so an experiment can set the
  // disks' measured limit beside it. Such a stream keeps its reservation (the next
  // verdict counts it) but starts at the next period, wherever its group would be.
  let g = admit(cost);
  let verdict: u32 = g >= 0 ? 0 : ERR_ADMISSION;
  if (g < 0 && !bypass) {
    cputs("hitactix: stream of file "); cputu(fi); cputs(" refused: a chunk needs "); cputu(cost / 1000);
    cputs(" us of disk per period, the fullest group has "); cputu(admitGroupLoadNs(0) / 1000); kprint(" us");
    reply(hSeq, -1, ERR_ADMISSION);
    return;
  }
  // Start in the period that puts chunk 0's disk in group g: disk(k) = (first + k - start).
  let first = load<u32>(f.extents);
  let k = periodIndex + 1;
  if (g >= 0 && !bypass) while ((<u64>(first % NDISK) + <u64>NDISK - k % <u64>NDISK) % <u64>NDISK != <u64>g) k++;
  store<u32>(mac, hArgs[4]);
  store<u16>(mac + 4, <u16>hArgs[5]);
  let id = distribStart(f, mac, hArgs[1], hArgs[2] & 0xffff, hArgs[2] >> 16, (hArgs[3] & FLAG_LOOP) != 0, k, g, fi);
  if (id < 0) {
    if (g >= 0) admitRelease(<u32>g, cost);
    if (id == ERR_NO_RING_MEMORY) refuseMemory(fi, f);
    else reply(hSeq, -1, ERR_TABLE_FULL);
    return;
  }
  streams[id].cost = cost;
  statsHeapFree(dmaFree());
  reply(hSeq, id, verdict); // a1: 0 admitted, ERR_ADMISSION started past admission
}

function refuseMemory(fi: u32, f: StreamFile): void {
  cputs("hitactix: stream of file "); cputu(fi); cputs(" refused: its ring buffers need ");
  cputu(<u64>RING_SLOTS * <u64>f.chunk); cputs(" bytes, "); cputu(dmaFree()); kprint(" bytes of memory are free");
  statsRefusedMemory();
  reply(hSeq, -1, ERR_NO_MEMORY);
}

function writeDone(r: BlkReq): void {
  writeBusy[r.cookie & 0xff] = false;
  reply(r.cookie >> 8, r.status == 0 ? 0 : -1, r.status);
  if (held) serve(); // a write waiting for a slot can go now
}
