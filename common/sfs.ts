// The stream file system (SFS): the on-disk format HiTactix reads streams from, and
// the checks that decide whether a volume may be used. Shared by the host tool
// (host/sfs.ts: hitactix disk import / ls / get) and the guest (guest-hitactix/sfs.ts,
// which mounts the same disks through the SCSI controller), so both refuse exactly the
// same volumes. All integers little-endian.
//
// This file compiles as TypeScript and as AssemblyScript. The rules that make that
// safe: constants and plain functions over numbers only, no imports; AS integer types
// (common/as-types.d.ts gives them to TypeScript as `number`); no division (`/` is
// integer in AS and fractional in TS: write products and shifts instead); every sum
// or product that could pass 2^32 is done in u64 (`<u64>a + <u64>b`, a true 64-bit
// sum in AS, exact in TS) and is kept below 2^53 by range checks made before it
// (2^53 is where TS stops being exact); no narrowing cast except of a value already
// known to fit. Each check returns an error code; sfsReason(code) is the text.
//
// A volume spans N disks (3 by default, at most SFS_MAX_DISKS). File data is cut into
// chunks of one stream period's worth of bytes (rounded up to whole sectors) and the
// chunks go round-robin over the disks, each chunk contiguous on its disk: one
// period's read of a stream is then ONE large request to ONE disk, and consecutive
// periods (and different streams) spread over all disks.
//
//   every disk  LBA 0       member superblock: identity only, written once at format
//   disk 0      LBA 1, 2    commit records, slots 0 and 1 (generation g in slot g & 1)
//               LBA 3..258  directory: entry i in sector SFS_DIR_LBA + i
//               LBA 259..   extent tables, allocated upward (`extNext` in the commit)
//   every disk  LBA 16449.. data chunks, allocated upward (`next[d]` in the commit)
//
// Crash safety: ONE write commits an import, the commit record, and it is the last
// write (after a flush of everything else). Everything an import writes before it
// lies in space the committed record calls free: chunks past next[d], its extent
// table past extNext, its directory entry in the sector of entry `files` (one entry
// per sector, so no committed entry shares a sector with it). The record goes to the
// slot of the older generation; a torn record fails its checksum and the other slot,
// the previous commit, is used. So a power loss at any write, torn or not, leaves
// either the old volume or the new one, never a mix.
//
// Member superblock (LBA 0 of every disk):
//   +0   magic     8 bytes "HTXSFS01"
//   +8   version   u32 (2; version 1 volumes are refused: import the files again)
//   +12  disk      u32 this disk's index in the volume
//   +16  disks     u32 number of disks in the volume
//   +20  volume    u64 volume id (random at format; the same on every disk)
//   +28  sectors   u32 capacity of this disk at format, sectors (512 B)
//   +32  dataStart u32 first LBA of the data area (SFS_DATA_START)
//   +508 check     u32 FNV-1a of bytes 0..507 (over little-endian words)
//
// Commit record (disk 0, LBA 1 and 2):
//   +0   magic     8 bytes "HTXSFSCR"
//   +8   version   u32 (2)
//   +12  volume    u64 the volume id (a record of another volume is not valid)
//   +20  generation u32 1 at format, +1 per import; the valid slot with the higher wins
//   +24  files     u32 directory entries in use
//   +28  extNext   u32 next free sector of the extent-table area
//   +32  disks     u32 number of disks
//   +36  next      u32 x SFS_MAX_DISKS: first free LBA of each disk's data area
//   +508 check     u32 FNV-1a of bytes 0..507
//
// Directory entry (one sector, SFS_MAX_FILES of them):
//   +0   name      48 bytes UTF-8, NUL padded (1 to 47 bytes, no control characters)
//   +48  size      u64 bytes (at least 1)
//   +56  rate      u64 nominal rate, bits per second (at least 1)
//   +64  chunk     u32 chunk size, bytes (whole sectors, at most SFS_MAX_CHUNK)
//   +68  chunks    u32 number of chunks (size / chunk rounded up)
//   +72  extLba    u32 first sector (disk 0) of its extent table
//   +76  flags     u32 1 = in use
//   +80  content   u32 FNV-1a of the file's content (hitactix disk get checks it)
//   +508 check     u32 FNV-1a of bytes 0..507
//
// Extent (SFS_EXTENT_SIZE bytes, one per chunk, in chunk order, 32 per sector):
//   +0 disk u32, +4 lba u32, +8 sectors u32 (the chunk's bytes in whole sectors), +12 0

export const SFS_SECTOR: u32 = 512;
export const SFS_VERSION: u32 = 2;
export const SFS_MAGIC_LO: u32 = 0x53585448; // "HTXS" little-endian
export const SFS_MAGIC_HI: u32 = 0x31305346; // "FS01"
export const SFS_COMMIT_MAGIC_HI: u32 = 0x52435346; // "FSCR" (low word "HTXS")

/** Disks of one volume: the targets of a wide SCSI bus other than the initiator. */
export const SFS_MAX_DISKS: u32 = 15;
/** Largest capacity READ(10) / READ CAPACITY(10) can describe: the last LBA must be
 *  below 0xFFFFFFFF, which READ CAPACITY(10) reserves for "too large" (SBC-3 5.16). */
export const SFS_MAX_SECTORS: u32 = 0xffffffff;

export const SB_MAGIC: u32 = 0;
export const SB_VERSION: u32 = 8;
export const SB_DISK: u32 = 12;
export const SB_DISKS: u32 = 16;
export const SB_VOLUME: u32 = 20;
export const SB_SECTORS: u32 = 28;
export const SB_DATA_START: u32 = 32;
export const SB_CHECK: u32 = 508;

export const SFS_COMMIT_LBA: u32 = 1; // slots 0 and 1 at LBA 1 and 2
export const CR_MAGIC: u32 = 0;
export const CR_VERSION: u32 = 8;
export const CR_VOLUME: u32 = 12;
export const CR_GENERATION: u32 = 20;
export const CR_FILES: u32 = 24;
export const CR_EXT_NEXT: u32 = 28;
export const CR_DISKS: u32 = 32;
export const CR_NEXT: u32 = 36;
export const CR_CHECK: u32 = 508;

export const SFS_DIR_LBA: u32 = 3;
export const SFS_DIRENT_SIZE: u32 = 512;
export const SFS_MAX_FILES: u32 = 256;
export const SFS_DIR_SECTORS: u32 = 256;
export const SFS_EXT_LBA: u32 = 259; // SFS_DIR_LBA + SFS_DIR_SECTORS
export const SFS_EXT_SECTORS: u32 = 16190;
/** The data area starts where version 1 put it, so chunk positions (and the disks'
 *  timing in the experiments) did not move with the format change. */
export const SFS_DATA_START: u32 = 16449; // SFS_EXT_LBA + SFS_EXT_SECTORS
/** Smallest disk a volume is formatted on: the metadata and 1024 data sectors. */
export const SFS_MIN_SECTORS: u32 = 17473;

export const DE_NAME: u32 = 0;
export const DE_NAME_MAX: u32 = 47;
export const DE_SIZE: u32 = 48;
export const DE_RATE: u32 = 56;
export const DE_CHUNK: u32 = 64;
export const DE_CHUNKS: u32 = 68;
export const DE_EXT_LBA: u32 = 72;
export const DE_FLAGS: u32 = 76;
export const DE_CONTENT: u32 = 80;
export const DE_CHECK: u32 = 508;
export const DE_IN_USE: u32 = 1;

export const SFS_EXTENT_SIZE: u32 = 16;
export const SFS_EXTENTS_PER_SECTOR: u32 = 32;
export const EX_DISK: u32 = 0;
export const EX_LBA: u32 = 4;
export const EX_SECTORS: u32 = 8;

/** Largest chunk: one READ(10) moves at most 65535 sectors, and a period's read of a
 *  stream is one command. (At the 256 ms period: up to ~1.05 Gbit/s.) */
export const SFS_MAX_CHUNK: u32 = 33553920;
/** Chunks the whole extent area holds (a file cannot have more). */
export const SFS_MAX_CHUNKS: u32 = 518080; // SFS_EXT_SECTORS * SFS_EXTENTS_PER_SECTOR
/** Sizes are below 2^44 (SFS_MAX_CHUNKS * SFS_MAX_CHUNK < 2^44): the high word of a
 *  size is below this, which keeps every size sum and product under 2^53. */
export const SFS_MAX_SIZE_HI: u32 = 4096;

/** Default stream period of the distribution thread (the paper's 256 ms), ns. */
export const SFS_DEFAULT_PERIOD_NS = 256000000;

// ---- Error codes, in the order a mount meets them --------------------------------

export const SFS_OK: i32 = 0;
export const SFS_E_CAPACITY: i32 = 1;
export const SFS_E_MAGIC: i32 = 2;
export const SFS_E_CHECKSUM: i32 = 3;
export const SFS_E_VERSION: i32 = 4;
export const SFS_E_DISKS: i32 = 5;
export const SFS_E_INDEX: i32 = 6;
export const SFS_E_LAYOUT: i32 = 7;
export const SFS_E_TRUNCATED: i32 = 8;
export const SFS_E_COUNT: i32 = 9;
export const SFS_E_OTHER_VOLUME: i32 = 10;
export const SFS_E_NO_COMMIT: i32 = 11;
export const SFS_E_COMMIT: i32 = 12;
export const SFS_E_DIRENT_CHECKSUM: i32 = 13;
export const SFS_E_DIRENT_FREE: i32 = 14;
export const SFS_E_NAME: i32 = 15;
export const SFS_E_DUP_NAME: i32 = 16;
export const SFS_E_CHUNK: i32 = 17;
export const SFS_E_SIZE: i32 = 18;
export const SFS_E_RATE: i32 = 19;
export const SFS_E_EXT_TABLE: i32 = 20;
export const SFS_E_EXTENT: i32 = 21;
export const SFS_E_READ: i32 = 22;
export const SFS_E_LAST: i32 = 22;

export function sfsReason(code: i32): string {
  switch (code) {
    case SFS_OK: return "ok";
    case SFS_E_CAPACITY: return "the disk's capacity is 0 or above 4294967295 sectors (READ(10) cannot address it)";
    case SFS_E_MAGIC: return "not a stream file system disk (no SFS superblock)";
    case SFS_E_CHECKSUM: return "corrupt superblock (checksum mismatch)";
    case SFS_E_VERSION: return "unsupported SFS version (this build reads version 2; import the files again onto fresh images)";
    case SFS_E_DISKS: return "the superblock's disk count is out of range (1 to 15)";
    case SFS_E_INDEX: return "the disk's index does not fit the volume (out of range, duplicated or out of volume order)";
    case SFS_E_LAYOUT: return "the superblock's layout (data area start, capacity) is not this version's";
    case SFS_E_TRUNCATED: return "the disk is smaller than when it was formatted (a truncated image?)";
    case SFS_E_COUNT: return "the volume spans another number of disks than were given";
    case SFS_E_OTHER_VOLUME: return "belongs to another volume (volume id or disk count differ)";
    case SFS_E_NO_COMMIT: return "no valid commit record on disk 0 (the format never completed?)";
    case SFS_E_COMMIT: return "inconsistent commit record (file count, extent area or free space out of range)";
    case SFS_E_DIRENT_CHECKSUM: return "corrupt directory entry (checksum mismatch)";
    case SFS_E_DIRENT_FREE: return "a directory entry is counted but not in use";
    case SFS_E_NAME: return "a directory entry's name is empty or not terminated";
    case SFS_E_DUP_NAME: return "two files have the same name";
    case SFS_E_CHUNK: return "a file's chunk size is 0, not whole sectors, or above 33553920 bytes";
    case SFS_E_SIZE: return "a file's chunk count does not match its size";
    case SFS_E_RATE: return "a file's rate is 0";
    case SFS_E_EXT_TABLE: return "a file's extent table lies outside the extent area in use";
    case SFS_E_EXTENT: return "a file's extent points outside the allocated data area or has the wrong length";
    case SFS_E_READ: return "a disk read failed";
  }
  return "unknown SFS error";
}

// ---- Checks, in mount order --------------------------------------------------------
// 1. every disk's capacity; 2. every disk's member superblock, in the order given;
// 3. the commit record; 4. every directory entry in use, in order; 5. every file's
// extents, file by file, chunk by chunk. The first failure refuses the mount.

/** The capacity a disk reports (READ CAPACITY, or the image file's size). */
export function sfsCheckCapacity(sectors: u64): i32 {
  if (sectors == 0 || sectors > <u64>SFS_MAX_SECTORS) return SFS_E_CAPACITY;
  return SFS_OK;
}

/** One disk's member superblock on its own; `sumOk` is its checksum's verdict. */
export function sfsCheckMember(magicLo: u32, magicHi: u32, sumOk: bool, version: u32, disk: u32, disks: u32,
  dataStart: u32, sectors: u32, realSectors: u64): i32 {
  if (magicLo != SFS_MAGIC_LO || magicHi != SFS_MAGIC_HI) return SFS_E_MAGIC;
  if (!sumOk) return SFS_E_CHECKSUM;
  if (version != SFS_VERSION) return SFS_E_VERSION;
  if (disks == 0 || disks > SFS_MAX_DISKS) return SFS_E_DISKS;
  if (disk >= disks) return SFS_E_INDEX;
  if (dataStart != SFS_DATA_START || sectors < SFS_MIN_SECTORS) return SFS_E_LAYOUT;
  if (<u64>sectors > realSectors) return SFS_E_TRUNCATED;
  return SFS_OK;
}

/** The first disk looked at: its volume must span exactly the disks given. */
export function sfsCheckCount(disks: u32, given: u32): i32 {
  return disks == given ? SFS_OK : SFS_E_COUNT;
}

/** Any later disk: the same volume id and disk count as the first. */
export function sfsCheckSameVolume(volLo: u32, volHi: u32, disks: u32, firstLo: u32, firstHi: u32, firstDisks: u32): i32 {
  return volLo == firstLo && volHi == firstHi && disks == firstDisks ? SFS_OK : SFS_E_OTHER_VOLUME;
}

/** Disks on a SCSI bus are in volume order: target i holds disk i. */
export function sfsCheckIndex(disk: u32, position: u32): i32 {
  return disk == position ? SFS_OK : SFS_E_INDEX;
}

/** Is a commit slot a record of this volume? (A torn or stale slot is not.) */
export function sfsCommitValid(magicLo: u32, magicHi: u32, sumOk: bool, version: u32, volLo: u32, volHi: u32,
  disks: u32, wantLo: u32, wantHi: u32, wantDisks: u32): bool {
  return magicLo == SFS_MAGIC_LO && magicHi == SFS_COMMIT_MAGIC_HI && sumOk && version == SFS_VERSION &&
    volLo == wantLo && volHi == wantHi && disks == wantDisks;
}

/** The slot that holds the volume's state: the valid one of the higher generation
 *  (slot 0 on a tie), or -1 when neither is valid. */
export function sfsPickCommit(valid0: bool, gen0: u32, valid1: bool, gen1: u32): i32 {
  if (valid0 && valid1) return gen1 > gen0 ? 1 : 0;
  if (valid0) return 0;
  if (valid1) return 1;
  return -1;
}

export function sfsCheckCommit(files: u32, extNext: u32): i32 {
  if (files > SFS_MAX_FILES || extNext < SFS_EXT_LBA || extNext > SFS_DATA_START) return SFS_E_COMMIT;
  return SFS_OK;
}

/** A disk's first free LBA lies in its data area (`sectors`: its member superblock's). */
export function sfsCheckNext(next: u32, sectors: u32): i32 {
  if (next < SFS_DATA_START || next > sectors) return SFS_E_COMMIT;
  return SFS_OK;
}

/** A size from its two words (call only once sizeHi < SFS_MAX_SIZE_HI is known). */
export function sfsSize(sizeLo: u32, sizeHi: u32): u64 {
  return <u64>sizeHi * 4294967296 + <u64>sizeLo;
}

/** Sectors of a file's extent table. */
export function sfsExtSectors(chunks: u32): u32 {
  return (chunks + SFS_EXTENTS_PER_SECTOR - 1) >> 5; // chunks <= SFS_MAX_CHUNKS: no overflow
}

/** Directory entry i (i < files). `nameLen`: bytes before the first NUL of the 48, or
 *  48 when there is none. `extNext` is the commit record's. */
export function sfsCheckDirent(sumOk: bool, flags: u32, nameLen: u32, sizeLo: u32, sizeHi: u32, rateLo: u32,
  rateHi: u32, chunk: u32, chunks: u32, extLba: u32, extNext: u32): i32 {
  if (!sumOk) return SFS_E_DIRENT_CHECKSUM;
  if (flags != DE_IN_USE) return SFS_E_DIRENT_FREE;
  if (nameLen == 0 || nameLen > DE_NAME_MAX) return SFS_E_NAME;
  if (chunk == 0 || chunk % SFS_SECTOR != 0 || chunk > SFS_MAX_CHUNK) return SFS_E_CHUNK;
  if (chunks == 0 || chunks > SFS_MAX_CHUNKS || sizeHi >= SFS_MAX_SIZE_HI) return SFS_E_SIZE;
  let size = sfsSize(sizeLo, sizeHi);
  // chunks = ceil(size / chunk), without dividing: (chunks - 1) * chunk < size <= chunks * chunk
  if (<u64>chunks * <u64>chunk < size || <u64>(chunks - 1) * <u64>chunk >= size) return SFS_E_SIZE;
  if (rateLo == 0 && rateHi == 0) return SFS_E_RATE;
  if (extLba < SFS_EXT_LBA || <u64>extLba + <u64>sfsExtSectors(chunks) > <u64>extNext) return SFS_E_EXT_TABLE;
  return SFS_OK;
}

/** Sectors chunk c of a file holds: its bytes (the last chunk may be short), rounded up. */
export function sfsChunkSectors(c: u32, chunk: u32, size: u64): u32 {
  let rest: u64 = size - <u64>c * <u64>chunk; // c < chunks, so c * chunk < size
  let len: u64 = rest < <u64>chunk ? rest : <u64>chunk;
  return <u32>((len + 511) >> 9); // len <= SFS_MAX_CHUNK: fits, and >> is exact in TS
}

/** Extent c of a file. `want`: sfsChunkSectors; `next`: next[disk] of the commit
 *  record, or 0 when disk is not a disk of the volume. */
export function sfsCheckExtent(disk: u32, lba: u32, sectors: u32, want: u32, disks: u32, next: u32): i32 {
  if (disk >= disks || sectors != want || lba < SFS_DATA_START || <u64>lba + <u64>sectors > <u64>next) return SFS_E_EXTENT;
  return SFS_OK;
}
