// What every stream experiment needs: a machine whose three disks hold a stream file
// system with the files to play, the real HiTactix kernel on CPU 1, the host standing
// in for BSD on CPU 0 (host/peer.ts), and the measurement client checking payloads
// against the files.
//
// Interface:
//   streamMachine({ files, policy, seed }) -> StreamRig
//   rig.start(fileIndex, port, loop, noAdmission?) -> Promise-free callback style:
//        rig.start(...) returns the request seq; rig.streams[] fill in on reply
//   rig.write(disk, lba, sectors, onDone)   an upload write through the mailbox
//   rig.run(untilNs, onProgress?)           advance, printing progress on a TTY; a CPU
//                                           stopped by a guest fault ends it with a
//                                           GuestFaultError (the experiment must not go
//                                           on measuring a dead kernel)
//   rig.stats()                             HiTactix's counters (host/htx-stats.ts)
//   refusalReason(code)                     an error reply's reason, in words

import { buildMachine, type Machine } from "../machine.js";
import { defaultBoard, type BoardConfig } from "../config.js";
import type { BoardSummary } from "../board.js";
import type { CpuReport } from "../cpu.js";
import { readHitactixStats, type HitactixStats } from "../htx-stats.js";
import { formatVolume, importFile, bytesSource, volumeIdFromSeed, type SfsFile, type SfsVolume } from "../sfs.js";
import { MailboxPeer } from "../peer.js";
import { MBOX_BSD_TO_HTX, MBOX_HTX_TO_BSD, BSD_BASE } from "../../common/memmap.js";
import {
  MSG_STREAM_START, MSG_WRITE, FLAG_LOOP, FLAG_NO_ADMISSION, BOOT_HTX_POLICY, BOOT_HTX_IP, BOOT_REPORT_TICKS,
  ERR_NO_SUCH_FILE, ERR_ADMISSION, ERR_TABLE_FULL, ERR_NO_SUCH_STREAM, ERR_NOT_MOUNTED, ERR_BAD_REQUEST, ERR_NO_MEMORY,
} from "../../common/platform.js";
import { STREAM_HEADER_BYTES } from "../../devices/measure-client.js";
import { Rng } from "../rng.js";

export const SERVER_IP = 0x0a000001; // 10.0.0.1
export const CLIENT_IP = 0x0a000002; // 10.0.0.2
export const CLIENT_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

export interface FileSpec {
  name: string;
  bytes: number;
  rateBps: number;
}

export interface RigOptions {
  files: FileSpec[];
  policy: "cyclic" | "fifo";
  seed?: number;
  periodNs?: number;
  /** Kernel status line every this many ms (0 = none). */
  reportMs?: number;
  onConsole?: (cpu: number, timeNs: number, text: string) => void;
  /** Changes to the board description before it is built (fault injection, tests). */
  edit?: (cfg: BoardConfig) => void;
}

/** A CPU stopped on a guest fault while an experiment ran: its report and the board's
 *  summary at that moment (what `run` prints). */
export class GuestFaultError extends Error {
  constructor(readonly report: CpuReport, readonly summary: BoardSummary) {
    super(`cpu${report.cpu} (${report.guest}) stopped: ${report.kind} in ${report.function} at ${(report.timeNs / 1e9).toFixed(6)} s: ${report.message}`);
  }
}

const REASONS: Record<number, string> = {
  [ERR_NO_SUCH_FILE]: "no such file",
  [ERR_ADMISSION]: "admission control: the disks cannot guarantee it",
  [ERR_TABLE_FULL]: "the distribution table is full",
  [ERR_NO_SUCH_STREAM]: "no such stream",
  [ERR_NOT_MOUNTED]: "no stream file system mounted",
  [ERR_BAD_REQUEST]: "bad request",
  [ERR_NO_MEMORY]: "its ring buffers do not fit HiTactix's free memory",
};

export function refusalReason(code: number): string {
  return REASONS[code] ?? `reason ${code}`;
}

export interface StreamState {
  file: number;
  port: number;
  id: number; // stream id in HiTactix, -1 until the reply, -2 refused
  reason: number;
}

export class StreamRig {
  readonly machine: Machine;
  readonly peer: MailboxPeer;
  readonly files: SfsFile[];
  readonly contents: Uint8Array[];
  readonly streams: StreamState[] = [];
  private readonly byPort = new Map<number, number>();
  writeBuf = BSD_BASE; // CPU 0 is host-driven: BSD's partition is free for upload data
  /** Virtual time HiTactix said "ready for streams" (mounted and calibrated), or -1. */
  readyAtNs = -1;
  readonly console: string[] = [];

  constructor(readonly opts: RigOptions) {
    const cfg: BoardConfig = defaultBoard();
    cfg.seed = opts.seed ?? 1;
    cfg.cpus[0] = { ...cfg.cpus[0], name: "host", wasm: "host" };
    cfg.cpus[1].bootArgs = {
      [BOOT_HTX_POLICY]: opts.policy === "fifo" ? 1 : 0,
      [BOOT_HTX_IP]: SERVER_IP,
      [BOOT_REPORT_TICKS]: opts.reportMs ?? 0,
    };
    opts.edit?.(cfg);
    // File contents: deterministic bytes from the seed, kept to verify the payload.
    const rng = new Rng(cfg.seed ^ 0x5eed);
    this.contents = opts.files.map((f) => {
      const b = new Uint8Array(f.bytes);
      rng.fill(new Uint32Array(b.buffer, 0, f.bytes >> 2));
      return b;
    });
    this.machine = buildMachine(cfg, {
      content: (flowKey) => {
        const i = this.byPort.get(Number(flowKey.split(":")[1]));
        return i === undefined ? undefined : this.contents[this.streams[i].file];
      },
      onConsole: (l) => {
        if (l.text === "hitactix: ready for streams") this.readyAtNs = l.timeNs;
        if (this.console.length < 10_000) this.console.push(l.text);
        opts.onConsole?.(l.cpu, l.timeNs, l.text);
      },
    });
    // Write the volume straight into the disks' backends, as `hitactix disk import` would.
    const backends = this.machine.disks.map((d) => d.backend);
    const vol: SfsVolume = formatVolume(backends, volumeIdFromSeed(cfg.seed)); // seeded: runs repeat exactly
    this.files = opts.files.map((f, i) => importFile(vol, f.name, bytesSource(this.contents[i]), f.rateBps, opts.periodNs ?? 256_000_000));
    this.peer = new MailboxPeer(this.machine.board, 0, 1, MBOX_BSD_TO_HTX, MBOX_HTX_TO_BSD);
  }

  /** Run until HiTactix has mounted the volume and calibrated the disks. */
  boot(limitNs = 10_000_000_000): void {
    const b = this.machine.board;
    while (this.readyAtNs < 0 && b.sched.now < limitNs && !b.cpus[1].report) b.run(b.sched.now + 50_000_000);
    this.checkFault();
    if (this.readyAtNs < 0) {
      throw new Error(`HiTactix did not become ready for streams by ${limitNs / 1e9} s: ${b.cpus[1].report?.message ?? this.console.slice(-5).join(" | ")}`);
    }
  }

  /** Ask HiTactix to start file `file` toward the client's UDP `port`. */
  start(file: number, port: number, opts: { loop?: boolean; noAdmission?: boolean } = {}): number {
    const i = this.streams.length;
    this.streams.push({ file, port, id: -1, reason: 0 });
    this.byPort.set(port, i);
    const mac = CLIENT_MAC;
    const flags = (opts.loop ? FLAG_LOOP : 0) | (opts.noAdmission ? FLAG_NO_ADMISSION : 0);
    this.peer.request(MSG_STREAM_START, [
      file, CLIENT_IP, port | (5000 << 16), flags,
      mac[0] | (mac[1] << 8) | (mac[2] << 16) | (mac[3] << 24), mac[4] | (mac[5] << 8),
    ], (result, reason) => {
      this.streams[i].id = result >= 0 ? result : -2;
      this.streams[i].reason = reason;
    });
    return i;
  }

  /** An upload write of `sectors` from the upload buffer; onDone(ok, timeNs). */
  write(disk: number, lba: number, sectors: number, onDone: (ok: boolean, timeNs: number) => void): void {
    this.peer.request(MSG_WRITE, [disk, lba, sectors, this.writeBuf], (result, _reason, t) => onDone(result >= 0, t));
  }

  /** Bytes per period of stream i (its chunk), the rate it is owed. */
  chunkBytes(i: number): number {
    return this.files[this.streams[i].file].chunk;
  }

  run(untilNs: number, label = "", stepNs = 1_000_000_000): void {
    const b = this.machine.board;
    const t0 = performance.now();
    let shown = t0;
    while (b.sched.now < untilNs) {
      b.run(Math.min(untilNs, b.sched.now + stepNs));
      if (b.cpus.some((c) => c.report)) {
        if (shown !== t0) process.stderr.write("\n");
        this.checkFault();
      }
      const now = performance.now();
      if (process.stderr.isTTY && now - shown > 1000) {
        process.stderr.write(`\r${label} ${(b.sched.now / 1e9).toFixed(0)} / ${(untilNs / 1e9).toFixed(0)} s virtual (${((b.sched.now / 1e9) / ((now - t0) / 1000)).toFixed(1)}x real time) `);
        shown = now;
      }
    }
    if (shown !== t0) process.stderr.write("\n");
  }

  /** Throw GuestFaultError if a CPU has stopped on a guest fault. */
  checkFault(): void {
    const b = this.machine.board;
    const stopped = b.cpus.find((c) => c.report);
    if (stopped) throw new GuestFaultError(stopped.report!, b.summary());
  }

  /** HiTactix's counters now (undefined before it initialised its statistics block). */
  stats(): HitactixStats | undefined {
    return readHitactixStats(this.machine.board.mem);
  }
}

export const STREAM_DATA_PER_FRAME = 1472 - STREAM_HEADER_BYTES;
