// HiTactix mounting the stream file system through the real SCSI path (driver,
// controller, disk models): READ CAPACITY, the shared checks, and a failed read
// reported with its disk and sense data (issue 9, items 6 and 16).
import { describe, it, expect } from "vitest";
import { buildMachine } from "../host/machine.js";
import { defaultBoard, type BoardConfig } from "../host/config.js";
import { formatVolume, importFile, bytesSource, signSector } from "../host/sfs.js";
import { SB_SECTORS, SB_VERSION } from "../common/sfs.js";

/** Boot the default machine on a fresh volume (after `edit` changes it) until HiTactix
 *  has mounted or refused it; its console lines. */
function mount(opts: { config?: (c: BoardConfig) => void; edit?: (disks: { read: Function; write: Function }[]) => void } = {}): string[] {
  const cfg = defaultBoard();
  opts.config?.(cfg);
  const lines: string[] = [];
  const m = buildMachine(cfg, { onConsole: (l) => { if (l.cpu === 1) lines.push(l.text); } });
  const backends = m.disks.map((d) => d.backend);
  const vol = formatVolume(backends, 0x0123456789abcdefn);
  importFile(vol, "movie", bytesSource(new Uint8Array(600_000).fill(7)), 8_800_000, 256_000_000);
  opts.edit?.(backends);
  for (let t = 0; t < 2_000_000_000 && !lines.some((l) => l.includes("cannot mount") || l.includes("ready for streams")); t += 50_000_000) m.board.run(t + 50_000_000);
  expect(m.board.cpus[1].report).toBeUndefined();
  return lines;
}

/** Change a 32-bit field of sector 0 of a backend and re-sign it. */
function patchSuper(d: { read: Function; write: Function }, off: number, value: number): void {
  const s = new Uint8Array(512);
  d.read(0, 1, s, 0);
  new DataView(s.buffer).setUint32(off, value, true);
  signSector(s);
  d.write(0, 1, s, 0);
}

describe("HiTactix mounts the stream volume", () => {
  it("mounts a valid volume and names it by its 64-bit id", () => {
    const lines = mount();
    expect(lines).toContain("hitactix: sfs: volume 0123456789abcdef mounted, 1 files");
    expect(lines).toContain("hitactix: ready for streams");
  });

  it("says which disk failed and why when a mount read fails (sense key, ASC/ASCQ)", () => {
    const lines = mount({ config: (c) => { c.scsi!.disks[1].faults = { mediumErrors: [{ lba: 0, count: 1, kind: "read" }] }; } });
    expect(lines).toContain("hitactix: sfs: cannot mount: disk 1: read of LBA 0 (1 sectors) failed: CHECK CONDITION, MEDIUM ERROR, " +
      "UNRECOVERED READ ERROR (sense key 03, ASC/ASCQ 11/00)");
    expect(lines).not.toContain("hitactix: ready for streams");
  });

  it("refuses a disk smaller than its superblock says, found by READ CAPACITY", () => {
    const lines = mount({ edit: (d) => patchSuper(d[2], SB_SECTORS, 0xfffffff0) });
    expect(lines).toContain("hitactix: sfs: cannot mount: disk 2: the disk is smaller than when it was formatted (a truncated image?)");
  });

  it("refuses a version 1 volume with the reason", () => {
    const lines = mount({ edit: (d) => d.forEach((x) => patchSuper(x, SB_VERSION, 1)) });
    expect(lines.find((l) => l.includes("cannot mount"))).toBe(
      "hitactix: sfs: cannot mount: disk 0: unsupported SFS version (this build reads version 2; import the files again onto fresh images)");
  });
});
