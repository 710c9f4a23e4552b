// The host-driven mailbox peer: the host stands in for BSD on CPU 0 and exchanges
// messages with the HiTactix kernel through the real rings and IPIs.
import { describe, it, expect } from "vitest";
import { board } from "./helpers.js";
import { MailboxPeer } from "../host/peer.js";
import { MBOX_BSD_TO_HTX, MBOX_HTX_TO_BSD } from "../common/memmap.js";
import { MSG_PING, MSG_PONG } from "../common/platform.js";

describe("mailbox peer", () => {
  it("sends 500 pings through 64-slot rings and gets every pong back, in order", () => {
    const b = board((cfg) => { cfg.cpus[0] = { ...cfg.cpus[0], name: "host", wasm: "host" }; });
    const peer = new MailboxPeer(b, 0, 1, MBOX_BSD_TO_HTX, MBOX_HTX_TO_BSD);
    const pongs: Array<[number, number]> = [];
    peer.onMessage = (type, seq, args) => { if (type === MSG_PONG) pongs.push([seq, args[0]]); };
    b.run(1_000_000);
    for (let i = 0; i < 500; i++) peer.request(MSG_PING, [i * 3]);
    b.run(100_000_000);
    expect(pongs.length).toBe(500);
    expect(pongs.every(([seq, v], i) => seq === i + 1 && v === i * 3 + 1)).toBe(true);
    expect(b.cpus[1].report).toBeUndefined();
  });
});
