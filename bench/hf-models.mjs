// Real-size models against PyTorch 1.13 and llama.cpp, side by side in one run, on the same seeded random
// BF16 weights and the same token ids (issue "Bring your own model": weights, memory and speed):
//   1. writes the model (bench/random-hf-model.mjs) as a Hugging Face folder and as GGUF, once per size/seed;
//   2. tokenises the first N prompts of a persona behaviour with the folder's tokenizer;
//   3. runs, each in its own process (so each peak RSS is its own): prefdyn embed + logprobs, PyTorch bf16
//      embed + logprobs, llama.cpp prompt processing, prefdyn LoRA DPO steps with gradient checkpointing,
//      PyTorch LoRA DPO steps with torch.utils.checkpoint; prefdyn once per matmul precision (--matmul:
//      PREFDYN_MATMUL_PRECISION f32, its default, and bf16, PyTorch's bf16 arithmetic);
//   4. prints the Markdown table for BENCHMARKS.md and the per-behaviour extrapolation.
// Usage (after npm run build):
//   node bench/hf-models.mjs [--size 0.5b|7b|smoke] [--dir DIR] [--prompts 16] [--batch 8] [--dpo-pairs 4]
//        [--dpo-steps 4] [--behaviour NAME] [--matmul f32,bf16] [--no-torch] [--no-llama-cpp] [--no-dpo]
//        [--dpo-without-checkpointing] [--json]
// Threads: prefdyn's BLAS threads (PREFDYN_THREADS, default the CPUs), given to PyTorch and llama.cpp too.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { childRow } from './child-row.mjs';
import { SIZES, parameterCount, writeRandomModel } from './random-hf-model.mjs';
import { loadSource } from '../dist/src/data/source.js';
import { loadTokenizer } from '../dist/src/tokenizer/load.js';
import { tokenizedPairs } from '../dist/src/tokenizer/pair.js';
import { blasThreadCount } from '../dist/src/tensor/kernels/native/load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const TORCH_PYTHON = process.env.PREFDYN_BENCH_PYTHON ?? '/usr/bin/python3';
const SEED = 1;
// Persona: about 1000 statements per behaviour (theory.md s.6); the extrapolation embeds them all.
const PROMPTS_PER_BEHAVIOUR = 1000;
// Qwen2.5-1.5B's shapes, for the extrapolation only (never written).
const QWEN_1_5B = {
  hidden_size: 1536,
  num_hidden_layers: 28,
  num_attention_heads: 12,
  num_key_value_heads: 2,
  intermediate_size: 8960,
  vocab_size: 151936,
  tie_word_embeddings: true,
};

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '0.5b' },
    dir: { type: 'string' },
    prompts: { type: 'string', default: '16' },
    batch: { type: 'string', default: '8' },
    'dpo-pairs': { type: 'string', default: '4' },
    'dpo-steps': { type: 'string', default: '4' },
    behaviour: { type: 'string', default: 'agreeableness' },
    matmul: { type: 'string', default: 'f32,bf16' },
    'no-torch': { type: 'boolean', default: false },
    'no-llama-cpp': { type: 'boolean', default: false },
    'no-dpo': { type: 'boolean', default: false },
    'dpo-without-checkpointing': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
if (!(args.size in SIZES)) throw new Error(`--size must be one of ${Object.keys(SIZES).join(', ')}`);
const precisions = args.matmul.split(',');
if (precisions.some((p) => p !== 'f32' && p !== 'bf16'))
  throw new Error(`--matmul must list f32 and/or bf16, got "${args.matmul}"`);
const dir = args.dir ?? path.join(os.tmpdir(), `prefdyn-bench-hf-${args.size}`);
const threads = blasThreadCount();
const log = (s) => process.stderr.write(`${s}\n`);

// 1. the model
log(`writing the ${args.size} model to ${dir} (once per size and seed)`);
const config = writeRandomModel(dir, args.size, SEED, { gguf: !args['no-llama-cpp'], log });
const weightBytes = 2 * parameterCount(config);

// 2. the prompts
const nPrompts = Number(args.prompts);
const { pairs } = await loadSource(`persona:${args.behaviour}`);
const tok = loadTokenizer(dir, { vocabSize: config.vocab_size });
const { tokens } = tokenizedPairs(tok, pairs.slice(0, nPrompts), { maxLength: 1 << 20 });
const tokensFile = path.join(dir, 'bench-tokens.json');
const asLists = tokens.map((t) => ({
  prompt: Array.from(t.prompt),
  chosen: Array.from(t.chosen),
  rejected: Array.from(t.rejected),
}));
fs.writeFileSync(tokensFile, JSON.stringify({ behaviour: args.behaviour, pairs: asLists }));
const meanPromptTokens = asLists.reduce((n, p) => n + p.prompt.length, 0) / asLists.length;

// 3. the measurements
const batch = args.batch;
const run = (what, cmd, childArgs, env) => {
  log(`running ${what}`);
  return childRow(cmd, childArgs, env);
};
const prefdyn = (mode, precision, ...rest) =>
  run(
    `prefdyn ${mode}, ${precision} matmul`,
    process.execPath,
    [path.join(here, 'hf-models-prefdyn.mjs'), mode, dir, tokensFile, ...rest],
    { PREFDYN_MATMUL_PRECISION: precision },
  );
const torch = (mode, ...rest) =>
  run(`PyTorch ${mode}`, TORCH_PYTHON, [path.join(here, 'hf_models_torch.py'), mode, dir, tokensFile, ...rest]);
const loadBefore = os.loadavg()[0];
// rows.prefdynForward etc.: one row per matmul precision, by precision
const rows = { prefdynForward: {}, prefdynDpo: {}, prefdynDpoKept: {} };
for (const p of precisions) rows.prefdynForward[p] = prefdyn('forward', p, batch);
if (!args['no-torch']) rows.torchForward = torch('forward', batch, String(threads));
if (!args['no-llama-cpp'])
  rows.llamaCpp = run('llama.cpp', process.execPath, [
    path.join(here, 'hf-models-llama-cpp.mjs'),
    path.join(dir, 'model.gguf'),
    tokensFile,
    String(threads),
  ]);
if (!args['no-dpo']) {
  const steps = args['dpo-steps'];
  for (const p of precisions) {
    rows.prefdynDpo[p] = prefdyn('dpo', p, args['dpo-pairs'], steps, '--gradient-checkpointing');
    if (args['dpo-without-checkpointing']) rows.prefdynDpoKept[p] = prefdyn('dpo', p, args['dpo-pairs'], steps);
  }
  if (!args['no-torch'])
    rows.torchDpo = torch('dpo', args['dpo-pairs'], String(threads), steps, '--gradient-checkpointing');
}
const loadAfter = os.loadavg()[0];

// 4. the tables
const fmt = (x, d = 0) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
const rate = (row, key) => (row && !row.error ? (1000 * row[`${key}_tokens`]) / row[`${key}_ms`] : undefined);
const cpuRate = (row, key) => (row && !row.error ? (1000 * row[`${key}_tokens`]) / row[`${key}_cpu_ms`] : undefined);
const lines = [
  '| measurement | implementation | tokens | wall ms | CPU ms | tokens/s | tokens per CPU-s | peak RSS MB | prefdyn / other: tokens/s (per CPU-s), peak RSS |',
  '|---|---|---:|---:|---:|---:|---:|---:|---|',
];
const both = (a, b) => (a && b && !a.error && !b.error ? [a, b] : undefined);
/** prefdyn's rates over the other's (higher is faster), and its peak RSS over the other's. */
function versus(p, pKey, o, oKey) {
  if (!both(p, o)) return '';
  const r = (f) => fmt(f(p, pKey) / f(o, oKey), 2);
  return `${r(rate)}x (${r(cpuRate)}x), RSS ${fmt(p.peak_rss_mb / o.peak_rss_mb, 2)}x`;
}
function line(what, impl, row, key, other = '') {
  if (!row) return;
  if (row.error) return lines.push(`| ${what} | ${impl} | failed: ${row.error.slice(-200)} | | | | | | |`);
  lines.push(
    `| ${what} | ${impl} | ${row[`${key}_tokens`]} | ${fmt(row[`${key}_ms`])} | ${fmt(row[`${key}_cpu_ms`])} | ${fmt(rate(row, key), 1)} | ${fmt(cpuRate(row, key), 1)} | ${fmt(row.peak_rss_mb)} | ${other} |`,
  );
}
const impl = (p) => `prefdyn, ${p} matmul`;
const tf = rows.torchForward;
for (const [key, what] of [
  ['embed', 'embed (no-grad forward, last-token hidden)'],
  ['logprobs', 'logprobs (forward + answer log-probs)'],
]) {
  precisions.forEach((p, i) => {
    const pf = rows.prefdynForward[p];
    line(i === 0 ? what : key, impl(p), pf, key, versus(pf, key, tf, key));
  });
  line(key, 'PyTorch bf16', tf, key);
}
const lc = rows.llamaCpp;
line(
  'prompt processing (one prompt at a time, last-token logits)',
  'llama.cpp (node-llama-cpp 3.21.1, BF16 GGUF)',
  lc,
  'prompt',
  precisions
    .filter((p) => both(rows.prefdynForward[p], lc))
    .map((p) => `prefdyn logprobs, ${p}: ${versus(rows.prefdynForward[p], 'logprobs', lc, 'prompt')}`)
    .join('; '),
);
const td = rows.torchDpo;
precisions.forEach((p, i) => {
  const pd = rows.prefdynDpo[p];
  line(
    i === 0 ? `LoRA DPO step, ${args['dpo-pairs']} pairs, gradient checkpointing` : 'LoRA DPO step, same',
    impl(p),
    pd,
    'step',
    both(pd, td) ? `${versus(pd, 'step', td, 'step')}; step time ${fmt(pd.step_ms / td.step_ms, 2)}x` : '',
  );
});
line('LoRA DPO step, same', 'PyTorch bf16, torch.utils.checkpoint', td, 'step');
for (const p of precisions) line('LoRA DPO step, same, activations kept', impl(p), rows.prefdynDpoKept[p], 'step');

// Agreement with PyTorch's bf16 arithmetic on the same weights, per matmul precision.
const agreement = precisions
  .filter((p) => both(rows.prefdynForward[p], tf))
  .map((p) => {
    const d = rows.prefdynForward[p].logp_chosen.map((x, i) => Math.abs(x - tf.logp_chosen[i]));
    return `max |logp_chosen prefdyn (${p} matmul) - PyTorch bf16| = ${Math.max(...d).toFixed(4)} nats`;
  })
  .join('\n');

// Per persona behaviour: embedding its ~1000 prompts, at prefdyn's embed rate scaled by the forward FLOPs
// per token (2 x the non-embedding parameters; the lm_head is not applied for embeddings). Two rates:
// the wall-clock one measured here, and a quiet machine's estimated as threads x tokens per CPU-second
// (what the threads would do with a core each; on a loaded machine the wall rate is the scheduler's).
const trunkParams = (c) => {
  const d = c.hidden_size;
  const hd = d / c.num_attention_heads;
  const perLayer =
    2 * d * c.num_attention_heads * hd + 2 * d * c.num_key_value_heads * hd + 3 * d * c.intermediate_size;
  return c.num_hidden_layers * perLayer;
};
const extrapolation = [];
for (const p of precisions) {
  const pf = rows.prefdynForward[p];
  const embedRate = rate(pf, 'embed');
  if (embedRate === undefined) continue;
  const base = trunkParams(config);
  const minutes = (r) => (PROMPTS_PER_BEHAVIOUR * meanPromptTokens) / r / 60;
  for (const [name, c] of [
    ['0.5B (Qwen2.5-0.5B shapes)', SIZES['0.5b']],
    ['1.5B (Qwen2.5-1.5B shapes)', QWEN_1_5B],
    ['7B (Llama-2-7B shapes)', SIZES['7b']],
  ]) {
    const scale = base / trunkParams(c);
    const [wall, quiet] = [embedRate * scale, threads * cpuRate(pf, 'embed') * scale];
    extrapolation.push(
      `| ${name} | ${p} | ${fmt((2 * trunkParams(c)) / 1e9, 2)} | ${fmt(wall, 1)} | ${fmt(minutes(wall), 1)} | ${fmt(quiet, 1)} | ${fmt(minutes(quiet), 1)} |`,
    );
  }
}

// OPENBLAS_CORETYPE picks OpenBLAS's kernels (prefdyn's sgemm); PyTorch's bf16 products (oneDNN) and llama.cpp
// do not read it. Every child inherits this process's environment.
const blasEnvironment = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']
  .map((v) => `${v}=${process.env[v] ?? '(unset)'}`)
  .join(', ');
const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} CPUs, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}`;
if (args.json) {
  console.log(
    JSON.stringify({
      size: args.size,
      threads,
      machine,
      blasEnvironment,
      loadBefore,
      loadAfter,
      weightBytes,
      meanPromptTokens,
      rows,
    }),
  );
} else {
  console.log(
    `## ${args.size}: ${fmt(parameterCount(config) / 1e6)}M parameters, ${fmt(weightBytes / 2 ** 20)} MiB of BF16 weights`,
  );
  console.log(
    `machine: ${machine}; threads ${threads} for every implementation; load average ${fmt(loadBefore, 1)} before, ${fmt(loadAfter, 1)} after`,
  );
  const kernelsUsed = precisions.map((p) => rows.prefdynForward[p]?.kernels ?? '-').join('; ');
  console.log(`prefdyn kernels: ${kernelsUsed}; OpenBLAS environment: ${blasEnvironment}`);
  if (Math.max(loadBefore, loadAfter) > os.availableParallelism())
    console.log(
      'the machine was shared with other jobs (load above its CPU count): the ratios were measured side by side in this one run; compare them and CPU time, not wall times across runs',
    );
  console.log(
    `prompts: the first ${asLists.length} of persona:${args.behaviour}, mean ${fmt(meanPromptTokens, 1)} tokens (the bundled tokenizer); batches of ${batch}`,
  );
  console.log('');
  console.log(lines.join('\n'));
  if (agreement) console.log(`\n${agreement}`);
  for (const p of precisions) {
    const pf = rows.prefdynForward[p];
    if (pf && !pf.error)
      console.log(
        `prefdyn (${p} matmul) peak RSS ${fmt(pf.peak_rss_mb)} MB against BF16 weights ${fmt(weightBytes / 2 ** 20)} MiB + 2 GiB = ${fmt(weightBytes / 2 ** 20 + 2048)}`,
      );
  }
  if (extrapolation.length) {
    console.log(
      "\nPer persona behaviour (embedding ~1000 prompts at this prompt length), from prefdyn's embed rate scaled by forward FLOPs per token:\n",
    );
    console.log(
      `| model | matmul | forward GFLOP/token | tokens/s, as measured | minutes per behaviour | tokens/s, quiet ${threads} cores (est.) | minutes per behaviour |\n|---|---|---:|---:|---:|---:|---:|`,
    );
    console.log(extrapolation.join('\n'));
  }
}
