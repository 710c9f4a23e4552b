// BSDFS: the on-disk format of BSD's system disk, shared by the file system itself
// (guest-bsd/fs/, AssemblyScript, inside the BSD kernel and inside build/fstool.wasm)
// and the host (host/fs-image.ts, the tests). Constants only, so the file compiles as
// TypeScript and as AssemblyScript. All integers little-endian.
//
// A hierarchical file system in the xv6 shape, with 4 KiB blocks, a write-ahead log
// (physical, full-block, data included), an inode bitmap, an inode table, a block bitmap
// and the data area. Block numbers are u32; block b is bytes [b*4096, b*4096+4096) of
// the device.
//
//   block 0            superblock (never changed after mkfs, so never logged)
//   1                  log header: the single commit point (see "Log" below)
//   2 .. 1+L-1         log area: copies of the blocks of one transaction, in order
//   orphan = 1+L       orphan table: inodes unlinked but not yet freed
//   imapStart ..       inode bitmap, one bit per inode (1 = allocated)
//   inodeStart ..      inode table, 32 inodes of 128 bytes per block
//   bmapStart ..       block bitmap, one bit per block of the whole device (1 = in use;
//                      blocks [0, dataStart) are always marked)
//   dataStart .. N-1   data: file contents, directory blocks, indirect blocks
//
// Crash consistency (write-ahead log, full data journaling). Every change of an
// operation goes into the blocks of the running transaction in the buffer cache; no
// dirty block ever reaches its home location before it is committed. A commit:
//   1. snapshot every block of the transaction (the next transaction goes on meanwhile);
//   2. write the snapshots to log blocks 2.., wait for them, SYNCHRONIZE CACHE;
//   3. write the header {seq, count, home block numbers, data and header checksums},
//      wait, SYNCHRONIZE CACHE: the transaction is now durable (the commit point);
//   4. write the snapshots to their homes, wait, SYNCHRONIZE CACHE;
//   5. write an empty header (count 0), wait.
// Mount replays a header whose checksum is good and whose count is not 0 (steps 4-5
// again). A header whose checksum fails is a torn step 3 or 5: the transaction was not
// durable (or was already installed), and it is dropped. A good header with bad data
// (checksum of the logged blocks) is a corrupt log: mount refuses.
//
// Superblock (block 0, first 128 bytes; the rest zero):
//   +0   magic      u32 x2 "HTXBSDFS"
//   +8   version    u32 (1)
//   +12  blockSize  u32 (4096)
//   +16  nblocks    u32 blocks in the file system (<= the device's)
//   +20  logBlocks  u32 L: header + log area
//   +24  ninodes    u32 a multiple of 32; inode 0 is never used, 1 is the root
//   +28  orphan     u32 block of the orphan table
//   +32  imapStart  u32   +36 imapBlocks  u32
//   +40  inodeStart u32   +44 inodeBlocks u32
//   +48  bmapStart  u32   +52 bmapBlocks  u32
//   +56  dataStart  u32
//   +60  root       u32 (1)
//   +64  created    u64 ns since the epoch (mkfs time; fixed for reproducible images)
//   +124 check      u32 checksum of bytes 0..123
// The layout is a function of (nblocks, logBlocks, ninodes): mount recomputes it and
// refuses a superblock whose other fields disagree.
//
// Log header (block 1):
//   +0   magic u32 x2 "HTXBSLOG"   +8 seq u64   +16 count u32
//   +20  dataCheck u32 checksum of the count logged blocks, in order
//   +24  check u32 checksum of the whole block with this field taken as 0
//   +28  reserved   +32 home[count] u32 home block of log block 2+i
//
// Inode (128 bytes; inode i is at inodeStart + i/32, offset (i%32)*128):
//   +0   type  u16 (0 free, 1 regular file, 2 directory, 3 symbolic link)   +2 nlink u16
//   +4   mode  u32 permission bits (07777)   +8 uid u32   +12 gid u32
//   +16  size  u64 bytes   +24 atime u64   +32 mtime u64   +40 ctime u64 (ns)
//   +48  blocks u32 blocks held (data + indirect)   +52 gen u32 (bumped per allocation)
//   +56  direct[12] u32   +104 indirect u32   +108 dindirect u32   +112..127 reserved
// A block pointer is 0 (a hole) or in [dataStart, nblocks). Bytes past `size` in the
// last block are always zero (truncation zeroes them), so growing a file shows zeros.
//
// Symbolic link: its target path (1 to LINK_MAX bytes, no NUL) is its data, in one
// block (direct[0]); size is the target's length. Mode 0777. Resolution (guest-bsd/fs/
// dir.ts) follows at most 40 links per path (ELOOP after); a relative target is resolved
// from the directory holding the link, an absolute one from the root.
//
// Directory: a file of 64-byte entries; entry 0 is ".", entry 1 is "..".
//   +0 inum u32 (0 = free slot)   +4 type u8 (inode type)   +5 namelen u8   +6 name[58]
// Links: a directory's nlink is 2 + its subdirectories; a file's, its entries.
//
// Orphan table (one block): 1024 u32 slots, 0 = empty. An inode whose nlink fell to 0
// sits here until its blocks and the inode are freed (after the last close); mount
// finishes what a crash interrupted.
//
// Checksum: FNV-1a over little-endian u32 words (h = 2166136261; per word
// h = (h ^ w) * 16777619, mod 2^32).

export const BSIZE = 4096;
export const BSIZE_SHIFT = 12;
export const SECTORS_PER_BLOCK = 8; // 512-byte sectors

export const FS_MAGIC_LO = 0x42585448; // "HTXB"
export const FS_MAGIC_HI = 0x53464453; // "SDFS"
export const FS_VERSION = 1;
export const LOG_MAGIC_LO = 0x42585448; // "HTXB"
export const LOG_MAGIC_HI = 0x474f4c53; // "SLOG"
export const FNV_OFFSET = 2166136261;
export const FNV_PRIME = 16777619;

// Superblock
export const SB_MAGIC = 0;
export const SB_VERSION = 8;
export const SB_BSIZE = 12;
export const SB_NBLOCKS = 16;
export const SB_LOGBLOCKS = 20;
export const SB_NINODES = 24;
export const SB_ORPHAN = 28;
export const SB_IMAP_START = 32;
export const SB_IMAP_BLOCKS = 36;
export const SB_INODE_START = 40;
export const SB_INODE_BLOCKS = 44;
export const SB_BMAP_START = 48;
export const SB_BMAP_BLOCKS = 52;
export const SB_DATA_START = 56;
export const SB_ROOT = 60;
export const SB_CREATED = 64;
export const SB_CHECK = 124;

// Layout
export const LOG_START = 1; // the header; log data blocks follow
export const LOG_MIN_BLOCKS = 40; // header + one largest operation (OP_MAX_BLOCKS) + margin
export const LOG_MAX_BLOCKS = 1017; // header + the 1016 homes a header can name
export const MIN_BLOCKS = 128; // 512 KiB: the smallest file system mkfs makes
export const BYTES_PER_INODE = 16384; // mkfs default: one inode per 16 KiB
export const BITS_PER_BLOCK = 32768;

// Log header
export const LH_MAGIC = 0;
export const LH_SEQ = 8;
export const LH_COUNT = 16;
export const LH_DATA_CHECK = 20;
export const LH_CHECK = 24;
export const LH_HOME = 32;
export const LH_MAX_COUNT = 1016; // (4096 - 32) / 4

// Inode
export const INODE_SIZE = 128;
export const INODES_PER_BLOCK = 32;
export const ROOT_INO = 1;
export const T_FREE = 0;
export const T_FILE = 1;
export const T_DIR = 2;
export const T_LINK = 3;
/** A symbolic link's longest target (it fits in one block and in a kernel path). */
export const LINK_MAX = 1023;
export const I_TYPE = 0;
export const I_NLINK = 2;
export const I_MODE = 4;
export const I_UID = 8;
export const I_GID = 12;
export const I_SIZE = 16;
export const I_ATIME = 24;
export const I_MTIME = 32;
export const I_CTIME = 40;
export const I_BLOCKS = 48;
export const I_GEN = 52;
export const I_DIRECT = 56;
export const I_INDIRECT = 104;
export const I_DINDIRECT = 108;
export const NDIRECT = 12;
export const NINDIRECT = 1024; // u32 pointers per indirect block
export const MODE_MASK = 0o7777;
/** Largest file: 12 + 1024 + 1024*1024 blocks. */
export const MAX_FILE_BLOCKS = 1049612;

// Directory entry
export const DIRENT_SIZE = 64;
export const DIRENTS_PER_BLOCK = 64;
export const DE_INUM = 0;
export const DE_TYPE = 4;
export const DE_NAMELEN = 5;
export const DE_NAME = 6;
export const NAME_MAX = 58;

// Orphan table
export const ORPHAN_SLOTS = 1024;

// ---- The file system's call interface (not on disk; guest-bsd/fs/fs.ts) ----------------
// Open flags: WASI's oflags values, and one of the file system's own.
export const O_CREAT = 1;
export const O_DIRECTORY = 2;
export const O_EXCL = 4;
export const O_TRUNC = 8;
/** Do not follow a symbolic link in the last component (ELOOP if it is one). */
export const O_NOFOLLOW = 0x100;
// fsSetTimes flags: WASI's fstflags values.
export const SET_ATIM = 1;
export const SET_ATIM_NOW = 2;
export const SET_MTIM = 4;
export const SET_MTIM_NOW = 8;
/** Largest read or write one call does (the caller loops). */
export const FS_MAX_IO = 65536;
/** "Not yet: sleep until the wake-up hook runs, then issue the same call again." */
export const FS_WAIT_CODE = -1000;

// fsStat record (64 bytes)
export const ST_INO = 0; // u64
export const ST_SIZE = 8; // u64
export const ST_ATIME = 16; // u64 ns
export const ST_MTIME = 24; // u64 ns
export const ST_CTIME = 32; // u64 ns
export const ST_BLOCKS = 40; // u32 blocks of 4 KiB held
export const ST_TYPE = 44; // u16 T_FILE / T_DIR / T_LINK
export const ST_NLINK = 46; // u16
export const ST_MODE = 48; // u32
export const ST_UID = 52;
export const ST_GID = 56;
export const ST_GEN = 60;
export const STAT_SIZE = 64;

// fsReaddir record (72 bytes)
export const RD_NEXT = 0; // u64 cookie of the next entry
export const RD_INO = 8; // u32
export const RD_TYPE = 12; // u8
export const RD_NAMELEN = 13; // u8
export const RD_NAME = 14; // up to NAME_MAX bytes
export const READDIR_SIZE = 72;

// fsStats record: u64 counters
export const FSS_READS = 0; // block reads issued
export const FSS_WRITES = 8; // block writes issued (log, header, install)
export const FSS_HITS = 16; // cache hits
export const FSS_MISSES = 24; // cache misses
export const FSS_COMMITS = 32; // commits finished
export const FSS_LOGGED = 40; // blocks logged by those commits
export const FSS_WAITS = 48; // calls answered FS_WAIT
export const FSS_JOURNAL_WAITS = 56; // ... of which for room in the log
export const FSS_FREE_BLOCKS = 64;
export const FSS_FREE_INODES = 72;
export const FSS_TX_BLOCKS = 80; // blocks in the running transaction now
export const FSS_READ_ERRORS = 88;
export const FSS_DURABLE_SEQ = 96; // last commit on the media
export const FSSTATS_SIZE = 104;
