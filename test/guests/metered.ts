// Test guest for the metering pass: routines whose instruction counts are known from
// their WebAssembly text (see test/meter.test.ts for the counts).
@external("env", "probe") declare function probe(): void;
export function straight(a: i32, b: i32): i32 { probe(); return a * b + 3; }
export function loop(n: i32): i32 { let s = 0; for (let i = 0; i < n; i++) { s += i; } return s; }
export function copy(dst: usize, src: usize, n: usize): void { memory.copy(dst, src, n); }
export function fill(dst: usize, n: usize): void { memory.fill(dst, 7, n); }
export function spin(): void { let x = 1; while (x != 0) { x = x * 3 + 1; } }
