// A CPU's busy time per load window, in bounded memory however long the run.
//
// Recent history is kept at full resolution: the last FINE_WINDOWS windows (2^16, i.e.
// 655 s at the board's 10 ms) in a ring. Windows that fall out of that horizon are
// added into a coarse history of COARSE_BINS bins; a bin starts as COARSE_FIRST_SPAN
// windows (1 s at 10 ms) and, when the bins are all used, neighbours are merged in
// pairs and the span doubles (2 s, 4 s, ...). Memory is 1 MiB per CPU for ever; a
// 100-hour run keeps 1 s ... 8 s bins for its old history (before, every 10 ms window
// was kept: ~1 GB at 100 virtual hours).
//
// What callers see does not change within the horizon: the experiments read recent
// windows (fast-io measures seconds after its streams start). A window older than the
// horizon reads as the mean load of the coarse bin that holds it.
//
// Interface:
//   new LoadWindows(windowNs)
//   add(startNs, endNs)           busy time [start, end) (runs arrive in time order)
//   series(untilNs, fromNs = 0)   load 0..1 of each window in [from, until)
//   fineFromNs                    start of the full-resolution horizon
//   coarseSpanNs                  current width of a coarse bin
//   bytes                         memory held (constant)

export const FINE_WINDOWS = 1 << 16;
export const COARSE_BINS = 1 << 16;
export const COARSE_FIRST_SPAN = 100;

export class LoadWindows {
  /** Busy ns of window i at fine[i % FINE_WINDOWS], for i >= fineFirst. */
  private readonly fine = new Float64Array(FINE_WINDOWS);
  /** Oldest window still in the ring; windows below it are in the coarse history. */
  private fineFirst = 0;
  /** Busy ns per coarse bin; bin b covers windows [b * span, (b + 1) * span). */
  private coarse = new Float64Array(COARSE_BINS);
  /** Windows per coarse bin. */
  private span = COARSE_FIRST_SPAN;

  constructor(readonly windowNs: number) {}

  get fineFromNs(): number {
    return this.fineFirst * this.windowNs;
  }

  get coarseSpanNs(): number {
    return this.span * this.windowNs;
  }

  get bytes(): number {
    return this.fine.byteLength + this.coarse.byteLength;
  }

  /** Add busy time [start, end). start is never before the horizon (time moves forward). */
  add(start: number, end: number): void {
    const w = this.windowNs;
    let t = start;
    while (t < end) {
      const i = Math.floor(t / w);
      const wEnd = (i + 1) * w;
      const upto = end < wEnd ? end : wEnd;
      if (i >= this.fineFirst + FINE_WINDOWS) this.retire(i - FINE_WINDOWS + 1);
      if (i >= this.fineFirst) this.fine[i % FINE_WINDOWS] += upto - t;
      else this.addCoarse(i, upto - t); // cannot happen with runs in time order; kept exact
      t = upto;
    }
  }

  /** Move windows [fineFirst, first) out of the ring into the coarse history. */
  private retire(first: number): void {
    // A jump past the whole horizon retires every window in the ring, then nothing more.
    const stop = Math.min(first, this.fineFirst + FINE_WINDOWS);
    for (let i = this.fineFirst; i < stop; i++) {
      const k = i % FINE_WINDOWS;
      const v = this.fine[k];
      if (v !== 0) {
        this.addCoarse(i, v);
        this.fine[k] = 0;
      }
    }
    // Make room for the newest retired window even if it was idle (a bin index past
    // the array means the span must grow).
    if (first > 0) this.fit(first - 1);
    this.fineFirst = first;
  }

  private fit(i: number): void {
    while (Math.floor(i / this.span) >= COARSE_BINS) {
      const c = this.coarse;
      for (let b = 0; b < COARSE_BINS / 2; b++) c[b] = c[2 * b] + c[2 * b + 1];
      c.fill(0, COARSE_BINS / 2);
      this.span *= 2;
    }
  }

  private addCoarse(i: number, busyNs: number): void {
    this.fit(i);
    this.coarse[Math.floor(i / this.span)] += busyNs;
  }

  /** Load (0..1) of each window from `from` up to `until` (window index floor(from/w) .. ceil(until/w)). */
  series(until: number, from = 0): number[] {
    const w = this.windowNs;
    const n = Math.ceil(until / w);
    const out: number[] = [];
    for (let i = Math.max(0, Math.floor(from / w)); i < n; i++) out.push(this.window(i) / w);
    return out;
  }

  /** Busy ns of window i (older than the horizon: its coarse bin's mean per window). */
  private window(i: number): number {
    if (i >= this.fineFirst) return i < this.fineFirst + FINE_WINDOWS ? this.fine[i % FINE_WINDOWS] : 0;
    const b = Math.floor(i / this.span);
    const binStart = b * this.span;
    const retired = Math.min(this.span, this.fineFirst - binStart); // windows of the bin out of the ring
    return this.coarse[b] / retired;
  }
}
