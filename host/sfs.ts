// The stream file system, host side: format a volume over N disk images, import a
// file into it, list it, read it back. The format, and every check that decides
// whether a volume may be used, are in common/sfs.ts (shared with the HiTactix guest,
// which mounts the same disks through the SCSI controller and refuses the same
// volumes); this file reads and writes the sectors and adds what only a host tool
// needs (names for people, the disks' labels in messages).
//
// An import writes, in order: the chunks (free space past each disk's `next`), the
// extent table (past `extNext`), the directory entry (the unused sector of entry
// `files`), a flush of every disk, then the commit record (disk 0, the older of two
// slots) and a flush of disk 0. That one sector write is the commit: before it the
// volume is the old one, after it the new one (common/sfs.ts, "Crash safety").
//
// Interface:
//   formatVolume(disks, volumeId)          write member superblocks + the first commit
//   unformat(disks)                        undo a format that holds no file yet
//   openVolume(disks, labels?, {inOrder})  every check of common/sfs.ts; the volume
//   openOrFormat(disks, labels, newId)     the volume, or a fresh one on blank images
//   importFile(vol, name, source, rateBps, periodNs)   chunk, stripe, write, commit
//   vol.files, findFile(vol, name), readFile(vol, file, offset, dst)
//   checkImport(name, length, rateBps, periodNs), checkName(name), escapeName(name)
//   chunkBytes(rateBps, periodNs), volumeIdFromSeed(seed), volumeIdHex(id)
//   fnvWords, signSector, isBlank         (tests and the CLI use them too)
// Errors are SfsError: a message that says what is wrong with which disk, and `code`,
// the common/sfs.ts error code (0 for errors of the request, not of the volume).

import {
  SFS_SECTOR, SFS_VERSION, SFS_MAGIC_LO, SFS_MAGIC_HI, SFS_COMMIT_MAGIC_HI, SFS_MAX_DISKS, SFS_MAX_SECTORS,
  SB_MAGIC, SB_VERSION, SB_DISK, SB_DISKS, SB_VOLUME, SB_SECTORS, SB_DATA_START, SB_CHECK,
  SFS_COMMIT_LBA, CR_MAGIC, CR_VERSION, CR_VOLUME, CR_GENERATION, CR_FILES, CR_EXT_NEXT, CR_DISKS, CR_NEXT,
  SFS_DIR_LBA, SFS_MAX_FILES, SFS_EXT_LBA, SFS_DATA_START, SFS_MIN_SECTORS, SFS_MAX_CHUNK,
  DE_NAME, DE_NAME_MAX, DE_SIZE, DE_RATE, DE_CHUNK, DE_CHUNKS, DE_EXT_LBA, DE_FLAGS, DE_CONTENT, DE_IN_USE,
  SFS_EXTENT_SIZE, EX_DISK, EX_LBA, EX_SECTORS,
  SFS_OK, SFS_E_INDEX, SFS_E_DUP_NAME, sfsReason, sfsCheckCapacity, sfsCheckMember, sfsCheckCount,
  sfsCheckSameVolume, sfsCheckIndex, sfsCommitValid, sfsPickCommit, sfsCheckCommit, sfsCheckNext, sfsCheckDirent,
  sfsSize, sfsExtSectors, sfsChunkSectors, sfsCheckExtent, SFS_E_NO_COMMIT, SFS_E_VERSION, SFS_E_DISKS, SFS_E_TRUNCATED,
} from "../common/sfs.js";
import { Rng } from "./rng.js";

/** What the file system needs of a disk (devices/block-backend.ts satisfies it). */
export interface SfsDisk {
  readonly sectors: number;
  read(lba: number, count: number, dst: Uint8Array, dstOff: number): void;
  write(lba: number, count: number, src: Uint8Array, srcOff: number): void;
  flush(): void;
}

export class SfsError extends Error {
  constructor(message: string, readonly code = 0) {
    super(message);
  }
}

export interface SfsExtent {
  disk: number;
  lba: number;
  sectors: number;
}

export interface SfsFile {
  index: number;
  name: string;
  size: number;
  rateBps: number;
  chunk: number;
  chunks: number;
  extLba: number;
  /** FNV-1a of the content (fnvWords from FNV_INIT). */
  check: number;
  extents: SfsExtent[];
}

export interface SfsVolume {
  /** In volume order (disk i = index i), whatever order they were given in. */
  disks: SfsDisk[];
  volumeId: bigint;
  generation: number;
  files: SfsFile[];
  /** First free LBA per disk. */
  next: number[];
  extNext: number;
  /** Capacity of each disk at format (its member superblock). */
  sectors: number[];
}

/** Where the content of an imported file comes from: `length` bytes, read in pieces. */
export interface SfsSource {
  length: number;
  read(offset: number, dst: Uint8Array): void;
}

export function bytesSource(data: Uint8Array): SfsSource {
  return { length: data.length, read: (off, dst) => dst.set(data.subarray(off, off + dst.length)) };
}

// ---- Checksums and sectors -----------------------------------------------------------

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** FNV-1a over 32-bit little-endian words (a trailing partial word is zero-padded). */
export function fnvWords(h: number, b: Uint8Array): number {
  const full = b.length & ~3;
  if (LITTLE_ENDIAN && (b.byteOffset & 3) === 0) {
    const w = new Int32Array(b.buffer, b.byteOffset, full >> 2); // the same words, read whole
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i], 0x01000193);
  } else {
    for (let i = 0; i < full; i += 4) {
      h = Math.imul(h ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)), 0x01000193);
    }
  }
  if (full < b.length) {
    let w = 0;
    for (let i = full; i < b.length; i++) w |= b[i] << (8 * (i - full));
    h = Math.imul(h ^ w, 0x01000193);
  }
  return h >>> 0;
}
export const FNV_INIT = 0x811c9dc5;

const sum = (s: Uint8Array, at = 0): number => fnvWords(FNV_INIT, s.subarray(at, at + SB_CHECK));
const sumOk = (s: Uint8Array, at = 0): boolean => new DataView(s.buffer, s.byteOffset).getUint32(at + SB_CHECK, true) === sum(s, at);

/** Set the checksum word (+508) of the sector at `at` (superblocks, commit records and
 *  directory entries all carry one there). */
export function signSector(s: Uint8Array, at = 0): void {
  new DataView(s.buffer, s.byteOffset).setUint32(at + SB_CHECK, sum(s, at), true);
}

function readSectors(d: SfsDisk, lba: number, count: number): Uint8Array {
  const s = new Uint8Array(count * SFS_SECTOR);
  d.read(lba, count, s, 0);
  return s;
}

/** A fresh image: sector 0 all zeros. */
export function isBlank(d: SfsDisk): boolean {
  return d.sectors > 0 && readSectors(d, 0, 1).every((b) => b === 0);
}

/** A volume id as printed: 16 hex digits. */
export const volumeIdHex = (id: bigint): string => id.toString(16).padStart(16, "0");
const lo = (id: bigint): number => Number(id & 0xffffffffn);
const hi = (id: bigint): number => Number((id >> 32n) & 0xffffffffn);

/** A volume id for a simulation: from the seed, so a run repeats exactly. */
export function volumeIdFromSeed(seed: number): bigint {
  const r = new Rng((seed ^ 0x5f5f7664) >>> 0);
  return (BigInt(r.u32()) << 32n) | BigInt(r.u32());
}

// ---- Format -------------------------------------------------------------------------

/**
 * Make a new, empty volume of the given disks (disk i = index i). Writes: both commit
 * slots cleared and disk 0's member superblock (flushed), the others' (flushed), then
 * the first commit record (generation 1). Until that last write the images hold no
 * volume.
 */
export function formatVolume(disks: SfsDisk[], volumeId: bigint): SfsVolume {
  if (disks.length === 0) throw new SfsError("a volume needs at least one disk");
  if (disks.length > SFS_MAX_DISKS) throw new SfsError(`a volume spans at most ${SFS_MAX_DISKS} disks (${disks.length} given)`);
  if (volumeId < 0n || volumeId >= 1n << 64n) throw new SfsError(`volume id ${volumeId} is not a 64-bit unsigned number`);
  disks.forEach((d, i) => {
    if (d.sectors < SFS_MIN_SECTORS) {
      throw new SfsError(`disk ${i}: ${d.sectors} sectors is too small for a stream volume (needs at least ${SFS_MIN_SECTORS}, ${SFS_MIN_SECTORS * 512} bytes)`);
    }
    if (d.sectors > SFS_MAX_SECTORS) throw new SfsError(`disk ${i}: ${sfsReason(sfsCheckCapacity(d.sectors))}`);
  });
  const vol: SfsVolume = {
    disks, volumeId, generation: 0, files: [], next: disks.map(() => SFS_DATA_START), extNext: SFS_EXT_LBA,
    sectors: disks.map((d) => d.sectors),
  };
  disks[0].write(SFS_COMMIT_LBA, 2, new Uint8Array(2 * SFS_SECTOR), 0);
  disks.forEach((d, i) => {
    const s = new Uint8Array(SFS_SECTOR);
    const v = new DataView(s.buffer);
    v.setUint32(SB_MAGIC, SFS_MAGIC_LO, true);
    v.setUint32(SB_MAGIC + 4, SFS_MAGIC_HI, true);
    v.setUint32(SB_VERSION, SFS_VERSION, true);
    v.setUint32(SB_DISK, i, true);
    v.setUint32(SB_DISKS, disks.length, true);
    v.setUint32(SB_VOLUME, lo(volumeId), true);
    v.setUint32(SB_VOLUME + 4, hi(volumeId), true);
    v.setUint32(SB_SECTORS, d.sectors, true);
    v.setUint32(SB_DATA_START, SFS_DATA_START, true);
    signSector(s);
    d.write(0, 1, s, 0);
    // Disk 0 first and durable: the leftovers of an interrupted format always include
    // it, which is how openOrFormat tells them from a volume missing its disk 0.
    if (i === 0) d.flush();
  });
  disks.forEach((d) => d.flush());
  commit(vol);
  return vol;
}

/** Undo a format that holds no file yet: the sectors formatVolume wrote back to zeros
 *  (an import into fresh images that fails leaves them fresh). */
export function unformat(disks: SfsDisk[]): void {
  disks[0].write(SFS_COMMIT_LBA, 2, new Uint8Array(2 * SFS_SECTOR), 0);
  disks.forEach((d) => d.write(0, 1, new Uint8Array(SFS_SECTOR), 0));
  disks.forEach((d) => d.flush());
}

/** Write the volume's state as generation + 1 into the older slot: the commit point. */
function commit(vol: SfsVolume): void {
  const gen = vol.generation + 1;
  const s = new Uint8Array(SFS_SECTOR);
  const v = new DataView(s.buffer);
  v.setUint32(CR_MAGIC, SFS_MAGIC_LO, true);
  v.setUint32(CR_MAGIC + 4, SFS_COMMIT_MAGIC_HI, true);
  v.setUint32(CR_VERSION, SFS_VERSION, true);
  v.setUint32(CR_VOLUME, lo(vol.volumeId), true);
  v.setUint32(CR_VOLUME + 4, hi(vol.volumeId), true);
  v.setUint32(CR_GENERATION, gen, true);
  v.setUint32(CR_FILES, vol.files.length, true);
  v.setUint32(CR_EXT_NEXT, vol.extNext, true);
  v.setUint32(CR_DISKS, vol.disks.length, true);
  vol.next.forEach((n, i) => v.setUint32(CR_NEXT + 4 * i, n, true));
  signSector(s);
  vol.disks[0].write(SFS_COMMIT_LBA + (gen & 1), 1, s, 0);
  vol.disks[0].flush();
  vol.generation = gen;
}

// ---- Open (the mount's checks, in common/sfs.ts order) ----------------------------------

/** Disk 0's commit slots: the one that holds the volume's state (-1: none is valid). */
function readCommit(d0: SfsDisk, vol: { lo: number; hi: number; disks: number }): { k: number; cv: DataView } {
  const cr = readSectors(d0, SFS_COMMIT_LBA, 2);
  const cv = new DataView(cr.buffer);
  const slot = (k: number) => {
    const at = k * SFS_SECTOR;
    return {
      valid: sfsCommitValid(cv.getUint32(at + CR_MAGIC, true), cv.getUint32(at + CR_MAGIC + 4, true), sumOk(cr, at),
        cv.getUint32(at + CR_VERSION, true), cv.getUint32(at + CR_VOLUME, true), cv.getUint32(at + CR_VOLUME + 4, true),
        cv.getUint32(at + CR_DISKS, true), vol.lo, vol.hi, vol.disks),
      gen: cv.getUint32(at + CR_GENERATION, true),
    };
  };
  const s0 = slot(0);
  const s1 = slot(1);
  return { k: sfsPickCommit(s0.valid, s0.gen, s1.valid, s1.gen), cv };
}

/**
 * Open a volume: every check of common/sfs.ts, in its order, so that the host refuses
 * exactly what HiTactix refuses. Disk order is taken from the superblocks, so images
 * may be given in any order; with `inOrder` they must be in volume order, as on the
 * SCSI bus (what HiTactix sees).
 */
export function openVolume(disks: SfsDisk[], labels: string[] = disks.map((_, i) => `disk ${i}`), opts: { inOrder?: boolean } = {}): SfsVolume {
  if (disks.length === 0) throw new SfsError("no disks given");
  const refuse = (code: number, label: string, detail = ""): never => {
    throw new SfsError(`${label}: ${sfsReason(code)}${detail}`, code);
  };
  const check = (code: number, label: string, detail = ""): void => {
    if (code !== SFS_OK) refuse(code, label, detail);
  };
  // 1. capacities
  disks.forEach((d, i) => check(sfsCheckCapacity(d.sectors), labels[i], ` (${d.sectors} sectors)`));
  // 2. member superblocks
  const byIndex: number[] = []; // volume index -> position given
  const memberSectors: number[] = [];
  let first = { lo: 0, hi: 0, disks: 0 };
  disks.forEach((d, i) => {
    const s = readSectors(d, 0, 1);
    const v = new DataView(s.buffer);
    const f = {
      disk: v.getUint32(SB_DISK, true), disks: v.getUint32(SB_DISKS, true), lo: v.getUint32(SB_VOLUME, true),
      hi: v.getUint32(SB_VOLUME + 4, true), sectors: v.getUint32(SB_SECTORS, true), version: v.getUint32(SB_VERSION, true),
    };
    const code = sfsCheckMember(v.getUint32(SB_MAGIC, true), v.getUint32(SB_MAGIC + 4, true), sumOk(s), f.version, f.disk,
      f.disks, v.getUint32(SB_DATA_START, true), f.sectors, d.sectors);
    check(code, labels[i], code === SFS_E_VERSION ? ` (it is version ${f.version})`
      : code === SFS_E_DISKS || code === SFS_E_INDEX ? ` (disk ${f.disk} of ${f.disks})`
      : code === SFS_E_TRUNCATED ? ` (formatted with ${f.sectors} sectors, now ${d.sectors})` : "");
    const id = `${f.hi.toString(16).padStart(8, "0")}${f.lo.toString(16).padStart(8, "0")}`;
    if (i === 0) {
      first = f;
      check(sfsCheckCount(f.disks, disks.length), labels[i], ` (the volume has ${f.disks} disks but ${disks.length} images were given)`);
    } else {
      const firstId = `${first.hi.toString(16).padStart(8, "0")}${first.lo.toString(16).padStart(8, "0")}`;
      check(sfsCheckSameVolume(f.lo, f.hi, f.disks, first.lo, first.hi, first.disks), labels[i],
        `: it is of volume ${id} (${f.disks} disks), ${labels[0]} of volume ${firstId} (${first.disks} disks)`);
    }
    if (opts.inOrder) check(sfsCheckIndex(f.disk, i), labels[i], `: it is disk ${f.disk} of its volume, given as disk ${i}`);
    else if (byIndex[f.disk] !== undefined) refuse(SFS_E_INDEX, labels[i], `: it and ${labels[byIndex[f.disk]]} are both disk ${f.disk} of the volume`);
    byIndex[f.disk] = i;
    memberSectors[f.disk] = f.sectors;
  });
  const ordered = byIndex.map((i) => disks[i]);
  const label0 = labels[byIndex[0]];
  const vol: SfsVolume = {
    disks: ordered, volumeId: (BigInt(first.hi) << 32n) | BigInt(first.lo), generation: 0, files: [], next: [],
    extNext: 0, sectors: memberSectors,
  };
  // 3. the commit record: the valid slot of the higher generation
  const { k, cv } = readCommit(ordered[0], first);
  if (k < 0) refuse(SFS_E_NO_COMMIT, label0, "; if its first import was interrupted, recreate the images (disk create --force)");
  const at = k * SFS_SECTOR;
  vol.generation = cv.getUint32(at + CR_GENERATION, true);
  const nFiles = cv.getUint32(at + CR_FILES, true);
  vol.extNext = cv.getUint32(at + CR_EXT_NEXT, true);
  check(sfsCheckCommit(nFiles, vol.extNext), label0, ` (${nFiles} files, extent area up to ${vol.extNext})`);
  for (let i = 0; i < ordered.length; i++) {
    vol.next[i] = cv.getUint32(at + CR_NEXT + 4 * i, true);
    check(sfsCheckNext(vol.next[i], memberSectors[i]), label0, ` (disk ${i}: first free LBA ${vol.next[i]} of ${memberSectors[i]})`);
  }
  // 4. directory entries in use
  const dir = nFiles > 0 ? readSectors(ordered[0], SFS_DIR_LBA, nFiles) : new Uint8Array(0);
  const dv = new DataView(dir.buffer);
  const names: Uint8Array[] = [];
  for (let i = 0; i < nFiles; i++) {
    const o = i * SFS_SECTOR;
    const raw = dir.subarray(o + DE_NAME, o + DE_NAME + DE_NAME_MAX + 1);
    const nul = raw.indexOf(0);
    const nameBytes = raw.subarray(0, nul < 0 ? raw.length : nul);
    const u = (off: number) => dv.getUint32(o + off, true);
    const f: SfsFile = {
      index: i, name: new TextDecoder().decode(nameBytes), size: 0, rateBps: 0, chunk: u(DE_CHUNK), chunks: u(DE_CHUNKS),
      extLba: u(DE_EXT_LBA), check: u(DE_CONTENT), extents: [],
    };
    check(sfsCheckDirent(sumOk(dir, o), u(DE_FLAGS), nameBytes.length, u(DE_SIZE), u(DE_SIZE + 4), u(DE_RATE),
      u(DE_RATE + 4), f.chunk, f.chunks, f.extLba, vol.extNext), label0,
      ` (entry ${i} "${escapeName(f.name)}": size ${u(DE_SIZE + 4) * 2 ** 32 + u(DE_SIZE)}, chunk ${f.chunk}, chunks ${f.chunks}, extent table at ${f.extLba})`);
    const dup = names.findIndex((n) => n.length === nameBytes.length && n.every((b, j) => b === nameBytes[j]));
    if (dup >= 0) refuse(SFS_E_DUP_NAME, label0, ` (entries ${dup} and ${i}: "${escapeName(f.name)}")`);
    names.push(nameBytes);
    f.size = sfsSize(u(DE_SIZE), u(DE_SIZE + 4));
    f.rateBps = u(DE_RATE + 4) * 2 ** 32 + u(DE_RATE);
    vol.files.push(f);
  }
  // 5. extents, file by file
  for (const f of vol.files) {
    const ext = readSectors(ordered[0], f.extLba, sfsExtSectors(f.chunks));
    const ev = new DataView(ext.buffer);
    for (let c = 0; c < f.chunks; c++) {
      const o = c * SFS_EXTENT_SIZE;
      const e = { disk: ev.getUint32(o + EX_DISK, true), lba: ev.getUint32(o + EX_LBA, true), sectors: ev.getUint32(o + EX_SECTORS, true) };
      const want = sfsChunkSectors(c, f.chunk, f.size);
      check(sfsCheckExtent(e.disk, e.lba, e.sectors, want, ordered.length, e.disk < ordered.length ? vol.next[e.disk] : 0), label0,
        ` (file "${escapeName(f.name)}", chunk ${c}: disk ${e.disk}, LBA ${e.lba}, ${e.sectors} sectors, ${want} expected)`);
      f.extents.push(e);
    }
  }
  return vol;
}

/**
 * The volume on these images, or a new one when they are fresh: every image blank, or
 * the leftovers of a format that never committed (the first image is disk 0 of a
 * volume without a commit record, every other image blank or a member of that volume
 * at its place). Anything else is opened, and refused if it is not one volume.
 */
export function openOrFormat(disks: SfsDisk[], labels: string[], newId: () => bigint): { vol: SfsVolume; formatted: boolean } {
  const blank = disks.map(isBlank);
  if (blank.every((b) => b)) return { vol: formatVolume(disks, newId()), formatted: true };
  if (!blank[0] && interruptedFormat(disks)) return { vol: formatVolume(disks, newId()), formatted: true };
  try {
    return { vol: openVolume(disks, labels), formatted: false };
  } catch (e) {
    if (e instanceof SfsError && blank.some((b) => b)) {
      throw new SfsError(`${e.message}\n(${labels.filter((_, i) => blank[i]).join(", ")} blank, the others not: give the images of one volume, or fresh images)`, e.code);
    }
    throw e;
  }
}

function interruptedFormat(disks: SfsDisk[]): boolean {
  const member = (d: SfsDisk) => {
    if (d.sectors > SFS_MAX_SECTORS) return undefined;
    const s = readSectors(d, 0, 1);
    const v = new DataView(s.buffer);
    const code = sfsCheckMember(v.getUint32(SB_MAGIC, true), v.getUint32(SB_MAGIC + 4, true), sumOk(s), v.getUint32(SB_VERSION, true),
      v.getUint32(SB_DISK, true), v.getUint32(SB_DISKS, true), v.getUint32(SB_DATA_START, true), v.getUint32(SB_SECTORS, true), d.sectors);
    return code === SFS_OK ? { disk: v.getUint32(SB_DISK, true), disks: v.getUint32(SB_DISKS, true), lo: v.getUint32(SB_VOLUME, true), hi: v.getUint32(SB_VOLUME + 4, true) } : undefined;
  };
  const m0 = member(disks[0]);
  if (!m0 || m0.disk !== 0 || m0.disks !== disks.length) return false;
  if (readCommit(disks[0], m0).k >= 0) return false; // committed: a real volume
  return disks.every((d, i) => {
    if (i === 0 || isBlank(d)) return true;
    const m = member(d);
    return m !== undefined && m.disk === i && m.lo === m0.lo && m.hi === m0.hi && m.disks === m0.disks;
  });
}

// ---- Import -------------------------------------------------------------------------------

/** Chunk size for a stream: one period's bytes at its rate, whole sectors. */
export function chunkBytes(rateBps: number, periodNs: number): number {
  const bytes = Math.ceil((rateBps / 8) * (periodNs / 1e9));
  return Math.max(SFS_SECTOR, Math.ceil(bytes / SFS_SECTOR) * SFS_SECTOR);
}

/** A name a volume may hold: 1..47 bytes of UTF-8, no NUL and no control characters
 *  (C0, DEL, C1: a name is printed on terminals). Returns its bytes. */
export function checkName(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length === 0 || bytes.length > DE_NAME_MAX) throw new SfsError(`file name "${escapeName(name)}" must be 1 to ${DE_NAME_MAX} bytes of UTF-8 (it is ${bytes.length})`);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw new SfsError(`file name "${escapeName(name)}" contains control characters (newline, ESC, ...): choose a printable name`);
  return bytes;
}

/** A name as it may be printed: control characters and backslashes escaped. */
export function escapeName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f-\u009f\\]/g, (ch) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };
    return named[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/** What an import can refuse before it looks at a volume (the CLI asks before it
 *  formats fresh images, so a bad request leaves them untouched). Returns the chunk. */
export function checkImport(name: string, length: number, rateBps: number, periodNs: number): number {
  checkName(name);
  if (!(rateBps >= 1) || !Number.isFinite(rateBps)) throw new SfsError(`rate must be at least 1 bit/s (got ${rateBps} bit/s)`);
  if (!(periodNs > 0)) throw new SfsError(`the period must be more than 0 (got ${periodNs} ns)`);
  if (!(length > 0)) throw new SfsError(`the file is empty: there is nothing to stream`);
  const chunk = chunkBytes(rateBps, periodNs);
  if (chunk > SFS_MAX_CHUNK) {
    throw new SfsError(`one period of this stream is ${chunk} bytes, more than one disk read can move (${SFS_MAX_CHUNK} bytes): lower the rate or the period`);
  }
  const chunks = Math.ceil(length / chunk);
  if (chunks > (SFS_DATA_START - SFS_EXT_LBA) * 32) {
    throw new SfsError(`the file needs ${chunks} chunks of ${chunk} bytes, more than a volume's extent area holds (${(SFS_DATA_START - SFS_EXT_LBA) * 32}): raise the rate or the period`);
  }
  return chunk;
}

export function importFile(vol: SfsVolume, name: string, src: SfsSource, rateBps: number, periodNs: number): SfsFile {
  const chunk = checkImport(name, src.length, rateBps, periodNs);
  const nameBytes = checkName(name);
  if (vol.files.some((f) => f.name === name)) throw new SfsError(`"${escapeName(name)}" already exists on the volume`);
  if (vol.files.length >= SFS_MAX_FILES) throw new SfsError(`the directory is full (${SFS_MAX_FILES} files)`);
  const chunks = Math.ceil(src.length / chunk);
  const extSectors = Math.ceil(chunks / 32);
  if (vol.extNext + extSectors > SFS_DATA_START) throw new SfsError(`the extent table area is full (${chunks} chunks do not fit)`);
  // Plan the extents first (round-robin, starting on the disk after the last file's
  // start, so that streams begin on different disks); refuse before writing anything.
  const next = [...vol.next];
  const extents: SfsExtent[] = [];
  const first = vol.files.length % vol.disks.length;
  for (let c = 0; c < chunks; c++) {
    const disk = (first + c) % vol.disks.length;
    const sectors = Math.ceil(Math.min(chunk, src.length - c * chunk) / SFS_SECTOR);
    if (next[disk] + sectors > vol.sectors[disk]) throw new SfsError(`no room on disk ${disk} for "${escapeName(name)}" (${src.length} bytes)`);
    extents.push({ disk, lba: next[disk], sectors });
    next[disk] = Math.min(next[disk] + chunk / SFS_SECTOR, vol.sectors[disk]);
  }
  // Chunks, into free space.
  const buf = new Uint8Array(chunk);
  let check = FNV_INIT;
  for (let c = 0; c < chunks; c++) {
    const len = Math.min(chunk, src.length - c * chunk);
    const piece = buf.subarray(0, len);
    src.read(c * chunk, piece);
    check = fnvWords(check, piece);
    const e = extents[c];
    if (len < e.sectors * SFS_SECTOR) buf.fill(0, len, e.sectors * SFS_SECTOR);
    vol.disks[e.disk].write(e.lba, e.sectors, buf, 0);
  }
  // Its extent table, past extNext.
  const ext = new Uint8Array(extSectors * SFS_SECTOR);
  const ev = new DataView(ext.buffer);
  extents.forEach((e, c) => {
    ev.setUint32(c * SFS_EXTENT_SIZE + EX_DISK, e.disk, true);
    ev.setUint32(c * SFS_EXTENT_SIZE + EX_LBA, e.lba, true);
    ev.setUint32(c * SFS_EXTENT_SIZE + EX_SECTORS, e.sectors, true);
  });
  const f: SfsFile = { index: vol.files.length, name, size: src.length, rateBps: Math.round(rateBps), chunk, chunks, extLba: vol.extNext, check, extents };
  vol.disks[0].write(f.extLba, extSectors, ext, 0);
  // Its directory entry, in a sector no committed entry uses.
  const de = new Uint8Array(SFS_SECTOR);
  const dv = new DataView(de.buffer);
  de.set(nameBytes, DE_NAME);
  dv.setBigUint64(DE_SIZE, BigInt(f.size), true);
  dv.setBigUint64(DE_RATE, BigInt(f.rateBps), true);
  dv.setUint32(DE_CHUNK, chunk, true);
  dv.setUint32(DE_CHUNKS, chunks, true);
  dv.setUint32(DE_EXT_LBA, f.extLba, true);
  dv.setUint32(DE_FLAGS, DE_IN_USE, true);
  dv.setUint32(DE_CONTENT, check, true);
  signSector(de);
  vol.disks[0].write(SFS_DIR_LBA + f.index, 1, de, 0);
  vol.disks.forEach((d) => d.flush());
  // The commit.
  const before = { next: vol.next, extNext: vol.extNext };
  vol.files.push(f);
  vol.next = next;
  vol.extNext += extSectors;
  try {
    commit(vol);
  } catch (e) {
    vol.files.pop();
    Object.assign(vol, before);
    throw e;
  }
  return f;
}

// ---- Read back --------------------------------------------------------------------------

export function findFile(vol: SfsVolume, name: string): SfsFile {
  const f = vol.files.find((x) => x.name === name);
  if (!f) throw new SfsError(`no file "${escapeName(name)}" on the volume (files: ${vol.files.map((x) => `"${escapeName(x.name)}"`).join(", ") || "none"})`);
  return f;
}

/** Read [offset, offset + dst.length) of a file's content into dst. */
export function readFile(vol: SfsVolume, f: SfsFile, offset: number, dst: Uint8Array): void {
  if (offset < 0 || offset + dst.length > f.size) throw new SfsError(`read of ${dst.length} bytes at ${offset} is outside "${escapeName(f.name)}" (${f.size} bytes)`);
  let done = 0;
  const sector = new Uint8Array(SFS_SECTOR);
  while (done < dst.length) {
    const pos = offset + done;
    const c = Math.floor(pos / f.chunk);
    const inChunk = pos - c * f.chunk;
    const e = f.extents[c];
    const lba = e.lba + Math.floor(inChunk / SFS_SECTOR);
    const skip = inChunk % SFS_SECTOR;
    const n = Math.min(dst.length - done, f.chunk - inChunk);
    if (skip === 0 && n >= SFS_SECTOR) {
      const whole = Math.floor(n / SFS_SECTOR);
      vol.disks[e.disk].read(lba, whole, dst, done);
      done += whole * SFS_SECTOR;
    } else {
      vol.disks[e.disk].read(lba, 1, sector, 0);
      const m = Math.min(n, SFS_SECTOR - skip);
      dst.set(sector.subarray(skip, skip + m), done);
      done += m;
    }
  }
}
