// Trace hashes of short experiment runs, to show a refactor changes no behaviour:
// fast-io (8 streams, seeds 1 and 7; 52 streams, seed 3; 1.5 s after the streams
// start) and rate-guarantee (cyclic and FIFO, seeds 1 and 5; the uploader from 2 s to
// 4 s). Each line: the board's trace hash, events, and what moved. Run it before and
// after a change and compare; `hitactix run --json` gives the default boot's hash.
// Usage: npm run build && node scripts/trace-hashes.mjs [checkout, default .]
import { resolve } from "node:path";

const root = resolve(process.argv[2] ?? ".");
const { StreamRig } = await import(`${root}/dist/host/experiments/setup.js`);
const { chunkBytes } = await import(`${root}/dist/host/sfs.js`);

function fastIo(n, seed) {
  const fileBytes = chunkBytes(8_800_000, 256_000_000) * 16;
  const files = Array.from({ length: n }, (_, i) => ({ name: `s${i}`, bytes: fileBytes, rateBps: 8_800_000 }));
  const rig = new StreamRig({ files, policy: "cyclic", seed });
  rig.boot();
  for (let i = 0; i < n; i++) rig.start(i, 6000 + i, { loop: true, noAdmission: true });
  rig.run(rig.machine.board.sched.now + 1_500_000_000);
  const s = rig.machine.board.summary();
  const data = rig.machine.client.flows().reduce((a, f) => a + f.dataBytes, 0);
  rig.machine.close();
  return `fast-io n=${n} seed=${seed}: ${s.traceHash} events=${s.events} data=${data} cpu1busy=${s.cpus[1].busyCycles}`;
}

function rateGuarantee(policy, seed) {
  const rate = 18_000_000 * 8;
  const rig = new StreamRig({ files: [{ name: "stream18", bytes: chunkBytes(rate, 256_000_000) * 47, rateBps: rate }], policy, seed });
  rig.boot();
  rig.start(0, 6000, { loop: true });
  let k = 0;
  let written = 0;
  const next = () => {
    const lba = 20_000_000 + Math.floor(k / 3) * 19532;
    rig.write(k++ % 3, lba, 19532, (ok, t) => { if (ok) written++; if (t < 4e9) next(); });
  };
  rig.run(2e9);
  next();
  rig.run(4e9);
  const s = rig.machine.board.summary();
  rig.machine.close();
  return `rate-guarantee ${policy} seed=${seed}: ${s.traceHash} events=${s.events} writes=${written} cpu1busy=${s.cpus[1].busyCycles}`;
}

for (const seed of [1, 7]) console.log(fastIo(8, seed));
console.log(fastIo(52, 3));
for (const seed of [1, 5]) for (const p of ["cyclic", "fifo"]) console.log(rateGuarantee(p, seed));
