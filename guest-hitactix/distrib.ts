// The stream data distribution control thread: cyclic pipeline I/O (PAPER.md section 3).
//
// The distribution management table holds one entry per stream: the file to read, the
// client's address and port, the rate. Driven by the isochronous scheduler, every
// period (256 ms) the thread, for every entry,
//   1. makes the chunk read during the last period the one being sent, and
//   2. issues ONE real-time read of the next chunk (one period of data, contiguous on
//      one disk: see common/sfs.ts) into the stream's ring buffer;
// and every pacing tick (1 ms) it sends the part of the current chunk that is due,
// spreading each chunk evenly over its period. Frames are sent as two fragments: a
// header built here and the payload straight out of the ring buffer, where the disk
// DMA'd it: no copy between disk and network.
//
// A stream's rate is its chunk per period (the chunk is the nominal rate's bytes per
// period rounded up to whole sectors, so at most 512 bytes a period above nominal).
// A read that has not completed when its chunk is due is a late read: that period
// sends nothing for the stream (the "without" collapse of the paper's Fig. 13), and the
// chunk goes out a period later. A read that FAILED (a medium error, a driver error)
// leaves its slot holding old data, which must never be sent: the period that chunk
// was due sends nothing, the chunk is lost, and the stream's sequence numbers jump by
// the frames it would have taken, so the client sees the gap. Failed reads, late reads
// and skipped periods are counted per stream and in total, in the table and in the
// statistics block the host reads (stats.ts); the first failure of a stream is printed.
//
// A stream's ring buffers (RING_SLOTS chunks) come from the partition's heap; a start
// whose ring cannot fit is refused (ERR_NO_MEMORY) instead of stopping the kernel on
// a partition fault: distribRingFits() answers before anything is allocated.
//
// The table's size comes from the boot parameters (main.ts: BOOT_HTX_NSTREAM); the
// periodic and pacing threads walk only the slots used so far (tableUsed), so a large
// table costs nothing per tick.
//
// The transmit path is this testbed's by default (one doorbell per pacing tick, the
// NIC computes the IPv4 and UDP checksums). With tx2002 it is a 2002 kernel's: a
// doorbell per frame and both checksums in software, the UDP one over the payload,
// which the CPU must first read from where the disk DMA'd it (dmaSyncForCpu: the
// lines are cold in its caches; the cost model charges them, see host/costs.ts).
//
// Interface:
//   distribInit(net, srcMac, srcIp, tableSize, tx2002)
//   distribStart(file, dstMac, dstIp, dstPort, srcPort, loop) -> stream index, or < 0
//   distribRingFits(file) -> would a start of this file get its ring buffers?
//   distribStop(i)
//   distribPeriod()      the periodic thread's body (isosched)
//   distribSendTick()    the pacing thread's body (isosched), also on TX space
//   streams[i]           the table (counters for reports)

import { BlkReq, REQ_READ, CLASS_RT } from "./blkdev";
import { diskioSubmit } from "./diskio";
import { NetDevice } from "./netdev";
import { RING_SLOTS, FRAME_DATA, HDR_BYTES, HDR_SLOTS, PERIOD_NS, SECTOR } from "./param";
import { now, dmaSyncForCpu } from "../guest-lib/cpu";
import { dmaAlloc, dmaFits } from "../guest-lib/dma";
import { cputs, cputu, cputx, kprint } from "../guest-lib/console";
import { statsStreamStart, statsStreamEnd, statsActive, statsReadError, statsLateRead, statsSkipped, statsPeriod } from "./stats";

export const SLOT_EMPTY: u8 = 0;
export const SLOT_READING: u8 = 1;
export const SLOT_READY: u8 = 2;
export const SLOT_SENDING: u8 = 3;
export const SLOT_FAILED: u8 = 4; // the read failed: the slot holds no valid data

export const ERR_TABLE_FULL: i32 = -1;
export const ERR_BAD_FILE: i32 = -2;
export const ERR_NO_RING_MEMORY: i32 = -3;

/** Heap kept free after a stream's ring buffers (what the kernel may still need). */
const RING_RESERVE: usize = 65536;

/** A file as the distribution thread needs it: chunking and its extents (SFS layout). */
@final
export class StreamFile {
  size: u64 = 0;
  chunk: u32 = 0;
  chunks: u32 = 0;
  /** Extents: `chunks` records of 16 bytes (disk u32, lba u32, sectors u32, 0). */
  extents: usize = 0;
}

@final
export class Stream {
  inUse: bool = false;
  file: StreamFile = new StreamFile();
  loop: bool = false;
  dstIp: u32 = 0;
  dstPort: u32 = 0;
  srcPort: u32 = 0;
  dstMac: usize = 0; // 6 bytes
  ring: usize = 0; // RING_SLOTS * chunk bytes
  ringBytes: u32 = 0;
  slotState: StaticArray<u8> = new StaticArray<u8>(RING_SLOTS);
  slotChunk: StaticArray<u32> = new StaticArray<u32>(RING_SLOTS);
  read: BlkReq = new BlkReq();
  nextRead: u32 = 0; // chunk number of the next read
  readsDone: u32 = 0; // chunks read in all (loops included)
  sendSlot: i32 = -1; // slot being sent, -1 none
  sendLen: u32 = 0;
  sendOff: u32 = 0;
  sendStart: u64 = 0;
  seq: u32 = 0;
  ended: bool = false; // no more reads (end of file, no loop)
  startPeriod: u64 = 0; // first period whose start issues this stream's first read
  group: i32 = -1; // admission group (admission.ts), -1 none
  cost: u64 = 0; // its reserved disk time per period, ns
  // counters
  bytesSent: u64 = 0;
  framesSent: u64 = 0;
  lateReads: u32 = 0; // periods whose chunk was still being read
  readErrors: u32 = 0; // chunk reads that failed
  skipped: u32 = 0; // periods that sent nothing (late or failed chunk)
  txStalls: u32 = 0;
}

/** The distribution management table: tableSize slots, made by distribInit. */
export let streams: StaticArray<Stream> = new StaticArray<Stream>(0);
export let tableSize: u32 = 0;
/** 1 + the highest slot ever used: the threads' loops stop there. */
let tableUsed: u32 = 0;
/** The 2002 transmit path (see the header). */
let tx2002: bool = false;
let net: NetDevice | null = null;
let srcMacAddr: usize = 0;
let srcIpAddr: u32 = 0;
let hdrPool: usize = 0;
let hdrNext: u32 = 0;
let ipId: u32 = 0;
export let activeStreams: u32 = 0;
/** Totals over every stream since boot. */
export let totalReadErrors: u32 = 0;
export let totalLateReads: u32 = 0;
export let totalSkipped: u32 = 0;
/** Periods begun since the thread started (period k starts at epoch + k * PERIOD_NS). */
export let periodIndex: u64 = 0;

export function distribInit(dev: NetDevice, srcMac: usize, srcIp: u32, size: u32, path2002: bool): void {
  net = dev;
  srcMacAddr = srcMac;
  srcIpAddr = srcIp;
  tx2002 = path2002;
  hdrPool = dmaAlloc(<usize>HDR_SLOTS * 64, 64);
  tableSize = size;
  streams = new StaticArray<Stream>(size);
  for (let i: u32 = 0; i < size; i++) {
    let s = new Stream();
    s.dstMac = dmaAlloc(8, 8);
    s.read.cookie = i;
    s.read.done = readDone;
    streams[i] = s;
  }
}

export function distribStart(file: StreamFile, dstMac: usize, dstIp: u32, dstPort: u32, srcPort: u32, loop: bool,
    startPeriod: u64 = 0, group: i32 = -1, fileIndex: u32 = 0): i32 {
  if (file.chunks == 0 || file.chunk == 0 || file.chunk % SECTOR != 0) return ERR_BAD_FILE;
  for (let i: u32 = 0; i < tableSize; i++) {
    let s = streams[i];
    if (s.inUse) continue;
    if (!slotRingFits(s, file)) return ERR_NO_RING_MEMORY;
    if (i >= tableUsed) tableUsed = i + 1;
    let need = <u32>ringBytesFor(file);
    if (s.ringBytes < need) { s.ring = dmaAlloc(need, 4096); s.ringBytes = need; } // kept for reuse
    s.inUse = true;
    s.file = file;
    s.loop = loop;
    s.dstIp = dstIp; s.dstPort = dstPort; s.srcPort = srcPort;
    memory.copy(s.dstMac, dstMac, 6);
    for (let k: u32 = 0; k < RING_SLOTS; k++) s.slotState[k] = SLOT_EMPTY;
    s.nextRead = 0; s.readsDone = 0; s.sendSlot = -1; s.sendOff = 0; s.sendLen = 0; s.seq = 0;
    s.ended = false; s.bytesSent = 0; s.framesSent = 0; s.lateReads = 0; s.txStalls = 0;
    s.readErrors = 0; s.skipped = 0;
    s.startPeriod = startPeriod; s.group = group;
    activeStreams++;
    statsStreamStart(i, fileIndex, dstPort);
    statsActive(activeStreams);
    return <i32>i; // its first read goes out at the next period
  }
  return ERR_TABLE_FULL;
}

@inline function ringBytesFor(f: StreamFile): u64 {
  return <u64>RING_SLOTS * <u64>f.chunk;
}

/** Would slot s hold file f's ring: its kept ring is big enough, or the heap has room. */
function slotRingFits(s: Stream, f: StreamFile): bool {
  let need = ringBytesFor(f);
  if (need <= <u64>s.ringBytes) return true;
  return need <= <u64>0xffffffff && dmaFits(need, 4096, RING_RESERVE);
}

/** Would distribStart(f, ...) get its ring buffers? (The slot it would take is the
 *  first free one; a full table is distribStart's ERR_TABLE_FULL, not a memory matter.) */
export function distribRingFits(f: StreamFile): bool {
  for (let i: u32 = 0; i < tableSize; i++) {
    let s = streams[i];
    if (!s.inUse) return slotRingFits(s, f);
  }
  return true;
}

function noEnd(i: u32): void {}
/** Called when a stream leaves the table (stopped or played to its end). */
export let streamEnded: (i: u32) => void = noEnd;
export function setStreamEnded(fn: (i: u32) => void): void {
  streamEnded = fn;
}

export function distribStop(i: u32): void {
  let s = streams[i];
  if (!s.inUse) return;
  s.inUse = false; // a read in flight completes into a slot nobody uses
  activeStreams--;
  statsStreamEnd(i);
  statsActive(activeStreams);
  streamEnded(i);
}

function chunkLen(f: StreamFile, c: u32): u32 {
  let last = f.size - <u64>(f.chunks - 1) * f.chunk;
  return c == f.chunks - 1 ? <u32>last : f.chunk;
}

/** Every period: finish the chunk being sent, promote the chunk read last period,
 *  and issue the next real-time read, for every stream. */
export function distribPeriod(): void {
  let t = now();
  let k = periodIndex++;
  statsPeriod(periodIndex);
  for (let i: u32 = 0; i < tableUsed; i++) {
    let s = streams[i];
    if (!s.inUse || k < s.startPeriod) continue;
    if (s.sendSlot >= 0) {
      sendDue(s, s.sendLen); // the rest of the last period's chunk goes now
      net!.flush();
      if (s.sendOff >= s.sendLen) { s.slotState[s.sendSlot] = SLOT_EMPTY; s.sendSlot = -1; }
    }
    if (s.sendSlot < 0) promote(s, t);
    if (s.sendSlot < 0 && s.ended && !anySlot(s, SLOT_READING) && !anySlot(s, SLOT_READY) && !anySlot(s, SLOT_FAILED)) {
      distribStop(i); // played to the end
      continue;
    }
    issueRead(s);
  }
}

function anySlot(s: Stream, state: u8): bool {
  for (let k: u32 = 0; k < RING_SLOTS; k++) if (s.slotState[k] == state) return true;
  return false;
}

/** Start sending the oldest chunk read; a chunk still READING is a late read, and a
 *  chunk whose read FAILED is skipped (its period sends nothing, never old data). */
function promote(s: Stream, t: u64): void {
  let best: i32 = -1;
  for (let k: u32 = 0; k < RING_SLOTS; k++) {
    let st = s.slotState[k];
    if ((st == SLOT_READY || st == SLOT_FAILED) && (best < 0 || s.slotChunk[k] < s.slotChunk[best])) best = <i32>k;
  }
  if (best < 0) {
    if (anySlot(s, SLOT_READING)) {
      s.lateReads++; totalLateReads++; statsLateRead(s.read.cookie & 0xffff);
      skip(s);
    }
    return;
  }
  if (s.slotState[best] == SLOT_FAILED) {
    s.slotState[best] = SLOT_EMPTY;
    let len = chunkLen(s.file, s.slotChunk[best]);
    s.seq += (len + FRAME_DATA - 1) / FRAME_DATA; // the frames the chunk would have taken
    skip(s);
    return;
  }
  s.slotState[best] = SLOT_SENDING;
  s.sendSlot = best;
  s.sendLen = chunkLen(s.file, s.slotChunk[best]);
  s.sendOff = 0;
  s.sendStart = t;
}

function issueRead(s: Stream): void {
  if (s.ended || anySlot(s, SLOT_READING)) return; // one read per stream at a time
  let slot: i32 = -1;
  for (let k: u32 = 0; k < RING_SLOTS; k++) if (s.slotState[k] == SLOT_EMPTY) { slot = <i32>k; break; }
  if (slot < 0) return;
  let c = s.nextRead;
  let e = s.file.extents + <usize>c * 16;
  let r = s.read;
  r.disk = load<u32>(e);
  r.lba = <u64>load<u32>(e + 4);
  r.sectors = load<u32>(e + 8);
  r.buf = s.ring + <usize>slot * s.file.chunk;
  r.op = REQ_READ;
  r.cls = CLASS_RT;
  r.cookie = (r.cookie & 0xffff) | (<u32>slot << 16);
  s.slotState[slot] = SLOT_READING;
  s.slotChunk[slot] = c;
  s.nextRead = c + 1;
  if (s.nextRead == s.file.chunks) {
    if (s.loop) s.nextRead = 0; else s.ended = true;
  }
  diskioSubmit(r);
}

function skip(s: Stream): void {
  s.skipped++; totalSkipped++;
  statsSkipped(s.read.cookie & 0xffff);
}

function readDone(r: BlkReq): void {
  let i = r.cookie & 0xffff;
  let s = streams[i];
  let slot = r.cookie >> 16;
  s.readsDone++;
  if (s.slotState[slot] != SLOT_READING) return; // the stream was stopped meanwhile
  if (r.status == 0) { s.slotState[slot] = SLOT_READY; return; }
  s.slotState[slot] = SLOT_FAILED;
  s.readErrors++; totalReadErrors++;
  statsReadError(i, s.slotChunk[slot]);
  if (s.readErrors == 1) { // the first one of this stream is printed; the rest are counted
    cputs("hitactix: stream "); cputu(i); cputs(": read of chunk "); cputu(s.slotChunk[slot]);
    cputs(" failed (disk "); cputu(r.disk); cputs(" LBA "); cputu(r.lba); cputs(", status "); cputx(r.status);
    kprint("): its period sends nothing");
  }
}

/** The pacing tick: each stream sends what is due of its chunk by now. */
export function distribSendTick(): void {
  let t = now();
  for (let i: u32 = 0; i < tableUsed; i++) {
    let s = unchecked(streams[i]); // i < tableUsed <= tableSize
    if (!s.inUse || s.sendSlot < 0) continue;
    let elapsed = t - s.sendStart;
    let due: u32 = elapsed >= PERIOD_NS ? s.sendLen : <u32>((<u64>s.sendLen * elapsed) / PERIOD_NS);
    sendDue(s, due);
  }
  net!.flush(); // one doorbell for the tick's frames
}

/** Send frames of stream s until `due` bytes of its chunk are out (or TX is full). */
function sendDue(s: Stream, due: u32): void {
  let dev = net!;
  while (s.sendOff < due) {
    let n = min<u32>(FRAME_DATA, s.sendLen - s.sendOff);
    if (s.sendOff + n > due && s.sendOff + n < s.sendLen) break; // whole frames only, but the last
    if (dev.txFree() == 0) { s.txStalls++; return; }
    let pay = s.ring + <usize>s.sendSlot * s.file.chunk + s.sendOff;
    let hdr = buildHeader(s, n, pay);
    if (!dev.send2(hdr, HDR_BYTES, pay, n)) { s.txStalls++; return; }
    if (tx2002) dev.flush(); // a doorbell per frame
    s.sendOff += n;
    s.bytesSent += n;
    s.framesSent++;
    s.seq++;
  }
}

@inline function be16(p: usize, v: u32): void { store<u8>(p, <u8>(v >> 8)); store<u8>(p + 1, <u8>v); }
@inline function be32(p: usize, v: u32): void { be16(p, v >> 16); be16(p + 2, v & 0xffff); }

/** Ethernet + IPv4 + UDP + stream header for `n` data bytes at `pay`, in the next
 *  header slot. */
function buildHeader(s: Stream, n: u32, pay: usize): usize {
  let h = hdrPool + <usize>(hdrNext % HDR_SLOTS) * 64;
  hdrNext++;
  memory.copy(h, s.dstMac, 6);
  memory.copy(h + 6, srcMacAddr, 6);
  be16(h + 12, 0x0800);
  let ip = h + 14;
  let udpLen = 8 + 16 + n;
  store<u8>(ip, 0x45); store<u8>(ip + 1, 0);
  be16(ip + 2, 20 + udpLen);
  be16(ip + 4, ipId++ & 0xffff);
  be16(ip + 6, 0x4000); // don't fragment
  store<u8>(ip + 8, 64); store<u8>(ip + 9, 17);
  be16(ip + 10, 0);
  be32(ip + 12, srcIpAddr);
  be32(ip + 16, s.dstIp);
  if (!net!.checksumOffload()) { // else the NIC fills both checksums
    let sum: u32 = 0;
    for (let k: usize = 0; k < 20; k += 2) sum += (<u32>load<u8>(ip + k) << 8) | load<u8>(ip + k + 1);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    be16(ip + 10, ~sum & 0xffff);
  }
  let udp = ip + 20;
  be16(udp, s.srcPort);
  be16(udp + 2, s.dstPort);
  be16(udp + 4, udpLen);
  be16(udp + 6, 0); // fast path without offload: no UDP checksum (RFC 768 allows 0 over IPv4)
  let sh = udp + 8;
  be32(sh, <u32>(s.read.cookie & 0xffff)); // stream id = table index
  be32(sh + 4, s.seq);
  let offset = <u64>s.slotChunk[s.sendSlot] * s.file.chunk + s.sendOff;
  be32(sh + 8, <u32>(offset >> 32));
  be32(sh + 12, <u32>offset);
  if (tx2002) be16(udp + 6, udpChecksum(ip, udp, 8 + 16, pay, n));
  return h;
}

/** One's-complement sum of `len` bytes at p, in the CPU's (little-endian) byte order,
 *  32 bits at a time, added to `sum`. The Internet checksum is byte-order independent
 *  (RFC 1071, 2(B)): the folded sum is swapped once at the end, as BSD's in_cksum
 *  does. `len` is even except for the last piece of a sum. */
function sumLe(p: usize, len: u32, sum: u64): u64 {
  let k: u32 = 0;
  for (; k + 4 <= len; k += 4) sum += <u64>load<u32>(p + k);
  if (k + 2 <= len) { sum += <u64>load<u16>(p + k); k += 2; }
  if (k < len) sum += <u64>load<u8>(p + k); // a last odd byte is the high byte of its word
  return sum;
}

/** The UDP checksum (RFC 768): pseudo header, the UDP header and stream header
 *  (`hlen` bytes at udp, checksum field 0), then the payload where the disk put it. */
function udpChecksum(ip: usize, udp: usize, hlen: u32, pay: usize, n: u32): u32 {
  dmaSyncForCpu(pay, n); // the disk wrote it by DMA: the CPU's first touch misses
  let len = hlen + n;
  let sum: u64 = <u64>(17 << 8) + <u64>(((len & 0xff) << 8) | (len >> 8)); // protocol, UDP length, swapped
  sum = sumLe(ip + 12, 8, sum); // source and destination addresses
  sum = sumLe(udp, hlen, sum);
  sum = sumLe(pay, n, sum);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  let c = ~(<u32>sum) & 0xffff;
  c = ((c >> 8) | (c << 8)) & 0xffff; // back to network order
  return c == 0 ? 0xffff : c; // 0 means "no checksum"; a computed 0 is sent as all ones
}
