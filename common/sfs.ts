// The stream file system (SFS): the on-disk format HiTactix reads streams from, shared
// by the host tool (hitactix disk import / ls) and the guest. Constants only, so the
// file compiles as TypeScript and as AssemblyScript. All integers little-endian.
//
// A volume spans N disks (3 by default). Every disk starts with a superblock; the
// directory and the extent tables are on disk 0. File data is cut into chunks of one
// stream period's worth of bytes (rounded up to whole sectors) and the chunks go
// round-robin over the disks, each chunk contiguous on its disk: one period's read of
// a stream is then ONE large request to ONE disk, and consecutive periods (and
// different streams) spread over all disks.
//
//   disk d:  LBA 0      superblock (one 512-byte sector)
//            LBA 1..    disk 0 only: directory (SFS_DIR_SECTORS sectors), then
//                       extent tables; other disks: unused up to dataStart
//            dataStart  chunks, allocated upward; `next` in the superblock is the first
//                       free LBA of this disk
//
// Superblock (sector 0 of every disk):
//   +0   magic    8 bytes "HTXSFS01"
//   +8   version  u32 (1)
//   +12  disk     u32 this disk's index in the volume
//   +16  disks    u32 number of disks
//   +20  volume   u32 volume id (the same on every disk of one volume)
//   +24  sectors  u32 capacity of this disk, sectors (512 B)
//   +28  dataStart u32 first LBA of the data area
//   +32  next     u32 first free LBA of the data area
//   +36  files    u32 directory entries in use (disk 0)
//   +40  extNext  u32 next free sector of the extent-table area (disk 0)
//   +508 check    u32 FNV-1a of bytes 0..507
//
// Directory entry (SFS_DIRENT_SIZE bytes, SFS_MAX_FILES entries):
//   +0   name     48 bytes UTF-8, NUL padded (at most 47 bytes)
//   +48  size     u64 bytes
//   +56  rate     u64 nominal rate, bits per second
//   +64  chunk    u32 chunk size, bytes (a multiple of 512)
//   +68  chunks   u32 number of chunks
//   +72  extLba   u32 first sector (disk 0) of its extent table
//   +76  flags    u32 1 = in use
//   +80  check    u32 FNV-1a of the file's content (0 if not computed)
//   +84..127 reserved (0)
//
// Extent (SFS_EXTENT_SIZE bytes, one per chunk, in chunk order):
//   +0 disk u32, +4 lba u32, +8 sectors u32, +12 reserved u32

export const SFS_SECTOR = 512;
export const SFS_VERSION = 1;
export const SFS_MAGIC_LO = 0x53585448; // "HTXS" little-endian
export const SFS_MAGIC_HI = 0x31305346; // "FS01"

export const SB_MAGIC = 0;
export const SB_VERSION = 8;
export const SB_DISK = 12;
export const SB_DISKS = 16;
export const SB_VOLUME = 20;
export const SB_SECTORS = 24;
export const SB_DATA_START = 28;
export const SB_NEXT = 32;
export const SB_FILES = 36;
export const SB_EXT_NEXT = 40;
export const SB_CHECK = 508;

export const SFS_DIR_LBA = 1;
export const SFS_DIRENT_SIZE = 128;
export const SFS_MAX_FILES = 256;
export const SFS_DIR_SECTORS = 64; // 256 entries * 128 B / 512
export const SFS_EXT_LBA = 65; // extent tables start here on disk 0
export const SFS_EXT_SECTORS = 16384; // 8 MiB of extents: 524,288 chunks in all
export const SFS_DATA_START = 16449; // SFS_EXT_LBA + SFS_EXT_SECTORS

export const DE_NAME = 0;
export const DE_NAME_MAX = 47;
export const DE_SIZE = 48;
export const DE_RATE = 56;
export const DE_CHUNK = 64;
export const DE_CHUNKS = 68;
export const DE_EXT_LBA = 72;
export const DE_FLAGS = 76;
export const DE_CHECK = 80;

export const SFS_EXTENT_SIZE = 16;
export const EX_DISK = 0;
export const EX_LBA = 4;
export const EX_SECTORS = 8;

/** Default stream period of the distribution thread (the paper's 256 ms), ns. */
export const SFS_DEFAULT_PERIOD_NS = 256000000;
