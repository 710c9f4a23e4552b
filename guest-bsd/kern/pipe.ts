// Pipes: a ring buffer of PIPE_SIZE bytes with a read end and a write end. A reader
// of an empty pipe sleeps while a writer exists (0 = end of file when none is left); a
// writer of a full pipe sleeps while a reader exists (-EPIPE when none is left; WASI
// has no SIGPIPE). Writes of at most PIPE_SIZE bytes are atomic, as POSIX's PIPE_BUF
// asks: a writer waits until the whole piece fits.
//
// Interface: pipeInit(), pipeAlloc() -> index or -1, pipeRead/pipeWrite(i, buf, n,
// nonblock), pipeClose(i, writeEnd), pipeReadable(i)/pipeWritable(i) for poll.

import { NPIPE, PIPE_SIZE } from "./param";
import { E_AGAIN, E_PIPE, SYS_BLOCK } from "../../common/bsd-abi";
import { sleep, wakeup } from "./sched";

@final
class Pipe {
  buf: usize = 0;
  head: u32 = 0; // bytes written in all
  tail: u32 = 0; // bytes read in all
  readers: u32 = 0;
  writers: u32 = 0;
}

const pipes = new StaticArray<Pipe>(NPIPE);
export let pipeBytes: u64 = 0;

export function pipeInit(): void {
  for (let i: i32 = 0; i < NPIPE; i++) {
    let p = new Pipe();
    p.buf = heap.alloc(PIPE_SIZE);
    pipes[i] = p;
  }
}

export function pipeAlloc(): i32 {
  for (let i: i32 = 0; i < NPIPE; i++) {
    let p = pipes[i];
    if (p.readers == 0 && p.writers == 0) {
      p.head = 0; p.tail = 0; p.readers = 1; p.writers = 1;
      return i;
    }
  }
  return -1;
}

/** Channels: readers sleep on one, writers on the other. */
function readChan(i: i32): u32 { return 0x20000000 | <u32>i; }
function writeChan(i: i32): u32 { return 0x21000000 | <u32>i; }

export function pipeRead(i: i32, buf: usize, n: u32, nonblock: bool): i64 {
  let p = pipes[i];
  let avail = p.head - p.tail;
  if (avail == 0) {
    if (p.writers == 0) return 0;
    if (nonblock) return -E_AGAIN;
    sleep(readChan(i));
    return SYS_BLOCK;
  }
  let m = min<u32>(n, avail);
  for (let done: u32 = 0; done < m;) {
    let at = (p.tail + done) % PIPE_SIZE;
    let k = min<u32>(m - done, PIPE_SIZE - at);
    memory.copy(buf + done, p.buf + at, k);
    done += k;
  }
  p.tail += m;
  pipeBytes += <u64>m;
  wakeup(writeChan(i));
  return <i64>m;
}

export function pipeWrite(i: i32, buf: usize, n: u32, nonblock: bool): i64 {
  let p = pipes[i];
  if (p.readers == 0) return -E_PIPE;
  let room = PIPE_SIZE - (p.head - p.tail);
  let atomic = n <= PIPE_SIZE;
  if (room == 0 || (atomic && room < n)) {
    if (nonblock) return -E_AGAIN;
    sleep(writeChan(i));
    return SYS_BLOCK;
  }
  let m = min<u32>(n, room);
  for (let done: u32 = 0; done < m;) {
    let at = (p.head + done) % PIPE_SIZE;
    let k = min<u32>(m - done, PIPE_SIZE - at);
    memory.copy(p.buf + at, buf + done, k);
    done += k;
  }
  p.head += m;
  wakeup(readChan(i));
  return <i64>m;
}

export function pipeClose(i: i32, writeEnd: bool): void {
  let p = pipes[i];
  if (writeEnd) { if (p.writers > 0) p.writers--; wakeup(readChan(i)); }
  else { if (p.readers > 0) p.readers--; wakeup(writeChan(i)); }
}

export function pipeAddRef(i: i32, writeEnd: bool): void {
  if (writeEnd) pipes[i].writers++; else pipes[i].readers++;
}

export function pipeReadable(i: i32): bool {
  let p = pipes[i];
  return p.head != p.tail || p.writers == 0;
}

export function pipeWritable(i: i32): bool {
  let p = pipes[i];
  return p.readers == 0 || p.head - p.tail < PIPE_SIZE;
}
