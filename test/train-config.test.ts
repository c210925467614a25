import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readConfigFile, resolveConfig } from '../src/train/config.js';
import { tempDir } from './helpers/temp.js';

const dir = tempDir('prefdyn-cfg-');

test('YAML file values, command-line overrides, and mode/data-dependent paper defaults', () => {
  const file = path.join(dir, 'run.yaml');
  fs.writeFileSync(
    file,
    'model: models/tiny\ndata: persona:agreeableness\nmode: lora\nlr: 2e-5\nlora-targets: [q_proj, k_proj]\nout: runs/a\n',
  );
  const { config, sources } = resolveConfig({ path: file, values: readConfigFile(file) }, { lr: '3e-5', steps: '7' });
  assert.equal(config.lr, 3e-5);
  assert.equal(sources.lr, 'command line');
  assert.deepEqual(config.lora_targets, ['q_proj', 'k_proj']);
  assert.equal(sources.lora_targets, 'file');
  assert.equal(config.beta, 0.01, "persona sources default to the paper's beta");
  assert.equal(config.ref_model, 'models/tiny');
  assert.equal(config.optimizer, 'adamw');
  assert.equal(config.gradient_accumulation_steps * config.batch_size, 128);
  const ll = resolveConfig(undefined, { model: 'm', data: 'pairs.jsonl', out: 'o', mode: 'last-layer' }).config;
  assert.deepEqual(
    [ll.beta, ll.optimizer, ll.lr, ll.steps, ll.batch_size, ll.max_grad_norm],
    [0.1, 'sgd', 0.1, 100, 128, 0],
  );
});

test('config errors name the option and where it came from', () => {
  const file = path.join(dir, 'bad.json');
  fs.writeFileSync(file, '{"model": "m", "learning_rate": 1}');
  assert.throws(() => resolveConfig({ path: file, values: readConfigFile(file) }, {}), {
    message: /^.*bad\.json: unknown option "learning_rate"; known: model, ref_model, /,
  });
  assert.throws(() => resolveConfig(undefined, { model: 'm', data: 'd', out: 'o', lr: 'fast' }), {
    message: '--lr must be a number > 0, got "fast"',
  });
  assert.throws(() => resolveConfig(undefined, { model: 'm', out: 'o' }), {
    message: '--data is required (on the command line or in the config file)',
  });
  assert.throws(
    () => resolveConfig(undefined, { model: 'm', data: 'd', out: 'o', objective: 'ipo', label_smoothing: '0.1' }),
    { message: '--label-smoothing applies to the dpo and robust objectives only, got 0.1 with --objective ipo' },
  );
  assert.throws(
    () => resolveConfig(undefined, { model: 'm', data: 'd', out: 'o', objective: 'robust', label_smoothing: '0' }),
    {
      message:
        '--objective robust is conservative DPO and needs --label-smoothing > 0 (default 0.1), got 0 (command line); for plain DPO use --objective dpo',
    },
  );
  fs.writeFileSync(file, 'model: [unclosed');
  assert.throws(() => readConfigFile(file), { message: /bad\.json is not valid JSON/ });
});

test('robust is conservative DPO with label smoothing 0.1 by default; dpo keeps label smoothing as given (default 0)', () => {
  const robust = resolveConfig(undefined, { model: 'm', data: 'd', out: 'o', objective: 'robust' });
  assert.equal(robust.config.label_smoothing, 0.1);
  assert.equal(robust.sources.label_smoothing, 'default');
  assert.equal(
    resolveConfig(undefined, { model: 'm', data: 'd', out: 'o', objective: 'robust', label_smoothing: '0.2' }).config
      .label_smoothing,
    0.2,
  );
  assert.equal(resolveConfig(undefined, { model: 'm', data: 'd', out: 'o' }).config.label_smoothing, 0);
  assert.equal(
    resolveConfig(undefined, { model: 'm', data: 'd', out: 'o', label_smoothing: '0.3' }).config.label_smoothing,
    0.3,
  );
  const file = path.join(dir, 'robust0.yaml');
  fs.writeFileSync(file, 'objective: robust\nlabel_smoothing: 0\n');
  assert.throws(
    () => resolveConfig({ path: file, values: readConfigFile(file) }, { model: 'm', data: 'd', out: 'o' }),
    {
      message: `--objective robust is conservative DPO and needs --label-smoothing > 0 (default 0.1), got 0 (${file}); for plain DPO use --objective dpo`,
    },
  );
});
