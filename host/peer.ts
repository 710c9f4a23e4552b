// A host-driven mailbox peer: the host stands in for a kernel on one CPU (no guest
// there) and talks to the other CPU's kernel through the same rings and IPIs a guest
// would use. Experiments use it as "BSD" before the BSD kernel has its HiTactix
// driver: to start and stop streams and to issue upload writes.
//
// Interface:
//   new MailboxPeer(board, myCpu, peerCpu, sendRing, recvRing)
//   request(type, args, onReply)   queue a request (sent when the ring has room)
//   onMessage                      messages that are not replies (e.g. PONG)

import type { Board } from "./board.js";
import {
  MBOX_HEAD, MBOX_TAIL, MBOX_WAITING, MBOX_HEADER_SIZE, MBOX_SLOT_SIZE, MBOX_DEFAULT_SLOTS,
  MSG_TYPE, MSG_SEQ, MSG_ARG0, MSG_REPLY, IRQ_IPI,
} from "../common/platform.js";

export type ReplyFn = (result: number, reason: number, timeNs: number) => void;

export class MailboxPeer {
  private seq = 1;
  private backlog: Array<{ type: number; seq: number; args: number[] }> = [];
  private waiting = new Map<number, ReplyFn>();
  onMessage: (type: number, seq: number, args: number[]) => void = () => {};
  requests = 0;
  replies = 0;
  private readonly ipiH;

  constructor(private readonly board: Board, myCpu: number, peerCpu: number,
    private readonly sendRing: number, private readonly recvRing: number) {
    board.cpus[myCpu].attachHost((line) => { if (line === IRQ_IPI) this.interrupt(); });
    this.ipiH = board.sched.handler(`peer${myCpu}.ipi`, () => board.cpus[peerCpu].raise(IRQ_IPI));
  }

  request(type: number, args: number[], onReply: ReplyFn = () => {}): number {
    const seq = this.seq++;
    this.waiting.set(seq, onReply);
    this.backlog.push({ type, seq, args });
    this.requests++;
    this.push();
    return seq;
  }

  private get dv(): DataView {
    return this.board.mem.dv;
  }

  /** Move the backlog into the ring while there is room; IPI the peer if anything went. */
  private push(): void {
    const r = this.sendRing;
    let sent = 0;
    while (this.backlog.length > 0) {
      const head = this.dv.getUint32(r + MBOX_HEAD, true);
      const tail = this.dv.getUint32(r + MBOX_TAIL, true);
      if (((head - tail) >>> 0) >= MBOX_DEFAULT_SLOTS) {
        this.dv.setUint32(r + MBOX_WAITING, 1, true); // the peer wakes us when it drains
        break;
      }
      const m = this.backlog.shift()!;
      const slot = r + MBOX_HEADER_SIZE + (head & (MBOX_DEFAULT_SLOTS - 1)) * MBOX_SLOT_SIZE;
      this.dv.setUint32(slot + MSG_TYPE, m.type, true);
      this.dv.setUint32(slot + MSG_SEQ, m.seq, true);
      for (let i = 0; i < 14; i++) this.dv.setUint32(slot + MSG_ARG0 + 4 * i, (m.args[i] ?? 0) >>> 0, true);
      this.dv.setUint32(r + MBOX_HEAD, (head + 1) >>> 0, true);
      sent++;
    }
    if (sent > 0) this.board.sched.after(this.board.config.costs.ipiLatencyNs, this.ipiH);
  }

  private interrupt(): void {
    const r = this.recvRing;
    let drained = 0;
    for (;;) {
      const tail = this.dv.getUint32(r + MBOX_TAIL, true);
      if (tail === this.dv.getUint32(r + MBOX_HEAD, true)) break;
      const slot = r + MBOX_HEADER_SIZE + (tail & (MBOX_DEFAULT_SLOTS - 1)) * MBOX_SLOT_SIZE;
      const type = this.dv.getUint32(slot + MSG_TYPE, true);
      const seq = this.dv.getUint32(slot + MSG_SEQ, true);
      const args = Array.from({ length: 14 }, (_, i) => this.dv.getUint32(slot + MSG_ARG0 + 4 * i, true));
      this.dv.setUint32(r + MBOX_TAIL, (tail + 1) >>> 0, true);
      drained++;
      if (type === MSG_REPLY) {
        this.replies++;
        const fn = this.waiting.get(seq);
        this.waiting.delete(seq);
        fn?.(args[0] | 0, args[1], this.board.sched.now);
      } else {
        this.onMessage(type, seq, args);
      }
    }
    if (drained > 0 && this.dv.getUint32(r + MBOX_WAITING, true) !== 0) {
      this.dv.setUint32(r + MBOX_WAITING, 0, true);
      this.board.sched.after(this.board.config.costs.ipiLatencyNs, this.ipiH);
    }
    this.push();
  }
}

