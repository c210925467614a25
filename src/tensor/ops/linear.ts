// Matrix products with a 2-D weight; leading axes of x are flattened into rows (M = prod of them).
import { Tensor } from '../tensor.js';
import { record, gradOf } from '../autograd.js';
import { kernels } from '../kernels/index.js';

function lastAxis(x: Tensor, op: string): number {
  if (x.rank < 1) throw new Error(`${op}: ${x.describe()} needs at least one axis`);
  return x.shape[x.rank - 1]!;
}

/**
 * linear(x [..., K], w [N, K], b? [N]) -> [..., N] = x @ w^T + b  (nn.Linear layout).
 * Backward: dx += dy @ w;  dw += dy^T @ x;  db += sum over rows of dy.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const K = lastAxis(x, 'linear');
  if (w.rank !== 2 || w.shape[1] !== K) {
    throw new Error(`linear: weight ${w.describe()} must be [out, ${K}] to match input ${x.describe()}`);
  }
  const N = w.shape[0]!;
  if (b && (b.rank !== 1 || b.shape[0] !== N)) throw new Error(`linear: bias ${b.describe()} must be [${N}]`);
  const M = x.size / K;
  const out = new Float32Array(M * N);
  if (b) for (let r = 0; r < M; r++) out.set(b.data, r * N);
  kernels().sgemm(false, true, M, N, K, 1, x.data, w.data, b ? 1 : 0, out);
  return record(new Tensor(out, [...x.shape.slice(0, -1), N]), [x, w, b], (g) => {
    const k = kernels();
    const gx = gradOf(x);
    const gw = gradOf(w);
    const gb = gradOf(b);
    if (gx) k.sgemm(false, false, M, K, N, 1, g, w.data, 1, gx);
    if (gw) k.sgemm(true, false, N, K, M, 1, g, x.data, 1, gw);
    if (gb) for (let r = 0; r < M; r++) for (let n = 0; n < N; n++) gb[n] += g[r * N + n]!;
  });
}

/**
 * matmul(a [..., K], b [K, N]) -> [..., N] = a @ b  (GPT-2 Conv1D layout).
 * Backward: da += dy @ b^T;  db += a^T @ dy.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const K = lastAxis(a, 'matmul');
  if (b.rank !== 2 || b.shape[0] !== K) {
    throw new Error(`matmul: right operand ${b.describe()} must be [${K}, N] to match ${a.describe()}`);
  }
  const N = b.shape[1]!;
  const M = a.size / K;
  const out = new Float32Array(M * N);
  kernels().sgemm(false, false, M, N, K, 1, a.data, b.data, 0, out);
  return record(new Tensor(out, [...a.shape.slice(0, -1), N]), [a, b], (g) => {
    const k = kernels();
    const ga = gradOf(a);
    const gb = gradOf(b);
    if (ga) k.sgemm(false, true, M, K, N, 1, g, b.data, 1, ga);
    if (gb) k.sgemm(true, false, K, N, M, 1, a.data, g, 1, gb);
  });
}
