// The board's platform ABI, shared by host and guests (compiles as TypeScript and as
// AssemblyScript: integer constants only, no imports).
//
// MMIO map. Guests reach device registers with the imports
//   mmio_read(addr: u32, width: u32): u32     width = 1, 2 or 4 bytes
//   mmio_write(addr: u32, width: u32, value: u32): void
// Per-CPU devices (interrupt controller, timer, console) sit at the same address on
// every CPU, like a local APIC: the access goes to the bank of the CPU that makes it.
//
//   0xFEE0_0000  LAPIC   per-CPU interrupt controller + IPI       (0x100 bytes)
//   0xFEE0_1000  TIMER   per-CPU one-shot timer, virtual ns       (0x100 bytes)
//   0xFEE0_2000  CONSOLE per-CPU console (DMA of a byte string)   (0x100 bytes)
//   0xFE00_0000  SCSI    LSI53C895-style controller: registers 0x000-0x0FF,
//                        SCRIPTS RAM 0x1000-0x1FFF (one 0x2000-byte window)
//   0xFE00_1000  SCSIRAM its SCRIPTS RAM, same device window    (0x1000 bytes)
//   0xFE00_4000  SCSI2   a second LSI53C895-style controller, same layout, when the
//                        board has one (config.scsi2; BSD's system disk)
//   0xFE01_0000  NIC     AceNIC registers                         (0x4000 bytes)
//   0xFE02_0000  TTY     the BSD side's terminal (paravirtual)   (0x100 bytes)
//   0xFEE0_3000  SYSCTL  board power control                     (0x100 bytes)

export const MMIO_BASE = 0xfe000000;

export const LAPIC_BASE = 0xfee00000;
export const TIMER_BASE = 0xfee01000;
export const CONSOLE_BASE = 0xfee02000;
export const SCSI_BASE = 0xfe000000;
export const SCSI_RAM_BASE = 0xfe001000;
export const SCSI2_BASE = 0xfe004000;
export const SCSI2_RAM_BASE = 0xfe005000;
export const NIC_BASE = 0xfe010000;
export const TTY_BASE = 0xfe020000;
export const SYSCTL_BASE = 0xfee03000;

// Interrupt vectors (an interrupt line number is its vector; 32 lines per CPU).
export const IRQ_TIMER = 0;
export const IRQ_IPI = 1;
export const IRQ_SCSI = 4;
export const IRQ_NIC = 5;
export const IRQ_TTY = 6;
export const IRQ_LINES = 32;

// LAPIC registers (32-bit).
export const LAPIC_ID = 0x00; // R: this CPU's number
export const LAPIC_PENDING = 0x04; // R: bitmask of pending lines
export const LAPIC_MASK = 0x08; // R/W: bitmask of masked lines (1 = masked)
export const LAPIC_DELIVERED = 0x0c; // R: interrupts delivered to this CPU so far
export const LAPIC_IPI = 0x10; // W: send an IPI to the CPU whose number is written
export const LAPIC_IPI_COUNT = 0x14; // R: IPIs received by this CPU

// TIMER registers (32-bit). Time is virtual nanoseconds since power-on.
export const TIMER_NOW_LO = 0x00; // R: now, low word (latches the high word)
export const TIMER_NOW_HI = 0x04; // R: high word latched by the last NOW_LO read
export const TIMER_DEADLINE_LO = 0x08; // W: deadline low word (held until HI is written)
export const TIMER_DEADLINE_HI = 0x0c; // W: deadline high word; arms the one-shot
export const TIMER_CANCEL = 0x10; // W: any value disarms
export const TIMER_HZ = 0x14; // R: CPU clock in Hz (the guest converts cycles)

// CONSOLE registers (32-bit).
export const CONSOLE_ADDR = 0x00; // W: physical address of the bytes
export const CONSOLE_LEN = 0x04; // W: length; the write sends them (DMA)

// TTY registers (32-bit): a paravirtual terminal in the spirit of virtio-console, the
// BSD side's standard input and output when a host session is attached (`hitactix
// bsd exec`). Two output streams (0 = out, 1 = err) and one input stream, all DMA.
// No line speed is modelled: bytes move at once.
export const TTY_TX_ADDR = 0x00; // W: physical address of the bytes to send
export const TTY_TX_LEN = 0x04; // W: length (at most 65536); the write sends them
export const TTY_TX_STREAM = 0x08; // W: 0 = out, 1 = err, for the following sends
export const TTY_RX_ADDR = 0x10; // W: physical address of a receive buffer
export const TTY_RX_LEN = 0x14; // W: its length; the write arms one receive
export const TTY_RX_COUNT = 0x18; // R: bytes the last completed receive delivered
export const TTY_STATUS = 0x1c; // R: status bits below; W: 1 bits clear RX_DONE
export const TTY_ST_RX_DONE = 1; // a receive completed (the IRQ line is high while set)
export const TTY_ST_RX_EOF = 2; // the input has ended and every byte was delivered
export const TTY_ST_RX_ARMED = 4; // a receive is waiting for input
export const TTY_ST_ATTACHED = 8; // a host session is attached (else input is at its end)
// The host's own streams are terminals (else files or pipes): a program's isatty()
// answers as it would on the host.
export const TTY_ST_IN_TERMINAL = 16;
export const TTY_ST_OUT_TERMINAL = 32;
export const TTY_ST_ERR_TERMINAL = 64;

// SYSCTL registers (32-bit), board-wide.
export const SYSCTL_POWEROFF = 0x00; // W: power the board off; the value is the status the host reports

// Boot parameters: the board writes one block per CPU in the shared region before
// boot (u32 fields). Kernels read them with plain loads.
export const BOOTINFO_BASE = 0x00030000;
export const BOOTINFO_SIZE = 0x100;
export const BOOT_MAGIC = 0x00; // 0x48545842 "HTXB" when the block is valid
export const BOOT_TICK_NS = 0x04; // period of the kernel's periodic timer, ns
export const BOOT_PING_BURST = 0x08; // BSD demo: pings sent per tick
export const BOOT_PING_TOTAL = 0x0c; // BSD demo: pings sent in all (0 = none)
export const BOOT_SPIN = 0x10; // extra busy-loop iterations per tick (load demo)
export const BOOT_REPORT_TICKS = 0x14; // print a status line every this many ticks (0 = never)
export const BOOT_HTX_POLICY = 0x18; // HiTactix disk policy: 0 cyclic, 1 fifo
export const BOOT_HTX_IP = 0x1c; // HiTactix's IPv4 address (source of the streams)
// Streams HiTactix's distribution table holds: 1 to HTX_MAX_STREAMS, 0 = the default
// (HTX_DEFAULT_STREAMS). A bigger table costs nothing per tick (the threads walk the
// slots used so far) and ~300 bytes of heap per slot.
export const BOOT_HTX_NSTREAM = 0x20;
// HiTactix's transmit path: HTX_TX_FAST (0: one doorbell per pacing tick, checksums
// offloaded to the NIC, no UDP checksum) or HTX_TX_2002 (1: a doorbell per frame, the
// IPv4 and UDP checksums computed in software over header and payload, as a 2002
// kernel's UDP output did).
export const BOOT_HTX_TX_PATH = 0x24;
export const HTX_TX_FAST = 0;
export const HTX_TX_2002 = 1;
export const BOOT_MAGIC_VALUE = 0x48545842;
// The BSD kernel's boot parameters (CPU 0's block).
export const BOOT_CMDLINE_ADDR = 0x40; // init's argv: NUL-terminated strings in the shared region
export const BOOT_CMDLINE_LEN = 0x44; // their total bytes (0: plain "init")
export const BOOT_EPOCH_LO = 0x48; // realtime at power-on, seconds since 1970 (low word)
export const BOOT_EPOCH_HI = 0x4c;
export const BOOT_SEED = 0x50; // seed of the kernel's random numbers
export const BOOT_MODULES = 0x54; // physical address of the boot module table (0: none)
/** Where the board puts init's command line, and boot modules (files loaded by the
 *  host, in a table: u32 count, then count x {u32 name, u32 nameLen, u32 addr, u32 len}). */
export const CMDLINE_AREA = 0x0003a000; // after the HiTactix statistics block (0x31000, up to 36 KiB)
export const CMDLINE_MAX = 0x3000;
export const MODULE_AREA = 0x00100000;
export const MODULE_AREA_END = 0x00400000;

// Mailbox ring layout (see guest-lib/mailbox.ts).
//   +0  head   u32  next slot the producer writes (monotone counter)
//   +4  tail   u32  next slot the consumer reads (monotone counter)
//   +8  slots  u32  number of slots (power of two)
//   +12 waiting u32 1 = the producer found the ring full and wants an IPI on space
//   +64 slot[0] ... each MBOX_SLOT_SIZE bytes
export const MBOX_HEAD = 0;
export const MBOX_TAIL = 4;
export const MBOX_SLOTS = 8;
export const MBOX_WAITING = 12;
export const MBOX_HEADER_SIZE = 64;
export const MBOX_SLOT_SIZE = 64;
export const MBOX_DEFAULT_SLOTS = 64;

// Message record (MBOX_SLOT_SIZE bytes): type u32, seq u32, then 14 u32 arguments.
export const MSG_TYPE = 0;
export const MSG_SEQ = 4;
export const MSG_ARG0 = 8;
export const MSG_ARGS = 14;

export const MSG_PING = 1; // a0 = value; the peer answers MSG_PONG with a0 + 1
export const MSG_PONG = 2;

// Stream control (BSD's HiTactix driver -> HiTactix). Every request gets one
// MSG_REPLY with the request's seq: a0 = result (>= 0 success, < 0 error), a1 = reason.
export const MSG_REPLY = 3;
// Start a stream: a0 = file index, a1 = client IPv4, a2 = client UDP port | source
// port << 16, a3 = flags (1 = loop at end of file), a4 = client MAC bytes 0-3,
// a5 = client MAC bytes 4-5. Reply a0 = stream id; a1 = 0, or ERR_ADMISSION for a
// stream started past admission (FLAG_NO_ADMISSION) that admission would have refused.
export const MSG_STREAM_START = 4;
export const MSG_STREAM_STOP = 5; // a0 = stream id
// Upload write (non-real-time): a0 = disk, a1 = LBA, a2 = sectors, a3 = physical
// address of the data. Reply when the whole write is on the disk.
export const MSG_WRITE = 6;
// A stream's counters: a0 = stream id. Reply a0 = 0, a1 = late reads, a2/a3 = bytes
// sent (low, high 32 bits); kept after the stream stops, until its slot is reused.
export const MSG_STATS = 7;
// A file of the stream volume by name: a0..a11 = the name, 1 to 47 bytes of UTF-8,
// NUL padded (the directory's form). Reply a0 = file index, a2/a3 = size in bytes,
// a4/a5 = nominal rate in bits per second (low, high 32 bits). Waits while the volume
// is mounting, as a start does.
export const MSG_LOOKUP = 8;
// A file's name by index: a0 = index. Reply a0 = 0, a2..a13 = the name, NUL padded.
export const MSG_FILE_NAME = 9;
export const MSG_NAME_WORDS = 12; // u32 arguments a name takes (DE_NAME_MAX + 1 bytes)

export const FLAG_LOOP = 1;
export const FLAG_NO_ADMISSION = 2; // experiments: start even past admission (find the disk limit)

// Reasons (a1 of an error reply)
export const ERR_NO_SUCH_FILE = 1;
export const ERR_ADMISSION = 2; // the disks cannot guarantee one more stream of this rate
export const ERR_TABLE_FULL = 3;
export const ERR_NO_SUCH_STREAM = 4;
export const ERR_NOT_MOUNTED = 5;
export const ERR_BAD_REQUEST = 6;
export const ERR_NO_MEMORY = 7; // the stream's ring buffers do not fit HiTactix's free memory (refused even past admission)

// Streams HiTactix's distribution table holds by default (BOOT_HTX_NSTREAM = 0). It
// must never bind before the disks do: at 1 Mbit/s (32 KB chunks) three disks carry at
// most ~3 x 256 ms / (1.2 ms transfer + >= 1.2 ms positioning) ~ 320 streams, and were
// measured to saturate at ~130-140 (README, fast-io at 1 Mbit/s), so 512 leaves the
// disks the limit at every rate.
export const HTX_DEFAULT_STREAMS = 512;
// The largest table the boot parameter may ask for (the statistics block has a record
// per slot up to this many; guest-hitactix/param.ts NSTREAM_MAX).
export const HTX_MAX_STREAMS = 1024;
// Ring buffer slots per stream, each one chunk (guest-hitactix/param.ts RING_SLOTS): a
// stream holds this many chunks of HiTactix's memory.
export const HTX_RING_SLOTS = 3;

// HiTactix statistics block, in the shared region: written by HiTactix as its counters
// change, read by the host for run summaries and experiment results (host/htx-stats.ts).
// u32 fields, little-endian. Totals count over every stream since boot; the records
// hold each table slot's current (or last) stream.
//   +0x00 magic       HTX_STATS_MAGIC_VALUE once HiTactix has initialised the block
//   +0x04 version     HTX_STATS_VERSION
//   +0x08 streams     records that follow (the table's size, at most HTX_MAX_STREAMS)
//   +0x0c active      streams playing now
//   +0x10 readErrors  chunk reads that failed (medium errors, driver errors)
//   +0x14 lateReads   periods whose chunk was still being read when due
//   +0x18 skipped     periods a stream sent nothing (its chunk failed or was late)
//   +0x1c refusedMemory  stream starts refused: ring buffers do not fit (ERR_NO_MEMORY)
//   +0x20 heapFree    bytes left in HiTactix's heap (after boot and each stream start)
//   +0x24 periods     periods begun by the distribution thread
//   +0x40 record[i]   HTX_STATS_RECORD bytes per table slot:
//         +0 state (0 never used, 1 playing, 2 ended), +4 file index, +8 client UDP port,
//         +12 readErrors, +16 lateReads, +20 skipped periods, +24 first failed chunk + 1
//         (0 = none)
export const HTX_STATS_BASE = 0x00031000;
export const HTX_STATS_MAGIC_VALUE = 0x54535448; // "HTST"
export const HTX_STATS_VERSION = 1;
export const HTXS_MAGIC = 0x00;
export const HTXS_VERSION = 0x04;
export const HTXS_STREAMS = 0x08;
export const HTXS_ACTIVE = 0x0c;
export const HTXS_READ_ERRORS = 0x10;
export const HTXS_LATE_READS = 0x14;
export const HTXS_SKIPPED = 0x18;
export const HTXS_REFUSED_MEMORY = 0x1c;
export const HTXS_HEAP_FREE = 0x20;
export const HTXS_PERIODS = 0x24;
export const HTXS_RECORDS = 0x40;
export const HTX_STATS_RECORD = 0x20;
export const HTXR_STATE = 0x00;
export const HTXR_FILE = 0x04;
export const HTXR_PORT = 0x08;
export const HTXR_READ_ERRORS = 0x0c;
export const HTXR_LATE_READS = 0x10;
export const HTXR_SKIPPED = 0x14;
export const HTXR_FIRST_FAILED = 0x18;
// 0x8040 bytes: 0x31000-0x39040, below CMDLINE_AREA.
export const HTX_STATS_SIZE = HTXS_RECORDS + HTX_MAX_STREAMS * HTX_STATS_RECORD;
