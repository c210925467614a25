// `prefdyn logprobs` against PyTorch: summed response log-probs of the fixture pairs (tokenised by
// prefdyn, scored one unpadded sequence at a time by scripts/parity/make_fixtures.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { parityDir } from './helpers/parity.js';
import { loadModel } from '../src/model/load.js';
import { pairLogProbs, responseLogProbs } from '../src/model/logprobs.js';
import { tempDir } from './helpers/temp.js';

const pairsFile = path.join(parityDir, 'logprobs', 'pairs.jsonl');

function readJsonl(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

for (const name of ['llama-gqa-tied', 'gpt2']) {
  for (const batchSize of ['1', '4']) {
    test(`logprobs: prefdyn logprobs on ${name} (batch size ${batchSize}) equals the PyTorch reference`, () => {
      const out = path.join(tempDir('prefdyn-lp-'), 'lp.jsonl');
      const res = runCli([
        'logprobs',
        '--model',
        path.join(parityDir, name),
        '--data',
        pairsFile,
        '--out',
        out,
        '--batch-size',
        batchSize,
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, `wrote log-probs of 6 pairs (3 groups) to ${out}\n`);
      const got = readJsonl(out);
      const want = readJsonl(path.join(parityDir, 'logprobs', `reference-${name}.jsonl`));
      assert.equal(got.length, want.length);
      got.forEach((g, i) => {
        const w = want[i]!;
        assert.deepEqual(Object.keys(g), [
          'id',
          'group',
          'logp_chosen',
          'logp_rejected',
          'n_tokens_chosen',
          'n_tokens_rejected',
        ]);
        for (const k of ['id', 'group', 'n_tokens_chosen', 'n_tokens_rejected'])
          assert.equal(g[k], w[k], `${w.id} ${k}`);
        for (const k of ['logp_chosen', 'logp_rejected']) {
          const a = g[k] as number;
          const b = w[k] as number;
          assert.ok(Math.abs(a - b) <= 1e-4 * Math.abs(b), `${w.id} ${k}: ${a} vs ${b}`);
        }
      });
    });
  }
}

test('logprobs: the single-token path (one forward of the prompt) equals scoring prompt + answer', async () => {
  const model = await loadModel(path.join(parityDir, 'gpt2'));
  const pairs = [
    { prompt: [5, 6, 7, 8], chosen: [100], rejected: [200] },
    { prompt: [9, 10], chosen: [200], rejected: [100] },
  ];
  const fast = pairLogProbs(model, pairs, 8);
  const slow = responseLogProbs(
    model,
    pairs.flatMap((p) => [
      { prompt: p.prompt, response: p.chosen },
      { prompt: p.prompt, response: p.rejected },
    ]),
  ).data;
  fast.forEach((f, i) => {
    assert.ok(Math.abs(f.logpChosen - slow[2 * i]!) < 1e-5);
    assert.ok(Math.abs(f.logpRejected - slow[2 * i + 1]!) < 1e-5);
    assert.equal(f.nTokensChosen, 1);
  });
  assert.notEqual(fast[0]!.logpChosen, fast[0]!.logpRejected);
});

test('logprobs: pairs are batched by length but come back in input order, equal to scoring each alone', async () => {
  const model = await loadModel(path.join(parityDir, 'gpt2'));
  const seq = (from: number, n: number) => Array.from({ length: n }, (_, i) => (from + 7 * i) % 1000);
  // Lengths out of order, single-token and free-text pairs interleaved.
  const pairs = [
    { prompt: seq(1, 20), chosen: seq(50, 5), rejected: seq(60, 2) },
    { prompt: seq(2, 3), chosen: [100], rejected: [200] },
    { prompt: seq(3, 2), chosen: seq(70, 1), rejected: seq(80, 6) },
    { prompt: seq(4, 30), chosen: [300], rejected: [400] },
    { prompt: seq(5, 9), chosen: seq(90, 3), rejected: seq(95, 3) },
    { prompt: seq(6, 1), chosen: [500], rejected: [600] },
    { prompt: seq(7, 12), chosen: seq(40, 8), rejected: seq(30, 1) },
  ];
  const batched = pairLogProbs(model, pairs, 3);
  const alone = pairs.map((p) => pairLogProbs(model, [p], 1)[0]!);
  assert.equal(batched.length, pairs.length);
  batched.forEach((b, i) => {
    const a = alone[i]!;
    assert.equal(b.nTokensChosen, pairs[i]!.chosen.length);
    assert.equal(b.nTokensRejected, pairs[i]!.rejected.length);
    assert.ok(
      Math.abs(b.logpChosen - a.logpChosen) <= 1e-4 * Math.abs(a.logpChosen),
      `pair ${i} chosen: ${b.logpChosen} vs ${a.logpChosen}`,
    );
    assert.ok(
      Math.abs(b.logpRejected - a.logpRejected) <= 1e-4 * Math.abs(a.logpRejected),
      `pair ${i} rejected: ${b.logpRejected} vs ${a.logpRejected}`,
    );
  });
  // The pairs differ, so a permuted result could not pass.
  assert.equal(new Set(alone.map((a) => a.logpChosen.toFixed(4))).size, pairs.length);
});

test('logprobs: bad input exits non-zero with a message', () => {
  const noModel = runCli(['logprobs', '--data', pairsFile, '--out', 'x.jsonl']);
  assert.equal(noModel.code, 2);
  assert.equal(noModel.stderr, 'prefdyn: logprobs needs --model\n');
  const badBatch = runCli(['logprobs', '--model', 'm', '--data', pairsFile, '--out', 'x.jsonl', '--batch-size', '0']);
  assert.equal(badBatch.code, 1);
  assert.equal(badBatch.stderr, 'prefdyn: --batch-size must be an integer >= 1, got "0"\n');
  const tmp = tempDir('prefdyn-lp-bad-');
  const noConfig = runCli(['logprobs', '--model', tmp, '--data', pairsFile, '--out', path.join(tmp, 'x.jsonl')]);
  assert.equal(noConfig.code, 1);
  assert.equal(
    noConfig.stderr,
    `prefdyn: ${tmp}: no config.json (a model folder needs the Hugging Face config.json)\n`,
  );
  assert.equal(fs.existsSync(path.join(tmp, 'x.jsonl')), false);
});
