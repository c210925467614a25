// prefdyn's side of bench/hf-models.mjs, one measurement per process (so its peak RSS is its own):
//   forward: load the model folder; embed every prompt (lastTokenHidden: what `prefdyn embed` runs)
//            and score every pair (pairLogProbs: what `prefdyn logprobs` runs), in batches of B.
//   dpo:     the paper's LoRA (r 8, alpha 32, dropout 0.05, q_proj/v_proj) on the model, reference
//            log-probs once, then DPO steps on the first N pairs as the trainer takes them (modelPolicy,
//            dpo loss, clip 1.0, AdamW), optionally with gradient checkpointing.
// Usage: node bench/hf-models-prefdyn.mjs forward|dpo MODEL_DIR TOKENS_JSON BATCH [STEPS] [--gradient-checkpointing]
// Prints one JSON line: times in ms, tokens fed to the model, peak RSS.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadModel } from '../dist/src/model/load.js';
import { lastTokenHidden } from '../dist/src/model/embed.js';
import { pairLogProbs } from '../dist/src/model/logprobs.js';
import { LoraAdapter, PAPER_LORA } from '../dist/src/model/lora.js';
import { modelPolicy } from '../dist/src/train/model-policy.js';
import { createOptimizer } from '../dist/src/train/optimizers.js';
import { clipGradNorm, zeroGrads } from '../dist/src/train/gradients.js';
import { marginLogit, objectiveLoss } from '../dist/src/train/objectives.js';
import { blasThreadCount } from '../dist/src/tensor/kernels/native/load.js';
import { kernelIdentity } from '../dist/src/tensor/kernels/provenance.js';
import { Rng } from '../dist/src/util/rng.js';

const [mode, dir, tokensFile, batchArg, stepsArg] = process.argv.slice(2);
const batch = Number(batchArg);
const checkpointing = process.argv.includes('--gradient-checkpointing');
const pairs = JSON.parse(fs.readFileSync(tokensFile, 'utf8')).pairs;
const BETA = 0.1;

const t0 = performance.now();
const model = await loadModel(dir);
const loadMs = performance.now() - t0;
const peakMb = () => process.resourceUsage().maxRSS / 1024;
const single = (p) => p.chosen.length === 1 && p.rejected.length === 1;
// Tokens through the model when scoring p: the prompt (one forward), or prompt + response twice.
const scoredTokens = (p) => (single(p) ? p.prompt.length : 2 * p.prompt.length + p.chosen.length + p.rejected.length);

/** Wall and process CPU time (all threads) of fn, in ms. */
function timed(fn) {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000, value };
}

if (mode === 'forward') {
  const prompts = pairs.map((p) => p.prompt);
  // warm-up batch of each: the first call of a path pays one-off costs (the lm_head's first product alone ~0.4 s)
  lastTokenHidden(model, prompts.slice(0, batch), batch);
  pairLogProbs(model, pairs.slice(0, batch), batch);
  const embed = timed(() => lastTokenHidden(model, prompts, batch));
  const logprobs = timed(() => pairLogProbs(model, pairs, batch));
  console.log(
    JSON.stringify({
      threads: blasThreadCount(),
      kernels: kernelIdentity(),
      load_ms: loadMs,
      embed_ms: embed.ms,
      embed_cpu_ms: embed.cpuMs,
      embed_tokens: prompts.reduce((n, p) => n + p.length, 0),
      logprobs_ms: logprobs.ms,
      logprobs_cpu_ms: logprobs.cpuMs,
      logprobs_tokens: pairs.reduce((n, p) => n + scoredTokens(p), 0),
      // for the agreement check against PyTorch's bf16 forward
      logp_chosen: logprobs.value.map((r) => r.logpChosen),
      embedding_row0: Array.from(embed.value.data.subarray(0, 8)),
      peak_rss_mb: peakMb(),
    }),
  );
} else if (mode === 'dpo') {
  const steps = Number(stepsArg);
  const used = pairs.slice(0, batch);
  const ref = pairLogProbs(model, used, batch);
  const adapter = LoraAdapter.create(model, PAPER_LORA, new Rng(1));
  adapter.attachTo(model);
  const policy = modelPolicy({
    model,
    tokens: used,
    adapter,
    initial: new Map(),
    save: async () => {},
    description: 'bench',
    gradientCheckpointing: checkpointing,
  });
  const optimizer = createOptimizer({
    name: 'adamw',
    weightDecay: 0,
    momentum: 0,
    adamBeta1: 0.9,
    adamBeta2: 0.999,
    adamEpsilon: 1e-8,
  });
  const rng = new Rng(2);
  const indices = used.map((_, i) => i);
  const losses = [];
  const step = () => {
    zeroGrads(policy.params);
    const s = policy.logps(indices, true, rng);
    const slopes = new Float64Array(used.length);
    let loss = 0;
    used.forEach((_, i) => {
      const h = marginLogit(BETA, s.chosen[i], s.rejected[i], ref[i].logpChosen, ref[i].logpRejected);
      const l = objectiveLoss('dpo', h, { beta: BETA, labelSmoothing: 0 });
      loss += l.loss / used.length;
      slopes[i] = (BETA * l.slope) / used.length;
    });
    policy.backward(
      slopes,
      slopes.map((x) => -x),
    );
    clipGradNorm(policy.params, 1.0);
    optimizer.update(policy.params, 1e-5);
    losses.push(loss);
  };
  const runs = [];
  for (let i = 0; i < steps + 1; i++) runs.push(timed(step)); // the first is a warm-up
  const times = runs.map((r) => r.ms);
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    JSON.stringify({
      threads: blasThreadCount(),
      kernels: kernelIdentity(),
      load_ms: loadMs,
      gradient_checkpointing: checkpointing,
      pairs: used.length,
      step_ms: median(times.slice(1)),
      step_cpu_ms: median(runs.slice(1).map((r) => r.cpuMs)),
      step_ms_all: times,
      step_tokens: used.reduce((n, p) => n + scoredTokens(p), 0),
      losses,
      peak_rss_mb: peakMb(),
    }),
  );
} else {
  throw new Error(`mode must be forward or dpo, got ${mode}`);
}
