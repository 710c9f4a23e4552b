// Test guest (CPU 1): the AceNIC driver (guest-lib/drivers/acenic.ts) on the board.
//
// TX: once the link is up, send N frames (boot argument NT_TX_FRAMES) back to back,
// keeping the TX ring full (refilled from the TX-done upcall). Each is a 1514-byte
// Ethernet frame carrying a 1500-byte IPv4/UDP packet, 10.0.0.1:5000 -> 10.0.0.2:6000:
// a 58-byte header (Ethernet, IPv4, UDP, 16-byte stream header: stream 1, sequence i,
// byte offset i * 1456), built per frame in one of 256 slots, and 1456 bytes of
// payload from the pattern buffer (a stand-in for a stream's ring buffer). Boot
// argument NT_TX_MODE: 0 = TWO fragments, the payload sent where it lies (zero copy,
// nicSend2); 1 = one fragment, header and payload copied into a 1514-byte TX buffer
// (nicSend1), the conventional way, for comparison. Checksums: NIC offload (IPv4
// header and UDP with pseudo header); the header leaves both fields zero.
// RX: then print "nic-test: rx ready"; the host injects NT_RX_ROUNDS rounds of three
// frames (60, 590 and 1514 bytes: minimum frame, 576-byte IP datagram, full frame),
// 10.0.0.2:6000 -> 10.0.0.1:5000, stream 9, sequence k, data = pattern at the stream's
// byte offset. Each frame is checked in the RX upcall (length by sequence, addresses,
// ports, IPv4 header checksum, stream header, every data byte) and counted per class.
// Reports (ktest): PASS/FAIL per check, VALUE txFrames, txInterrupts, txBurstNs, ...,
// VALUE rxAddr<class>/rxLen<class> (the last frame of each class: the host compares
// those buffer bytes too), DONE.
//
// Pattern (the host computes the same): PATTERN_BYTES + 2 KiB bytes, u32 little-endian
// words w[k] = j * 0x9E3779B1 ^ (j >> 5), j = k mod (PATTERN_BYTES / 4): stream byte
// offset o is pattern[o mod PATTERN_BYTES], and a frame's data never runs off the end.

import { IRQ_NIC } from "../../common/platform";
import { cpuId, now, bootArg } from "../../guest-lib/cpu";
import { dmaAlloc } from "../../guest-lib/dma";
import { kprint } from "../../guest-lib/console";
import { kcheck, kcheckEq, kvalue, kdone } from "../../guest-lib/ktest";
import { nic, nicInit, nicIntr, nicTxFree, nicSend1, nicSend2, nicSetTxDone, nicSetRx } from "../../guest-lib/drivers/acenic";

/** Boot arguments of this test (offsets in the BOOTINFO block; test/nic.test.ts). */
const NT_TX_FRAMES: u32 = 0x40;
const NT_RX_ROUNDS: u32 = 0x44;
const NT_TX_MODE: u32 = 0x48;

const PATTERN_BYTES: u32 = 1 << 20;
const HDR: u32 = 58; // 14 + 20 + 8 + 16
const DATA: u32 = 1456; // 1500 - 20 - 8 - 16
const HDR_SLOTS: u32 = 256; // > the frames the 256-BD ring can hold (255 of one BD)
const SRC_IP: u32 = 0x0a000001;
const DST_IP: u32 = 0x0a000002;
const TX_STREAM: u32 = 1;
const RX_STREAM: u32 = 9;

let pattern: usize = 0;
let template: usize = 0; // 42 bytes: Ethernet + IPv4 + UDP of every TX frame
let hdrs: usize = 0; // HDR_SLOTS x 64 bytes (mode 0) or x 1536 (mode 1: whole frames)
let hdrStride: usize = 64;
let txMode: u32 = 0;
let clientMac: usize = 0;

let txTotal: u32 = 0;
let txSent: u32 = 0;
let txDoneFrames: u32 = 0;
let txStart: u64 = 0;
let txIrqsAtStart: u64 = 0;
let txFinished = false;

let rxRounds: u32 = 0;
let rxSeq: u32 = 0; // next sequence number expected
let rxOffset: u64 = 0; // stream byte offset expected
const rxLens = new StaticArray<u32>(3);
const rxOk = new StaticArray<u32>(3);
const rxBad = new StaticArray<u32>(3);
const rxLastAddr = new StaticArray<u32>(3);
let rxOutOfOrder: u32 = 0;

// @ts-ignore: decorator
@inline function be16(p: usize, v: u32): void { store<u8>(p, <u8>(v >> 8)); store<u8>(p + 1, <u8>v); }
// @ts-ignore: decorator
@inline function be32(p: usize, v: u32): void { store<u32>(p, bswap<u32>(v)); }
// @ts-ignore: decorator
@inline function get16(p: usize): u32 { return (<u32>load<u8>(p) << 8) | load<u8>(p + 1); }
// @ts-ignore: decorator
@inline function get32(p: usize): u32 { return bswap<u32>(load<u32>(p)); }

export function boot(): void {
  let me = cpuId();
  txTotal = bootArg(me, NT_TX_FRAMES);
  rxRounds = bootArg(me, NT_RX_ROUNDS);
  txMode = bootArg(me, NT_TX_MODE);
  rxLens[0] = 60; rxLens[1] = 590; rxLens[2] = 1514;
  pattern = dmaAlloc(PATTERN_BYTES + 2048, 64);
  let words = (PATTERN_BYTES + 2048) >> 2;
  let mask = (PATTERN_BYTES >> 2) - 1;
  for (let k: u32 = 0; k < words; k++) {
    let j = k & mask;
    store<u32>(pattern + (<usize>k << 2), (j * 0x9e3779b1) ^ (j >> 5));
  }
  if (txMode == 1) hdrStride = 1536;
  hdrs = dmaAlloc(<usize>HDR_SLOTS * hdrStride, 64);
  clientMac = dmaAlloc(8, 8);
  store<u8>(clientMac, 2); store<u8>(clientMac + 5, 2); // 02:00:00:00:00:02
  nicSetTxDone(txDone);
  nicSetRx(rxFrame);
  nicInit(ready);
}

export function irq(vector: u32): void {
  if (vector == <u32>IRQ_NIC) nicIntr();
}

function ready(): void {
  kcheck("link up", nic.linkUp);
  buildTemplate();
  txStart = now();
  txIrqsAtStart = nic.interrupts;
  if (txTotal == 0) finishTx();
  else pump();
}

// ---------------------------------------------------------------------------------
// TX

function buildTemplate(): void {
  template = dmaAlloc(64, 64);
  let h = template;
  memory.copy(h, clientMac, 6); // destination: the measurement client
  memory.copy(h + 6, nic.mac, 6);
  be16(h + 12, 0x0800);
  let ip = h + 14;
  store<u8>(ip, 0x45); store<u8>(ip + 1, 0);
  be16(ip + 2, 20 + 8 + 16 + DATA); // 1500
  be16(ip + 4, 0);
  be16(ip + 6, 0x4000); // don't fragment
  store<u8>(ip + 8, 64); store<u8>(ip + 9, 17);
  be16(ip + 10, 0); // the NIC computes it
  be32(ip + 12, SRC_IP);
  be32(ip + 16, DST_IP);
  let udp = ip + 20;
  be16(udp, 5000); be16(udp + 2, 6000);
  be16(udp + 4, 8 + 16 + DATA);
  be16(udp + 6, 0); // the NIC computes it (pseudo header included)
}

/** Queue frames while the ring has room. A slot is reused 256 frames later, when the
 *  NIC has long taken it (the ring holds at most 255 frames). */
function pump(): void {
  let need: u32 = txMode == 1 ? 1 : 2;
  while (txSent < txTotal && nicTxFree() >= need) {
    let i = txSent;
    let off = <u64>i * DATA;
    let h = hdrs + <usize>(i & (HDR_SLOTS - 1)) * hdrStride;
    memory.copy(h, template, 42);
    be16(h + 18, i & 0xffff); // IP id
    be32(h + 42, TX_STREAM);
    be32(h + 46, i);
    be32(h + 50, <u32>(off >> 32));
    be32(h + 54, <u32>off);
    let pay = pattern + <usize>(off & <u64>(PATTERN_BYTES - 1));
    if (txMode == 1) {
      memory.copy(h + HDR, pay, DATA);
      if (!nicSend1(h, HDR + DATA, true)) break;
    } else if (!nicSend2(h, HDR, pay, DATA, true)) break;
    txSent++;
  }
}

function txDone(frames: u32, bds: u32): void {
  txDoneFrames += frames;
  pump();
  if (!txFinished && txDoneFrames >= txTotal) finishTx();
}

function finishTx(): void {
  txFinished = true;
  kcheckEq("tx frames taken by the NIC", txDoneFrames, txTotal);
  kcheckEq("tx frames queued", nic.txFrames, <u64>txTotal);
  kvalue("txFrames", nic.txFrames);
  kvalue("txBds", nic.txBds);
  kvalue("txInterrupts", nic.interrupts - txIrqsAtStart);
  kvalue("txBurstNs", now() - txStart);
  kvalue("txRefused", nic.txRefused);
  if (rxRounds == 0) finishRx();
  else kprint("nic-test: rx ready");
}

// ---------------------------------------------------------------------------------
// RX

function rxFrame(addr: usize, len: u32): void {
  let seq = get32(addr + 46);
  if (seq != rxSeq) { rxOutOfOrder++; rxSeq = seq; } // resynchronise: one count per gap
  let cls = seq % 3;
  let want = rxLens[cls];
  let data = want - HDR;
  let ok = len == want;
  ok = ok && memory.compare(addr, nic.mac, 6) == 0 && memory.compare(addr + 6, clientMac, 6) == 0;
  ok = ok && get16(addr + 12) == 0x0800;
  let ip = addr + 14;
  ok = ok && load<u8>(ip) == 0x45 && get16(ip + 2) == len - 14 && load<u8>(ip + 9) == 17;
  ok = ok && get32(ip + 12) == DST_IP && get32(ip + 16) == SRC_IP && ipSum(ip) == 0xffff;
  let udp = ip + 20;
  ok = ok && get16(udp) == 6000 && get16(udp + 2) == 5000 && get16(udp + 4) == len - 34;
  ok = ok && get32(udp + 8) == RX_STREAM && get32(udp + 16) == <u32>(rxOffset >> 32) && get32(udp + 20) == <u32>rxOffset;
  let exp = pattern + <usize>(rxOffset & <u64>(PATTERN_BYTES - 1));
  ok = ok && same(addr + HDR, exp, data);
  if (ok) rxOk[cls]++; else rxBad[cls]++;
  rxLastAddr[cls] = <u32>addr;
  rxSeq = seq + 1;
  rxOffset += data;
  if (rxSeq == rxRounds * 3) finishRx();
}

/** Equal bytes? Eight at a time with unaligned loads (memory.compare goes byte by byte
 *  when the two alignments differ: too slow to keep up with the wire). */
function same(a: usize, b: usize, n: u32): bool {
  let i: usize = 0;
  let end = <usize>n;
  for (; i + 8 <= end; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  for (; i < end; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

function ipSum(ip: usize): u32 {
  let s: u32 = 0;
  for (let k: usize = 0; k < 20; k += 2) s += get16(ip + k);
  while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
  return s;
}

function finishRx(): void {
  if (rxRounds > 0) {
    kcheck("rx minimum-size 60-byte frames land intact", rxOk[0] == rxRounds && rxBad[0] == 0);
    kcheck("rx 590-byte frames land intact", rxOk[1] == rxRounds && rxBad[1] == 0);
    kcheck("rx 1514-byte frames land intact", rxOk[2] == rxRounds && rxBad[2] == 0);
    kcheckEq("rx frames in order", rxOutOfOrder, 0);
    kcheckEq("rx errors", nic.rxErrors, 0);
    for (let c = 0; c < 3; c++) { kvalue(c == 0 ? "rxAddr60" : c == 1 ? "rxAddr590" : "rxAddr1514", rxLastAddr[c]); }
  }
  kvalue("rxFrames", nic.rxFrames);
  kvalue("rxBytes", nic.rxBytes);
  kvalue("interrupts", nic.interrupts);
  kvalue("spurious", nic.spurious);
  kvalue("events", nic.events);
  kdone();
}
