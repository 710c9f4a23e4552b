// BSD kernel tunables (xv6's param.h): every number a user may want to change.

/** Process table slots (pid 0 is the kernel itself). */
export const NPROC: i32 = 64;
/** Open files in the whole system (the file table). */
export const NFILE: i32 = 256;
/** Descriptors per process. */
export const NOFILE: i32 = 64;
/** Pipes at once, and bytes one pipe buffers (4.4BSD's PIPE_SIZE is 16 KiB). */
export const NPIPE: i32 = 32;
export const PIPE_SIZE: u32 = 16384;
/** Bytes of argv + environ a process may be given (strings and NULs). */
export const ARG_MAX: u32 = 16384;
/** Largest program image exec reads (bytes): the exec buffer. */
export const EXEC_MAX: u32 = 8 << 20;
/** Scheduler: ticks a process runs before round robin passes the CPU on
 *  (4.4BSD's roundrobin() runs every hz/10 ticks: 100 ms). */
export const QUANTUM_TICKS: u32 = 10;
/** Clock interrupts per second when the boot parameters do not say (BSD's HZ). */
export const DEFAULT_HZ: u32 = 100;
/** Memory one process may hold, in 64 KiB pages (its RLIMIT_DATA): 64 MiB. */
export const PROC_PAGES_MAX: u32 = 1024;
/** Pending timed waits (poll timeouts and sleeps). */
export const NCALLOUT: i32 = 64;
/** Bytes of console input the terminal driver buffers. */
export const TTY_BUF: u32 = 8192;
/** Kernel statistics text, bytes. */
export const KSTAT_MAX: u32 = 2048;
/** Upload data waiting for HiTactix's disk I/O thread, in BSD's high memory (DMA-able,
 *  common/memmap.ts), and its unit: room for a dozen of the paper's 10 MB writes. */
export const UPLOAD_POOL: u32 = 128 << 20;
export const UPLOAD_UNIT: u32 = 256 << 10;
/** Longest path a system call takes. */
export const PATH_MAX_K: u32 = 1024;
