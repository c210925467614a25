// One option parser and one rule for exit codes: a usage mistake (unknown option, missing option,
// wrong number of arguments) exits 2; a bad value exits 1 with `--name must be <what>, got "<value>"`
// in every command that takes the option; negative numbers are values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers/cli.js';
import { commands } from '../src/cli/registry.js';
import { parseCommandArgs } from '../src/cli/run.js';
import { command as trainCommand } from '../src/cli/train.js';
import { describeRule, parseChoice, parseList, parseNumber, POSITIVE_INTEGER } from '../src/util/option-value.js';

// Each command with what it needs before it reads the option under test (files need not exist:
// values are checked before any input is read).
const seedCommands: string[][] = [
  ['analyze', '--embeddings', 'e'],
  ['compare', '--analysis', 'a.json', '--run', 'r'],
  ['data', 'export', 'persona', '--out', 'x.jsonl'],
  ['model', 'init', '--arch', 'llama', '--out', 'm'],
  ['pretrain', '--model', 'm', '--text', 'persona', '--out', 'o'],
  ['reproduce', '--model', 'm'],
  ['train', '--model', 'm', '--data', 'persona', '--out', 'o'],
];

test('the same bad value exits 1 with the same message in every command that takes it', () => {
  for (const args of seedCommands) {
    for (const bad of ['x', '-1', '1.5', '']) {
      const r = runCli([...args, '--seed', bad]);
      assert.deepEqual(
        [r.code, r.stderr],
        [1, `prefdyn: --seed must be an integer >= 0, got "${bad}"\n`],
        `${args[0]} --seed ${bad}`,
      );
    }
  }
  const batch: string[][] = [
    ['analyze', '--model', 'm', '--data', 'persona'],
    ['embed', '--model', 'm', '--data', 'persona', '--out', 'e'],
    ['logprobs', '--model', 'm', '--data', 'persona', '--out', 'l.jsonl'],
    ['pretrain', '--model', 'm', '--text', 'persona', '--out', 'o'],
    ['train', '--model', 'm', '--data', 'persona', '--out', 'o'],
  ];
  for (const args of batch) {
    const r = runCli([...args, '--batch-size', '0']);
    assert.deepEqual([r.code, r.stderr], [1, 'prefdyn: --batch-size must be an integer >= 1, got "0"\n'], args[0]);
  }
});

test('a negative number is a value: --lr -1 is refused by the check, --seed -0 accepted by it', () => {
  for (const args of [seedCommands[4]!, seedCommands[6]!]) {
    for (const form of [['--lr', '-1'], ['--lr=-1']]) {
      const r = runCli([...args, ...form]);
      assert.deepEqual([r.code, r.stderr], [1, 'prefdyn: --lr must be a number > 0, got "-1"\n'], form.join(' '));
    }
  }
  assert.equal(parseCommandArgs(trainCommand, ['--seed', '-0', '--lr', '-.5e-3']).values.lr, '-.5e-3');
  // Not a number: still parseArgs' usage error, which names the way to pass it.
  const r = runCli([...seedCommands[6]!, '--lr', '-fast']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^prefdyn: Option '--lr' argument is ambiguous\./);
});

test('an unknown option exits 2 in every command', () => {
  for (const entry of commands) {
    const r = runCli([...entry.name.split(' '), '--no-such-option']);
    assert.equal(r.code, 2, entry.name);
    assert.match(r.stderr, /^prefdyn: Unknown option '--no-such-option'/, entry.name);
  }
});

test('a missing required option exits 2, a bad choice 1', () => {
  const missing = runCli(['train', '--model', 'm', '--out', 'o']);
  assert.deepEqual(
    [missing.code, missing.stderr],
    [2, 'prefdyn: --data is required (on the command line or in the config file)\n'],
  );
  const noArch = runCli(['model', 'init', '--out', 'm']);
  assert.deepEqual(
    [noArch.code, noArch.stderr],
    [2, 'prefdyn: model init needs --arch (one of llama, mistral, qwen2, qwen3, gpt2)\n'],
  );
  const badArch = runCli(['model', 'init', '--arch', 'gpt3', '--out', 'm']);
  assert.deepEqual(
    [badArch.code, badArch.stderr],
    [1, 'prefdyn: --arch must be one of llama, mistral, qwen2, qwen3, gpt2, got "gpt3"\n'],
  );
  // GPT-NeoX and Gemma models are read, not created
  const readOnly = runCli(['model', 'init', '--arch', 'gemma2', '--out', 'm']);
  assert.deepEqual(
    [readOnly.code, readOnly.stderr],
    [1, 'prefdyn: --arch must be one of llama, mistral, qwen2, qwen3, gpt2, got "gemma2"\n'],
  );
  const position = runCli(['embed', '--model', 'm', '--data', 'persona', '--out', 'e', '--position', 'middle']);
  assert.deepEqual(
    [position.code, position.stderr],
    [1, 'prefdyn: --position must be one of auto, question, newline, response, prompt, got "middle"\n'],
  );
});

test('number rules: decimal text only, bounds in words, config-file numbers as they are', () => {
  assert.equal(parseNumber('--x', ' 2.5e1 '), 25);
  assert.equal(parseNumber('--x', -3), -3);
  for (const bad of ['0x10', 'Infinity', '', ' ', '1e400', 'NaN', '1,5'])
    assert.throws(() => parseNumber('--x', bad), { message: `--x must be a number, got ${JSON.stringify(bad)}` });
  assert.throws(() => parseNumber('f.yaml: --x', 2.5, POSITIVE_INTEGER), {
    message: 'f.yaml: --x must be an integer >= 1, got 2.5',
  });
  assert.throws(() => parseNumber('--x', '9007199254740993', POSITIVE_INTEGER), {
    message: '--x must be an integer >= 1, got "9007199254740993"',
  });
  assert.deepEqual(
    [{ gt: 0 }, { min: 0, lt: 1 }, { gt: 0, max: 1 }, { integer: true, max: 3 }, { lt: 2 }].map(describeRule),
    ['a number > 0', 'a number in [0, 1)', 'a number in (0, 1]', 'an integer <= 3', 'a number < 2'],
  );
  assert.throws(() => parseChoice('--c', 'b', ['a']), { message: '--c must be one of a, got "b"' });
  assert.deepEqual(parseList('--l', ' a, ,b '), ['a', 'b']);
  assert.throws(() => parseList('--l', ' , '), { message: '--l must be a comma-separated list, got " , "' });
});

test('train --help shows every default as defaults() computes it, per mode, source and objective', () => {
  const help = runCli(['train', '--help']).stdout;
  const line = (name: string) => help.split('\n').find((l) => l.startsWith(`  --${name} `));
  assert.match(line('lr')!, /learning rate \(default 1e-6 for full; 1e-5 for lora; 0\.1 for last-layer\)$/);
  assert.match(line('beta')!, /\(default 0\.01 for persona sources; 0\.1 for other sources; paper for persona, TRL/);
  assert.match(line('label-smoothing')!, /\(default 0\.1 for robust; 0 for the other objectives\)$/);
  assert.match(line('mode')!, /\(default full\)$/);
  assert.match(
    line('lora-targets')!,
    /PEFT's for the model's family \(gpt2: c_attn, gpt_neox: query_key_value\) \(default q_proj,v_proj; paper, llama, gemma\)$/,
  );
  assert.match(line('seed')!, /\(default 1234\)$/);
  assert.doesNotMatch(line('flip')!, /default/);
});
