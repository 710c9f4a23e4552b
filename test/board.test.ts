// Whole-board tests of the foundation: the two kernels boot and talk through the
// mailboxes; accounting, IPI cost, containment and determinism.
import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { board, guest, root, pingGuest } from "./helpers.js";
import { Board } from "../host/board.js";
import { defaultBoard } from "../host/config.js";
import { cyclesToNs } from "../host/costs.js";
import type { ConsoleLine } from "../host/console.js";
import { BOOT_PING_BURST, BOOT_PING_TOTAL, BOOT_SPIN, BOOT_TICK_NS, BOOT_REPORT_TICKS, BOOTINFO_BASE, BOOTINFO_SIZE } from "../common/platform.js";
import { BSD_BASE, BSD_END, HTX_BASE, HTX_END } from "../common/memmap.js";

const collect = (): { lines: ConsoleLine[]; onConsole: (l: ConsoleLine) => void } => {
  const lines: ConsoleLine[] = [];
  return { lines, onConsole: (l) => lines.push(l) };
};

describe("board: two kernels and the mailbox", () => {
  it("boots both kernels, each prints to its console", () => {
    const c = collect();
    const b = board(pingGuest, c);
    b.run(10_000_000);
    expect(c.lines.find((l) => l.cpu === 0)?.text).toBe("bsd: boot on cpu 0, hz 100, 10000 pings to send");
    expect(c.lines.find((l) => l.cpu === 1)?.text).toBe("hitactix: boot on cpu 1, period 256 ms, disk policy cyclic");
  });

  it("delivers every message in order, with back-pressure when a ring is full", () => {
    const c = collect();
    // Bursts of 200 into 64-slot rings: both rings fill; nothing may be dropped.
    const b = board((cfg) => {
      pingGuest(cfg);
      cfg.cpus[0].bootArgs[BOOT_PING_BURST] = 200;
      cfg.cpus[0].bootArgs[BOOT_PING_TOTAL] = 5000;
    }, c);
    b.run(2_000_000_000);
    const done = c.lines.find((l) => l.text.startsWith("bsd: all"));
    expect(done?.text).toMatch(/^bsd: all 5000 pongs back at t=\S+, errors=0, ring full (\d+) times$/);
    const full = Number(/ring full (\d+) times/.exec(done!.text)![1]);
    expect(full).toBeGreaterThan(0);
    expect(b.cpus[1].report).toBeUndefined();
  });

  it("charges an IPI: the sender a local register write, the target the APIC latency then entry", () => {
    const events: Array<[number, string, number]> = [];
    const b = board((cfg) => {
      pingGuest(cfg);
      cfg.cpus[0].bootArgs[BOOT_PING_TOTAL] = 1;
      cfg.cpus[0].bootArgs[BOOT_PING_BURST] = 1;
    }, { traceSink: (t, h, a) => events.push([t, h.name, a]) });
    b.run(20_000_000);
    const ipi = events.find((e) => e[1] === "lapic.ipi" && e[2] === 1)!;
    // The IPI event is stamped at (sender's local time of the write) + latency, and the
    // target (idle) is dispatched at that same time.
    const dispatch = events.find((e) => e[1] === "cpu1.dispatch" && e[0] >= ipi[0])!;
    expect(dispatch[0]).toBe(ipi[0]);
    expect(b.lapic.ipisReceived[1]).toBeGreaterThanOrEqual(1);
    expect(b.config.costs.ipiLatencyNs).toBe(2000);
    // The first IPI is sent by BSD's first tick at 10 ms: the write happens after the
    // tick's entry cost and metered work, so the event is later than 10 ms + latency.
    expect(ipi[0]).toBeGreaterThan(10_000_000 + 2000);
    expect(ipi[0]).toBeLessThan(10_000_000 + 2000 + cyclesToNs(b.config.costs, 20_000));
  });
});

describe("board: cycle accounting", () => {
  it("a guest busy X cycles every period of Y cycles shows load X/Y", () => {
    const period = 1_000_000; // 1 ms = 600,000 cycles
    const b = board((cfg) => {
      cfg.cpus = [{ ...cfg.cpus[1], name: "loadgen", wasm: guest("test-loadgen"), bootArgs: { [BOOT_TICK_NS]: period, [BOOT_SPIN]: 20_000 } }];
      delete cfg.nic; // a one-CPU board with no devices
      delete cfg.scsi;
    });
    b.run(period * 3);
    const c = b.cpus[0];
    const afterFirst = c.busyCycles;
    b.run(period * 4);
    const perTick = c.busyCycles - afterFirst; // one timer interrupt's run
    b.run(period * 1003);
    expect(c.busyCycles - afterFirst).toBe(perTick * 1000);
    // X is: interrupt entry/exit + two timer-register writes + the metered handler.
    const costs = b.config.costs;
    const metered = perTick - costs.interruptEntryExit - 2 * costs.localRegAccess;
    expect(metered).toBeGreaterThan(20_000 * 5); // the loop body is several instructions
    // Every 1 ms window after the first few holds exactly one tick: load = X / Y.
    const windowLoad = (i: number): number => c.loadSeries(period * 1003)[i];
    const ticksPerWindow = b.config.loadWindowNs / period;
    const expected = (cyclesToNs(costs, perTick) * ticksPerWindow) / b.config.loadWindowNs;
    for (let i = 1; i < 100; i++) expect(windowLoad(i)).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(perTick / 600_000, 4);
  });
});

describe("board: containment", () => {
  const faulty = (mode: number) => {
    const c = collect();
    const b = board((cfg) => {
      cfg.cpus[1] = { ...cfg.cpus[1], name: "faulty", wasm: guest("test-faulty"), bootArgs: { [BOOT_TICK_NS]: 1_000_000, [BOOT_SPIN]: mode } };
      pingGuest(cfg);
      cfg.cpus[0].bootArgs[BOOT_PING_TOTAL] = 0;
      cfg.cpus[0].bootArgs[BOOT_REPORT_TICKS] = 10;
    }, c);
    b.run(500_000_000);
    return { b, lines: c.lines, report: b.cpus[1].report };
  };

  it("a trap stops that CPU with the guest function and time; the other CPU goes on", () => {
    const { b, lines, report } = faulty(1);
    expect(report).toMatchObject({ cpu: 1, guest: "faulty", kind: "trap" });
    expect(report!.function).toMatch(/faulty\/(misbehave|irq)/);
    expect(report!.message).toMatch(/divide by zero/);
    expect(report!.timeNs).toBeGreaterThan(3_000_000);
    expect(report!.timeNs).toBeLessThan(3_100_000);
    expect(b.cpus[1].state).toBe("stopped");
    expect(b.cpus[0].state).not.toBe("stopped");
    expect(lines.filter((l) => l.cpu === 0 && l.timeNs > 400_000_000).length).toBeGreaterThan(0);
  });

  it("an allocation past the partition is a partition fault, and the other partition is untouched", () => {
    const { b, report } = faulty(2);
    expect(report).toMatchObject({ kind: "partition" });
    expect(report!.message).toMatch(/would pass the end of partition faulty \(0x10000000\)/);
    expect(b.cpus[0].state).not.toBe("stopped");
    // Everything below HiTactix's partition (shared region, BSD) is byte for byte what
    // it is in a run where the other guest behaves (mode 0), but for the one boot
    // parameter that differs (the mode, in CPU 1's boot block).
    const calm = faulty(0).b;
    const cpu1Boot = BOOTINFO_BASE + BOOTINFO_SIZE;
    expect(Buffer.compare(b.mem.u8.subarray(0, cpu1Boot), calm.mem.u8.subarray(0, cpu1Boot))).toBe(0);
    expect(Buffer.compare(b.mem.u8.subarray(cpu1Boot + BOOTINFO_SIZE, HTX_BASE), calm.mem.u8.subarray(cpu1Boot + BOOTINFO_SIZE, HTX_BASE))).toBe(0);
    // ... and the faulty guest did fill its own partition up to its end.
    expect(b.mem.u8.subarray(BSD_END, HTX_END).some((x) => x !== 0)).toBe(true);
  });

  it("a runaway loop is stopped by the cycle watchdog", () => {
    const { report } = faulty(3);
    expect(report).toMatchObject({ kind: "runaway" });
    expect(report!.function).toMatch(/faulty/);
  });

  it("abort() and a misaligned device access stop the CPU with a message", () => {
    expect(faulty(4).report).toMatchObject({ kind: "abort", message: expect.stringMatching(/ticks must be zero/) });
    expect(faulty(5).report).toMatchObject({ kind: "bad-access", message: expect.stringMatching(/width 4 at 0xfe000001/) });
  });

  it("a guest whose static data lies outside its partition is refused at load", () => {
    const cfg = defaultBoard();
    pingGuest(cfg);
    cfg.cpus[1].partition = { base: BSD_BASE, end: BSD_END }; // hitactix.wasm is linked at HTX_BASE
    expect(() => Board.create(cfg)).toThrow(/static data at 0x6000000.*outside its partition/);
  });
});

describe("determinism", () => {
  it("the same seed gives the same trace hash; the CLI prints it as JSON", () => {
    const h1 = board().summary();
    const run = () => {
      const b = board();
      b.run(3_000_000_000);
      return b.summary();
    };
    const a = run();
    const b = run();
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.events).toBe(b.events);
    expect(a.cpus.map((c) => c.busyCycles)).toEqual(b.cpus.map((c) => c.busyCycles));
    expect(h1.simTimeNs).toBe(0);
    const out = execFileSync("node", [join(root, "bin/hitactix.js"), "run", "--until", "3s", "--json", "--quiet"], { encoding: "utf8" });
    const last = JSON.parse(out.trim().split("\n").pop()!);
    expect(last).toMatchObject({ simTimeNs: 3_000_000_000, traceHash: a.traceHash, events: a.events });
    expect(last.cpus.map((c: { busyCycles: number }) => c.busyCycles)).toEqual(a.cpus.map((c) => c.busyCycles));
    expect(typeof last.cpus[0].load).toBe("number");
  });
});
