// Wire, pcap writer and measurement client tests.

import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ipv4, MeasureClient, STREAM_HEADER_BYTES, writeUdpFrame, type UdpFrameSpec } from "../devices/measure-client.js";
import { LINKTYPE_ETHERNET, PCAP_MAGIC_NS, PcapWriter } from "../devices/pcap.js";
import { type Endpoint, FrameParts, frameTimeNs, Wire, wireTimeNs } from "../devices/wire.js";

const A = [0x02, 0, 0, 0, 0, 1];
const B = [0x02, 0, 0, 0, 0, 2];

class Times implements Endpoint {
  readonly t: number[] = [];
  readonly len: number[] = [];
  receive(frame: Uint8Array, timeNs: number): void {
    this.t.push(timeNs);
    this.len.push(frame.length);
  }
}

function spec(over: Partial<UdpFrameSpec> = {}): UdpFrameSpec {
  return { dstMac: B, srcMac: A, srcIp: ipv4("10.0.0.1"), dstIp: ipv4("10.0.0.2"), srcPort: 4000, dstPort: 5000, payloadLength: 1472, ...over };
}

describe("wire", () => {
  it("serialization: 8 ns/byte of max(frame + FCS, 64) + 8 preamble/SFD + 12 gap", () => {
    expect(frameTimeNs(1514)).toBe((8 + 1518) * 8); // 12,208 ns to the last FCS bit
    expect(wireTimeNs(1514)).toBe(1538 * 8); // 12,304 ns per 1500-byte IP packet
    expect(wireTimeNs(60)).toBe((8 + 64 + 12) * 8); // minimum frame: 672 ns
    expect(wireTimeNs(14)).toBe(672); // padded like a 60-byte frame
    expect(wireTimeNs(61)).toBe((8 + 65 + 12) * 8);
    // 1500 IP bytes per 1538 byte times at 1 Gb/s:
    expect((1e9 * 1500) / 1538).toBeCloseTo(975_292_587.78, 1);
  });

  it("back-to-back frames leave one wireTime apart; arrival = leave + propagation; idle time is kept", () => {
    const rx = new Times();
    const tx = new Times();
    const w = new Wire({ propagationNs: 500 });
    const port = w.attach(0, tx);
    w.attach(1, rx);
    const f = new Uint8Array(1514);
    const left: number[] = [];
    for (let i = 0; i < 5; i++) left.push(port.send(f, 1000));
    expect(left).toEqual([0, 1, 2, 3, 4].map((i) => 1000 + i * 12304 + 12208));
    expect(rx.t).toEqual(left.map((t) => t + 500));
    // A frame ready after the wire went idle starts when it is ready.
    expect(port.send(f, 1_000_000)).toBe(1_000_000 + 12208);
    // The other direction is independent (full duplex).
    const back = w.attach(1, rx);
    expect(back.send(new Uint8Array(60), 1000)).toBe(1000 + 576);
    expect(tx.t).toEqual([1000 + 576 + 500]);
    expect(w.stats(0).frames).toBe(6);
    expect(w.stats(0).busyNs).toBe(6 * 12304);
  });

  it("a long back-to-back burst gives exactly 1e9*1500/1538 bit/s of IP payload at the client", () => {
    const w = new Wire();
    const client = new MeasureClient({ windowsNs: [1_000_000, 100_000_000] });
    const port = w.attach(0, { receive: () => {} });
    w.attach(1, client);
    const buf = new Uint8Array(1514);
    expect(writeUdpFrame(buf, 0, spec({ stream: { id: 1, seq: 0, byteOffset: 0 } }))).toBe(1514);
    const N = 100_000;
    const dv = new DataView(buf.buffer);
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      dv.setUint32(42 + 4, i); // sequence (UDP checksum now stale: the client does not check it)
      port.send(buf, 0);
    }
    const wallPerFrame = ((performance.now() - t0) * 1e6) / N;
    const f = client.flow("10.0.0.2:5000")!;
    expect(f.frames).toBe(N);
    expect(f.lost).toBe(0);
    const rate = ((f.frames - 1) * 1500 * 8 * 1e9) / (f.lastNs - f.firstNs);
    expect(rate).toBeCloseTo((1e9 * 1500) / 1538, 3);
    // 1 ms windows hold 81 or 82 frames (81.27 on average).
    const s = f.seriesOf(0);
    for (let i = 1; i < s.length - 1; i++) expect([81 * 1472, 82 * 1472]).toContain(s[i]);
    console.log(`wire + client: ${wallPerFrame.toFixed(0)} ns wall per frame`);
  });
});

describe("pcap", () => {
  it("writes the nanosecond pcap format with buffered writes; close() flushes", () => {
    const dir = mkdtempSync(join(tmpdir(), "pcap-"));
    const path = join(dir, "t.pcap");
    const p = new PcapWriter(path, { snaplen: 2000, bufferBytes: 4096 });
    const f = new Uint8Array(1514).map((_, i) => i & 0xff);
    p.capture(f, 1_500_000_123);
    expect(statSync(path).size).toBe(0); // still buffered
    for (let i = 0; i < 100; i++) p.capture(f.subarray(0, 60 + i), 2_000_000_000 + i);
    expect(statSync(path).size).toBeGreaterThan(0); // flushed once the buffer filled
    p.close();
    const d = readFileSync(path);
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    expect(dv.getUint32(0, true)).toBe(PCAP_MAGIC_NS);
    expect([...d.subarray(0, 4)]).toEqual([0x4d, 0x3c, 0xb2, 0xa1]);
    expect(dv.getUint16(4, true)).toBe(2);
    expect(dv.getUint16(6, true)).toBe(4);
    expect(dv.getUint32(16, true)).toBe(2000);
    expect(dv.getUint32(20, true)).toBe(LINKTYPE_ETHERNET);
    expect(dv.getUint32(24, true)).toBe(1); // ts_sec
    expect(dv.getUint32(28, true)).toBe(500_000_123); // ts_nsec
    expect(dv.getUint32(32, true)).toBe(1514);
    expect(dv.getUint32(36, true)).toBe(1514);
    expect(d.subarray(40, 40 + 1514)).toEqual(Buffer.from(f));
    const second = 40 + 1514;
    expect(dv.getUint32(second, true)).toBe(2);
    expect(dv.getUint32(second + 4, true)).toBe(0);
    expect(d.length).toBe(24 + 101 * 16 + 1514 + (60 * 100 + (99 * 100) / 2));
    expect(p.frames).toBe(101);
    expect(p.bytes).toBe(d.length);
  });

  it("truncates to the snap length (default 65535)", () => {
    const q = join(mkdtempSync(join(tmpdir(), "pcap-")), "d.pcap");
    const d0 = new PcapWriter(q);
    d0.close();
    expect(readFileSync(q).readUInt32LE(16)).toBe(65535);
    const path = join(mkdtempSync(join(tmpdir(), "pcap-")), "s.pcap");
    const p = new PcapWriter(path, { snaplen: 100 });
    p.capture(new Uint8Array(1514), 0);
    p.close();
    const d = readFileSync(path);
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    expect(dv.getUint32(24 + 8, true)).toBe(100);
    expect(dv.getUint32(24 + 12, true)).toBe(1514);
    expect(d.length).toBe(24 + 16 + 100);
  });
});

describe("measurement client", () => {
  const stream = new Uint8Array(1 << 16).map((_, i) => (i * 7 + (i >> 8)) & 0xff);

  it("parses Ethernet/IPv4/UDP, verifies payload ranges and counts mismatches without throwing", () => {
    const c = new MeasureClient({ windowsNs: [10_000_000, 1_000_000_000], expected: (_k, off, len) => stream.subarray(off, off + len) });
    const buf = new Uint8Array(1600);
    const data = 1000 - STREAM_HEADER_BYTES;
    for (let seq = 0; seq < 10; seq++) {
      const off = seq * data;
      const len = writeUdpFrame(buf, 0, spec({ payloadLength: 1000, stream: { id: 3, seq, byteOffset: off }, data: stream.subarray(off, off + data) }));
      if (seq === 4) buf[len - 1] ^= 0xff; // corrupt one byte
      if (seq !== 6) c.receive(buf.subarray(0, len), seq * 5_000_000); // lose one packet
    }
    const f = c.flow("10.0.0.2:5000")!;
    expect(f.frames).toBe(9);
    expect(f.mismatches).toBe(1);
    expect(f.verifiedBytes).toBe(8 * data);
    expect(f.lost).toBe(1);
    expect(f.udpBytes).toBe(9 * 1000);
    expect(f.ipBytes).toBe(9 * 1028);
    expect(f.dataBytes).toBe(9 * data);
    // 10 ms windows: frames at 0, 5, 10, ... 45 ms (30 ms missing)
    expect([...f.seriesOf(0)]).toEqual([2000, 2000, 2000, 1000, 2000]);
    expect([...f.seriesOf(1)]).toEqual([9000]);
  });

  it("frames in pieces count and verify exactly as whole frames: headers|data read in place, other splits joined", () => {
    const content = (): Uint8Array => stream;
    const flat = new MeasureClient({ content });
    const split = [new MeasureClient({ content }), new MeasureClient({ content }), new MeasureClient({ content })];
    const wires = split.map((c) => {
      const w = new Wire();
      w.attach(1, c);
      return w.attach(0, { receive: () => {} });
    });
    const buf = new Uint8Array(1600);
    const data = 1200 - STREAM_HEADER_BYTES;
    const ram = new Uint8Array(1 << 16); // where a NIC would find the payload
    let t = 0;
    for (let seq = 0; seq < 12; seq++) {
      const off = seq * data;
      const len = writeUdpFrame(buf, 0, spec({ payloadLength: 1200, stream: { id: 1, seq, byteOffset: off }, data: stream.subarray(off, off + data) }));
      if (seq === 5) buf[len - 7] ^= 0x10; // one bad data byte
      if (seq === 8) buf[14 + 20 + 8 + 8 + 3] ^= 1; // a wrong byte offset in the stream header
      const head = 14 + 20 + 8 + STREAM_HEADER_BYTES;
      ram.set(buf.subarray(head, len), 1001);
      flat.receive(buf.subarray(0, len), t);
      const p = new FrameParts();
      // 1: headers, then the data where it lies (read in place)
      p.add(buf.subarray(0, head), 0, head);
      p.add(ram, 1001, len - head);
      t = wires[0].sendParts(p, t);
      // 2: the header cut inside the IP header, the data in two pieces (joined)
      p.clear();
      p.add(buf, 0, 20);
      p.add(buf, 20, head - 20);
      p.add(ram, 1001, 500);
      p.add(ram, 1501, len - head - 500);
      wires[1].sendParts(p, t);
      // 3: the stream header split between two pieces (joined)
      p.clear();
      p.add(buf, 0, head - 5);
      p.add(buf, head - 5, len - head + 5);
      wires[2].sendParts(p, t);
    }
    const want = flat.flow("10.0.0.2:5000")!;
    expect(want.frames).toBe(12);
    expect(want.mismatches).toBe(2);
    expect(want.verifiedBytes).toBe(10 * data);
    for (const c of split) {
      const f = c.flow("10.0.0.2:5000")!;
      for (const k of ["frames", "ipBytes", "udpBytes", "dataBytes", "verifiedBytes", "mismatches", "unverified", "lost"] as const) expect(f[k], k).toBe(want[k]);
      expect(c.counters.bytes).toBe(flat.counters.bytes);
    }
  });

  it("a tap and an endpoint without receiveParts get a gather list joined into one frame", () => {
    const got: Uint8Array[] = [];
    const tapped: Uint8Array[] = [];
    const w = new Wire({ tap: { capture: (f) => void tapped.push(f.slice()) } });
    w.attach(1, { receive: (f) => void got.push(f.slice()) });
    const tx = w.attach(0, { receive: () => {} });
    const a = Uint8Array.from({ length: 100 }, (_, i) => i);
    const p = new FrameParts();
    p.add(a, 10, 30);
    p.add(a, 0, 5);
    p.add(a, 90, 10);
    const left = tx.sendParts(p, 1000);
    const want = [...a.subarray(10, 40), ...a.subarray(0, 5), ...a.subarray(90, 100)];
    expect([...got[0]]).toEqual(want);
    expect([...tapped[0]]).toEqual(want);
    expect(left).toBe(1000 + frameTimeNs(45));
    expect(w.stats(0).bytes).toBe(45);
  });

  it("flows by destination or by 4-tuple; other frames are counted, not parsed", () => {
    const byDst = new MeasureClient({ flowBy: "dst" });
    const byTuple = new MeasureClient({ flowBy: "tuple" });
    const buf = new Uint8Array(200);
    for (const [sport, dport] of [[1, 5000], [2, 5000], [1, 5001]]) {
      const len = writeUdpFrame(buf, 0, spec({ srcPort: sport, dstPort: dport, payloadLength: 40, stream: { id: sport, seq: 0, byteOffset: 0 } }));
      byDst.receive(buf.subarray(0, len), 0);
      byTuple.receive(buf.subarray(0, len), 0);
    }
    expect(byDst.flows().map((f) => f.key)).toEqual(["10.0.0.2:5000", "10.0.0.2:5001"]);
    expect(byTuple.flows().map((f) => f.key)).toEqual(["10.0.0.1:1>10.0.0.2:5000", "10.0.0.1:2>10.0.0.2:5000", "10.0.0.1:1>10.0.0.2:5001"]);
    // Two streams in one flow keep separate sequence numbers: nothing lost.
    expect(byDst.flow("10.0.0.2:5000")!.lost).toBe(0);
    // VLAN-tagged UDP is parsed; ARP, TCP and a short payload are counted.
    const t = writeUdpFrame(buf, 0, spec({ vlan: 5, payloadLength: 8 }));
    byDst.receive(buf.subarray(0, t), 1);
    expect(byDst.flow("10.0.0.2:5000")!.shortPayload).toBe(1);
    const arp = new Uint8Array(60);
    arp[12] = 0x08;
    arp[13] = 0x06;
    byDst.receive(arp, 2);
    const tcp = buf.slice(0, writeUdpFrame(buf, 0, spec({ payloadLength: 40 })));
    tcp[23] = 6;
    byDst.receive(tcp, 3);
    expect(byDst.counters).toMatchObject({ frames: 6, otherFrames: 1, nonUdp: 1, udpFrames: 4 });
  });

  it("injects frames toward the server through its wire port", () => {
    const w = new Wire();
    const server = new Times();
    const c = new MeasureClient();
    w.attach(0, server);
    c.connect(w.attach(1, c));
    const buf = new Uint8Array(100);
    const len = writeUdpFrame(buf, 0, spec({ payloadLength: 18 }));
    expect(len).toBe(60);
    expect(c.send(buf.subarray(0, len), 100)).toBe(100 + 576);
    expect(server.t).toEqual([676]);
    expect(c.counters.sentFrames).toBe(1);
  });
});
