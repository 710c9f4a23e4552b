// Benchmark workload: CPU-bound guest code of the kinds the kernels run: integer
// arithmetic (xorshift), memory.copy of 64 KiB blocks, and a quicksort of u32s.
// The bench runs it plain and metered and compares wall times.

const N: i32 = 200000;
const arr: usize = memory.data(N * 4);
const src: usize = memory.data(65536);
const dst: usize = memory.data(65536);

export function xorshift(iterations: i32): u32 {
  let x: u32 = 2463534242;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
  }
  return x;
}

export function copies(times: i32): u32 {
  for (let i = 0; i < times; i++) {
    memory.copy(dst, src, 65536);
    store<u32>(src + ((<usize>i * 4) & 65535), <u32>i);
  }
  return load<u32>(dst);
}

function qsort(lo: i32, hi: i32): void {
  while (lo < hi) {
    let p = load<u32>(arr + (<usize>((lo + hi) >>> 1) << 2));
    let i = lo, j = hi;
    while (i <= j) {
      while (load<u32>(arr + (<usize>i << 2)) < p) i++;
      while (load<u32>(arr + (<usize>j << 2)) > p) j--;
      if (i <= j) {
        let t = load<u32>(arr + (<usize>i << 2));
        store<u32>(arr + (<usize>i << 2), load<u32>(arr + (<usize>j << 2)));
        store<u32>(arr + (<usize>j << 2), t);
        i++; j--;
      }
    }
    if (j - lo < hi - i) { qsort(lo, j); lo = i; } else { qsort(i, hi); hi = j; }
  }
}

export function sort(seed: u32): u32 {
  let x = seed | 1;
  for (let i = 0; i < N; i++) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    store<u32>(arr + (<usize>i << 2), x);
  }
  qsort(0, N - 1);
  return load<u32>(arr + (<usize>(N / 2) << 2));
}
