// Physical memory map of the board, shared by the host (TypeScript) and both guests
// (AssemblyScript). This file must compile as both: plain integer constants only, no
// imports, no type annotations that only one of the two languages knows.
//
//   0x2000_0000 +----------------------------------+ RAM_SIZE (512 MiB)
//               |  BSD high memory (256 MiB)       |  physical pages the BSD kernel
//               |  upload buffers (DMA-able)       |  hands out itself (not its heap):
//               |                                  |  uploads wait here for HiTactix
//   0x1000_0000 +----------------------------------+ BSD_HIGH_BASE = HTX_END
//               |                                  |
//               |  HiTactix partition (160 MiB)    |  static data at HTX_BASE (asc
//               |  kernel data, heap, ring buffers |  --memoryBase), heap up to HTX_END
//               |                                  |
//   0x0600_0000 +----------------------------------+ HTX_BASE
//               |  BSD partition (92 MiB)          |  static data at BSD_BASE,
//               |  kernel, processes, mbufs        |  heap up to BSD_END
//   0x0040_0000 +----------------------------------+ BSD_BASE
//               |  shared region (4 MiB - 64 KiB)  |  mailbox rings (HiTactix <-> BSD)
//   0x0001_0000 +----------------------------------+ SHARED_BASE
//               |  guard (64 KiB, never used)      |  a null pointer lands here
//   0x0000_0000 +----------------------------------+
//
//   0xFE00_0000  MMIO window (not RAM): device registers, reached only through the
//                guests' mmio_read / mmio_write imports. See platform.ts.

export const RAM_SIZE = 0x20000000;

export const GUARD_BASE = 0x00000000;
export const GUARD_END = 0x00010000;

export const SHARED_BASE = 0x00010000;
export const SHARED_END = 0x00400000;

export const BSD_BASE = 0x00400000;
export const BSD_END = 0x06000000;

export const HTX_BASE = 0x06000000;
export const HTX_END = 0x10000000;

export const BSD_HIGH_BASE = 0x10000000;
export const BSD_HIGH_END = 0x20000000;

// Mailbox rings inside the shared region: one ring per direction.
export const MBOX_HTX_TO_BSD = 0x00010000; // ring written by HiTactix, read by BSD
export const MBOX_BSD_TO_HTX = 0x00020000; // ring written by BSD, read by HiTactix
