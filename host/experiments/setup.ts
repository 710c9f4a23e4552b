// What every stream experiment needs: a machine whose three disks hold a stream file
// system with the files to play, the real HiTactix kernel on CPU 1, BSD on CPU 0, and
// the measurement client checking payloads against the files.
//
// BSD is the real BSD kernel (driver "bsd", the default): its userland drives
// HiTactix through the HiTactix driver (/dev/htx) as an operator would, by typing
// commands into a shell on BSD's terminal: `streamctl start ...` for each stream,
// `upload ...` for the writer. Replies come back as the programs' output on the
// terminal, which the rig reads; start times therefore include BSD's own work (a
// shell, a process per command, the scheduler). With driver "host", the host stands in
// for BSD on the mailbox (host/peer.ts): the unit tests of HiTactix use it.
// `bsdBusy` gives BSD work of its own meanwhile: a CPU-bound process and cron.
//
// Interface:
//   await StreamRig.create(opts) -> StreamRig (BSD unless opts.driver is "host");
//   new StreamRig(opts): the host stand-in unless opts.driver is "bsd" (unit tests)
//   rig.start(fileIndex, port, { loop, noAdmission }) -> index in rig.streams, whose
//        id and reason fill in when the reply comes
//   rig.upload({ bytes, inFlight, lba, disks, untilNs }, onDone(ok, bytes, timeNs))
//                                           a writer keeping `inFlight` writes of `bytes`
//                                           going to HiTactix's disks in turn
//   rig.write(disk, lba, sectors, onDone)   one upload write through the mailbox (host)
//   rig.run(untilNs, onProgress?)           advance, printing progress on a TTY; a CPU
//                                           stopped by a guest fault ends it with a
//                                           GuestFaultError (the experiment must not go
//                                           on measuring a dead kernel)
//   rig.stats()                             HiTactix's counters (host/htx-stats.ts)
//   refusalReason(code)                     an error reply's reason, in words

import { buildMachine, type Machine } from "../machine.js";
import { prepareLoader } from "../proc/loader.js";
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
  /** Who drives HiTactix: BSD userland (default) or the host standing in for it. */
  driver?: "bsd" | "host";
  /** BSD also runs a CPU-bound process and cron (driver "bsd"). */
  bsdBusy?: boolean;
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

/** The reply words of /dev/htx's errors (guest-bsd/kern/htx.ts) as reply codes. */
const REASON_WORDS: Record<string, number> = {
  "no-such-file": ERR_NO_SUCH_FILE, "admission-refused": ERR_ADMISSION, "table-full": ERR_TABLE_FULL,
  "no-such-stream": ERR_NO_SUCH_STREAM, "not-mounted": ERR_NOT_MOUNTED, "bad-request": ERR_BAD_REQUEST,
  "no-memory": ERR_NO_MEMORY,
};

export interface UploadPlan {
  bytes: number;
  inFlight: number;
  lba: number;
  disks: number;
  /** Issue no new write after this virtual time. */
  untilNs: number;
}

export class StreamRig {
  readonly machine: Machine;
  readonly peer: MailboxPeer | undefined;
  readonly driver: "bsd" | "host";
  readonly files: SfsFile[];
  readonly contents: Uint8Array[];
  readonly streams: StreamState[] = [];
  private readonly byPort = new Map<number, number>();
  writeBuf = BSD_BASE; // CPU 0 is host-driven: BSD's partition is free for upload data
  /** Virtual time HiTactix said "ready for streams" (mounted and calibrated), or -1. */
  readyAtNs = -1;
  readonly console: string[] = [];
  /** BSD's terminal output, and the lines read from it so far. */
  private ttyText = "";
  private pendingStarts: number[] = [];
  private onUpload: ((ok: boolean, bytes: number, t: number) => void) | undefined;
  private uploadBytes = 0;

  /** A rig driven by BSD userland unless opts.driver says "host" (the experiments). */
  static async create(opts: RigOptions): Promise<StreamRig> {
    const driver = opts.driver ?? "bsd";
    if (driver === "bsd") await prepareLoader();
    return new StreamRig({ ...opts, driver });
  }

  /** A rig built at once: the host stand-in unless opts.driver says "bsd" (then the
   *  process loader must be ready: use create). HiTactix's unit tests use it. */
  constructor(readonly opts: RigOptions) {
    const cfg: BoardConfig = defaultBoard();
    cfg.seed = opts.seed ?? 1;
    this.driver = opts.driver ?? "host";
    if (this.driver === "host") cfg.cpus[0] = { ...cfg.cpus[0], name: "host", wasm: "host" };
    else cfg.bsd = { cmdline: ["init", "-x", "/bin/sh"], ttyAttached: true }; // an operator's shell on the terminal
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
      ttyOutput: (stream, bytes) => { if (stream === 0) this.terminal(Buffer.from(bytes).toString()); },
    });
    // Write the volume straight into the disks' backends, as `hitactix disk import` would.
    const backends = this.machine.disks.map((d) => d.backend);
    const vol: SfsVolume = formatVolume(backends, volumeIdFromSeed(cfg.seed)); // seeded: runs repeat exactly
    this.files = opts.files.map((f, i) => importFile(vol, f.name, bytesSource(this.contents[i]), f.rateBps, opts.periodNs ?? 256_000_000));
    this.peer = this.driver === "host" ? new MailboxPeer(this.machine.board, 0, 1, MBOX_BSD_TO_HTX, MBOX_HTX_TO_BSD) : undefined;
    if (this.driver === "bsd" && opts.bsdBusy) this.type("cron &", "spin -f > /dev/null &");
  }

  /** Type lines into the shell on BSD's terminal (now, in virtual time). */
  type(...lines: string[]): void {
    this.machine.tty!.input(new TextEncoder().encode(lines.map((l) => `${l}\n`).join("")));
  }

  /** What the BSD programs printed: replies of streamctl, progress of upload. */
  private terminal(text: string): void {
    this.ttyText += text;
    let nl: number;
    while ((nl = this.ttyText.indexOf("\n")) >= 0) {
      const line = this.ttyText.slice(0, nl);
      this.ttyText = this.ttyText.slice(nl + 1);
      let m: RegExpExecArray | null;
      if ((m = /^ok start (\d+)( past-admission)?$/.exec(line)) || (m = /^error start (\S+)$/.exec(line))) {
        const i = this.pendingStarts.shift();
        if (i === undefined) continue;
        const ok = line.startsWith("ok");
        this.streams[i].id = ok ? Number(m[1]) : -2;
        this.streams[i].reason = ok ? (m[2] ? ERR_ADMISSION : 0) : (REASON_WORDS[m[1]] ?? ERR_BAD_REQUEST);
      } else if ((m = /^upload: \S+ s (ok|error) write/.exec(line))) {
        this.onUpload?.(m[1] === "ok", this.uploadBytes, this.machine.board.sched.now);
      }
    }
  }

  /** The virtual time the rig last ran the board to, as asked (the board may be a few
   *  microseconds past it: a BSD process stops at its next loop head). Measurement
   *  windows start from this, so they do not depend on what BSD was doing. */
  time = 0;

  /** Run until HiTactix has mounted the volume and calibrated the disks. */
  boot(limitNs = 10_000_000_000): void {
    const b = this.machine.board;
    while (this.readyAtNs < 0 && this.time < limitNs && !b.cpus[1].report) {
      this.time += 50_000_000;
      b.run(this.time);
    }
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
    if (this.driver === "bsd") {
      const hex = mac.map((b) => b.toString(16).padStart(2, "0")).join(":");
      const ip = [CLIENT_IP >>> 24, (CLIENT_IP >>> 16) & 255, (CLIENT_IP >>> 8) & 255, CLIENT_IP & 255].join(".");
      this.pendingStarts.push(i);
      this.type(`streamctl start ${file} ${ip}:${port}${opts.loop ? " loop" : ""}${opts.noAdmission ? " noadmit" : ""} mac ${hex} sport 5000`);
      return i;
    }
    const flags = (opts.loop ? FLAG_LOOP : 0) | (opts.noAdmission ? FLAG_NO_ADMISSION : 0);
    this.peer!.request(MSG_STREAM_START, [
      file, CLIENT_IP, port | (5000 << 16), flags,
      mac[0] | (mac[1] << 8) | (mac[2] << 16) | (mac[3] << 24), mac[4] | (mac[5] << 8),
    ], (result, reason) => {
      this.streams[i].id = result >= 0 ? result : -2;
      this.streams[i].reason = reason;
    });
    return i;
  }

  /** An upload write of `sectors` from the upload buffer; onDone(ok, timeNs) (driver "host"). */
  write(disk: number, lba: number, sectors: number, onDone: (ok: boolean, timeNs: number) => void): void {
    if (!this.peer) throw new Error("rig.write is the host stand-in's; with BSD, use rig.upload");
    this.peer.request(MSG_WRITE, [disk, lba, sectors, this.writeBuf], (result, _reason, t) => onDone(result >= 0, t));
  }

  /**
   * A writer from now on: `inFlight` writes of `bytes` kept going to HiTactix's disks in
   * turn (write k to disk k % disks at lba + floor(k / disks) * sectors), none issued
   * after `untilNs`; onDone for each completed write. With BSD this is the `upload`
   * program typed into the shell; with the host stand-in, requests on the mailbox.
   */
  upload(plan: UploadPlan, onDone: (ok: boolean, bytes: number, timeNs: number) => void): void {
    const sectors = Math.ceil(plan.bytes / 512);
    if (this.driver === "bsd") {
      this.onUpload = onDone;
      this.uploadBytes = sectors * 512;
      const seconds = Math.max(0, (plan.untilNs - this.time) / 1e9);
      this.type(`upload -b ${plan.bytes} -n ${plan.inFlight} -d ${plan.disks} -l ${plan.lba} -t ${seconds.toFixed(6)}`);
      return;
    }
    let k = 0;
    const next = (): void => {
      const disk = k % plan.disks;
      const lba = plan.lba + Math.floor(k / plan.disks) * sectors;
      k++;
      this.write(disk, lba, sectors, (ok, t) => {
        onDone(ok, sectors * 512, t);
        if (t < plan.untilNs) next();
      });
    };
    for (let i = 0; i < plan.inFlight; i++) next();
  }

  /** Bytes per period of stream i (its chunk), the rate it is owed. */
  chunkBytes(i: number): number {
    return this.files[this.streams[i].file].chunk;
  }

  run(untilNs: number, label = "", stepNs = 1_000_000_000): void {
    const b = this.machine.board;
    const t0 = performance.now();
    let shown = t0;
    while (this.time < untilNs) {
      this.time = Math.min(untilNs, this.time + stepNs);
      b.run(this.time);
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
