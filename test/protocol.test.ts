// The pre-registered protocol of `reproduce` (src/experiments/protocol.ts): the built-in ones, the seeded
// draw of behaviours, and a protocol file's keys, with one-line errors naming file and key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { protocolFor } from '../src/experiments/protocol.js';
import { PAPER_BEHAVIOURS } from '../src/experiments/behaviours.js';
import { personaBehaviours } from '../src/data/bundled.js';
import { DECISION_RULE } from '../src/analysis/decision-rule.js';
import { UserError } from '../src/util/errors.js';
import { tempDir } from './helpers/temp.js';

test('built-in protocols: the five plus a draw fixed by the draw seed, not by the run seed', () => {
  const quick = protocolFor('quick', 1234);
  const full = protocolFor('full', 5);
  assert.equal(quick.behaviours.length, 10);
  assert.equal(full.behaviours.length, 30);
  for (const p of [quick, full]) {
    assert.deepEqual(p.behaviours.slice(0, 5), [...PAPER_BEHAVIOURS]);
    assert.equal(new Set(p.behaviours).size, p.behaviours.length, 'no behaviour twice');
    for (const b of p.behaviours) assert.ok(personaBehaviours().includes(b), b);
  }
  assert.deepEqual(full.behaviours.slice(0, 10), quick.behaviours, 'the full draw extends the quick one');
  assert.deepEqual(protocolFor('quick', 99).behaviours, quick.behaviours);
  assert.deepEqual([quick.seeds, full.seeds], [[1234], [5, 6, 7]]);
  assert.deepEqual(quick.modes, ['last-layer', 'lora']);
  assert.deepEqual(quick.decision, DECISION_RULE);
  assert.deepEqual(quick.verdict, {
    mode: 'lora',
    predictor: 'delta',
    measures: ['final_test_loss', 'final_test_accuracy'],
  });
});

test('a protocol file replaces the keys it has; bad keys and values are one-line errors naming the file', () => {
  const dir = tempDir('prefdyn-protocol-');
  try {
    const file = path.join(dir, 'p.yaml');
    fs.writeFileSync(
      file,
      'random_behaviours: 2\ndraw_seed: 3\nseeds: [4, 5]\nmodes: [last-layer]\nmeasures: loss_area,final_test_loss\ndecision: {alpha: 0.01}\n',
    );
    const p = protocolFor('full', 1, file);
    assert.equal(p.source, file);
    assert.equal(p.behaviours.length, 7);
    assert.notDeepEqual(p.behaviours.slice(5), protocolFor('full', 1).behaviours.slice(5, 7), 'another draw seed');
    assert.deepEqual([p.seeds, p.modes, p.measures], [[4, 5], ['last-layer'], ['loss_area', 'final_test_loss']]);
    assert.deepEqual(p.decision, { ...DECISION_RULE, alpha: 0.01 });
    assert.deepEqual(p.verdict, { mode: 'last-layer', predictor: 'delta', measures: ['final_test_loss'] });
    assert.deepEqual(p.predictors, protocolFor('full', 1).predictors, 'missing keys keep the built-in values');
    // The verdict rests on the LoRA runs whatever the order the modes are listed in.
    fs.writeFileSync(file, 'modes: [lora, last-layer]\n');
    assert.equal(protocolFor('quick', 1, file).verdict.mode, 'lora');

    const cases: [string, string][] = [
      [
        'seed: 3\n',
        `${file}: unknown key "seed" (known: random_behaviours, draw_seed, seeds, modes, measures, predictors, decision)`,
      ],
      ['modes: [full]\n', `${file}: modes must be one of last-layer, lora, got "full"`],
      ['seeds: [1, 1]\n', `${file}: seeds must not repeat a seed, got [1,1]`],
      [
        'measures: [speed]\n',
        `${file}: measures must be one of steps_to_90_train, steps_to_90_test, loss_after_k, loss_area, final_test_loss, final_test_accuracy, initial_margin_slope, got "speed"`,
      ],
      ['decision: {alpha: 1}\n', `${file}: decision.alpha must be a number in (0, 1), got 1`],
      [
        'random_behaviours: 200\n',
        `${file}: random_behaviours must be an integer in [0, ${personaBehaviours().length - 5}], got 200`,
      ],
      ['- a\n', `config file ${file} must hold a mapping of option: value`],
    ];
    for (const [text, message] of cases) {
      fs.writeFileSync(file, text);
      assert.throws(
        () => protocolFor('quick', 1, file),
        (err: unknown) => err instanceof UserError && err.message === message,
        text,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
