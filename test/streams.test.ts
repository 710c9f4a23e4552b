// The HiTactix stream service on the whole machine: admission control, stop, end of
// file, several rates at once; every byte verified by the measurement client.
import { describe, it, expect } from "vitest";
import { StreamRig } from "../host/experiments/setup.js";
import { MSG_STREAM_STOP, ERR_ADMISSION, ERR_NO_SUCH_FILE } from "../common/platform.js";
import { chunkBytes } from "../host/sfs.js";

const P = 256_000_000;

describe("stream service", () => {
  it("admits streams while every disk group has room, then refuses with a reason", () => {
    const chunk18 = chunkBytes(144e6, P);
    const rig = new StreamRig({ files: [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ name: `m${i}`, bytes: chunk18 * 6, rateBps: 144e6 })), policy: "cyclic" });
    rig.boot();
    for (let i = 0; i < 8; i++) rig.start(i, 7000 + i, { loop: true });
    rig.start(99, 7100);
    rig.run(rig.machine.board.sched.now + 50_000_000);
    const admitted = rig.streams.filter((s) => s.id >= 0).length;
    const refused = rig.streams.filter((s) => s.id === -2 && s.reason === ERR_ADMISSION).length;
    // One 18 MB/s chunk costs ~180 ms of a 256 ms period on a disk (90 % budget):
    // one stream per disk group, three groups.
    expect(admitted).toBe(3);
    expect(refused).toBe(5);
    expect(rig.streams[8]).toMatchObject({ id: -2, reason: ERR_NO_SUCH_FILE });
    rig.run(rig.machine.board.sched.now + 3_000_000_000);
    const flows = rig.machine.client!.flows();
    expect(flows.length).toBe(3); // the refused ones never send
    expect(flows.every((f) => f.mismatches === 0 && f.dataBytes > 0)).toBe(true);
  });

  it("stops a stream on request, ends one at its end of file, and serves mixed rates", () => {
    const rates = [8.8e6, 2e6, 30e6];
    const rig = new StreamRig({ files: rates.map((r, i) => ({ name: `r${i}`, bytes: chunkBytes(r, P) * 8, rateBps: r })), policy: "cyclic" });
    rig.boot();
    rig.start(0, 8000, { loop: true });
    rig.start(1, 8001, { loop: true });
    rig.start(2, 8002); // plays its 8 chunks once
    rig.run(rig.machine.board.sched.now + 4_000_000_000);
    const c = rig.machine.client!;
    const data = (port: number): number => c.flow(`10.0.0.2:${port}`)?.dataBytes ?? 0;
    // The file that does not loop ends after exactly its size.
    expect(data(8002)).toBe(chunkBytes(30e6, P) * 8);
    // Stop stream 0; it sends nothing afterwards.
    let stopped = false;
    rig.peer!.request(MSG_STREAM_STOP, [rig.streams[0].id], (res) => { stopped = res === 0; });
    rig.run(rig.machine.board.sched.now + 300_000_000);
    expect(stopped).toBe(true);
    const at = data(8000);
    const t0 = rig.machine.board.sched.now;
    rig.run(t0 + 2_000_000_000);
    expect(data(8000)).toBe(at);
    // The 2 Mbit/s stream kept its own rate meanwhile (chunk per period).
    const before = data(8001);
    rig.run(rig.machine.board.sched.now + 2_560_000_000);
    expect(data(8001) - before).toBeGreaterThanOrEqual(chunkBytes(2e6, P) * 9);
    expect(data(8001) - before).toBeLessThanOrEqual(chunkBytes(2e6, P) * 11);
    expect(c.flows().every((f) => f.mismatches === 0)).toBe(true);
  });
});
