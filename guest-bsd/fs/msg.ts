// Text the file system hands out without allocating: fixed byte buffers, filled from
// string literals (which live in the data segment) and numbers. Used for why mount
// refused an image, what mount did (a replay), the detail of an EIO (which inode
// pointer was bad), and the fsck report.
//
// Interface:
//   Text(capacity)          a buffer; .ptr, .len, reset(), str(literal), num(u64),
//                           bytes(ptr, len), line() (ends a line; counts lines),
//                           full (past capacity: the rest is dropped, `dropped` counts)
//   fsReason, fsNotes, fsReport   the three buffers (allocated by msgInit)

export class Text {
  ptr: usize;
  cap: u32;
  len: u32 = 0;
  lines: u32 = 0;
  /** Lines that did not fit. */
  dropped: u32 = 0;
  private lineStart: u32 = 0;

  constructor(cap: u32) {
    this.cap = cap;
    this.ptr = heap.alloc(cap);
  }

  reset(): Text {
    this.len = 0;
    this.lines = 0;
    this.dropped = 0;
    this.lineStart = 0;
    return this;
  }

  private put(c: u32): void {
    if (this.len < this.cap) store<u8>(this.ptr + this.len, <u8>c);
    this.len++; // past cap: the line is cut back in line()
  }

  /** Append a string literal (ASCII); charCodeAt of a literal does not allocate. */
  str(s: string): Text {
    let n = s.length;
    for (let i = 0; i < n; i++) this.put(<u32>s.charCodeAt(i));
    return this;
  }

  num(v: u64): Text {
    let digits: u64 = 1;
    while (v / digits >= 10) digits *= 10;
    while (digits > 0) {
      this.put(<u32>((v / digits) % 10) + 48);
      digits /= 10;
    }
    return this;
  }

  /** Append raw bytes (a name from a directory entry: shown as is, '?' for control bytes). */
  bytes(p: usize, n: u32): Text {
    for (let i: u32 = 0; i < n; i++) {
      let c = <u32>load<u8>(p + i);
      this.put(c < 32 || c == 127 ? 63 : c);
    }
    return this;
  }

  /** End the current line; a line that did not fit whole is removed and counted. */
  line(): void {
    this.put(10);
    if (this.len > this.cap) {
      this.len = this.lineStart;
      this.dropped++;
    } else {
      this.lines++;
      this.lineStart = this.len;
    }
  }

  /** The text as one line without the newline (for the reason buffer). */
  end(): void {
    if (this.len > this.cap) this.len = this.cap;
  }
}

export let fsReason: Text = changetype<Text>(0);
export let fsNotes: Text = changetype<Text>(0);
export let fsReport: Text = changetype<Text>(0);

export function msgInit(reportBytes: u32): void {
  if (changetype<usize>(fsReason) != 0) return;
  fsReason = new Text(512);
  fsNotes = new Text(1024);
  fsReport = new Text(reportBytes);
}
