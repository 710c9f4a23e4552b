// Small text helpers for the kernel (no strings at run time: the kernel's runtime
// never frees): a cursor over bytes for parsing requests, and appending numbers and
// literals to byte buffers for replies and statistics.
//
// Interface: Scan (reset, skipSpace, word, quotedWord, u64, ipv4, mac, atEnd, eqWord),
// Out (reset, lit, u, dec3, byte, len)

@final
export class Scan {
  p: usize = 0;
  end: usize = 0;
  /** The last word: [ws, we). */
  ws: usize = 0;
  we: usize = 0;
  reset(p: usize, n: u32): void { this.p = p; this.end = p + n; }
  atEnd(): bool { this.skipSpace(); return this.p >= this.end; }
  skipSpace(): void {
    while (this.p < this.end) {
      let c = load<u8>(this.p);
      if (c != 32 && c != 9 && c != 10 && c != 13) break;
      this.p++;
    }
  }
  /** The next space-separated word; false at the end. */
  word(): bool {
    this.skipSpace();
    if (this.p >= this.end) return false;
    this.ws = this.p;
    while (this.p < this.end) {
      let c = load<u8>(this.p);
      if (c == 32 || c == 9 || c == 10 || c == 13) break;
      this.p++;
    }
    this.we = this.p;
    return true;
  }
  /** Like word(), but a word that starts with '"' runs to the next '"' (spaces and
   * all; no escapes) and [ws, we) is what lies between them. `quoted` says which. */
  quotedWord(): bool {
    this.skipSpace();
    if (this.p >= this.end || load<u8>(this.p) != 34) { this.quoted = false; return this.word(); }
    let q = this.p + 1;
    while (q < this.end && load<u8>(q) != 34) q++;
    if (q >= this.end) return false; // no closing quote
    this.quoted = true;
    this.ws = this.p + 1;
    this.we = q;
    this.p = q + 1;
    return true;
  }
  quoted: bool = false;
  /** Whether the last word is `s`. */
  eqWord(s: string): bool {
    let n = <usize>s.length;
    if (this.we - this.ws != n) return false;
    for (let i: usize = 0; i < n; i++) if (<u32>load<u8>(this.ws + i) != <u32>s.charCodeAt(<i32>i)) return false;
    return true;
  }
  /** The last word as a decimal number; -1 if it is not one. */
  num(): i64 {
    return parseDec(this.ws, this.we);
  }
}

/** Decimal digits in [p, end) as a number; -1 if empty, not digits, or too large. */
export function parseDec(p: usize, end: usize): i64 {
  if (p >= end || end - p > 18) return -1;
  let v: i64 = 0;
  for (let q = p; q < end; q++) {
    let c = <i64>load<u8>(q) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** "a.b.c.d" in [p, end) as a big-endian-valued u32 (a << 24 ...); -1 if malformed. */
export function parseIpv4(p: usize, end: usize): i64 {
  let v: i64 = 0;
  let parts = 0;
  let s = p;
  for (let q = p; q <= end; q++) {
    if (q == end || load<u8>(q) == 46) {
      let n = parseDec(s, q);
      if (n < 0 || n > 255) return -1;
      v = (v << 8) | n;
      parts++;
      s = q + 1;
    }
  }
  return parts == 4 ? v : -1;
}

function hexVal(c: u32): i32 {
  if (c >= 48 && c <= 57) return <i32>(c - 48);
  if (c >= 97 && c <= 102) return <i32>(c - 87);
  if (c >= 65 && c <= 70) return <i32>(c - 55);
  return -1;
}

/** "xx:xx:xx:xx:xx:xx" in [p, end) into 6 bytes at out; false if malformed. */
export function parseMac(p: usize, end: usize, out: usize): bool {
  if (end - p != 17) return false;
  for (let i: usize = 0; i < 6; i++) {
    let hi = hexVal(load<u8>(p + i * 3));
    let lo = hexVal(load<u8>(p + i * 3 + 1));
    if (hi < 0 || lo < 0 || (i < 5 && load<u8>(p + i * 3 + 2) != 58)) return false;
    store<u8>(out + i, <u8>((hi << 4) | lo));
  }
  return true;
}

/** Appends text to a byte buffer of fixed capacity (the rest is dropped). */
@final
export class Out {
  buf: usize = 0;
  cap: u32 = 0;
  len: u32 = 0;
  reset(buf: usize, cap: u32): Out { this.buf = buf; this.cap = cap; this.len = 0; return this; }
  byte(c: u32): Out { if (this.len < this.cap) store<u8>(this.buf + this.len++, <u8>c); return this; }
  lit(s: string): Out {
    for (let i = 0; i < s.length; i++) this.byte(<u32>s.charCodeAt(i));
    return this;
  }
  bytes(p: usize, n: u32): Out { for (let i: u32 = 0; i < n; i++) this.byte(load<u8>(p + i)); return this; }
  u(v: u64): Out {
    let tmp = memory.data(24);
    let i = 0;
    do { store<u8>(tmp + i++, <u8>(48 + <u32>(v % 10))); v /= 10; } while (v != 0);
    while (i > 0) this.byte(load<u8>(tmp + --i));
    return this;
  }
  d(v: i64): Out { if (v < 0) { this.byte(45); return this.u(<u64>(-v)); } return this.u(<u64>v); }
  /** A fixed-point number with 3 decimals from thousandths. */
  dec3(milli: u64): Out {
    this.u(milli / 1000).byte(46);
    let f = <u32>(milli % 1000);
    if (f < 100) this.byte(48);
    if (f < 10) this.byte(48);
    return this.u(f);
  }
}
