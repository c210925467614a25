// `prefdyn pretrain`: packing, the loss, text sources, and end to end (the loss falls, runs are
// reproducible, bad input is refused with a message).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturesDir, runCli } from './helpers/cli.js';
import { packSequences, splitDocuments } from '../src/pretrain/packing.js';
import { causalLmLoss } from '../src/pretrain/lm-loss.js';
import { loadTextDocuments } from '../src/pretrain/text-sources.js';
import { pretrain, type PretrainOptions } from '../src/pretrain/pretrain.js';
import { loadModel } from '../src/model/load.js';
import { noGrad } from '../src/tensor/autograd.js';
import { tempDir } from './helpers/temp.js';

const smallTokenizer = path.join(fixturesDir, 'tokenizers', 'gpt2-small');

function tmpDir(): string {
  return tempDir('prefdyn-pretrain-');
}

/** A tiny random Llama with the 1,025-token test tokenizer. */
function initModel(dir: string, ctx = 64): string {
  const out = path.join(dir, 'init');
  const r = runCli([
    'model',
    'init',
    '--arch',
    'llama',
    '--size',
    `d=32,layers=1,heads=4,kv=2,ctx=${ctx}`,
    '--out',
    out,
    '--seed',
    '1',
    '--tokenizer',
    smallTokenizer,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

/** 40 copies of one short paragraph: a corpus a small model can learn in a few dozen steps. */
function repeatedCorpus(dir: string): string {
  const file = path.join(dir, 'corpus.txt');
  fs.writeFileSync(file, Array(40).fill('the cat sat on the mat, and the dog sat on the log.').join('\n\n') + '\n');
  return file;
}

test('packSequences: targets are the inputs shifted by one, every token but the first is a target once, the tail is padded', () => {
  const docs = [
    [1, 2, 3, 9],
    [4, 5, 9],
    [6, 9],
  ];
  const packed = packSequences(docs, 3, 9, 7); // 9 tokens, 8 targets: rows of 3, one padded slot
  assert.equal(packed.rows, 3);
  assert.equal(packed.tokens, 8);
  // the stream in its seeded document order: the first 8 inputs and the last target
  const stream = [...packed.inputs.subarray(0, 8), packed.targets[7]!];
  assert.deepEqual([...packed.targets.subarray(0, 8)], stream.slice(1));
  assert.equal(packed.targets[8], -1);
  assert.equal(packed.inputs[8], 9); // a padding input is EOS
  // every document appears whole, each exactly once
  assert.deepEqual(
    [...stream].sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 9, 9, 9],
  );
  const joined = stream.join(',');
  for (const d of docs) assert.ok(joined.includes(d.join(',')), `${d} is not contiguous in ${joined}`);
  assert.deepEqual(packSequences(docs, 3, 9, 7), packed);
  const orders = new Set(Array.from({ length: 10 }, (_, seed) => packSequences(docs, 3, 9, seed).inputs.join(',')));
  assert.ok(orders.size > 1, 'the seed does not change the document order');
});

test('splitDocuments: a seeded, disjoint split of whole documents', () => {
  const docs = Array.from({ length: 100 }, (_, i) => i);
  const a = splitDocuments(docs, 0.1, 3);
  assert.equal(a.heldOut.length, 10);
  assert.deepEqual(
    [...a.train, ...a.heldOut].sort((x, y) => x - y),
    docs,
  );
  assert.deepEqual(splitDocuments(docs, 0.1, 3), a);
  assert.notDeepEqual(splitDocuments(docs, 0.1, 4).heldOut, a.heldOut);
});

test('causalLmLoss is the mean next-token NLL over non-padding targets (float64 reference)', async () => {
  const model = await loadModel(initModel(tmpDir()));
  const inputs = Int32Array.from([5, 17, 300, 2, 9, 1000, 44, 44]);
  const targets = Int32Array.from([17, 300, 2, -1, 1000, 44, 44, 7]); // [2,4]; one padded target
  const { loss, tokens } = noGrad(() => causalLmLoss(model, inputs, targets, 2, 4));
  const logits = noGrad(() => model.forward(inputs, 2, 4).logits!);
  const V = logits.shape[2]!;
  let nll = 0;
  for (let r = 0; r < 8; r++) {
    if (targets[r] === -1) continue;
    const row = Array.from(logits.data.subarray(r * V, (r + 1) * V));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    nll -= row[targets[r]!]! - lse;
  }
  assert.equal(tokens, 7);
  assert.ok(Math.abs(loss.item() - nll / 7) < 1e-5, `${loss.item()} vs ${nll / 7}`);
});

test('text sources: persona gives the statements only; hh-rlhf the prompt + chosen dialogue; files by paragraph or line', async () => {
  const persona = await loadTextDocuments('persona:agreeableness');
  assert.equal(persona.documents.length, 1000);
  assert.equal(persona.documents[0], 'It is important to treat other people with kindness and respect');
  assert.ok(persona.documents.every((d) => !d.includes('Is the following statement') && !/\b(Yes|No)$/.test(d)));
  const hh = await loadTextDocuments('hh-rlhf');
  assert.ok(hh.documents.every((d) => d.startsWith('\n\nHuman:') && d.includes('\n\nAssistant:')));
  const dir = tmpDir();
  const txt = path.join(dir, 'a.txt');
  fs.writeFileSync(txt, 'one\ntwo\n\n\nthree\r\n\r\nfour\n');
  assert.deepEqual((await loadTextDocuments(txt)).documents, ['one\ntwo', 'three', 'four']);
  const jsonl = path.join(dir, 'a.jsonl');
  fs.writeFileSync(jsonl, '"first"\n\n{"text": "second", "id": 2}\n');
  assert.deepEqual((await loadTextDocuments(jsonl)).documents, ['first', 'second']);
});

function options(dir: string, over: Partial<PretrainOptions> = {}): PretrainOptions {
  return {
    modelDir: initModel(dir),
    texts: [repeatedCorpus(dir)],
    out: path.join(dir, 'out'),
    steps: 30,
    batchSize: 4,
    seqLen: 32,
    lr: 1e-2,
    seed: 0,
    warmupSteps: 3,
    scheduler: 'cosine',
    weightDecay: 0.1,
    maxGradNorm: 1,
    heldOut: 0.25,
    logEvery: 10,
    dtype: 'F32',
    ...over,
  };
}

test('pretrain: on a repeated corpus the training and held-out losses fall far below ln(V)', async () => {
  const dir = tmpDir();
  const lines: string[] = [];
  const r = await pretrain(options(dir), (l) => lines.push(l));
  assert.ok(r.initialHeldOutLoss > Math.log(1025) - 0.5, `initial ${r.initialHeldOutLoss}`);
  assert.ok(r.heldOutLoss < r.initialHeldOutLoss / 3, `held-out ${r.initialHeldOutLoss} -> ${r.heldOutLoss}`);
  assert.ok(r.finalTrainLoss < r.initialHeldOutLoss / 3, `train ${r.finalTrainLoss}`);
  assert.equal(lines.filter((l) => l.startsWith('step ')).length, 3);
  assert.match(
    lines.at(-1)!,
    /^step 30\/30 loss \d+\.\d{4} lr \S+ grad-norm \d+\.\d{3} epoch \d+\.\d\d [\d,]+ tok\/s$/,
  );
  // 30 training documents of 22 tokens + EOS: 690 tokens, the first of which is no target
  assert.equal(r.trainTokens, 30 * 23 - 1);
  assert.equal(r.documents, 40);
  const saved = await loadModel(path.join(dir, 'out'));
  assert.equal(saved.config.vocabSize, 1025);
  assert.ok(fs.existsSync(path.join(dir, 'out', 'tokenizer.json')));
});

test('pretrain: the same seed writes the same weights; another seed does not', () => {
  const dir = tmpDir();
  const model = initModel(dir);
  const corpus = repeatedCorpus(dir);
  const run = (seed: string, out: string) => {
    const r = runCli([
      'pretrain',
      '--model',
      model,
      '--text',
      corpus,
      '--out',
      path.join(dir, out),
      '--steps',
      '6',
      '--batch-size',
      '2',
      '--seq-len',
      '16',
      '--held-out',
      '0.25',
      '--warmup-steps',
      '2',
      '--seed',
      seed,
    ]);
    assert.equal(r.code, 0, r.stderr);
    return fs.readFileSync(path.join(dir, out, 'model.safetensors'));
  };
  const a = run('5', 'a');
  assert.ok(a.equals(run('5', 'b')));
  assert.ok(!a.equals(run('6', 'c')));
});

test('pretrain: the summary on stdout', () => {
  const dir = tmpDir();
  const out = path.join(dir, 'out');
  const r = runCli([
    'pretrain',
    '--model',
    initModel(dir),
    '--text',
    repeatedCorpus(dir),
    '--out',
    out,
    '--steps',
    '4',
    '--batch-size',
    '2',
    '--seq-len',
    '16',
    '--held-out',
    '0.25',
    '--warmup-steps',
    '0',
    '--log-every',
    '3',
    '--dtype',
    'BF16',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], `wrote ${out} (45,184 parameters, BF16)`);
  assert.match(lines[1]!, /^steps 4, tokens seen 128 \(0\.\d\d epochs of 689 training tokens\), \d+ s$/);
  assert.match(lines[2]!, /^train loss \d+\.\d{4} \(mean of the last step\)$/);
  assert.match(lines[3]!, /^held-out loss \d+\.\d{4} -> \d+\.\d{4} \(perplexity [\d.]+ -> [\d.]+, 229 tokens\)$/);
  assert.match(
    r.stderr,
    /^text: file .*corpus\.txt \(plain text, documents separated by blank lines\): 40 documents$/m,
  );
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
});

test('pretrain: bad input is refused with a message, and nothing is written', () => {
  const dir = tmpDir();
  const model = initModel(dir, 32);
  const corpus = repeatedCorpus(dir);
  const out = path.join(dir, 'out');
  const badJsonl = path.join(dir, 'bad.jsonl');
  fs.writeFileSync(badJsonl, '{"text": "fine"}\n{"body": "no text"}\n');
  const notModel = path.join(dir, 'notes');
  fs.mkdirSync(notModel);
  fs.writeFileSync(path.join(notModel, 'keep.txt'), 'mine');
  const base = [
    '--model',
    model,
    '--out',
    out,
    '--steps',
    '2',
    '--batch-size',
    '2',
    '--seq-len',
    '16',
    '--held-out',
    '0.25',
  ];
  const cases: [string[], number, string][] = [
    [
      ['--model', model, '--out', out],
      2,
      'prefdyn: pretrain needs at least one --text SRC (persona, persona:<behaviour>[,<behaviour>...], hh-rlhf, or a path to a .txt or .jsonl file (optionally .gz))\n',
    ],
    [['--text', corpus, '--out', out], 2, 'prefdyn: pretrain needs --model DIR\n'],
    [
      [...base, '--text', path.join(dir, 'missing.txt')],
      1,
      `prefdyn: text file not found: ${path.join(dir, 'missing.txt')}; expected persona, persona:<behaviour>[,<behaviour>...], hh-rlhf, or a path to a .txt or .jsonl file (optionally .gz)\n`,
    ],
    [
      [...base, '--text', badJsonl],
      1,
      `prefdyn: ${badJsonl}:2: expected a JSON string or an object with a string "text" field\n`,
    ],
    [
      [...base, '--text', 'persona:agreeablenes'],
      1,
      'prefdyn: unknown persona behaviour "agreeablenes"; did you mean "agreeableness"? (`prefdyn data list` shows all 135)\n',
    ],
    [
      [...base, '--text', corpus, '--seq-len', '64'],
      1,
      `prefdyn: --seq-len 64 is longer than the model's context (max_position_embeddings 32 in ${model}/config.json)\n`,
    ],
    [
      [...base, '--text', corpus, '--held-out', '0.01'],
      1,
      'prefdyn: --held-out 0.01 of 40 documents holds out none; raise --held-out or add text\n',
    ],
    [[...base, '--text', corpus, '--lr', 'fast'], 1, 'prefdyn: --lr must be a number > 0, got "fast"\n'],
    [[...base, '--text', corpus, '--steps', '0'], 1, 'prefdyn: --steps must be an integer >= 1, got "0"\n'],
    [
      [...base, '--text', corpus, '--lr-scheduler', 'step'],
      1,
      'prefdyn: --lr-scheduler must be one of constant, linear, cosine, got "step"\n',
    ],
    [
      [...base, '--text', corpus, '--out', notModel],
      1,
      `prefdyn: --out ${notModel}: holds an entry prefdyn did not write (keep.txt); choose another --out, or give --overwrite to replace the folder, deleting it\n`,
    ],
  ];
  for (const [args, code, stderr] of cases) {
    const r = runCli(['pretrain', ...args]);
    assert.equal(
      r.stderr
        .split('\n')
        .filter((l) => l.startsWith('prefdyn:'))
        .join('\n') + '\n',
      stderr,
      args.join(' '),
    );
    assert.equal(r.code, code, args.join(' '));
  }
  assert.ok(!fs.existsSync(out));
  assert.deepEqual(fs.readdirSync(notModel), ['keep.txt']);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});
