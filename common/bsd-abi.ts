// The BSD kernel's system-call ABI between the host's process engine (host/proc/) and
// the kernel (guest-bsd/). Compiles as TypeScript and as AssemblyScript: integer
// constants only, no imports, no types.
//
// How a system call travels (see host/proc/engine.ts for the whole picture):
//   process (WASI module) --import call--> host/proc/wasi.ts marshals the arguments
//   (browser_wasi_shim reads iovecs, paths, structs out of the process's memory)
//   --copy into SYSBUF--> kernel export syscall(nr, a0..a5) --> result
//   results >= 0 are values, < 0 are negated WASI errno values, and SYS_BLOCK means
//   "the caller now sleeps; re-issue this same call when it runs again" (every system
//   call is restartable: it changes nothing before it knows it can finish).
//
// SYSBUF is a kernel buffer (its address is the kernel's exported global `sysbuf`):
// bytes a call moves between a process and the kernel pass through it, and the host
// charges them as copies. Layouts of the records passed there are below.

/** Bytes of data one call moves through SYSBUF (reads and writes are cut to it). */
export const SYSBUF_DATA = 65536;
/** Room for paths after the data area (two paths of PATH_MAX for rename). */
export const PATH_MAX = 1024;
export const SYSBUF_SIZE = 65536 + 2048 + 256;
/** Offset in SYSBUF of the second path of a two-path call (rename, link). */
export const SYSBUF_PATH2 = 1024;
/** Offset in SYSBUF of a stat record written after a path (path_filestat_get). */
export const SYSBUF_REC = 65536 + 2048;

/** "Sleep and re-issue": not an errno. */
export const SYS_BLOCK = -1000;

// ---- call numbers ---------------------------------------------------------------
export const SYS_EXIT = 1; // a0 = status. Never returns to the caller.
export const SYS_READ = 2; // a0 fd, a1 count -> bytes in SYSBUF
export const SYS_WRITE = 3; // a0 fd, a1 count (bytes in SYSBUF)
export const SYS_PREAD = 4; // a0 fd, a1 count, a2 offset
export const SYS_PWRITE = 5; // a0 fd, a1 count, a2 offset
export const SYS_OPENAT = 6; // a0 dirfd, a1 path length (path in SYSBUF), a2 oflags, a3 fdflags, a4 lookupflags, a5 rights -> fd
export const SYS_CLOSE = 7; // a0 fd
export const SYS_SEEK = 8; // a0 fd, a1 offset (signed), a2 whence -> new offset
export const SYS_FSTAT = 9; // a0 fd -> STAT record at SYSBUF
export const SYS_STATAT = 10; // a0 dirfd, a1 path length, a2 lookupflags -> STAT record at SYSBUF_REC
export const SYS_FDSTAT = 11; // a0 fd -> filetype | fdflags << 8 | (1 << 16 if seekable)
export const SYS_PRESTAT = 12; // a0 fd -> length of the preopened directory's name, name at SYSBUF; EBADF if not preopened
export const SYS_READDIR = 13; // a0 fd, a1 cookie -> 0 at the end, else 1 and a DIRENT record at SYSBUF
export const SYS_MKDIRAT = 14; // a0 dirfd, a1 path length
export const SYS_UNLINKAT = 15; // a0 dirfd, a1 path length
export const SYS_RMDIRAT = 16; // a0 dirfd, a1 path length
export const SYS_RENAMEAT = 17; // a0 old dirfd, a1 old length (at SYSBUF), a2 new dirfd, a3 new length (at SYSBUF_PATH2)
export const SYS_FSYNC = 18; // a0 fd
export const SYS_FTRUNCATE = 19; // a0 fd, a1 size
export const SYS_FUTIMES = 20; // a0 fd, a1 atim, a2 mtim, a3 fstflags
export const SYS_UTIMESAT = 21; // a0 dirfd, a1 path length, a2 atim, a3 mtim, a4 fstflags
export const SYS_RENUMBER = 22; // a0 fd, a1 to (dup2 then close fd)
export const SYS_FDFLAGS = 23; // a0 fd, a1 fdflags
export const SYS_CLOCK = 24; // a0 clock id (WASI) -> ns
export const SYS_POLL = 25; // a0 subscriptions (WASI layout at SYSBUF) -> events (WASI layout at SYSBUF), count
export const SYS_RANDOM = 26; // a0 count -> bytes at SYSBUF
export const SYS_YIELD = 27;
export const SYS_ARGS = 28; // -> argc << 32 | bytes; NUL-terminated strings at SYSBUF
export const SYS_ENVIRON = 29; // -> envc << 32 | bytes; NUL-terminated strings at SYSBUF
export const SYS_MEMGROW = 30; // a0 pages -> 0, or -ENOMEM (the host then grows the memory)
export const SYS_SPAWN = 31; // SPAWN record at SYSBUF, a0 its length -> pid
export const SYS_WAIT = 32; // a0 pid (-1 any child), a1 options (WNOHANG) -> pid (0: none yet with WNOHANG); status at SYSBUF
export const SYS_KILL = 33; // a0 pid, a1 signal
export const SYS_GETPID = 34; // -> pid | ppid << 32
export const SYS_LINKAT = 35; // a0 old dirfd, a1 old length, a2 new dirfd, a3 new length, a4 old lookupflags
export const SYS_SOCK = 36; // a0 = fd. Sockets: not yet (EBADF for a bad fd, else ENOTSOCK)
export const SYS_PIPE = 37; // -> read fd | write fd << 32
export const SYS_REBOOT = 38; // a0 status: power the board off (init only)
export const SYS_SYMLINKAT = 39; // a0 dirfd, a1 link path length (at SYSBUF), a2 target length (at SYSBUF_PATH2)
export const SYS_READLINKAT = 40; // a0 dirfd, a1 path length, a2 room -> bytes of the target at SYSBUF_PATH2
export const SYS_NCALLS = 41;
/** WASI lookupflags: follow a symbolic link in the last component. */
export const LOOKUP_FOLLOW = 1;

// Kernel upcalls that are not system calls (exports of the kernel besides syscall):
//   trap(pid, kind)    the process faulted; the host wrote a text report at SYSBUF
//                      (length in a NUL-terminated string). The kernel kills it.
export const TRAP_TRAP = 1; // a WebAssembly trap (unreachable, out of bounds, ...)
export const TRAP_STACK = 2; // the host's call stack overflowed (deep recursion)
export const TRAP_NOMEM = 3; // no memory to suspend it (its asyncify area)

// ---- records in SYSBUF ----------------------------------------------------------
// STAT (64 bytes): the WASI filestat layout, so the host copies it as is.
//   +0 dev u64, +8 ino u64, +16 filetype u8, +24 nlink u64, +32 size u64,
//   +40 atim u64, +48 mtim u64, +56 ctim u64
export const STAT_SIZE = 64;
// DIRENT: +0 d_next u64, +8 d_ino u64, +16 d_namlen u32, +20 d_type u8, +24 name bytes
export const DIRENT_NAME = 24;
// SPAWN: u32 path length, path; u32 argc, then argc times (u32 length, bytes);
//        u32 envc, then (u32 length, bytes); u32 nfd, then nfd i32: child fd i is a
//        duplicate of the caller's fd map[i] (-1: closed).
// WAIT status at SYSBUF: +0 i32 exit status (0-255), +4 i32 signal that killed it (0 none)

// WASI file types (filetype of fdstat / filestat).
export const FT_UNKNOWN = 0;
export const FT_BLOCK_DEVICE = 1;
export const FT_CHAR_DEVICE = 2;
export const FT_DIRECTORY = 3;
export const FT_REGULAR = 4;
export const FT_SOCKET_DGRAM = 5;
export const FT_SOCKET_STREAM = 6;
export const FT_SYMLINK = 7;

// WASI open flags (oflags) and fd flags.
export const O_CREAT = 1;
export const O_DIRECTORY = 2;
export const O_EXCL = 4;
export const O_TRUNC = 8;
export const FDFLAG_APPEND = 1;
export const FDFLAG_DSYNC = 2;
export const FDFLAG_NONBLOCK = 4;
export const FDFLAG_RSYNC = 8;
export const FDFLAG_SYNC = 16;
export const LOOKUP_SYMLINK_FOLLOW = 1;
/** Rights bits that mean "open for reading" / "for writing" (WASI fd_read, fd_write). */
export const RIGHT_FD_READ = 2;
export const RIGHT_FD_WRITE = 64;

/** wait() option: do not block. */
export const WNOHANG = 1;
/** Signals kill() knows (their numbers as in BSD). */
export const SIGKILL = 9;
export const SIGTERM = 15;

// WASI errno values the kernel returns (negated).
export const E_2BIG = 1;
export const E_ACCES = 2;
export const E_AGAIN = 6;
export const E_BADF = 8;
export const E_CHILD = 12;
export const E_EXIST = 20;
export const E_FAULT = 21;
export const E_FBIG = 22;
export const E_INTR = 27;
export const E_INVAL = 28;
export const E_IO = 29;
export const E_ISDIR = 31;
export const E_MFILE = 33;
export const E_NAMETOOLONG = 37;
export const E_NFILE = 41;
export const E_NOENT = 44;
export const E_NOEXEC = 45;
export const E_NOMEM = 48;
export const E_NOSPC = 51;
export const E_NOSYS = 52;
export const E_NOTDIR = 54;
export const E_NOTEMPTY = 55;
export const E_NOTSOCK = 57;
export const E_NOTSUP = 58;
export const E_NOTTY = 59;
export const E_PERM = 63;
export const E_NOTCAPABLE = 76;
export const E_PIPE = 64;
export const E_RANGE = 68;
export const E_ROFS = 69;
export const E_SPIPE = 70;
export const E_SRCH = 71;
export const E_XDEV = 75;
