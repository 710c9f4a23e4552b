// `npm run bench`: where the wall time goes, measured side by side in one run.
//   instrumentationOverhead  metered / plain wall time of a CPU-bound guest workload
//   eventsPerSecond          scheduler events processed per wall second
//   realTimeFactor           simulated seconds per wall second of the default boot
//   wireFramesPerSecond      guest-driven 1500-byte frames (driver + NIC + wire +
//                            measurement client) per wall second, at line rate
//   diskMBPerSecond          simulated MB read from a disk (SCSI target + timing
//                            model + memory backend) per wall second
//   fastIoRealTimeFactor     simulated / wall seconds of the fast-io experiment at
//                            the highest load it sends in full (52 x 8.8 Mbit/s
//                            here), the whole stack (goal >= 30x)
//   fastIoDataFloor          the same point's byte work alone, as a real-time factor:
//                            per stream and period, one chunk copied from a memory disk
//                            into a ring in a 256 MiB WebAssembly memory, then each
//                            1456-byte frame of the previous chunk checksummed there
//                            (the NIC's offload) and compared with the file (the
//                            client's check). No timing, no guest: the bound the data
//                            alone sets on the whole stack's factor.
//   bsdSyscall, bsdContextSwitch, bsdSpawn
//                            the BSD kernel's null system call, context switch and
//                            spawn, simulated (cycles) and host ns per op (bench-bsd.ts)
//   rss1h, rss100h           peak RSS of a 1-hour and a 100-hour virtual run, each in
//                            its own child process (bench-rss.ts: the default machine
//                            with cheap guests); goal: 100 h within 1.5x of 1 h
// With --json the last line of stdout is one JSON object with these keys.
// --cost-model flat|p6 measures the guests metered under that model (host/costs.ts;
// default flat); --no-rss leaves out the two long runs (to compare models quickly).
// Goals (DESIGN.md / issue 2): overhead <= 1.25x, >= 2M events/s, boot >= 50x real time.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LongRun } from "./bench-rss.js";
import { meterModule } from "./meter.js";
import { costModel } from "./costs.js";
import { Scheduler } from "./sched.js";
import { Rng } from "./rng.js";
import { defaultBoard, packageRoot } from "./config.js";
import { buildMachine, buildMachineAsync } from "./machine.js";
import { benchBsd } from "./bench-bsd.js";
import { BOOT_PING_TOTAL } from "../common/platform.js";
import { ScsiDisk } from "../devices/scsi-disk.js";
import { MemoryBackend } from "../devices/block-backend.js";
import type { Connection, ScsiPort, ScsiTask } from "../devices/scsi.js";
import { OP_READ_10 } from "../devices/scsi.js";
import { ChecksumEngine } from "../devices/checksum.js";

const json = process.argv.includes("--json");
const modelAt = process.argv.indexOf("--cost-model");
const costs = costModel(modelAt >= 0 ? process.argv[modelAt + 1] ?? "" : "flat");
const withRss = !process.argv.includes("--no-rss");
/** The default board under the chosen cost model. */
const board = (): ReturnType<typeof defaultBoard> => ({ ...defaultBoard(), costs });
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
  const b = metered ? meterModule(bytes, { copy: costs.copyPerByte, fill: costs.fillPerByte, weights: costs.weights }).bytes : bytes;
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

async function realTimeFactor(): Promise<{ factor: number; simSeconds: number; wallSeconds: number }> {
  const simSeconds = 60;
  const b = (await buildMachineAsync(board())).board; // the machine `npm start` boots
  const t0 = performance.now();
  b.run(simSeconds * 1e9);
  const wallSeconds = (performance.now() - t0) / 1000;
  return { factor: simSeconds / wallSeconds, simSeconds, wallSeconds };
}

function wireFramesPerSecond(): { framesPerSecond: number; realTime: number } {
  const frames = 100_000;
  const c = board();
  c.cpus[1] = { ...c.cpus[1], name: "nic-test", wasm: join(packageRoot(), "build", "test-nic.wasm"), bootArgs: { 0x40: frames, 0x44: 0, 0x48: 0 } };
  c.cpus[0].bootArgs[BOOT_PING_TOTAL] = 0;
  const m = buildMachine(c);
  m.board.run(2_000_000); // boot, link up
  const t0 = performance.now();
  const sim0 = m.board.sched.now;
  let sent = 0;
  while (sent < frames && m.board.sched.now < 5e9) {
    m.board.run(m.board.sched.now + 100_000_000);
    sent = m.client!.flows().reduce((a, f) => a + f.frames, 0);
  }
  const wall = (performance.now() - t0) / 1000;
  return { framesPerSecond: sent / wall, realTime: (m.board.sched.now - sim0) / 1e9 / wall };
}

/** A disk read sequentially in 128 KiB READ(10)s, two outstanding, through its SCSI target. */
function diskMBPerSecond(): { mbPerSecond: number; simMBps: number } {
  const s = new Scheduler();
  const disk = new ScsiDisk(0, { sched: s, rng: new Rng(1), log: () => {} }, new MemoryBackend((18 * 2 ** 30) / 512));
  const blocks = 256;
  const total = 4096; // commands: 512 MiB
  let issued = 0;
  let done = 0;
  let lastEnd = 0;
  const hFin = s.handler("bench.fin", () => { done++; if (issued < total) issue(); });
  const port: ScsiPort = {
    connect(c: Connection): void {
      if (c.status !== undefined) { lastEnd = Math.max(s.now, c.paceEndNs ?? 0); s.at(lastEnd, hFin); }
    },
  };
  const issue = (): void => {
    const lba = issued * blocks;
    const cdb = new Uint8Array([OP_READ_10, 0, lba >>> 24, (lba >>> 16) & 255, (lba >>> 8) & 255, lba & 255, 0, blocks >> 8, blocks & 255, 0]);
    const task: ScsiTask = { initiatorId: 7, targetId: 0, lun: 0, tag: issued & 63, cdb };
    issued++;
    disk.command(task, port);
  };
  const t0 = performance.now();
  issue();
  issue();
  s.runUntil(Infinity);
  const wall = (performance.now() - t0) / 1000;
  const mb = (done * blocks * 512) / 1e6;
  return { mbPerSecond: mb / wall, simMBps: mb / (lastEnd / 1e9) };
}

async function fastIoRealTimeFactor(): Promise<number> {
  const { runFastIo } = await import("./experiments/fast-io.js");
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  // The experiment's own warm-up (2 s virtual: streams started, JIT settled), then a
  // 6 s window: the steady state a long run sees.
  const r = await runFastIo({ streams: [52], rateBps: 8_800_000, outDir: mkdtempSync(join(tmpdir(), "bench-")), seed: 1, warmNs: 2e9, measureNs: 6e9, costs, fileLengths: "equal" });
  return r.points[0].realTimeFactor;
}

function fastIoDataFloor(): number {
  const streams = 52;
  const chunk = 281_600; // 8.8 Mbit/s x 256 ms, as sfs.chunkBytes gives
  const chunksPerFile = 16;
  const frameData = 1456;
  const fileBytes = chunk * chunksPerFile;
  const sectors = (streams * fileBytes) / 512;
  const disk = new MemoryBackend(sectors);
  const contents: Uint8Array[] = [];
  const rng = new Rng(0x5eed);
  for (let f = 0; f < streams; f++) {
    const b = new Uint8Array(fileBytes);
    rng.fill(new Uint32Array(b.buffer));
    disk.write((f * fileBytes) / 512, fileBytes / 512, b, 0);
    contents.push(b);
  }
  const ram = new WebAssembly.Memory({ initial: 4096, maximum: 4096 });
  const u8 = new Uint8Array(ram.buffer);
  const cs = new ChecksumEngine(ram);
  const ring = 0x6000000;
  const cmp = Buffer.prototype.compare as (this: Uint8Array, t: Uint8Array, ts: number, te: number, ss: number, se: number) => number;
  const periods = 12; // 3.072 s simulated
  let bad = 0;
  let sum = 0;
  const t0 = performance.now();
  for (let p = 0; p < periods; p++) {
    for (let f = 0; f < streams; f++) {
      const c = p % chunksPerFile;
      disk.read((f * fileBytes + c * chunk) / 512, chunk / 512, u8, ring + (f * 3 + (p % 3)) * chunk);
      if (p === 0) continue;
      const prev = (p - 1) % chunksPerFile;
      const slot = ring + (f * 3 + ((p - 1) % 3)) * chunk;
      for (let o = 0; o < chunk; o += frameData) {
        const n = Math.min(frameData, chunk - o);
        sum += cs.sum(slot + o, n, 0);
        if (cmp.call(u8, contents[f], prev * chunk + o, prev * chunk + o + n, slot + o, slot + o + n) !== 0) bad++;
      }
    }
  }
  const wall = (performance.now() - t0) / 1000;
  if (bad !== 0 || sum === 0) throw new Error(`bench: data floor compared ${bad} frames unequal`);
  return (periods * 0.256) / wall;
}

/** A long virtual run in a child process of its own (its peak RSS is its own). */
function longRunRss(hours: number): LongRun {
  const child = join(fileURLToPath(new URL(".", import.meta.url)), "bench-rss.js");
  return JSON.parse(execFileSync(process.execPath, [child, String(hours)], { encoding: "utf8" })) as LongRun;
}

const oh = instrumentationOverhead();
say(`instrumentation overhead  ${oh.ratio.toFixed(3)}x  (plain ${oh.plainMs.toFixed(1)} ms, metered ${oh.meteredMs.toFixed(1)} ms; goal <= 1.25x)`);
const eps = eventsPerSecond();
say(`scheduler                 ${(eps / 1e6).toFixed(2)} M events/s (goal >= 2M)`);
const rt = await realTimeFactor();
say(`default boot              ${rt.factor.toFixed(0)}x real time (${rt.simSeconds} s virtual in ${rt.wallSeconds.toFixed(2)} s; goal >= 50x)`);
const wire = wireFramesPerSecond();
say(`wire (guest-driven)       ${(wire.framesPerSecond / 1000).toFixed(0)}k frames/s wall (${wire.realTime.toFixed(1)}x real time at line rate)`);
const disk = diskMBPerSecond();
say(`disk (SCSI target+model)  ${disk.mbPerSecond.toFixed(0)} simulated MB per wall second (the disk reads ${disk.simMBps.toFixed(2)} MB/s simulated)`);
const fio = await fastIoRealTimeFactor();
say(`fast-io at 457.6 Mbit/s   ${fio.toFixed(1)}x real time (whole stack; goal >= 30x)`);
const floor = fastIoDataFloor();
say(`fast-io data alone        ${floor.toFixed(1)}x real time (copy from disk, checksum, compare: the bound on the line above)`);
const bsd = await benchBsd();
const bsdLine = (o: { cycles: number; simNs: number; hostNs: number }): string =>
  `${o.cycles.toFixed(0)} cycles simulated (${(o.simNs / 1000).toFixed(2)} us), ${(o.hostNs / 1000).toFixed(2)} us host`;
say(`BSD null system call      ${bsdLine(bsd.syscall)}`);
say(`BSD context switch        ${bsdLine(bsd.contextSwitch)} (pipe ping-pong, per switch)`);
say(`BSD spawn + exit + wait   ${bsdLine(bsd.spawn)} (of /bin/cat)`);
const rss1 = withRss ? longRunRss(1) : undefined;
const rss100 = withRss ? longRunRss(100) : undefined;
const mb = (b: number): string => (b / 2 ** 20).toFixed(0);
if (rss1 && rss100) {
  say(`long run peak RSS         1 h: ${mb(rss1.maxRssBytes)} MiB, 100 h: ${mb(rss100.maxRssBytes)} MiB (${(rss100.maxRssBytes / rss1.maxRssBytes).toFixed(2)}x; goal <= 1.5x; ` +
    `100 h in ${rss100.wallSeconds.toFixed(1)} s wall, cheap guests)`);
}
if (json) {
  console.log(JSON.stringify({
    costModel: costs.name,
    ...(rss1 && rss100 ? { rss1hBytes: rss1.maxRssBytes, rss100hBytes: rss100.maxRssBytes, rssRatio: rss100.maxRssBytes / rss1.maxRssBytes } : {}),
    instrumentationOverhead: oh.ratio, eventsPerSecond: eps, realTimeFactor: rt.factor,
    wireFramesPerSecond: wire.framesPerSecond, diskMBPerSecond: disk.mbPerSecond, fastIoRealTimeFactor: fio, fastIoDataFloor: floor,
    bsdSyscall: bsd.syscall, bsdContextSwitch: bsd.contextSwitch, bsdSpawn: bsd.spawn,
  }));
}
