// One device contract (host/device.ts): every device on the board reports a guest's
// mistake through its context's log, with the same kinds, and its name in front of
// the message exactly once, whether or not tracing is on. Each device is built the way
// buildMachine builds it (from the board's contexts) and driven with a bad register
// access or a bad command; the board's onLog must see the report.
import { describe, expect, it } from "vitest";
import { Board } from "../host/board.js";
import { defaultBoard, type BoardConfig } from "../host/config.js";
import type { LogKind } from "../host/device.js";
import { AceNic } from "../devices/acenic.js";
import { Lsi53c895 } from "../devices/lsi53c895.js";
import { ScsiDisk } from "../devices/scsi-disk.js";
import { MemoryBackend } from "../devices/block-backend.js";
import type { Connection, ScsiTask } from "../devices/scsi.js";
import { IRQ_NIC, IRQ_SCSI } from "../common/platform.js";
import { GigLnkState } from "../common/acenic-regs.js";

/** A board whose CPUs are host-driven (no guest): the devices are driven from here. */
function board(): { b: Board; logs: Array<[LogKind, string]> } {
  const c: BoardConfig = defaultBoard();
  c.cpus = c.cpus.map((cpu) => ({ ...cpu, wasm: "host" }));
  const logs: Array<[LogKind, string]> = [];
  const b = Board.create(c, { onLog: (k, m) => logs.push([k, m]) });
  return { b, logs };
}

/** Each message has its device's name in front once, and only once. */
function oncePrefixed(logs: Array<[LogKind, string]>, name: string): void {
  for (const [, m] of logs) {
    expect(m.startsWith(`${name}: `), m).toBe(true);
    expect(m.slice(name.length + 2).includes(`${name}:`), m).toBe(false);
  }
}

describe("every device reports guest errors through its context, with the same kinds and one prefix", () => {
  it("AceNIC: a write to a read-only register, an access where no register is", () => {
    const { b, logs } = board();
    const nic = new AceNic(b.deviceContext("acenic", 1, IRQ_NIC), { mac: "02:00:00:00:00:01" });
    nic.write(GigLnkState, 4, 0xffffffff);
    nic.read(0x3000, 4);
    nic.write(0x3000, 4, 1);
    expect(logs.map(([k]) => k)).toEqual(["guest-error", "guest-error", "guest-error"]);
    expect(logs[0][1]).toMatch(/^acenic: write to read-only GigLnkState/);
    expect(logs[1][1]).toBe("acenic: read of unmapped offset 0x3000");
    oncePrefixed(logs, "acenic");
    expect(b.summary().logs).toEqual({ "guest-error": 3 });
  });

  it("LSI53C895: an access to a reserved register, a write to a read-only one, a feature not modelled", () => {
    const { b, logs } = board();
    const lsi = new Lsi53c895(b.deviceContext("lsi53c895", 1, IRQ_SCSI), []);
    lsi.read(0xbc, 1); // between DNAD64 and PMJAD1: no register
    lsi.write(0x58, 1, 1); // SBDL is read-only
    lsi.write(0x4e, 1, 0x01); // STEST2.LOW: low-level mode
    expect(logs.map(([k]) => k)).toEqual(["guest-error", "guest-error", "unimp"]);
    expect(logs[0][1]).toBe("lsi53c895: read of reserved register 0xbc");
    expect(logs[1][1]).toMatch(/^lsi53c895: write to read-only SBDL/);
    oncePrefixed(logs, "lsi53c895");
  });

  it("SCSI disk: bad CDBs and a stray DATA OUT are logged with no trace attached", () => {
    const { b, logs } = board();
    const disk = new ScsiDisk(0, b.targetContext("disk0"), new MemoryBackend(1 << 20));
    const answers: number[] = [];
    const port = { connect: (c: Connection): void => { if (c.status !== undefined) answers.push(c.status); } };
    const task = (cdb: number[], tag: number): ScsiTask => ({ initiatorId: 7, targetId: 0, lun: 0, tag, cdb: Uint8Array.from(cdb) });
    disk.command(task([0x02, 0, 0, 0, 0, 0], 1), port); // no such opcode
    disk.command(task([0x1a, 0, 0x3f, 0, 0xff, 0], 2), port); // MODE SENSE(6): the drive has it, the model not
    disk.command(task([0x28, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0], 3), port); // READ(10) past the end
    disk.command(task([0x12, 0, 1, 0, 36, 0], 4), port); // INQUIRY page without EVPD
    disk.dataOut(task([0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0], 5), new Uint8Array(512), port); // no write waits
    expect(answers).toEqual([2, 2, 2, 2]); // CHECK CONDITION each
    expect(logs).toEqual([
      ["guest-error", "disk0: invalid opcode (opcode 0x2, initiator 7, tag 1): CHECK CONDITION"],
      ["unimp", "disk0: opcode 0x1a not modelled; refused as ILLEGAL REQUEST"],
      ["guest-error", "disk0: LBA out of range (opcode 0x28, initiator 7, tag 3): CHECK CONDITION"],
      ["guest-error", "disk0: invalid field in CDB byte 2 (opcode 0x12, initiator 7, tag 4): CHECK CONDITION"],
      ["guest-error", "disk0: DATA OUT for no waiting write (initiator 7, tag 5) ignored"],
    ]);
  });

  it("LAPIC, timer, console: an access to an unknown register", () => {
    const { b, logs } = board();
    const cpu = b.cpus[1];
    b.lapic.read(cpu, 0x80, 4);
    b.timer.write(cpu, 0x80, 4, 0);
    b.console.read(cpu, 0, 4);
    expect(logs).toEqual([
      ["guest-error", "lapic: cpu1 read of unknown register 0x80"],
      ["guest-error", "timer: cpu1 write of unknown register 0x80"],
      ["guest-error", "console: cpu1 read of write-only register 0x0"],
    ]);
  });
});
