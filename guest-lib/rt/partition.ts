// A bump-allocator runtime for kernels that live in one partition of physical RAM
// (asc --runtime guest-lib/rt/partition). It is AssemblyScript's stub runtime with one
// change: the heap's end is the partition's end, imported from the board as the global
// env.heap_end, so no allocation can ever reach the other kernel's memory. Past it,
// the board's env.heap_exhausted import stops this CPU with a partition-fault report.
//
// Like the stub it never frees: kernels allocate their tables at boot and use static
// pools afterwards (as real kernels do); nothing on a periodic path may allocate.

import { AL_MASK, OBJECT, OBJECT_OVERHEAD, BLOCK_MAXSIZE, BLOCK_OVERHEAD, BLOCK, OBJECT_MAXSIZE } from "rt/common";

@external("env", "heap_end") declare const HEAP_END: usize;
@external("env", "heap_exhausted") declare function heap_exhausted(size: usize, top: usize): void;

// @ts-ignore: decorator
@lazy let offset: usize = ((__heap_base + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;

// @ts-ignore: decorator
@inline function computeSize(size: usize): usize {
  return ((size + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;
}

// @ts-ignore: decorator
@unsafe @global
export function __alloc(size: usize): usize {
  let ptr = offset + BLOCK_OVERHEAD;
  let payload = computeSize(size);
  if (size > BLOCK_MAXSIZE || ptr + payload > HEAP_END || ptr + payload < ptr) {
    heap_exhausted(size, offset);
    unreachable();
  }
  changetype<BLOCK>(offset).mmInfo = payload;
  offset = ptr + payload;
  return ptr;
}

/** Bytes the heap can still hand out before the partition's end (before block
 *  overhead and alignment): lets a kernel refuse work instead of faulting. */
// @ts-ignore: decorator
@global
export function __heap_free(): usize {
  let ptr = offset + BLOCK_OVERHEAD;
  return ptr < HEAP_END ? HEAP_END - ptr : 0;
}

// @ts-ignore: decorator
@unsafe @global
export function __realloc(ptr: usize, size: usize): usize {
  let block = changetype<BLOCK>(ptr - BLOCK_OVERHEAD);
  let actual = block.mmInfo;
  if (size <= actual) return ptr;
  if (ptr + actual == offset) { // last block: grow in place
    let payload = computeSize(size);
    if (ptr + payload > HEAP_END) { heap_exhausted(size, offset); unreachable(); }
    block.mmInfo = payload;
    offset = ptr + payload;
    return ptr;
  }
  let n = __alloc(max<usize>(size, actual << 1));
  memory.copy(n, ptr, actual);
  return n;
}

// @ts-ignore: decorator
@unsafe @global
export function __free(ptr: usize): void {
  let block = changetype<BLOCK>(ptr - BLOCK_OVERHEAD);
  if (ptr + block.mmInfo == offset) offset = changetype<usize>(block);
}

// @ts-ignore: decorator
@unsafe @global
export function __reset(): void {}

// @ts-ignore: decorator
@unsafe @global
export function __new(size: usize, id: u32): usize {
  if (size > OBJECT_MAXSIZE) { heap_exhausted(size, offset); unreachable(); }
  let ptr = __alloc(OBJECT_OVERHEAD + size);
  let object = changetype<OBJECT>(ptr - BLOCK_OVERHEAD);
  object.gcInfo = 0;
  object.gcInfo2 = 0;
  object.rtId = id;
  object.rtSize = <u32>size;
  return ptr + OBJECT_OVERHEAD;
}

// @ts-ignore: decorator
@unsafe @global
export function __renew(oldPtr: usize, size: usize): usize {
  let newPtr = __realloc(oldPtr - OBJECT_OVERHEAD, OBJECT_OVERHEAD + size);
  changetype<OBJECT>(newPtr - BLOCK_OVERHEAD).rtSize = <u32>size;
  return newPtr + OBJECT_OVERHEAD;
}

// @ts-ignore: decorator
@global @unsafe
export function __link(parentPtr: usize, childPtr: usize, expectMultiple: bool): void {}

// @ts-ignore: decorator
@global @unsafe
export function __pin(ptr: usize): usize { return ptr; }

// @ts-ignore: decorator
@global @unsafe
export function __unpin(ptr: usize): void {}

// @ts-ignore: decorator
@global @unsafe
function __visit(ptr: usize, cookie: u32): void {}

// @ts-ignore: decorator
@global @unsafe
export function __collect(): void {}
