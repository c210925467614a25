// Model benchmark: the benchmark GPT (GPT-2 style, 4 layers, d=256, 4 heads, seq 64, batch 8, vocab 8192,
// 7.4M parameters), seeded random weights. Measures, on one kernel set:
//   forward: no-grad forward to the logits and the per-token log-probs (what reference log-probs cost);
//   step:    forward + next-token NLL + backward + AdamW over every parameter (a full training step);
// plus sgemm 1024^3 through the same kernels (the rate MFU is measured against) and this process's peak RSS.
// Medians over repetitions after warm-up. Run after `npm run build`:
//   node bench/step.mjs [--kernels js|native] [--reps N] [--json]
// bench/run.mjs runs this in a child process per kernel set, so each peak RSS is the model's alone.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { initConfig, initWeights } from '../dist/src/model/init.js';
import { modelFromWeights } from '../dist/src/model/load.js';
import { backward, noGrad } from '../dist/src/tensor/autograd.js';
import { gatherLogProbs, reshape, scale, sum } from '../dist/src/tensor/ops/index.js';
import { jsKernels } from '../dist/src/tensor/kernels/js/index.js';
import { loadNativeKernels } from '../dist/src/tensor/kernels/native/load.js';
import { setKernels } from '../dist/src/tensor/kernels/index.js';
import { Rng } from '../dist/src/util/rng.js';

/** The benchmark model and batch (issues 3 and 4). */
export const BENCH_MODEL = { layers: 4, d: 256, heads: 4, ffn: 1024, vocab: 8192, T: 64, B: 8 };
const SEED = 1;

/**
 * GEMM FLOPs of one forward pass of the benchmark model: per layer c_attn (d -> 3d), attention scores
 * and P @ V (2 * B*H*T*T*hd each), c_proj (d -> d), c_fc (d -> ffn), mlp c_proj (ffn -> d); then lm_head.
 * A training step is 3x this (backward: two GEMMs per forward GEMM). Elementwise work is not counted.
 */
export function forwardGemmFlops(m = BENCH_MODEL) {
  const rows = m.B * m.T;
  const perLayer = 2 * rows * m.d * (3 * m.d + m.d + 2 * m.ffn) + 2 * 2 * m.B * m.T * m.T * m.d;
  return m.layers * perLayer + 2 * rows * m.d * m.vocab;
}

/** Next-token targets of ids [B,T]: ids shifted left, the last position of each row masked (-1). */
function nextTokenTargets(ids, B, T) {
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) targets[b * T + t] = t + 1 < T ? ids[b * T + t + 1] : -1;
  return targets;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * {ms: median wall ms, cpuMs: mean process CPU ms} per call over `reps` calls after `warmup` calls. On a
 * shared machine the CPU time of a 1-thread run is what the call costs, whatever the load.
 */
function timed(fn, warmup, reps) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  return { ms: median(times), cpuMs: (cpu.user + cpu.system) / 1e3 / reps };
}

/** sgemm 1024^3 (NN) GFLOP/s through kernel set k: median of several calls. */
export function sgemmRate(k, reps = 10, warmup = 2) {
  const n = 1024;
  const rng = new Rng(SEED);
  const A = new Float32Array(n * n).map(() => rng.normal());
  const B = new Float32Array(n * n).map(() => rng.normal());
  const C = new Float32Array(n * n);
  const { ms } = timed(() => k.sgemm(false, false, n, n, n, 1, A, B, 0, C), warmup, reps);
  return (2 * n ** 3) / 1e9 / (ms / 1e3);
}

/** Forward and training-step timings of the benchmark model on kernel set `k`. */
export function benchModel(k, { fwdReps = 10, stepReps = 10, warmup = 2 } = {}) {
  setKernels(k);
  const m = BENCH_MODEL;
  const config = initConfig('gpt2', { d: m.d, layers: m.layers, heads: m.heads, ffn: m.ffn, ctx: m.T }, m.vocab);
  const model = modelFromWeights(config, initWeights(config, SEED));
  const params = [...model.params().values()];
  const nParams = params.reduce((n, p) => n + p.size, 0);
  const rng = new Rng(SEED);
  const ids = Int32Array.from({ length: m.B * m.T }, () => rng.int(m.vocab));
  const targets = nextTokenTargets(ids, m.B, m.T);
  const count = targets.filter((t) => t >= 0).length;
  const logProbs = (logits) => gatherLogProbs(reshape(logits, [m.B * m.T, m.vocab]), targets);

  const fwd = timed(() => noGrad(() => logProbs(model.forward(ids, m.B, m.T).logits)), warmup, fwdReps);
  const fwdMs = fwd.ms;

  for (const p of params) p.requiresGrad = true;
  const moments = params.map((p) => ({ m: new Float32Array(p.size), v: new Float32Array(p.size) }));
  let t = 0;
  let loss = NaN;
  const step = () => {
    for (const p of params) p.grad?.fill(0); // as the trainer's zeroGrads
    const nll = scale(sum(logProbs(model.forward(ids, m.B, m.T).logits)), -1 / count);
    loss = nll.item();
    backward(nll);
    t++;
    params.forEach((p, i) =>
      k.adamw(p.data, p.grad, moments[i].m, moments[i].v, p.size, 1e-4, 0.9, 0.999, 1e-8, 0.01, t),
    );
  };
  const firstLoss = (() => {
    step();
    return loss;
  })();
  const stepTimed = timed(step, warmup - 1, stepReps);
  const stepMs = stepTimed.ms;
  const tokens = m.B * m.T;
  const flops = forwardGemmFlops(m);
  return {
    kernels: k.name,
    params: nParams,
    tokens_per_batch: tokens,
    fwd_ms: fwdMs,
    fwd_tokens_per_s: tokens / (fwdMs / 1e3),
    fwd_cpu_ms: fwd.cpuMs,
    step_cpu_ms: stepTimed.cpuMs,
    step_ms: stepMs,
    step_tokens_per_s: tokens / (stepMs / 1e3),
    step_gflop: (3 * flops) / 1e9,
    step_gflops: (3 * flops) / 1e9 / (stepMs / 1e3),
    fwd_gflops: flops / 1e9 / (fwdMs / 1e3),
    first_loss: firstLoss,
    last_loss: loss,
  };
}

function kernelSet(name) {
  if (name === 'js') return jsKernels;
  const native = loadNativeKernels();
  if (!native.kernels) throw new Error(`native kernels unavailable: ${native.reason}`);
  return native.kernels;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (flag, dflt) => {
    const i = process.argv.indexOf(flag);
    return i >= 0 ? process.argv[i + 1] : dflt;
  };
  const name = arg('--kernels', 'native');
  const reps = Number(arg('--reps', name === 'js' ? '2' : '10'));
  const k = kernelSet(name);
  // The TypeScript sgemm runs 1024^3 far below its rate at the model's sizes, so no MFU for it. On a
  // shared machine the rate drifts with the load: measured before and after the model, the higher
  // counts (the conservative MFU).
  const sgemmBefore = name === 'js' ? null : sgemmRate(k);
  const r = benchModel(k, { fwdReps: reps, stepReps: reps, warmup: name === 'js' ? 1 : 2 });
  const sgemmGflops = sgemmBefore === null ? null : Math.max(sgemmBefore, sgemmRate(k));
  const row = {
    ...r,
    sgemm_gflops: sgemmGflops,
    mfu: sgemmGflops ? r.step_gflops / sgemmGflops : null,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(row) + '\n');
  else console.log(row);
}
