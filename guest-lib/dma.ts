// Memory for devices. A guest's linear memory is the board's physical RAM, so a
// pointer IS the physical address a device DMAs to: no translation. Buffers come from
// the partition's heap at boot (never freed), aligned as the device needs.
//
// Interface: dmaAlloc(size, align) -> physical address, zero-filled.

export function dmaAlloc(size: usize, align: usize = 16): usize {
  let raw = heap.alloc(size + align);
  let p = (raw + align - 1) & ~(align - 1);
  memory.fill(p, 0, size);
  return p;
}
