// Memory for devices. A guest's linear memory is the board's physical RAM, so a
// pointer IS the physical address a device DMAs to: no translation. Buffers come from
// the partition's heap at boot (never freed), aligned as the device needs.
//
// Interface: dmaAlloc(size, align) -> physical address, zero-filled: RAM is zero at
// power-on and the partition runtime never hands out memory twice, so no fill is
// needed (filling a 13.8 MB ring buffer would cost 44 M cycles, 74 ms of CPU).
// dmaFits(size, align) says whether dmaAlloc(size, align) would succeed, so a kernel
// can refuse a request instead of stopping on a partition fault; dmaFree() is the
// heap's room left.

export function dmaAlloc(size: usize, align: usize = 16): usize {
  let raw = heap.alloc(size + align);
  let p = (raw + align - 1) & ~(align - 1);
  return p;
}

/** Bytes left in the partition's heap. */
export function dmaFree(): usize {
  return __heap_free();
}

/** Would dmaAlloc(size, align) fit, leaving `reserve` bytes? (16 bytes for the block
 *  header and its alignment are counted too.) */
export function dmaFits(size: u64, align: usize = 16, reserve: usize = 0): bool {
  return size + <u64>align + 16 + <u64>reserve <= <u64>__heap_free();
}
