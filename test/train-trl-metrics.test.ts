// TRL's extra metric keys in metrics.jsonl: grad_norm (before clipping), learning_rate (the update's),
// logits/chosen and logits/rejected (vocabulary-mean logits pooled over response tokens).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tempDir } from './helpers/temp.js';
import { linearRun } from './helpers/linear-policy.js';
import { Rng } from '../src/util/rng.js';
import { lastLayerPolicy, singleTokenFeatures, type ResponseFeatures } from '../src/train/last-layer.js';
import { lrFactor } from '../src/train/schedules.js';
import { noGrad } from '../src/tensor/autograd.js';
import { loadModel } from '../src/model/load.js';
import { nextTokenLogProbs, responseLogProbs } from '../src/model/logprobs.js';
import { parityDir } from './helpers/parity.js';

test('train lines log grad_norm before clipping, the scheduled learning_rate and token-pooled logits/*', async () => {
  const steps = 5;
  const { policy, lines } = await linearRun(tempDir('prefdyn-trl-'), steps);
  assert.equal(lines.length, steps * 3);
  assert.equal(policy.norms.length, steps);
  for (const line of lines) {
    const k = line.step as number;
    assert.equal(line.learning_rate, 0.1 * lrFactor({ name: 'linear', warmupSteps: 2, totalSteps: steps }, k));
    assert.equal(line.grad_norm, policy.norms[k]);
    assert.ok((line.grad_norm as number) > 0.01, 'the norm before clipping');
    // pooled: group a = pairs 0,1: (0 + 1) / (1 + 2); b = pairs 2..5: (2+3+4+5) / (3+4+5+6); all: 15 / 21
    const [c, t] = line.group === 'a' ? [1, 3] : line.group === 'b' ? [14, 18] : [15, 21];
    assert.equal(line['logits/chosen'], c / t, `${line.group}`);
    assert.equal(line['logits/rejected'], (2 * c) / t, `${line.group}`);
  }
  assert.deepEqual(
    lines.filter((l) => l.group === 'all').map((l) => l.learning_rate),
    // warm-up k/2, then linear decay (5 - k)/(5 - 2), as transformers' get_linear_schedule_with_warmup
    [0, 0.1 * (1 / 2), 0.1, 0.1 * (2 / 3), 0.1 * (1 / 3)],
  );
});

/** Vocabulary-mean logit of W [V, d] at hidden state h [d], in float64. */
function meanLogit(w: Float32Array, V: number, d: number, h: Float32Array, at: number): number {
  let s = 0;
  for (let v = 0; v < V; v++) for (let j = 0; j < d; j++) s += w[v * d + j]! * h[at * d + j]!;
  return s / V;
}

for (const [name, weightDecay, twoTokens] of [
  ['single-token answer rows (sparse)', 0, false],
  ['single-token answer rows (dense)', 0.1, false],
  ['token positions (two-token answers)', 0, true],
] as const) {
  test(`last-layer ${name}: logit sums are the vocabulary-mean logits W h / V`, () => {
    const V = 9;
    const d = 4;
    const n = 3;
    const rng = new Rng(3);
    const w0 = Float32Array.from({ length: V * d }, () => rng.normal());
    const g = Float32Array.from({ length: 2 * n * d }, () => rng.normal());
    let features: ResponseFeatures = singleTokenFeatures(
      g.subarray(0, n * d),
      d,
      Int32Array.of(1, 2, 1),
      Int32Array.of(5, 5, 7),
    );
    if (twoTokens) {
      // response j of pair i: rows 2i, 2i+1 (chosen) and 2i+1, 2i (rejected)
      const offsets = Int32Array.of(0, 2, 4, 6);
      features = {
        d,
        hidden: g,
        chosen: { offsets, rows: Int32Array.of(0, 1, 2, 3, 4, 5), targets: Int32Array.of(1, 2, 3, 4, 5, 6) },
        rejected: { offsets, rows: Int32Array.of(1, 0, 3, 2, 5, 4), targets: Int32Array.of(6, 5, 4, 3, 2, 1) },
      };
    }
    const policy = lastLayerPolicy({ w0, vocabSize: V, features, weightDecay, description: 't', save: async () => {} });
    const out = policy.logps([0, 1, 2], false, new Rng(0));
    for (let i = 0; i < n; i++) {
      for (const side of ['chosen', 'rejected'] as const) {
        const f = features[side];
        let want = 0;
        for (let e = f.offsets[i]!; e < f.offsets[i + 1]!; e++) want += meanLogit(w0, V, d, g, f.rows[e]!);
        const got = out.logitSums[side][i]!;
        // float32 dot products of length d, V of them: a few ulps of the largest |term| sum
        assert.ok(Math.abs(got - want) <= 1e-5 * (1 + Math.abs(want)), `${side} ${i}: ${got} vs ${want}`);
        assert.equal(out.tokens[side][i], f.offsets[i + 1]! - f.offsets[i]!);
      }
    }
  });
}

test('model policies: the logit sums of responseLogProbs and nextTokenLogProbs are mean logits of the full forward', async () => {
  const model = await loadModel(path.join(parityDir, 'llama-gqa-tied'));
  const items = [
    { prompt: [1, 5, 7], response: [9, 3] },
    { prompt: [2], response: [4, 4, 6] },
  ];
  const T = 4; // longest sequence
  const ids = new Int32Array(2 * T);
  items.forEach((it, b) => ids.set([...it.prompt, ...it.response], b * T));
  noGrad(() => {
    const full = model.forward(ids, 2, T, { logits: 'all' }).logits!; // [2,T,V]
    const V = full.shape[2]!;
    const rowMean = (b: number, t: number) => {
      let s = 0;
      for (let v = 0; v < V; v++) s += full.data[(b * T + t) * V + v]!;
      return s / V;
    };
    const sums = new Float64Array(2);
    responseLogProbs(model, items, {}, sums);
    items.forEach((it, b) => {
      let want = 0;
      for (let j = 0; j < it.response.length; j++) want += rowMean(b, it.prompt.length - 1 + j);
      assert.ok(Math.abs(sums[b]! - want) <= 1e-5 * (1 + Math.abs(want)), `sequence ${b}: ${sums[b]} vs ${want}`);
    });
    const last = new Float64Array(2);
    nextTokenLogProbs(
      model,
      [
        [1, 5, 7, 9],
        [2, 4],
      ],
      [Int32Array.of(3, 6)],
      {},
      last,
    );
    for (const [b, t] of [
      [0, 3],
      [1, 1],
    ] as const)
      assert.ok(Math.abs(last[b]! - rowMean(b, t)) <= 1e-5 * (1 + Math.abs(rowMean(b, t))), `prompt ${b}`);
  });
});
