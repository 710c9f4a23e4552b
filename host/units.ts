// Parsing of quantities given by people: times with units ("10s", "250ms", "1.5us"),
// sizes ("18G", "512M"; powers of 1024) and rates ("8.8Mbps", "18MB/s").
// Errors say what was wrong and what is accepted.

const TIME_UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, min: 60e9, h: 3600e9 };

/** Nanoseconds (integer) from "10s", "250ms", "1.5us", "42ns"; a bare number is seconds. */
export function parseTime(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zµ]*)\s*$/i.exec(text);
  if (!m) throw new Error(`cannot read the time "${text}": give a number with a unit (ns, us, ms, s, m, h), e.g. 10s or 250ms`);
  const unit = m[2].toLowerCase() || "s";
  const mult = TIME_UNITS[unit];
  if (mult === undefined) throw new Error(`unknown time unit "${m[2]}" in "${text}": use ns, us, ms, s, m or h`);
  return Math.round(Number(m[1]) * mult);
}

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes from "18G", "512M", "64k", "4096" (K/M/G/T are powers of 1024; an optional B/iB is allowed). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`cannot read the size "${text}": give a number with an optional K, M, G or T (powers of 1024), e.g. 18G`);
  const v = Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()];
  if (!Number.isSafeInteger(v)) throw new Error(`size "${text}" is not a whole number of bytes`);
  return v;
}

/** Bits per second from "8.8Mbps", "1Gbps", "18MB/s" (decimal prefixes, as rates are). */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(bps|b\/s|B\/s|Bps)\s*$/.exec(text);
  if (!m) throw new Error(`cannot read the rate "${text}": use e.g. 8.8Mbps or 18MB/s`);
  const mult = { "": 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as "" | "k" | "m" | "g"];
  const bytes = m[3] === "B/s" || m[3] === "Bps";
  return Number(m[1]) * mult * (bytes ? 8 : 1);
}

export function formatNs(ns: number): string {
  return (ns / 1e9).toFixed(6) + " s";
}

/** A volume id (`disk import --volume-id`): a whole number from 0 to 2^64 - 1, decimal
 *  or 0x hexadecimal. */
export function parseVolumeId(text: string): bigint {
  const t = text.trim();
  const ok = /^(0x[0-9a-f]{1,16}|\d{1,20})$/i.test(t);
  const v = ok ? BigInt(t) : -1n;
  if (v < 0n || v >= 1n << 64n) {
    throw new Error(`cannot read the volume id "${text}": give a whole number from 0 to 18446744073709551615, decimal or 0x hexadecimal`);
  }
  return v;
}

/** The stream period a file is chunked for (`disk import --period`): a time from 1 ms
 *  to 10 s (HiTactix runs its distribution thread every 256 ms), in ns. */
export function parsePeriod(text: string): number {
  const ns = parseTime(text);
  if (!(ns >= 1_000_000 && ns <= 10_000_000_000)) {
    throw new Error(`the period "${text}" is out of range: give a time from 1ms to 10s (HiTactix's period is 256ms)`);
  }
  return ns;
}
