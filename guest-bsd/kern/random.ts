// The kernel's random numbers (random_get, /dev/random): xorshift64* seeded from the
// boot parameters, so a run is repeatable. Not for cryptography.
//
// Interface: randomInit(seed), randomFill(buf, n)

let state: u64 = 0x9e3779b97f4a7c15;

export function randomInit(seed: u32): void {
  state ^= (<u64>seed << 32) | <u64>(seed ^ 0x5bd1e995);
  if (state == 0) state = 1;
}

function next(): u64 {
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545f4914f6cdd1d;
}

export function randomFill(buf: usize, n: u32): void {
  let i: u32 = 0;
  for (; i + 8 <= n; i += 8) store<u64>(buf + i, next());
  if (i < n) {
    let r = next();
    for (; i < n; i++) { store<u8>(buf + i, <u8>r); r >>= 8; }
  }
}
