// `npm run bench`: where the wall time goes, measured side by side in one run.
//   instrumentationOverhead  metered / plain wall time of a CPU-bound guest workload
//   eventsPerSecond          scheduler events processed per wall second
//   realTimeFactor           simulated seconds per wall second of the default boot
// With --json the last line of stdout is one JSON object with these keys.
// Goals (DESIGN.md / issue 2): overhead <= 1.25x, >= 2M events/s, boot >= 50x real time.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { meterModule } from "./meter.js";
import { PIII_600 } from "./costs.js";
import { Scheduler } from "./sched.js";
import { Rng } from "./rng.js";
import { Board } from "./board.js";
import { defaultBoard, packageRoot } from "./config.js";

const json = process.argv.includes("--json");
const say = (s: string): void => {
  if (!json) console.log(s);
  else console.error(s);
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

type Work = Record<string, (n: number) => number>;

function workload(bytes: Uint8Array, metered: boolean): Work {
  const b = metered ? meterModule(bytes, { copy: PIII_600.copyPerByte, fill: PIII_600.fillPerByte }).bytes : bytes;
  const inst = new WebAssembly.Instance(new WebAssembly.Module(b as BufferSource), { env: { abort: () => { throw new Error("abort"); } } });
  return inst.exports as unknown as Work;
}

function timeWork(w: Work): number {
  const t0 = performance.now();
  w.xorshift(20_000_000);
  w.copies(3000);
  w.sort(12345);
  return performance.now() - t0;
}

function instrumentationOverhead(): { ratio: number; plainMs: number; meteredMs: number } {
  const bytes = readFileSync(join(packageRoot(), "build", "bench-work.wasm"));
  const plain = workload(bytes, false);
  const metered = workload(bytes, true);
  timeWork(plain); // warm up both (tier-up of the JIT)
  timeWork(metered);
  const p: number[] = [];
  const m: number[] = [];
  for (let i = 0; i < 7; i++) {
    p.push(timeWork(plain));
    m.push(timeWork(metered));
  }
  return { ratio: median(m) / median(p), plainMs: median(p), meteredMs: median(m) };
}

function eventsPerSecond(): number {
  const s = new Scheduler();
  const rng = new Rng(1);
  const delays = new Float64Array(4096);
  for (let i = 0; i < delays.length; i++) delays[i] = 1 + rng.below(10_000);
  let k = 0;
  const h = s.handler("bench", () => {
    s.after(delays[k++ & 4095], h);
  });
  for (let i = 0; i < 1000; i++) s.at(delays[i], h); // 1000 events always pending
  s.runUntil(2_000_000); // warm up
  const t0 = performance.now();
  const before = s.events;
  s.runUntil(s.now + 2_000_000_000);
  const dt = (performance.now() - t0) / 1000;
  return (s.events - before) / dt;
}

function realTimeFactor(): { factor: number; simSeconds: number; wallSeconds: number } {
  const simSeconds = 60;
  const b = Board.create(defaultBoard());
  const t0 = performance.now();
  b.run(simSeconds * 1e9);
  const wallSeconds = (performance.now() - t0) / 1000;
  return { factor: simSeconds / wallSeconds, simSeconds, wallSeconds };
}

const oh = instrumentationOverhead();
say(`instrumentation overhead  ${oh.ratio.toFixed(3)}x  (plain ${oh.plainMs.toFixed(1)} ms, metered ${oh.meteredMs.toFixed(1)} ms; goal <= 1.25x)`);
const eps = eventsPerSecond();
say(`scheduler                 ${(eps / 1e6).toFixed(2)} M events/s (goal >= 2M)`);
const rt = realTimeFactor();
say(`default boot              ${rt.factor.toFixed(0)}x real time (${rt.simSeconds} s virtual in ${rt.wallSeconds.toFixed(2)} s; goal >= 50x)`);
if (json) {
  console.log(JSON.stringify({ instrumentationOverhead: oh.ratio, eventsPerSecond: eps, realTimeFactor: rt.factor }));
}
