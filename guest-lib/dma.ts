// Memory for devices. A guest's linear memory is the board's physical RAM, so a
// pointer IS the physical address a device DMAs to: no translation. Buffers come from
// the partition's heap at boot (never freed), aligned as the device needs.
//
// Interface: dmaAlloc(size, align) -> physical address, zero-filled: RAM is zero at
// power-on and the partition runtime never hands out memory twice, so no fill is
// needed (filling a 13.8 MB ring buffer would cost 44 M cycles, 74 ms of CPU).

export function dmaAlloc(size: usize, align: usize = 16): usize {
  let raw = heap.alloc(size + align);
  let p = (raw + align - 1) & ~(align - 1);
  return p;
}
