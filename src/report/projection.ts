// 2-D projections of prompt embeddings for figure 5: PCA (the two leading principal axes) and UMAP
// (umap-js, driven by prefdyn's seeded RNG so the same seed gives the same coordinates).
import { UMAP } from 'umap-js';
import { Rng } from '../util/rng.js';

export interface Projection {
  x: Float64Array;
  y: Float64Array;
}

/** Power iterations per principal axis; the tiny clouds of a report converge long before. */
const PCA_ITERATIONS = 300;

/** x: [n, d] row-major. Coordinates along the top two eigenvectors of the covariance, each signed so its largest |component| is positive. */
export function pca2(x: Float32Array, n: number, d: number, seed: number): Projection {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]! / n;
  const centred = (i: number, j: number) => x[i * d + j]! - mean[j]!;
  const rng = Rng.derive(seed, 'pca');
  const axes: Float64Array[] = [];
  for (let a = 0; a < 2; a++) {
    let v = Float64Array.from({ length: d }, () => rng.normal());
    for (let it = 0; it < PCA_ITERATIONS; it++) {
      // v <- Xc^T (Xc v), deflated against the axes found so far, normalised.
      const xv = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xv[i]! += centred(i, j) * v[j]!;
      const next = new Float64Array(d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) next[j]! += centred(i, j) * xv[i]!;
      const norm = Math.hypot(...deflate(next, axes));
      if (norm === 0) break;
      v = next.map((t) => t / norm);
    }
    // Once more after the last step: where the data has no variance left, the iterate is rounding noise
    // that only an explicit projection keeps orthogonal to the axes found.
    const norm = Math.hypot(...deflate(v, axes));
    v = v.map((t) => t / norm);
    let big = 0;
    for (let j = 0; j < d; j++) if (Math.abs(v[j]!) > Math.abs(v[big]!)) big = j;
    if (v[big]! < 0) v = v.map((t) => -t);
    axes.push(v);
  }
  const coord = (u: Float64Array) =>
    Float64Array.from({ length: n }, (_, i) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += centred(i, j) * u[j]!;
      return s;
    });
  return { x: coord(axes[0]!), y: coord(axes[1]!) };
}

/** Removes from `v` (in place) its components along the orthonormal `axes`; returns it. */
function deflate(v: Float64Array, axes: readonly Float64Array[]): Float64Array {
  for (const u of axes) {
    const dot = v.reduce((s, t, j) => s + t * u[j]!, 0);
    for (let j = 0; j < v.length; j++) v[j]! -= dot * u[j]!;
  }
  return v;
}

/** Fewest rows UMAP is run on (its neighbour graph needs a few). */
export const UMAP_MIN_ROWS = 4;

/** x: [n, d] row-major, n >= UMAP_MIN_ROWS. umap-js defaults except the neighbours (15, fewer for small n) and the seeded random. */
export function umap2(x: Float32Array, n: number, d: number, seed: number): Projection {
  const rng = Rng.derive(seed, 'umap');
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, n - 1), random: () => rng.uniform() });
  const rows = Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * d, (i + 1) * d)));
  const out = umap.fit(rows);
  return { x: Float64Array.from(out, (p) => p[0]!), y: Float64Array.from(out, (p) => p[1]!) };
}
