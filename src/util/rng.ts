// Seeded pseudo-random numbers for everything prefdyn draws: data splits, shuffles, dropout masks,
// initialisation, bootstrap resamples. xoshiro128** (32-bit state words, exact in JS integers), seeded
// through splitmix32 so nearby seeds give unrelated streams. The state can be saved and restored, so
// a resumed run draws exactly what an uninterrupted one would.

export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s: Uint32Array;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    const mix = splitmix32(seed);
    this.s = new Uint32Array([mix(), mix(), mix(), mix()]);
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
  }

  /** A new generator whose stream depends on this seed and `key` only (e.g. a group name or a purpose). */
  static derive(seed: number, key: string): Rng {
    let h = seed >>> 0;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
    return new Rng(h);
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    this.fillUint32(oneWord);
    return oneWord[0]!;
  }

  /**
   * out = the next out.length 32-bit words of the stream: xoshiro128**'s step, written only here (nextUint32 draws
   * one word through it); the state kept in locals, 2-4x faster per word than a call per word.
   */
  fillUint32(out: Uint32Array): void {
    let s0 = this.s[0]!;
    let s1 = this.s[1]!;
    let s2 = this.s[2]!;
    let s3 = this.s[3]!;
    for (let i = 0; i < out.length; i++) {
      // the words as int32 (same bits); out and the state store them back as uint32
      out[i] = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
    }
    this.s[0] = s0;
    this.s[1] = s1;
    this.s[2] = s2;
    this.s[3] = s3;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  int(n: number): number {
    if (!(n > 0 && n <= 4294967296)) throw new Error(`Rng.int: n must be in 1..2^32, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.nextUint32();
    while (x >= limit);
    return x % n;
  }

  /** Standard normal (Box-Muller, pairs cached). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return z;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  getState(): { s: RngState; spareNormal: number | null } {
    return { s: [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!], spareNormal: this.spareNormal ?? null };
  }

  setState(state: { s: RngState; spareNormal: number | null }): void {
    this.s = Uint32Array.from(state.s);
    this.spareNormal = state.spareNormal ?? undefined;
  }
}

/** nextUint32's output word (one generator runs at a time: JS is single-threaded). */
const oneWord = new Uint32Array(1);

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
