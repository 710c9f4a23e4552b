// The HiTactix driver (/dev/htx): BSD's side of the mailbox to HiTactix (PAPER.md
// Fig. 1 and 3). An application starts a stream with one write() and stops it with
// one; uploads go to HiTactix's disk I/O control thread as non-real-time writes.
//
// The device is a control file, in the manner of Plan 9's: each open is a session;
// each write() is one request in text, and each read() returns the next reply line of
// that session (blocking while requests are outstanding; 0 when none is). Requests:
//   start FILE IP:PORT [loop] [noadmit] [mac XX:XX:XX:XX:XX:XX] [sport N]
//         FILE is a file of the stream volume: its name, or its index in the
//         directory as "#N" or "N". A name in double quotes may hold spaces, and is
//         a name even if it is all digits. A name is looked up first (MSG_LOOKUP),
//         then the stream started: still one write() and one reply.
//         -> "ok start ID" ("ok start ID past-admission" when noadmit started a stream
//         admission control would have refused) | "error start REASON"
//   stop ID                        -> "ok stop ID"
//   stats ID                       -> "ok stats ID BYTES LATE"
//   file FILE                      -> "ok file INDEX SIZE RATE NAME" (bytes, bits/s);
//         "file #N" of each N from 0 until "error file no-such-file" lists the volume
//   write DISK LBA BYTES\n<BYTES of data, in this write or the following ones>
//         an upload: the data goes to HiTactix's disk DISK at LBA (sectors of 512 B)
//         as a non-real-time write       -> "ok write LBA" | "error write REASON"
//   ping                           -> "ok ping"
// A session may have up to NOUT requests outstanding; one more write() blocks until a
// reply comes. Upload data waits in the upload pool (DMA-able kernel memory) until
// HiTactix has written it; a write that finds the pool full blocks.
//
// Interface: htxInit(), htxIntr() from irq(IRQ_IPI), htxOpen() -> session or -errno,
// htxRead/htxWrite/htxClose/htxReadable (dev.ts), htx* counters (kstat.ts)

import { MBOX_BSD_TO_HTX, MBOX_HTX_TO_BSD, BSD_HIGH_BASE } from "../../common/memmap";
import {
  MSG_PING, MSG_PONG, MSG_REPLY, MSG_STREAM_START, MSG_STREAM_STOP, MSG_WRITE, MSG_STATS, MSG_LOOKUP, MSG_FILE_NAME,
  MSG_NAME_WORDS, FLAG_LOOP, FLAG_NO_ADMISSION,
  ERR_NO_SUCH_FILE, ERR_ADMISSION, ERR_TABLE_FULL, ERR_NO_SUCH_STREAM, ERR_NOT_MOUNTED, ERR_BAD_REQUEST, ERR_NO_MEMORY,
} from "../../common/platform";
import { E_INVAL, E_AGAIN, E_NOMEM, SYS_BLOCK } from "../../common/bsd-abi";
import { mboxInit, mboxSendArgs, mboxRecv, mboxDone, rxType, rxSeq, rxArg } from "../../guest-lib/mailbox";
import { sendIpi } from "../../guest-lib/cpu";
import { sleep, wakeup } from "./sched";
import { Scan, Out, parseIpv4, parseMac, parseDec } from "./text";
import { UPLOAD_POOL, UPLOAD_UNIT } from "./param";
import { DE_NAME_MAX } from "../../common/sfs";

const HTX_CPU: u32 = 1;
const NSESS: i32 = 16;
const NOUT: u32 = 16; // outstanding requests per session
const NREQ: i32 = 128;
const LINE: u32 = 128; // bytes per reply line (the longest, "ok file", is ~110)
const K_START: u8 = 1;
const K_STOP: u8 = 2;
const K_STATS: u8 = 3;
const K_WRITE: u8 = 4;
const K_PING: u8 = 5;
const K_FILE: u8 = 6;
// A request's steps: most are one message; a start by name and "file" are two or three.
const P_FINAL: u8 = 0; // the message whose reply answers the request
const P_LOOKUP: u8 = 1; // MSG_LOOKUP for a name; then the start, or the file's line
const P_NAME: u8 = 2; // MSG_FILE_NAME for "file #N"; then MSG_LOOKUP

@final
class Session {
  inUse: bool = false;
  outstanding: u32 = 0;
  /** Reply lines: a ring of NOUT lines of LINE bytes. */
  lines: usize = 0;
  lineLen: StaticArray<u32> = new StaticArray<u32>(NOUT);
  rHead: u32 = 0;
  rTail: u32 = 0;
  /** An upload whose data is still arriving: its request, or -1. */
  filling: i32 = -1;
}

@final
class Req {
  inUse: bool = false;
  sent: bool = false;
  seq: u32 = 0;
  session: i32 = 0;
  kind: u8 = 0;
  args: usize = 0; // 14 u32 message arguments
  name: usize = 0; // 14 u32: a name's MSG_LOOKUP arguments (a0..a11, NUL padded)
  phase: u8 = P_FINAL;
  type: u32 = 0; // the message to send (again, if the ring was full)
  msg: usize = 0; // its arguments: args or name
  nargs: u32 = 0;
  size: u64 = 0; // a looked-up file's size and rate
  rate: u64 = 0;
  id: u32 = 0; // stream id (stop, stats) or LBA (write), for the reply text
  buf: usize = 0; // upload data
  bytes: u32 = 0; // upload size
  filled: u32 = 0;
  units: u32 = 0; // pool units held
  firstUnit: u32 = 0;
}

const sessions = new StaticArray<Session>(NSESS);
const reqs = new StaticArray<Req>(NREQ);
let nextSeq: u32 = 1;
let pool: usize = 0;
let poolUnits: u32 = 0;
let unitUsed: StaticArray<bool> = new StaticArray<bool>(0);
let scan = new Scan();
let out = new Out();
export let htxRequests: u64 = 0;
export let htxReplies: u64 = 0;
export let htxErrors: u64 = 0;
export let htxUploadBytes: u64 = 0;
export let htxRingFull: u64 = 0;

function sessChan(s: i32): u32 { return 0x40000000 | <u32>s; }
const POOL_CHAN: u32 = 0x40010000;

export function htxInit(): void {
  mboxInit(MBOX_BSD_TO_HTX);
  for (let i: i32 = 0; i < NSESS; i++) {
    let s = new Session();
    s.lines = heap.alloc(<usize>(NOUT * LINE));
    sessions[i] = s;
  }
  for (let i: i32 = 0; i < NREQ; i++) {
    let r = new Req();
    r.args = heap.alloc(14 * 4);
    r.name = heap.alloc(14 * 4);
    reqs[i] = r;
  }
  poolUnits = UPLOAD_POOL / UPLOAD_UNIT;
  pool = <usize>BSD_HIGH_BASE; // high memory: the kernel's own pages, outside its heap
  unitUsed = new StaticArray<bool>(<i32>poolUnits);
}

/** A new session for an open of /dev/htx. */
export function htxOpen(): i32 {
  for (let i: i32 = 0; i < NSESS; i++) {
    let s = sessions[i];
    if (s.inUse) continue;
    s.inUse = true; s.outstanding = 0; s.rHead = 0; s.rTail = 0; s.filling = -1;
    return i;
  }
  return -E_AGAIN;
}

export function htxClose(sess: u32): void {
  let s = sessions[<i32>sess];
  s.inUse = false;
  // Requests in flight stay until HiTactix answers (their data must stay put); an
  // upload whose data never arrived is dropped now.
  if (s.filling >= 0) { freeReq(reqs[s.filling]); s.filling = -1; }
}

export function htxReadable(sess: u32): bool {
  let s = sessions[<i32>sess];
  return s.rHead != s.rTail || s.outstanding == 0;
}

export function htxRead(sess: u32, buf: usize, n: u32, nonblock: bool): i64 {
  let s = sessions[<i32>sess];
  if (s.rHead == s.rTail) {
    if (s.outstanding == 0) return 0;
    if (nonblock) return -E_AGAIN;
    sleep(sessChan(<i32>sess));
    return SYS_BLOCK;
  }
  let slot = s.rTail % NOUT;
  let len = s.lineLen[slot];
  if (n < len) return -E_INVAL; // a reply is read whole
  memory.copy(buf, s.lines + <usize>(slot * LINE), len);
  s.rTail++;
  return <i64>len;
}

export function htxWrite(sess: u32, buf: usize, n: u32): i64 {
  let s = sessions[<i32>sess];
  if (s.filling >= 0) return fillUpload(s, buf, n);
  if (s.outstanding + (s.rHead - s.rTail) >= NOUT) {
    sleep(sessChan(<i32>sess));
    return SYS_BLOCK;
  }
  scan.reset(buf, n);
  if (!scan.word()) return -E_INVAL;
  if (scan.eqWord("start")) return start(sess, s, n);
  if (scan.eqWord("stop")) return simple(sess, s, n, K_STOP, MSG_STREAM_STOP);
  if (scan.eqWord("stats")) return simple(sess, s, n, K_STATS, MSG_STATS);
  if (scan.eqWord("ping")) return simple(sess, s, n, K_PING, MSG_PING);
  if (scan.eqWord("file")) return file(sess, s, n);
  if (scan.eqWord("write")) return upload(sess, s, buf, n);
  return -E_INVAL;
}

function allocReq(sess: u32, kind: u8): Req | null {
  for (let i: i32 = 0; i < NREQ; i++) {
    let r = reqs[i];
    if (r.inUse) continue;
    r.inUse = true; r.sent = false; r.session = <i32>sess; r.kind = kind; r.seq = nextSeq++;
    r.id = 0; r.buf = 0; r.bytes = 0; r.filled = 0; r.units = 0;
    r.phase = P_FINAL; r.type = 0; r.size = 0; r.rate = 0;
    memory.fill(r.args, 0, 14 * 4);
    memory.fill(r.name, 0, 14 * 4);
    return r;
  }
  return null;
}

function freeReq(r: Req): void {
  if (r.units != 0) {
    for (let u: u32 = 0; u < r.units; u++) unitUsed[<i32>(r.firstUnit + u)] = false;
    r.units = 0;
    wakeup(POOL_CHAN);
  }
  r.inUse = false;
}

// The FILE word of a request (read with scan.quotedWord()): an index ("#N", or digits
// only, unquoted), >= 0; a name, which is left in nameBuf (NUL padded), -1; not a valid
// name or index, -2.
const nameBuf = memory.data(MSG_NAME_WORDS * 4);

function fileWord(): i64 {
  let ws = scan.ws;
  let digits = ws < scan.we && !scan.quoted;
  for (let p = ws; p < scan.we; p++) { let c = load<u8>(p); if (c < 48 || c > 57) digits = false; }
  if ((load<u8>(ws) == 35 && !scan.quoted) || digits) { // "#N" or "N"
    if (load<u8>(ws) == 35) ws++;
    let v = parseDec(ws, scan.we);
    return v < 0 || v > 0xffffffff ? -2 : v;
  }
  let len = <u32>(scan.we - ws);
  if (len == 0 || len > DE_NAME_MAX) return -2;
  memory.fill(nameBuf, 0, MSG_NAME_WORDS * 4);
  memory.copy(nameBuf, ws, len);
  return -1;
}

function start(sess: u32, s: Session, n: u32): i64 {
  if (!scan.quotedWord()) return -E_INVAL;
  let file = fileWord();
  if (file == -2) return -E_INVAL;
  if (!scan.word()) return -E_INVAL;
  let colon = scan.ws;
  while (colon < scan.we && load<u8>(colon) != 58) colon++;
  let ip = parseIpv4(scan.ws, colon);
  let port = colon < scan.we ? parseDec(colon + 1, scan.we) : -1;
  if (ip < 0 || port <= 0 || port > 65535) return -E_INVAL;
  let flags: u32 = 0;
  let sport: i64 = 5000;
  let mac = memory.data(8);
  // Without a MAC the stream goes to the broadcast address of the segment.
  for (let i = 0; i < 6; i++) store<u8>(mac + i, 0xff);
  while (scan.word()) {
    if (scan.eqWord("loop")) flags |= FLAG_LOOP;
    else if (scan.eqWord("noadmit")) flags |= FLAG_NO_ADMISSION;
    else if (scan.eqWord("mac")) { if (!scan.word() || !parseMac(scan.ws, scan.we, mac)) return -E_INVAL; }
    else if (scan.eqWord("sport")) { if (!scan.word()) return -E_INVAL; sport = scan.num(); if (sport <= 0 || sport > 65535) return -E_INVAL; }
    else return -E_INVAL;
  }
  let r = allocReq(sess, K_START);
  if (r == null) { sleep(POOL_CHAN); return SYS_BLOCK; }
  store<u32>(r.args, <u32>file); // by name: set from the lookup's reply
  store<u32>(r.args + 4, <u32>ip);
  store<u32>(r.args + 8, <u32>port | (<u32>sport << 16));
  store<u32>(r.args + 12, flags);
  store<u32>(r.args + 16, load<u32>(mac));
  store<u32>(r.args + 20, <u32>load<u16>(mac + 4));
  if (file == -1) {
    memory.copy(r.name, nameBuf, MSG_NAME_WORDS * 4);
    r.phase = P_LOOKUP;
    send(r, s, MSG_LOOKUP, r.name, MSG_NAME_WORDS);
  } else {
    send(r, s, MSG_STREAM_START, r.args, 6);
  }
  return <i64>n;
}

/** "file FILE": a name is looked up; an index is named first, then looked up. */
function file(sess: u32, s: Session, n: u32): i64 {
  if (!scan.quotedWord()) return -E_INVAL;
  let f = fileWord();
  if (f == -2 || scan.word()) return -E_INVAL;
  let r = allocReq(sess, K_FILE);
  if (r == null) { sleep(POOL_CHAN); return SYS_BLOCK; }
  if (f == -1) {
    memory.copy(r.name, nameBuf, MSG_NAME_WORDS * 4);
    r.phase = P_LOOKUP;
    send(r, s, MSG_LOOKUP, r.name, MSG_NAME_WORDS);
  } else {
    r.phase = P_NAME;
    store<u32>(r.args, <u32>f);
    send(r, s, MSG_FILE_NAME, r.args, 1);
  }
  return <i64>n;
}

function simple(sess: u32, s: Session, n: u32, kind: u8, type: u32): i64 {
  let id: i64 = 0;
  if (kind != K_PING) {
    if (!scan.word()) return -E_INVAL;
    id = scan.num();
    if (id < 0 || id > 0xffff) return -E_INVAL;
  }
  let r = allocReq(sess, kind);
  if (r == null) { sleep(POOL_CHAN); return SYS_BLOCK; }
  r.id = <u32>id;
  store<u32>(r.args, <u32>id);
  send(r, s, type, r.args, 1);
  return <i64>n;
}

/** "write DISK LBA BYTES\n" and, after the newline, the first of the data. */
function upload(sess: u32, s: Session, buf: usize, n: u32): i64 {
  if (!scan.word()) return -E_INVAL;
  let disk = scan.num();
  if (!scan.word()) return -E_INVAL;
  let lba = scan.num();
  if (!scan.word()) return -E_INVAL;
  let bytes = scan.num();
  if (disk < 0 || disk > 7 || lba < 0 || lba > 0xffffffff || bytes <= 0 || bytes > <i64>UPLOAD_POOL) return -E_INVAL;
  // The header ends at the first newline; data may follow it in the same write.
  let nl = buf;
  while (nl < buf + n && load<u8>(nl) != 10) nl++;
  if (nl >= buf + n) return -E_INVAL;
  let units = <u32>((bytes + <i64>UPLOAD_UNIT - 1) / <i64>UPLOAD_UNIT);
  let first = findUnits(units);
  if (first < 0) {
    if (units > poolUnits) return -E_NOMEM;
    sleep(POOL_CHAN); // the pool is full: wait for an upload to finish
    return SYS_BLOCK;
  }
  let r = allocReq(sess, K_WRITE);
  if (r == null) { sleep(POOL_CHAN); return SYS_BLOCK; }
  for (let u: u32 = 0; u < units; u++) unitUsed[<i32>(<u32>first + u)] = true;
  r.units = units;
  r.firstUnit = <u32>first;
  r.buf = pool + <usize>(<u32>first * UPLOAD_UNIT);
  r.bytes = <u32>bytes;
  r.id = <u32>lba;
  store<u32>(r.args, <u32>disk);
  store<u32>(r.args + 4, <u32>lba);
  store<u32>(r.args + 8, <u32>((bytes + 511) / 512));
  store<u32>(r.args + 12, <u32>r.buf);
  let idx = reqIndex(r);
  s.filling = idx;
  let headerLen = <u32>(nl + 1 - buf);
  if (headerLen < n) fillUpload(s, nl + 1, n - headerLen);
  return <i64>n;
}

function fillUpload(s: Session, buf: usize, n: u32): i64 {
  let r = reqs[s.filling];
  let m = min<u32>(n, r.bytes - r.filled);
  memory.copy(r.buf + r.filled, buf, m);
  r.filled += m;
  if (r.filled == r.bytes) {
    let tail = <u32>(((<u64>r.bytes + 511) & ~511) - <u64>r.bytes);
    if (tail != 0) memory.fill(r.buf + r.bytes, 0, tail); // the last sector's padding
    s.filling = -1;
    htxUploadBytes += <u64>r.bytes;
    send(r, s, MSG_WRITE, r.args, 4);
  }
  return <i64>m;
}

function findUnits(units: u32): i32 {
  let run: u32 = 0;
  for (let u: u32 = 0; u < poolUnits; u++) {
    run = unitUsed[<i32>u] ? 0 : run + 1;
    if (run == units) return <i32>(u + 1 - units);
  }
  return -1;
}

function reqIndex(r: Req): i32 {
  for (let i: i32 = 0; i < NREQ; i++) if (reqs[i] === r) return i;
  return -1;
}

function send(r: Req, s: Session, type: u32, msg: usize, nargs: u32): void {
  s.outstanding++;
  htxRequests++;
  post(r, type, msg, nargs);
}

/** Send one of the request's messages (remembered for a resend). */
function post(r: Req, type: u32, msg: usize, nargs: u32): void {
  r.type = type; r.msg = msg; r.nargs = nargs;
  r.sent = false;
  if (mboxSendArgs(MBOX_BSD_TO_HTX, type, r.seq, msg, nargs)) { r.sent = true; sendIpi(HTX_CPU); }
  else htxRingFull++; // sent from htxIntr when HiTactix has drained the ring
}

/** Requests that found the ring full, in order. */
function resend(): void {
  let any = false;
  for (let i: i32 = 0; i < NREQ; i++) {
    let r = reqs[i];
    if (!r.inUse || r.sent || r.kind == 0 || (r.kind == K_WRITE && r.filled != r.bytes)) continue;
    if (r.type == 0) continue;
    if (!mboxSendArgs(MBOX_BSD_TO_HTX, r.type, r.seq, r.msg, r.nargs)) break;
    r.sent = true;
    any = true;
  }
  if (any) sendIpi(HTX_CPU);
}

/** IPI from HiTactix: replies, and room in the ring for what waited. */
export function htxIntr(): void {
  while (mboxRecv(MBOX_HTX_TO_BSD)) {
    if (rxType == MSG_REPLY || rxType == MSG_PONG) reply(rxSeq, rxType == MSG_PONG ? 0 : <i32>rxArg(0), rxArg(1), (<u64>rxArg(3) << 32) | rxArg(2));
  }
  mboxDone(MBOX_HTX_TO_BSD, HTX_CPU);
  resend();
}

function reply(seq: u32, result: i32, reason: u32, bytes: u64): void {
  let r: Req | null = null;
  for (let i: i32 = 0; i < NREQ; i++) if (reqs[i].inUse && reqs[i].sent && reqs[i].seq == seq) { r = reqs[i]; break; }
  if (r == null) return; // not ours (a stale reply)
  htxReplies++;
  if (result >= 0 && r.phase != P_FINAL && !nextStep(r)) return;
  let s = sessions[r.session];
  let slot = s.rHead % NOUT;
  out.reset(s.lines + <usize>(slot * LINE), LINE - 1);
  out.lit(result >= 0 ? "ok " : "error ");
  let k = r.kind;
  out.lit(k == K_START ? "start" : k == K_STOP ? "stop" : k == K_STATS ? "stats" : k == K_WRITE ? "write" : k == K_FILE ? "file" : "ping");
  if (result < 0) {
    htxErrors++;
    out.byte(32).lit(reasonText(reason, k));
  } else if (k == K_START) {
    out.byte(32).u(<u64>result);
    if (reason == ERR_ADMISSION) out.lit(" past-admission"); // started as asked, against admission's verdict
  }
  else if (k == K_STOP) out.byte(32).u(r.id);
  else if (k == K_STATS) out.byte(32).u(r.id).byte(32).u(bytes).byte(32).u(reason);
  else if (k == K_WRITE) out.byte(32).u(r.id);
  else if (k == K_FILE) {
    out.byte(32).u(r.id).byte(32).u(r.size).byte(32).u(r.rate).byte(32);
    let len: u32 = 0;
    while (len < DE_NAME_MAX && load<u8>(r.name + len) != 0) len++;
    out.bytes(r.name, len);
  }
  out.byte(10);
  s.lineLen[slot] = out.len;
  if (s.inUse) s.rHead++;
  if (s.outstanding > 0) s.outstanding--;
  freeReq(r);
  wakeup(sessChan(r.session));
}

/** A step of a two-step request answered, from its reply (still in the receive
 * buffer): true if that answers the request, false if its next message is sent (the
 * request keeps its session's slot, under a new seq). */
function nextStep(r: Req): bool {
  if (r.phase == P_NAME) { // "file #N": now look the name up, for its size and rate
    for (let i: u32 = 0; i < <u32>MSG_NAME_WORDS; i++) store<u32>(r.name + (<usize>i << 2), rxArg(2 + i));
    r.phase = P_LOOKUP;
    r.seq = nextSeq++;
    post(r, MSG_LOOKUP, r.name, MSG_NAME_WORDS);
    return false;
  }
  // P_LOOKUP answered: a0 = index, a2/a3 = size, a4/a5 = rate
  let fi = rxArg(0);
  r.size = (<u64>rxArg(3) << 32) | rxArg(2);
  r.rate = (<u64>rxArg(5) << 32) | rxArg(4);
  r.phase = P_FINAL;
  if (r.kind != K_START) { r.id = fi; return true; } // K_FILE: answered
  store<u32>(r.args, fi);
  r.seq = nextSeq++;
  post(r, MSG_STREAM_START, r.args, 6);
  return false;
}

function reasonText(reason: u32, kind: u8): string {
  if (reason == ERR_NO_SUCH_FILE) return "no-such-file";
  if (reason == ERR_ADMISSION) return "admission-refused";
  if (reason == ERR_TABLE_FULL) return "table-full";
  if (reason == ERR_NO_SUCH_STREAM) return "no-such-stream";
  if (reason == ERR_NOT_MOUNTED) return "not-mounted";
  if (reason == ERR_BAD_REQUEST) return "bad-request";
  if (reason == ERR_NO_MEMORY) return "no-memory";
  return kind == K_WRITE ? "disk-error" : "failed";
}
