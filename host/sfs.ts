// The stream file system, host side: format a volume over N disk images, import a
// file into it, list it, read it back. The format is common/sfs.ts (shared with the
// HiTactix guest, which mounts the same disks through the SCSI controller).
//
// Interface:
//   formatVolume(disks, volumeId)                 write empty superblocks + directory
//   openVolume(disks)                             check every superblock; the volume
//   importFile(vol, name, source, rateBps, periodNs)   chunk, stripe, write, list
//   vol.files, findFile(vol, name), readFile(vol, file, offset, length)
// Errors are SfsError with a message that says what is wrong with which disk.

import {
  SFS_SECTOR, SFS_VERSION, SFS_MAGIC_LO, SFS_MAGIC_HI, SB_MAGIC, SB_VERSION, SB_DISK, SB_DISKS, SB_VOLUME,
  SB_SECTORS, SB_DATA_START, SB_NEXT, SB_FILES, SB_EXT_NEXT, SB_CHECK, SFS_DIR_LBA, SFS_DIRENT_SIZE,
  SFS_MAX_FILES, SFS_DIR_SECTORS, SFS_EXT_LBA, SFS_EXT_SECTORS, SFS_DATA_START, DE_NAME, DE_NAME_MAX, DE_SIZE,
  DE_RATE, DE_CHUNK, DE_CHUNKS, DE_EXT_LBA, DE_FLAGS, DE_CHECK, SFS_EXTENT_SIZE, EX_DISK, EX_LBA, EX_SECTORS,
} from "../common/sfs.js";

/** What the file system needs of a disk (devices/block-backend.ts satisfies it). */
export interface SfsDisk {
  readonly sectors: number;
  read(lba: number, count: number, dst: Uint8Array, dstOff: number): void;
  write(lba: number, count: number, src: Uint8Array, srcOff: number): void;
  flush(): void;
}

export class SfsError extends Error {}

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
  check: number;
  extents: SfsExtent[];
}

export interface SfsVolume {
  disks: SfsDisk[];
  volumeId: number;
  files: SfsFile[];
  /** First free LBA per disk. */
  next: number[];
  extNext: number;
}

/** Where the content of an imported file comes from: `length` bytes, read in pieces. */
export interface SfsSource {
  length: number;
  read(offset: number, dst: Uint8Array): void;
}

export function bytesSource(data: Uint8Array): SfsSource {
  return { length: data.length, read: (off, dst) => dst.set(data.subarray(off, off + dst.length)) };
}

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

function sectorCheck(s: Uint8Array): number {
  return fnvWords(FNV_INIT, s.subarray(0, SB_CHECK));
}

function readSector(d: SfsDisk, lba: number): Uint8Array {
  const s = new Uint8Array(SFS_SECTOR);
  d.read(lba, 1, s, 0);
  return s;
}

export function formatVolume(disks: SfsDisk[], volumeId: number): SfsVolume {
  if (disks.length === 0) throw new SfsError("a volume needs at least one disk");
  disks.forEach((d, i) => {
    if (d.sectors < SFS_DATA_START + 1024) {
      throw new SfsError(`disk ${i}: ${d.sectors} sectors is too small for a stream volume (needs more than ${SFS_DATA_START + 1024})`);
    }
  });
  const zero = new Uint8Array(SFS_DIR_SECTORS * SFS_SECTOR);
  disks[0].write(SFS_DIR_LBA, SFS_DIR_SECTORS, zero, 0);
  const vol: SfsVolume = { disks, volumeId: volumeId >>> 0, files: [], next: disks.map(() => SFS_DATA_START), extNext: SFS_EXT_LBA };
  disks.forEach((_, i) => writeSuper(vol, i));
  disks.forEach((d) => d.flush());
  return vol;
}

function writeSuper(vol: SfsVolume, i: number): void {
  const s = new Uint8Array(SFS_SECTOR);
  const v = new DataView(s.buffer);
  v.setUint32(SB_MAGIC, SFS_MAGIC_LO, true);
  v.setUint32(SB_MAGIC + 4, SFS_MAGIC_HI, true);
  v.setUint32(SB_VERSION, SFS_VERSION, true);
  v.setUint32(SB_DISK, i, true);
  v.setUint32(SB_DISKS, vol.disks.length, true);
  v.setUint32(SB_VOLUME, vol.volumeId, true);
  v.setUint32(SB_SECTORS, Math.min(vol.disks[i].sectors, 0xffffffff), true);
  v.setUint32(SB_DATA_START, SFS_DATA_START, true);
  v.setUint32(SB_NEXT, vol.next[i], true);
  v.setUint32(SB_FILES, i === 0 ? vol.files.length : 0, true);
  v.setUint32(SB_EXT_NEXT, i === 0 ? vol.extNext : 0, true);
  v.setUint32(SB_CHECK, sectorCheck(s), true);
  vol.disks[i].write(0, 1, s, 0);
}

/** Mount: every disk must carry a valid superblock of the same volume; disk order is
 *  taken from the superblocks, so images may be given in any order. */
export function openVolume(disks: SfsDisk[], labels: string[] = disks.map((_, i) => `disk ${i}`)): SfsVolume {
  if (disks.length === 0) throw new SfsError("no disks given");
  const byIndex: Array<{ d: SfsDisk; v: DataView; label: string }> = [];
  let volumeId = -1;
  let count = -1;
  disks.forEach((d, i) => {
    if (d.sectors < 1) throw new SfsError(`${labels[i]}: empty image`);
    const s = readSector(d, 0);
    const v = new DataView(s.buffer);
    if (v.getUint32(SB_MAGIC, true) !== SFS_MAGIC_LO || v.getUint32(SB_MAGIC + 4, true) !== SFS_MAGIC_HI) {
      throw new SfsError(`${labels[i]}: not a stream file system disk (no SFS superblock); import a file into fresh images to create one`);
    }
    if (v.getUint32(SB_CHECK, true) !== sectorCheck(s)) throw new SfsError(`${labels[i]}: corrupt superblock (checksum mismatch)`);
    if (v.getUint32(SB_VERSION, true) !== SFS_VERSION) throw new SfsError(`${labels[i]}: SFS version ${v.getUint32(SB_VERSION, true)} is not supported (this build reads ${SFS_VERSION})`);
    const vid = v.getUint32(SB_VOLUME, true);
    const n = v.getUint32(SB_DISKS, true);
    if (volumeId >= 0 && (vid !== volumeId || n !== count)) throw new SfsError(`${labels[i]}: belongs to another volume (id ${vid.toString(16)}, ${n} disks) than ${labels[0]} (id ${volumeId.toString(16)}, ${count} disks)`);
    volumeId = vid;
    count = n;
    const idx = v.getUint32(SB_DISK, true);
    if (idx >= n) throw new SfsError(`${labels[i]}: disk index ${idx} out of range for a ${n}-disk volume`);
    if (byIndex[idx]) throw new SfsError(`${labels[i]} and ${byIndex[idx].label} are both disk ${idx} of the volume`);
    byIndex[idx] = { d, v, label: labels[i] };
  });
  if (disks.length !== count) throw new SfsError(`the volume has ${count} disks but ${disks.length} images were given`);
  const ordered = byIndex.map((x) => x.d);
  const sb0 = byIndex[0].v;
  const vol: SfsVolume = {
    disks: ordered,
    volumeId,
    files: [],
    next: byIndex.map((x) => x.v.getUint32(SB_NEXT, true)),
    extNext: sb0.getUint32(SB_EXT_NEXT, true),
  };
  const nFiles = sb0.getUint32(SB_FILES, true);
  if (nFiles > SFS_MAX_FILES) throw new SfsError(`${byIndex[0].label}: directory claims ${nFiles} files (at most ${SFS_MAX_FILES})`);
  const dir = new Uint8Array(SFS_DIR_SECTORS * SFS_SECTOR);
  ordered[0].read(SFS_DIR_LBA, SFS_DIR_SECTORS, dir, 0);
  const dv = new DataView(dir.buffer);
  for (let i = 0; i < nFiles; i++) vol.files.push(readDirent(vol, dv, i, byIndex[0].label));
  return vol;
}

function readDirent(vol: SfsVolume, dv: DataView, i: number, label: string): SfsFile {
  const o = i * SFS_DIRENT_SIZE;
  if ((dv.getUint32(o + DE_FLAGS, true) & 1) === 0) throw new SfsError(`${label}: directory entry ${i} is not in use but is counted`);
  const nameBytes = new Uint8Array(dv.buffer, o + DE_NAME, DE_NAME_MAX + 1);
  const end = nameBytes.indexOf(0);
  const f: SfsFile = {
    index: i,
    name: new TextDecoder().decode(nameBytes.subarray(0, end < 0 ? DE_NAME_MAX : end)),
    size: Number(dv.getBigUint64(o + DE_SIZE, true)),
    rateBps: Number(dv.getBigUint64(o + DE_RATE, true)),
    chunk: dv.getUint32(o + DE_CHUNK, true),
    chunks: dv.getUint32(o + DE_CHUNKS, true),
    extLba: dv.getUint32(o + DE_EXT_LBA, true),
    check: dv.getUint32(o + DE_CHECK, true),
    extents: [],
  };
  const extSectors = Math.ceil((f.chunks * SFS_EXTENT_SIZE) / SFS_SECTOR);
  if (f.chunk % SFS_SECTOR !== 0 || f.chunk === 0 || f.chunks !== Math.ceil(f.size / f.chunk) ||
      f.extLba < SFS_EXT_LBA || f.extLba + extSectors > SFS_EXT_LBA + SFS_EXT_SECTORS) {
    throw new SfsError(`${label}: directory entry "${f.name}" is corrupt (chunk ${f.chunk}, chunks ${f.chunks}, size ${f.size})`);
  }
  const ext = new Uint8Array(Math.max(1, extSectors) * SFS_SECTOR);
  if (extSectors > 0) vol.disks[0].read(f.extLba, extSectors, ext, 0);
  const ev = new DataView(ext.buffer);
  for (let c = 0; c < f.chunks; c++) {
    const e = { disk: ev.getUint32(c * SFS_EXTENT_SIZE + EX_DISK, true), lba: ev.getUint32(c * SFS_EXTENT_SIZE + EX_LBA, true), sectors: ev.getUint32(c * SFS_EXTENT_SIZE + EX_SECTORS, true) };
    if (e.disk >= vol.disks.length || e.lba < SFS_DATA_START || e.lba + e.sectors > vol.disks[e.disk].sectors) {
      throw new SfsError(`${label}: extent ${c} of "${f.name}" points outside the volume (disk ${e.disk}, LBA ${e.lba})`);
    }
    f.extents.push(e);
  }
  return f;
}

/** Chunk size for a stream: one period's bytes at its rate, whole sectors. */
export function chunkBytes(rateBps: number, periodNs: number): number {
  const bytes = Math.ceil((rateBps / 8) * (periodNs / 1e9));
  return Math.max(SFS_SECTOR, Math.ceil(bytes / SFS_SECTOR) * SFS_SECTOR);
}

export function importFile(vol: SfsVolume, name: string, src: SfsSource, rateBps: number, periodNs: number): SfsFile {
  const nameBytes = new TextEncoder().encode(name);
  if (nameBytes.length === 0 || nameBytes.length > DE_NAME_MAX || nameBytes.includes(0)) {
    throw new SfsError(`file name "${name}" must be 1 to ${DE_NAME_MAX} bytes of UTF-8 without NUL`);
  }
  if (vol.files.some((f) => f.name === name)) throw new SfsError(`"${name}" already exists on the volume`);
  if (vol.files.length >= SFS_MAX_FILES) throw new SfsError(`the directory is full (${SFS_MAX_FILES} files)`);
  if (!(rateBps > 0) || !Number.isFinite(rateBps)) throw new SfsError(`rate must be positive (got ${rateBps} bit/s)`);
  const chunk = chunkBytes(rateBps, periodNs);
  const chunks = Math.ceil(src.length / chunk);
  const extSectors = Math.ceil((chunks * SFS_EXTENT_SIZE) / SFS_SECTOR);
  if (vol.extNext + extSectors > SFS_EXT_LBA + SFS_EXT_SECTORS) throw new SfsError("the extent table area is full");
  // Plan the extents first (round-robin, starting on the disk after the last file's
  // start, so that streams begin on different disks); refuse before writing anything.
  const next = [...vol.next];
  const extents: SfsExtent[] = [];
  const first = vol.files.length % vol.disks.length;
  for (let c = 0; c < chunks; c++) {
    const disk = (first + c) % vol.disks.length;
    const len = Math.min(chunk, src.length - c * chunk);
    const sectors = Math.ceil(len / SFS_SECTOR);
    if (next[disk] + sectors > vol.disks[disk].sectors) throw new SfsError(`no room on disk ${disk} for "${name}" (${src.length} bytes)`);
    extents.push({ disk, lba: next[disk], sectors });
    next[disk] += Math.ceil(chunk / SFS_SECTOR);
  }
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
  const ext = new Uint8Array(Math.max(1, extSectors) * SFS_SECTOR);
  const ev = new DataView(ext.buffer);
  extents.forEach((e, c) => {
    ev.setUint32(c * SFS_EXTENT_SIZE + EX_DISK, e.disk, true);
    ev.setUint32(c * SFS_EXTENT_SIZE + EX_LBA, e.lba, true);
    ev.setUint32(c * SFS_EXTENT_SIZE + EX_SECTORS, e.sectors, true);
  });
  const f: SfsFile = { index: vol.files.length, name, size: src.length, rateBps: Math.round(rateBps), chunk, chunks, extLba: vol.extNext, check, extents };
  if (extSectors > 0) vol.disks[0].write(f.extLba, extSectors, ext, 0);
  // The directory entry, then the superblocks: a crash before them leaves the volume
  // as it was (the new data is unreferenced).
  const de = new Uint8Array(SFS_SECTOR);
  const sectorOfEntry = SFS_DIR_LBA + Math.floor((f.index * SFS_DIRENT_SIZE) / SFS_SECTOR);
  vol.disks[0].read(sectorOfEntry, 1, de, 0);
  const o = (f.index * SFS_DIRENT_SIZE) % SFS_SECTOR;
  const dv = new DataView(de.buffer);
  de.fill(0, o, o + SFS_DIRENT_SIZE);
  de.set(nameBytes, o + DE_NAME);
  dv.setBigUint64(o + DE_SIZE, BigInt(f.size), true);
  dv.setBigUint64(o + DE_RATE, BigInt(f.rateBps), true);
  dv.setUint32(o + DE_CHUNK, chunk, true);
  dv.setUint32(o + DE_CHUNKS, chunks, true);
  dv.setUint32(o + DE_EXT_LBA, f.extLba, true);
  dv.setUint32(o + DE_FLAGS, 1, true);
  dv.setUint32(o + DE_CHECK, check, true);
  vol.disks[0].write(sectorOfEntry, 1, de, 0);
  vol.files.push(f);
  vol.next = next;
  vol.extNext += extSectors;
  vol.disks.forEach((_, i) => writeSuper(vol, i));
  vol.disks.forEach((d) => d.flush());
  return f;
}

export function findFile(vol: SfsVolume, name: string): SfsFile {
  const f = vol.files.find((x) => x.name === name);
  if (!f) throw new SfsError(`no file "${name}" on the volume (files: ${vol.files.map((x) => x.name).join(", ") || "none"})`);
  return f;
}

/** Read [offset, offset + dst.length) of a file's content into dst. */
export function readFile(vol: SfsVolume, f: SfsFile, offset: number, dst: Uint8Array): void {
  if (offset < 0 || offset + dst.length > f.size) throw new SfsError(`read of ${dst.length} bytes at ${offset} is outside "${f.name}" (${f.size} bytes)`);
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
