// The board's discrete-event scheduler: the one owner of virtual time.
//
// Time is an integer count of nanoseconds since power-on, held in a JS number (exact
// up to 2^53 ns, about 104 days). No floating point enters time arithmetic: callers
// convert with integer helpers (see cyclesToNs in cpu.ts).
//
// Events are (time, seq, handler, arg). Ties in time run in the order they were
// scheduled (seq), so a run is a pure function of configuration and seed. The queue
// is a binary heap kept in parallel typed arrays: scheduling allocates nothing once
// the arrays have grown, which matters at millions of events per simulated second.
//
// Every processed event is folded into a trace hash (time, handler id, arg), the
// proof of determinism the CLI prints; a trace sink can also receive each one.
//
// Local time. Only this file moves time. Inside one event, a CPU runs its guest to
// completion (cpu.ts), and the guest's clock runs ahead of the event's time: run start
// + cycles so far. So that a device register access carries that time, the CPU sets
// the scheduler's *local time* before each access and ends it when the run returns;
// `now` is the local time while one is set, the event's time otherwise. A device that
// catches up with its own due work inside such an access (the LSI model) sets the local
// time back to each piece's due time and then restores the access's. A local time is
// never earlier than the event being processed, so events stay in order: it only says
// where inside the event's run an action happens. The next event ends it.
//
// Interface:
//   handler(name, fn)        register an event kind; returns a Handler (stable id)
//   at(time, h, arg)         schedule h(arg) at absolute time (>= now)
//   after(delay, h, arg)     schedule at now + delay
//   runUntil(limit)          process events with time <= limit; now = limit after
//   stop()                   make runUntil return after the current event
//   now                      current time (read-only): the local time if one is set,
//                            else the time of the event being processed
//   eventTime                the time of the event being processed
//   setLocalTime(t)          inside an event: the acting party's own clock is at t
//                            (>= eventTime); now = t until endLocalTime() or the next event
//   endLocalTime()           now = eventTime again

export type HandlerFn = (arg: number) => void;

export interface Handler {
  readonly id: number;
  readonly name: string;
  readonly fn: HandlerFn;
}

export type TraceSink = (time: number, handler: Handler, arg: number) => void;

export class Scheduler {
  /** Time of the event being processed (or the limit runUntil reached), ns. */
  private evTime = 0;
  /** Current virtual time, ns: the local time while one is set, else evTime. */
  private cur = 0;
  /** Events processed so far. */
  events = 0;
  /** Running trace hash (two 32-bit FNV-style lanes). */
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  /** Optional per-event sink (trace file); undefined = free. */
  sink: TraceSink | undefined;

  private handlers: Handler[] = [];
  private cap = 1024;
  private n = 0;
  private seqCounter = 0;
  private time = new Float64Array(this.cap);
  private seq = new Float64Array(this.cap);
  private arg = new Float64Array(this.cap);
  private fn: Handler[] = new Array(this.cap);
  private stopped = false;
  /** Set by halt(): the board is powered off and no event will ever run again. */
  halted = false;

  /** Current virtual time, ns (see "Local time" above). */
  get now(): number {
    return this.cur;
  }

  /** Time of the event being processed, ns. */
  get eventTime(): number {
    return this.evTime;
  }

  /** The acting party (a CPU's guest in its run, a device catching up) is at time t
   *  inside the current event: devices it touches stamp their work at t. */
  setLocalTime(t: number): void {
    if (!(t >= this.evTime) || !Number.isSafeInteger(t)) {
      throw new Error(`scheduler: local time ${t} ns is before the event's time ${this.evTime} ns`);
    }
    this.cur = t;
  }

  /** Back to the event's own time (a CPU's run has returned). */
  endLocalTime(): void {
    this.cur = this.evTime;
  }

  handler(name: string, fn: HandlerFn): Handler {
    const h = { id: this.handlers.length, name, fn };
    this.handlers.push(h);
    return h;
  }

  /** Number of events waiting. */
  get pending(): number {
    return this.n;
  }

  /** Time of the earliest waiting event, or Infinity. */
  get nextTime(): number {
    return this.n > 0 ? this.time[0] : Infinity;
  }

  at(time: number, h: Handler, arg = 0): void {
    if (!(time >= this.cur) || !Number.isSafeInteger(time)) {
      throw new Error(`scheduler: ${h.name} scheduled at ${time} ns, now is ${this.cur} ns`);
    }
    if (this.n === this.cap) this.grow();
    // Sift up from the new leaf.
    let i = this.n++;
    const s = this.seqCounter++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = this.time[p];
      if (pt < time || (pt === time && this.seq[p] < s)) break;
      this.move(p, i);
      i = p;
    }
    this.time[i] = time;
    this.seq[i] = s;
    this.arg[i] = arg;
    this.fn[i] = h;
  }

  after(delay: number, h: Handler, arg = 0): void {
    this.at(this.cur + delay, h, arg);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Power off: runUntil processes nothing from now on (nested calls included). */
  halt(): void {
    this.halted = true;
    this.stopped = true;
  }

  /** Process every event with time <= limit, in order. Returns events processed. */
  runUntil(limit: number): number {
    this.stopped = false;
    const start = this.events;
    const outer = this.horizon === Infinity;
    if (outer) this.horizon = limit;
    try {
      this.loop(limit);
    } finally {
      if (outer) this.horizon = Infinity;
    }
    if (!this.stopped && !this.halted && limit !== Infinity && this.evTime < limit) this.evTime = this.cur = limit;
    return this.events - start;
  }

  /** The limit of the outermost runUntil in progress (Infinity when none): code that
   *  runs ahead inside an event (a CPU in user mode, host/proc/engine.ts) stops there. */
  horizon = Infinity;

  private loop(limit: number): void {
    while (this.n > 0 && this.time[0] <= limit && !this.stopped && !this.halted) {
      const t = this.time[0];
      const h = this.fn[0];
      const a = this.arg[0];
      this.popTop();
      this.evTime = this.cur = t;
      this.events++;
      this.mix(t, h.id, a);
      if (this.sink !== undefined) this.sink(t, h, a);
      h.fn(a);
    }
  }

  /** Fold extra facts (not events) into the trace hash, e.g. console bytes. */
  mix(a: number, b: number, c: number): void {
    this.h1 = fold(fold(fold(this.h1, a), b), c);
    this.h2 = fold(fold(fold(this.h2 ^ 0x5bd1e995, c), a), b);
  }

  /** 64-bit trace hash as 16 hex digits. */
  get traceHash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, "0") + (this.h2 >>> 0).toString(16).padStart(8, "0");
  }

  private popTop(): void {
    const last = --this.n;
    if (last === 0) return;
    const t = this.time[last];
    const s = this.seq[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      const r = c + 1;
      if (r < last && (this.time[r] < this.time[c] || (this.time[r] === this.time[c] && this.seq[r] < this.seq[c]))) c = r;
      const ct = this.time[c];
      if (t < ct || (t === ct && s < this.seq[c])) break;
      this.move(c, i);
      i = c;
    }
    this.move(last, i);
    this.fn[last] = undefined as unknown as Handler;
  }

  private move(from: number, to: number): void {
    this.time[to] = this.time[from];
    this.seq[to] = this.seq[from];
    this.arg[to] = this.arg[from];
    this.fn[to] = this.fn[from];
  }

  private grow(): void {
    const cap = this.cap * 2;
    const t = new Float64Array(cap); t.set(this.time); this.time = t;
    const s = new Float64Array(cap); s.set(this.seq); this.seq = s;
    const a = new Float64Array(cap); a.set(this.arg); this.arg = a;
    this.fn.length = cap;
    this.cap = cap;
  }
}

/** Fold a number (integer or not) into a 32-bit hash lane. */
function fold(h: number, x: number): number {
  // Split into two 32-bit halves so values above 2^32 (times in ns) hash fully.
  const lo = x | 0;
  const hi = Math.floor(x / 4294967296) | 0;
  h = Math.imul(h ^ lo, 0x01000193);
  h = Math.imul(h ^ hi, 0x01000193);
  return h ^ (h >>> 15);
}

/**
 * A cancellable one-shot: re-arming or cancelling makes the earlier event stale.
 * Stale events still pop from the queue (and count in the trace) but do nothing.
 */
export class OneShot {
  private gen = 0;
  private armedGen = -1;
  private readonly h: Handler;
  constructor(private readonly sched: Scheduler, name: string, private readonly fire: () => void) {
    this.h = sched.handler(name, (g) => {
      if (g !== this.armedGen) return;
      this.armedGen = -1;
      this.fire();
    });
  }
  get armed(): boolean {
    return this.armedGen >= 0;
  }
  armAt(time: number): void {
    this.armedGen = ++this.gen;
    this.sched.at(time, this.h, this.armedGen);
  }
  cancel(): void {
    this.armedGen = -1;
  }
}
