// Float64 vector products of the analysis: dot products, norms, Gram matrices of a few vectors, and
// the products of float32 rows with one float64 direction. Every dot product of the analysis is this one.

/** a . b, accumulated in float64. */
export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
}

export function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** G[i][j] = a_i . a_j: [B, B] for B vectors, float64. */
export function gramOf(vectors: readonly Float64Array[]): number[][] {
  const b = vectors.length;
  const g = Array.from({ length: b }, () => new Array<number>(b).fill(0));
  for (let i = 0; i < b; i++) {
    for (let j = i; j < b; j++) {
      const s = dot(vectors[i]!, vectors[j]!);
      g[i]![j] = s;
      g[j]![i] = s;
    }
  }
  return g;
}

/** out_i = x_i . v for the rows of x: [n, d] (float32) and v: [d] (float64), accumulated in float64: [n]. */
export function rowDots(x: Float32Array, n: number, d: number, v: Float64Array): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // the loop of dot, over a float32 row read in place (dot's own arguments stay monomorphic float64)
    let s = 0;
    const off = i * d;
    for (let k = 0; k < d; k++) s += x[off + k]! * v[k]!;
    out[i] = s;
  }
  return out;
}
