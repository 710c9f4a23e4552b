// The scheduler: order by time then by scheduling order, the trace hash, OneShot.
import { describe, it, expect } from "vitest";
import { Scheduler, OneShot } from "../host/sched.js";
import { Rng } from "../host/rng.js";
import { cyclesToNs, nsToCycles, PIII_600 } from "../host/costs.js";

describe("scheduler", () => {
  it("runs events by time, ties in scheduling order", () => {
    const s = new Scheduler();
    const seen: number[] = [];
    const h = s.handler("x", (a) => seen.push(a));
    const rng = new Rng(7);
    const expected: Array<[number, number]> = [];
    for (let i = 0; i < 5000; i++) {
      const t = rng.below(1000);
      s.at(t, h, i);
      expected.push([t, i]);
    }
    s.runUntil(Infinity);
    expected.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(seen).toEqual(expected.map((e) => e[1]));
    expect(s.events).toBe(5000);
  });

  it("refuses to schedule in the past or at a non-integer time", () => {
    const s = new Scheduler();
    const h = s.handler("x", () => {});
    s.runUntil(100);
    expect(() => s.at(99, h)).toThrow(/scheduled at 99/);
    expect(() => s.at(100.5, h)).toThrow();
  });

  it("gives the same trace hash for the same events and a different one otherwise", () => {
    const hash = (shift: number): string => {
      const s = new Scheduler();
      const h = s.handler("x", () => {});
      for (let i = 0; i < 100; i++) s.at(i * 10 + (i === 50 ? shift : 0), h, i);
      s.runUntil(Infinity);
      return s.traceHash;
    };
    expect(hash(0)).toBe(hash(0));
    expect(hash(1)).not.toBe(hash(0));
  });

  it("Rng.fill gives the numbers u32() would, in order, and leaves the stream where u32() would", () => {
    const a = new Rng(11);
    const b = new Rng(11);
    const w = new Uint32Array(1001);
    a.fill(w);
    for (let i = 0; i < w.length; i++) expect(w[i]).toBe(b.u32());
    expect(a.u32()).toBe(b.u32());
  });

  it("OneShot: re-arming makes the earlier event stale", () => {
    const s = new Scheduler();
    const fired: number[] = [];
    const t = new OneShot(s, "t", () => fired.push(s.now));
    t.armAt(100);
    t.armAt(50);
    s.runUntil(1000);
    expect(fired).toEqual([50]);
    t.armAt(2000);
    t.cancel();
    s.runUntil(3000);
    expect(fired).toEqual([50]);
  });

  it("local time: only the scheduler moves now; a party inside an event sets where it acts, never before the event", () => {
    const s = new Scheduler();
    const seen: Array<[number, number]> = [];
    const late = s.handler("late", () => seen.push([s.now, s.eventTime]));
    const h = s.handler("run", () => {
      s.setLocalTime(s.eventTime + 40); // a CPU's guest, 40 ns into its run
      s.after(10, late); // stamped at its local time
      expect(s.now).toBe(140);
      expect(() => s.setLocalTime(99)).toThrow(/before the event/);
      s.setLocalTime(120); // a device catching up with work due earlier in the run
      expect(s.now).toBe(120);
      s.endLocalTime();
      expect(s.now).toBe(100);
      s.setLocalTime(170); // left set: the next event ends it
    });
    s.at(100, h);
    s.runUntil(1000);
    expect(seen).toEqual([[150, 150]]);
    expect(s.now).toBe(1000);
    // @ts-expect-error: now is read-only outside the scheduler
    expect(() => { s.now = 5; }).toThrow();
  });

  it("converts cycles and ns exactly at 600 MHz", () => {
    expect(cyclesToNs(PIII_600, 600)).toBe(1000);
    expect(cyclesToNs(PIII_600, 5)).toBe(8); // 8.33 ns, floor
    expect(cyclesToNs(PIII_600, 600_000_000 * 3600)).toBe(3600e9);
    expect(nsToCycles(PIII_600, 1000)).toBe(600);
  });
});
