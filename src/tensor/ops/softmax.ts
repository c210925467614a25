// Softmax family over the last axis. gatherLogProbs is the fused log-softmax + gather the losses use:
// it never forms the [R, V] log-softmax.
import { Tensor } from '../tensor.js';
import { record, gradOf } from '../autograd.js';
import { kernels } from '../kernels/index.js';

function rowsOf(x: Tensor, op: string): { R: number; C: number } {
  const C = x.shape[x.rank - 1];
  if (C === undefined || C === 0) throw new Error(`${op}: ${x.describe()} needs a non-empty last axis`);
  return { R: x.size / C, C };
}

/** Writes log-softmax of each row of x [R, C] into out; sums in float64. */
function logSoftmaxRows(x: Float32Array, R: number, C: number, out: Float32Array): void {
  for (let r = 0; r < R; r++) {
    const o = r * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (x[o + c]! > max) max = x[o + c]!;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(x[o + c]! - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < C; c++) out[o + c] = x[o + c]! - lse;
  }
}

/** softmax(x) over the last axis; backward dx = p * (dy - sum(dy * p)). */
export function softmax(x: Tensor): Tensor {
  const { R, C } = rowsOf(x, 'softmax');
  const p = new Float32Array(x.size);
  logSoftmaxRows(x.data, R, C, p);
  for (let i = 0; i < p.length; i++) p[i] = Math.exp(p[i]!);
  return record(new Tensor(p, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let r = 0; r < R; r++) {
      const o = r * C;
      let dot = 0;
      for (let c = 0; c < C; c++) dot += g[o + c]! * p[o + c]!;
      for (let c = 0; c < C; c++) gx[o + c]! += p[o + c]! * (g[o + c]! - dot);
    }
  });
}

/** logSoftmax(x) over the last axis; backward dx = dy - softmax * sum(dy). */
export function logSoftmax(x: Tensor): Tensor {
  const { R, C } = rowsOf(x, 'logSoftmax');
  const out = new Float32Array(x.size);
  logSoftmaxRows(x.data, R, C, out);
  return record(new Tensor(out, x.shape), [x], (g) => {
    const gx = gradOf(x)!;
    for (let r = 0; r < R; r++) {
      const o = r * C;
      let sum = 0;
      for (let c = 0; c < C; c++) sum += g[o + c]!;
      for (let c = 0; c < C; c++) gx[o + c]! += g[o + c]! - Math.exp(out[o + c]!) * sum;
    }
  });
}

/**
 * gatherLogProbs(logits [R, V], targets [R]) -> [R]: log softmax(logits[r])[targets[r]], 0 where the
 * target is -1 (masked: prompt tokens, padding).
 */
export function gatherLogProbs(logits: Tensor, targets: Int32Array): Tensor {
  if (logits.rank !== 2) throw new Error(`gatherLogProbs: logits ${logits.describe()} must be [rows, vocab]`);
  const [R, V] = logits.shape as [number, number];
  if (targets.length !== R)
    throw new Error(`gatherLogProbs: ${targets.length} targets for ${R} rows of ${logits.describe()}`);
  for (let r = 0; r < R; r++) {
    const t = targets[r]!;
    if (!(t === -1 || (t >= 0 && t < V)))
      throw new Error(`gatherLogProbs: targets[${r}] = ${t} is outside [0, ${V}) and not -1 (masked)`);
  }
  const logp = new Float32Array(R);
  const lse = new Float32Array(R);
  kernels().logSoftmaxGather(logits.data, targets, R, V, logp, lse);
  return record(new Tensor(logp, [R]), [logits], (g) => {
    kernels().logSoftmaxGatherBackward(g, logits.data, targets, lse, R, V, gradOf(logits)!);
  });
}
