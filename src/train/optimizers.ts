// Optimizers with PyTorch semantics over TrainParams. AdamW runs the fused `adamw` kernel;
// SGD is torch.optim.SGD (coupled weight decay g += wd p; momentum buffer b = g on the first step,
// then b = mu b + g; no dampening, no Nesterov). State is plain named Float32Arrays plus the
// update count, so checkpoints restore it bit for bit.
import { kernels } from '../tensor/kernels/index.js';
import type { TrainParam } from './gradients.js';

export const OPTIMIZERS = ['adamw', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface OptimizerParams {
  name: OptimizerName;
  weightDecay: number;
  /** SGD only. */
  momentum: number;
  /** AdamW only (PyTorch defaults 0.9, 0.999, 1e-8). */
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
}

/** Optimizer state: buffers named "<param>/<buffer>" and the number of updates taken. */
export interface OptimizerState {
  step: number;
  buffers: Map<string, Float32Array>;
}

export interface Optimizer {
  readonly state: OptimizerState;
  /** One update of every parameter with learning rate `lr` (the schedule already applied). */
  update(params: TrainParam[], lr: number): void;
}

function buffer(state: OptimizerState, name: string, n: number): Float32Array {
  let b = state.buffers.get(name);
  if (!b) state.buffers.set(name, (b = new Float32Array(n)));
  if (b.length !== n) throw new Error(`optimizer state "${name}" has ${b.length} values, the parameter has ${n}`);
  return b;
}

export function createOptimizer(
  p: OptimizerParams,
  state: OptimizerState = { step: 0, buffers: new Map() },
): Optimizer {
  if (p.name === 'adamw') {
    return {
      state,
      update(params, lr) {
        state.step += 1;
        const k = kernels();
        for (const q of params) {
          const n = q.data.length;
          k.adamw(
            q.data,
            q.grad,
            buffer(state, `${q.name}/exp_avg`, n),
            buffer(state, `${q.name}/exp_avg_sq`, n),
            n,
            lr,
            p.adamBeta1,
            p.adamBeta2,
            p.adamEpsilon,
            p.weightDecay,
            state.step,
          );
        }
      },
    };
  }
  return {
    state,
    update(params, lr) {
      const first = state.step === 0;
      state.step += 1;
      for (const q of params) {
        const w = q.data;
        const g = q.grad;
        const buf = p.momentum > 0 ? buffer(state, `${q.name}/momentum_buffer`, w.length) : undefined;
        for (let i = 0; i < w.length; i++) {
          let d = g[i]! + p.weightDecay * w[i]!;
          if (buf) d = buf[i] = first ? d : p.momentum * buf[i]! + d;
          w[i] = w[i]! - lr * d;
        }
      }
    },
  };
}
