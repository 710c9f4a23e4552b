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

export const MMIO_BASE = 0xfe000000;

export const LAPIC_BASE = 0xfee00000;
export const TIMER_BASE = 0xfee01000;
export const CONSOLE_BASE = 0xfee02000;
export const SCSI_BASE = 0xfe000000;
export const SCSI_RAM_BASE = 0xfe001000;
export const SCSI2_BASE = 0xfe004000;
export const SCSI2_RAM_BASE = 0xfe005000;
export const NIC_BASE = 0xfe010000;

// Interrupt vectors (an interrupt line number is its vector; 32 lines per CPU).
export const IRQ_TIMER = 0;
export const IRQ_IPI = 1;
export const IRQ_SCSI = 4;
export const IRQ_NIC = 5;
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
export const BOOT_MAGIC_VALUE = 0x48545842;

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
// a5 = client MAC bytes 4-5. Reply a0 = stream id.
export const MSG_STREAM_START = 4;
export const MSG_STREAM_STOP = 5; // a0 = stream id
// Upload write (non-real-time): a0 = disk, a1 = LBA, a2 = sectors, a3 = physical
// address of the data. Reply when the whole write is on the disk.
export const MSG_WRITE = 6;
export const MSG_STATS = 7; // a0 = stream id: reply a0 = bytes sent (low 32), a1 = late reads

export const FLAG_LOOP = 1;
export const FLAG_NO_ADMISSION = 2; // experiments: start even past admission (find the disk limit)

// Reasons (a1 of an error reply)
export const ERR_NO_SUCH_FILE = 1;
export const ERR_ADMISSION = 2; // the disks cannot guarantee one more stream of this rate
export const ERR_TABLE_FULL = 3;
export const ERR_NO_SUCH_STREAM = 4;
export const ERR_NOT_MOUNTED = 5;
export const ERR_BAD_REQUEST = 6;
