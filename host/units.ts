// Parsing of values given by people on the command line: one parser per kind of
// value, each refusing what it cannot take with the accepted form and range, so no
// option is ever taken silently as NaN, 0 or a value cut to 32 bits.
//
//   times     "10s", "250ms", "1.5us", "2h" (a bare number is seconds) -> integer ns
//   sizes     "18G", "512M" (powers of 1024)                           -> bytes
//   rates     "8.8Mbps", "18MB/s" (decimal prefixes)                   -> bit/s
//   seeds     whole numbers 0 .. 2^32-1 (the board's RNG takes 32 bits)
//   counts    whole numbers in [min, max] (stream counts, steps)
//   ranges    "a..b" or "a", whole numbers with min <= a <= b <= max
//   probabilities  decimal numbers in [0, 1] ("0.01", "1e-3")
//   factors   decimal numbers in [min, max] (the disk slow-down)
//   medium errors  "disk:lba:count"; the range is checked against the disk's size
//                  by checkMediumError once the board description is known
//
// Interface:
//   parseTime(text) parseSize(text) parseRate(text) parseSeed(text)
//   timeIn(min, max)(text)  countIn(min, max)(text)  rangeIn(min, max)(text)
//   rateIn(min, max)(text)  factorIn(min, max)(text)  parseProbability(text)
//   parseMediumError(text) -> { disk, lba, count };  checkMediumError(spec, sectors[])
//   cliArg(parser)   the same parser for commander: errors become InvalidArgumentError
//   formatNs(ns)
//
// Parsers throw Error with a message that names the value and what is accepted;
// cliArg turns that into commander's InvalidArgumentError, whose message commander
// prints after "option '--x <v>' argument 'abc' is invalid."

import { InvalidArgumentError } from "commander";

/** A parser made usable as commander's argParser (the message is kept). */
export function cliArg<T>(parse: (text: string) => T): (text: string) => T {
  return (text: string): T => {
    try {
      return parse(text);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

const TIME_UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, min: 60e9, h: 3600e9 };

/** Nanoseconds (integer) from "10s", "250ms", "1.5us", "42ns"; a bare number is seconds. */
export function parseTime(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zµ]*)\s*$/i.exec(text);
  if (!m) throw new Error(`cannot read the time "${text}": give a number with a unit (ns, us, ms, s, m, h), e.g. 10s or 250ms`);
  const unit = m[2].toLowerCase() || "s";
  const mult = TIME_UNITS[unit];
  if (mult === undefined) throw new Error(`unknown time unit "${m[2]}" in "${text}": use ns, us, ms, s, m or h`);
  const ns = Math.round(Number(m[1]) * mult);
  // Virtual time is an integer count of ns in a double: exact up to 2^53 ns (104 days).
  if (!Number.isSafeInteger(ns)) throw new Error(`the time "${text}" is too long (at most ${formatTime(Number.MAX_SAFE_INTEGER)})`);
  return ns;
}

/** "1.5 h", "250 ms": the unit that reads best, for messages. */
export function formatTime(ns: number): string {
  if (ns >= 3600e9 && ns % 3600e9 === 0) return `${ns / 3600e9}h`;
  if (ns >= 1e9) return `${+(ns / 1e9).toPrecision(6)}s`;
  if (ns >= 1e6) return `${+(ns / 1e6).toPrecision(6)}ms`;
  if (ns >= 1e3) return `${+(ns / 1e3).toPrecision(6)}us`;
  return `${ns}ns`;
}

/** A time parser that also requires min <= t <= max (ns). */
export function timeIn(minNs: number, maxNs: number): (text: string) => number {
  return (text: string): number => {
    const ns = parseTime(text);
    if (ns < minNs || ns > maxNs) throw new Error(`the time "${text}" is out of range: give ${formatTime(minNs)} to ${formatTime(maxNs)}`);
    return ns;
  };
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

/** Bits per second from "8.8Mbps", "1Gbps", "18MB/s" (decimal prefixes, as rates are); more than 0. */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(bps|b\/s|B\/s|Bps)\s*$/.exec(text);
  if (!m) throw new Error(`cannot read the rate "${text}": use e.g. 8.8Mbps or 18MB/s`);
  const mult = { "": 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as "" | "k" | "m" | "g"];
  const bytes = m[3] === "B/s" || m[3] === "Bps";
  const bps = Number(m[1]) * mult * (bytes ? 8 : 1);
  if (!(bps > 0) || !Number.isFinite(bps)) throw new Error(`the rate "${text}" must be more than 0`);
  return bps;
}

/** A rate parser that also requires min <= rate <= max (bit/s). */
export function rateIn(minBps: number, maxBps: number): (text: string) => number {
  const show = (b: number): string => (b >= 1e9 ? `${b / 1e9}Gbps` : b >= 1e6 ? `${b / 1e6}Mbps` : b >= 1e3 ? `${b / 1e3}kbps` : `${b}bps`);
  return (text: string): number => {
    const bps = parseRate(text);
    if (bps < minBps || bps > maxBps) throw new Error(`the rate "${text}" is out of range: give ${show(minBps)} to ${show(maxBps)}`);
    return bps;
  };
}

/** Whole numbers only: digits, no sign, no exponent, no fraction (so "1e23" and "1.5" are refused). */
function wholeNumber(text: string): number | undefined {
  const m = /^\s*(\d{1,16})\s*$/.exec(text);
  return m ? Number(m[1]) : undefined;
}

export const SEED_MAX = 0xffffffff;

/** A seed: a whole number 0 .. 2^32-1 (the board's RNG is seeded with 32 bits). */
export function parseSeed(text: string): number {
  const n = wholeNumber(text);
  if (n === undefined || n > SEED_MAX) throw new Error(`the seed "${text}" must be a whole number from 0 to ${SEED_MAX}`);
  return n;
}

/** A count: a whole number in [min, max]. */
export function countIn(min: number, max: number): (text: string) => number {
  return (text: string): number => {
    const n = wholeNumber(text);
    if (n === undefined || n < min || n > max) throw new Error(`"${text}" must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A range "a..b" (or one number "a"): whole numbers, min <= a <= b <= max. */
export function rangeIn(min: number, max: number): (text: string) => [number, number] {
  return (text: string): [number, number] => {
    const m = /^\s*(\d{1,16})(?:\s*\.\.\s*(\d{1,16}))?\s*$/.exec(text);
    const form = `a range a..b or one number, whole numbers from ${min} to ${max} with a <= b (e.g. ${min}..${max})`;
    if (!m) throw new Error(`cannot read "${text}": give ${form}`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (a < min || b > max || a > b) throw new Error(`"${text}" is out of range: give ${form}`);
    return [a, b];
  };
}

/** A decimal number: digits with an optional fraction and exponent (no sign, no "", no "0x"). */
function decimal(text: string): number | undefined {
  const m = /^\s*((?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*$/i.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** A probability: a decimal number from 0 to 1. */
export function parseProbability(text: string): number {
  const p = decimal(text);
  if (p === undefined || !(p >= 0 && p <= 1)) throw new Error(`"${text}" must be a probability, a number from 0 to 1 (e.g. 0.01)`);
  return p;
}

/** A factor: a decimal number in [min, max]. */
export function factorIn(min: number, max: number): (text: string) => number {
  return (text: string): number => {
    const f = decimal(text);
    if (f === undefined || !(f >= min && f <= max)) throw new Error(`"${text}" must be a number from ${min} to ${max}`);
    return f;
  };
}

export interface MediumErrorSpec {
  disk: number;
  lba: number;
  count: number;
  text: string;
}

/** "disk:lba:count": whole numbers, count >= 1. Whether it lies on the disk is
 *  checkMediumError's question (the disks' sizes are known later). */
export function parseMediumError(text: string): MediumErrorSpec {
  const m = /^\s*(\d{1,6}):(\d{1,16}):(\d{1,16})\s*$/.exec(text);
  const form = "disk:lba:count with whole numbers and count >= 1 (e.g. 1:1000:8)";
  if (!m) throw new Error(`cannot read the medium error "${text}": give ${form}`);
  const [disk, lba, count] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (count < 1 || !Number.isSafeInteger(lba + count)) throw new Error(`the medium error "${text}" is out of range: give ${form}`);
  return { disk, lba, count, text };
}

/** The range must lie on an existing disk: `sectors[i]` is disk i's size in blocks. */
export function checkMediumError(spec: MediumErrorSpec, sectors: number[]): void {
  if (spec.disk >= sectors.length) {
    throw new Error(`--medium-error ${spec.text}: there is no disk ${spec.disk} (disks 0 to ${sectors.length - 1})`);
  }
  const n = sectors[spec.disk];
  if (spec.lba + spec.count > n) {
    throw new Error(`--medium-error ${spec.text}: blocks ${spec.lba} to ${spec.lba + spec.count - 1} are past the end of disk ${spec.disk} (blocks 0 to ${n - 1})`);
  }
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
