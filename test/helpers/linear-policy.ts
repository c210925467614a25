// A two-weight policy with known gradients and logit sums, and a short run of the real trainer over it.
import fs from 'node:fs';
import path from 'node:path';
import { resolveConfig } from '../../src/train/config.js';
import { globalGradNorm, type TrainParam } from '../../src/train/gradients.js';
import type { Policy } from '../../src/train/policy.js';
import { train } from '../../src/train/trainer.js';

export const N = 6;
const x = (i: number) => 1 + i / 10;

/**
 * Two weights: pc_i = a x_i, pr_i = b x_i. Response i has i + 1 tokens with logit sum i (chosen) and
 * 2i (rejected). After each backward it records the global gradient norm, which with one micro-batch
 * per update is the gradient the trainer clips.
 */
export function linearPolicy(): Policy & { norms: number[] } {
  const a: TrainParam = { name: 'a', data: Float32Array.of(0.5), grad: new Float32Array(1) };
  const b: TrainParam = { name: 'b', data: Float32Array.of(-0.25), grad: new Float32Array(1) };
  const norms: number[] = [];
  return {
    params: [a, b],
    description: 'linear',
    norms,
    logps: (indices) => ({
      chosen: Float64Array.from(indices, (i) => a.data[0]! * x(i)),
      rejected: Float64Array.from(indices, (i) => b.data[0]! * x(i)),
      logitSums: { chosen: Float64Array.from(indices, (i) => i), rejected: Float64Array.from(indices, (i) => 2 * i) },
      tokens: { chosen: Int32Array.from(indices, (i) => i + 1), rejected: Int32Array.from(indices, (i) => i + 1) },
    }),
    backward(dC, dR) {
      // indices of the batch are 0..N-1 in order (no shuffle, one batch of all pairs)
      dC.forEach((d, i) => (a.grad[0]! += d * x(i)));
      dR.forEach((d, i) => (b.grad[0]! += d * x(i)));
      norms.push(globalGradNorm([a, b]));
    },
    weightNorms: () => ({}),
    save: async () => undefined,
  };
}

/**
 * `steps` updates of the real trainer over linearPolicy: SGD, lr 0.1 with 2 warm-up steps then linear
 * decay, gradient clipped at 0.01, groups "a" (pairs 0, 1) and "b" (2..5), all pairs in one batch, no
 * test split; `options` adds or overrides config values. Returns the policy and metrics.jsonl's lines.
 */
export async function linearRun(
  runDir: string,
  steps: number,
  options: Record<string, unknown> = {},
): Promise<{ policy: ReturnType<typeof linearPolicy>; lines: Record<string, number | string>[] }> {
  const policy = linearPolicy();
  const { config } = resolveConfig(undefined, {
    model: 'm',
    data: 'x.jsonl',
    out: runDir,
    mode: 'last-layer',
    optimizer: 'sgd',
    lr: '0.1',
    lr_scheduler: 'linear',
    warmup_steps: '2',
    max_grad_norm: '0.01',
    steps: String(steps),
    batch_size: String(N),
    no_shuffle: true,
    ...options,
  });
  const all = Array.from({ length: N }, (_, i) => i);
  const zeros = new Float64Array(N);
  await train({
    config,
    runDir,
    policy,
    data: {
      groups: all.map((i) => (i < 2 ? 'a' : 'b')),
      train: all,
      test: [],
      refChosen: zeros,
      refRejected: zeros,
      startsAtReference: false,
    },
  });
  const lines = fs
    .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string>);
  return { policy, lines };
}
