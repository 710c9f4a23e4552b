// The guest's view of the hardware: the board's imports, shared by both kernels.
// Device registers are reached only through mmio_read / mmio_write (the board charges
// each access by the cost table); RAM is this module's own linear memory.
//
// Interface: mmioRead32/mmioWrite32 (and 8/16), the raw imports.

@external("env", "mmio_read")
export declare function mmio_read(addr: u32, width: u32): u32;

@external("env", "mmio_write")
export declare function mmio_write(addr: u32, width: u32, value: u32): void;

// @ts-ignore: decorator
@inline export function mmioRead32(addr: u32): u32 { return mmio_read(addr, 4); }
// @ts-ignore: decorator
@inline export function mmioWrite32(addr: u32, v: u32): void { mmio_write(addr, 4, v); }
// @ts-ignore: decorator
@inline export function mmioRead16(addr: u32): u32 { return mmio_read(addr, 2); }
// @ts-ignore: decorator
@inline export function mmioWrite16(addr: u32, v: u32): void { mmio_write(addr, 2, v); }
// @ts-ignore: decorator
@inline export function mmioRead8(addr: u32): u32 { return mmio_read(addr, 1); }
// @ts-ignore: decorator
@inline export function mmioWrite8(addr: u32, v: u32): void { mmio_write(addr, 1, v); }
