// RoPE inverse frequencies of each rope_type against their closed forms (transformers' modeling_rope_utils),
// and the context length dynamic scaling allows. Tolerances: float32 rounding of a few operations (1e-6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inverseFrequencies } from '../src/tensor/ops/index.js';
import { ropeContextLength, ropeInverseFrequencies, type RopeConfig } from '../src/model/rope-scaling.js';
import { parseModelConfig } from '../src/model/config.js';
import { checkSequenceLength, truncationLimits } from '../src/model/context-length.js';

function closeRel(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const [a, e] = [actual[i]!, expected[i]!];
    assert.ok(Math.abs(a - e) <= tol * Math.abs(e), `${what}[${i}]: ${a} vs ${e}`);
  }
}

const plain = (theta: number, dim: number): number[] =>
  Array.from({ length: dim / 2 }, (_, i) => Math.pow(theta, (-2 * i) / dim));

test('rope default and linear: theta^(-2i/dim), divided by factor', () => {
  closeRel(inverseFrequencies(10000, 8), [1, 0.1, 0.01, 0.001], 1e-6, 'default');
  const linear: RopeConfig = { theta: 10000, scaling: { type: 'linear', factor: 4 } };
  closeRel(ropeInverseFrequencies(linear, 8, 64, 10), [0.25, 0.025, 0.0025, 0.00025], 1e-6, 'linear');
});

test('rope dynamic: default up to max_position_embeddings, then theta * (f T / max - (f - 1))^(dim / (dim - 2))', () => {
  const dynamic: RopeConfig = { theta: 10000, scaling: { type: 'dynamic', factor: 2 } };
  // At or below the original length: the default frequencies, computed the same way.
  assert.deepEqual(ropeInverseFrequencies(dynamic, 8, 16, 16), inverseFrequencies(10000, 8));
  // T = 24 past max 16: base = 10000 * (2 * 24 / 16 - 1)^(8 / 6) = 10000 * 2^(4/3).
  closeRel(ropeInverseFrequencies(dynamic, 8, 16, 24), plain(10000 * Math.pow(2, 4 / 3), 8), 1e-6, 'dynamic');
  assert.equal(ropeContextLength(dynamic, 16), 32);
  assert.equal(ropeContextLength({ theta: 1e4, scaling: { type: 'linear', factor: 4 } }, 16), 16);
});

test('rope llama3 (Llama 3.1 settings): low frequencies / factor, high kept, smooth blend between', () => {
  const s = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 };
  const rope: RopeConfig = { theta: 500000, scaling: { type: 'llama3', ...s } };
  const got = ropeInverseFrequencies(rope, 128, 131072, 10);
  const counts = { kept: 0, divided: 0, blended: 0 };
  const want = plain(500000, 128).map((w) => {
    const wavelen = (2 * Math.PI) / w;
    if (wavelen < 8192 / 4) return (counts.kept++, w);
    if (wavelen > 8192 / 1) return (counts.divided++, w / 8);
    counts.blended++;
    const smooth = (8192 / wavelen - 1) / (4 - 1);
    return ((1 - smooth) * w) / 8 + smooth * w;
  });
  closeRel(got, want, 1e-6, 'llama3');
  // 2 pi 500000^(i/64) < 2048 for i <= 28, > 8192 for i >= 35.
  assert.deepEqual(counts, { kept: 29, divided: 29, blended: 6 });
});

test('dynamic scaling: sequences run to factor x max_position_embeddings, not past it', () => {
  const cfg = parseModelConfig(
    {
      model_type: 'llama',
      hidden_size: 8,
      intermediate_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      vocab_size: 10,
      max_position_embeddings: 8,
      rope_scaling: { rope_type: 'dynamic', factor: 2 },
    },
    'c',
  );
  checkSequenceLength(cfg, 16);
  assert.throws(() => checkSequenceLength(cfg, 17), {
    message:
      "a sequence of 17 tokens exceeds the model's max_position_embeddings 8 x dynamic RoPE factor 2 = 16 (config.json); truncate the pairs with --max-length 16 or less",
  });
  assert.deepEqual(truncationLimits({}, cfg), { maxLength: 16 });
});
