// Seeded pseudo-random numbers for everything random in the simulation (fault
// injection, client think times). xoshiro128** seeded through splitmix32: small, fast,
// and the same sequence on every machine. Never use Math.random in the simulation.
//
// Interface: new Rng(seed); u32(); fill(u32array) = u32() per word; float() in [0,1); below(n) integer in [0,n);
// fork(label) an independent stream derived from this seed and a label, so adding a
// consumer of randomness in one device does not shift the numbers another one sees.

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** words[i] = u32() for every i, in order: the same numbers, without a call per word. */
  fill(words: Uint32Array): void {
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (let i = 0; i < words.length; i++) {
      const x = Math.imul(s1, 5);
      words[i] = Math.imul((x << 7) | (x >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  float(): number {
    return this.u32() / 4294967296;
  }

  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  fork(label: string): Rng {
    let h = this.s0 ^ 0x2545f491;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new Rng(h >>> 0);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
