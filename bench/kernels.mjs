// Kernel benchmark: each kernel on the native set and the TypeScript set, side by side in one run.
// sgemm at 1024^3 (GFLOP/s), then the fused kernels at the sizes of the benchmark GPT step
// (batch 8 x seq 64 = 512 rows, d = 256, 4 heads, vocab 8192, 7.4M parameters).
// Run after `npm run build`:  node bench/kernels.mjs [--json]
// Threads: BLAS uses PREFDYN_THREADS (default: all CPUs); everything else is single-threaded.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { jsKernels } from '../dist/src/tensor/kernels/js/index.js';
import { loadNativeKernels } from '../dist/src/tensor/kernels/native/load.js';
import { Rng } from '../dist/src/util/rng.js';

const rng = new Rng(1);

function randn(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** Median ms per call over repeats, after one warm-up call; at least `minMs` of timing in all. */
function timeMs(fn, minMs = 300, maxReps = 200) {
  fn();
  const times = [];
  let total = 0;
  while ((total < minMs || times.length < 3) && times.length < maxReps) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    times.push(dt);
    total += dt;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** The cases: name, size, GFLOP per call (sgemm only), and a call taking a kernel set. */
function cases() {
  const n = 1024;
  const A = randn(n * n),
    B = randn(n * n),
    C = new Float32Array(n * n);
  const R = 512,
    D = 256,
    V = 8192,
    BH = 32,
    T = 64,
    H = 1024,
    P = 7_400_000;
  const x = randn(R * D),
    w = randn(D),
    b = randn(D),
    out = new Float32Array(R * D),
    dx = new Float32Array(R * D);
  const dw = new Float32Array(D),
    db = new Float32Array(D),
    mean = new Float32Array(R),
    rstd = new Float32Array(R);
  const g = randn(R * H),
    u = randn(R * H),
    o = new Float32Array(R * H),
    dg = new Float32Array(R * H),
    du = new Float32Array(R * H);
  const scores = randn(BH * T * T),
    dp = randn(BH * T * T),
    ds = new Float32Array(BH * T * T);
  const logits = randn(R * V),
    targets = new Int32Array(R).map(() => rng.int(V)),
    logp = new Float32Array(R);
  const lse = new Float32Array(R),
    dlogp = randn(R),
    dlogits = new Float32Array(R * V);
  const param = randn(P),
    grad = randn(P),
    m = new Float32Array(P),
    v = new Float32Array(P);
  const gflop = (2 * n * n * n) / 1e9;
  return [
    { name: 'sgemm NN', size: '1024^3', gflop, run: (k) => k.sgemm(false, false, n, n, n, 1, A, B, 0, C) },
    { name: 'sgemm NT', size: '1024^3', gflop, run: (k) => k.sgemm(false, true, n, n, n, 1, A, B, 0, C) },
    { name: 'sgemm TN', size: '1024^3', gflop, run: (k) => k.sgemm(true, false, n, n, n, 1, A, B, 0, C) },
    {
      name: 'logSoftmaxGather fwd+bwd',
      size: `${R}x${V}`,
      run: (k) => {
        k.logSoftmaxGather(logits, targets, R, V, logp, lse);
        k.logSoftmaxGatherBackward(dlogp, logits, targets, lse, R, V, dlogits);
      },
    },
    {
      name: 'layernorm fwd+bwd',
      size: `${R}x${D}`,
      run: (k) => {
        k.layernormForward(x, w, b, R, D, 1e-5, out, mean, rstd);
        k.layernormBackward(out, x, w, mean, rstd, R, D, dx, dw, db);
      },
    },
    {
      name: 'rmsnorm fwd+bwd',
      size: `${R}x${D}`,
      run: (k) => {
        k.rmsnormForward(x, w, R, D, 1e-5, out, rstd);
        k.rmsnormBackward(out, x, w, rstd, R, D, dx, dw);
      },
    },
    {
      name: 'gelu fwd+bwd',
      size: `${R}x${H}`,
      run: (k) => {
        k.geluForward(g, R * H, o);
        k.geluBackward(o, g, R * H, dg);
      },
    },
    {
      name: 'swiglu fwd+bwd',
      size: `${R}x${H}`,
      run: (k) => {
        k.swigluForward(g, u, R * H, o);
        k.swigluBackward(o, g, u, R * H, dg, du);
      },
    },
    {
      name: 'causal softmax fwd+bwd',
      size: `${BH}x${T}x${T}`,
      run: (k) => {
        ds.set(scores);
        k.causalSoftmaxForward(ds, BH, T, 0.125);
        k.causalSoftmaxBackward(dp, ds, BH, T, 0.125, dp);
      },
    },
    {
      name: 'adamw',
      size: `${(P / 1e6).toFixed(1)}M`,
      run: (k) => k.adamw(param, grad, m, v, P, 1e-4, 0.9, 0.999, 1e-8, 0.01, 1),
    },
  ];
}

/** Rows of {kernel, size, native_ms, js_ms, speedup, native_gflops?, js_gflops?}; native_* null without the addon. */
export function benchKernels() {
  const native = loadNativeKernels();
  return cases().map((c) => {
    const jsMs = timeMs(() => c.run(jsKernels), 300, c.gflop ? 3 : 200);
    const nativeMs = native.kernels ? timeMs(() => c.run(native.kernels)) : null;
    const row = {
      kernel: c.name,
      size: c.size,
      native_ms: nativeMs,
      js_ms: jsMs,
      speedup: nativeMs ? jsMs / nativeMs : null,
    };
    if (c.gflop)
      Object.assign(row, {
        native_gflops: nativeMs ? c.gflop / (nativeMs / 1e3) : null,
        js_gflops: c.gflop / (jsMs / 1e3),
      });
    return row;
  });
}

export function formatKernelTable(rows) {
  const f = (x, d = 2) => (x === null || x === undefined ? '-' : x.toFixed(d));
  const lines = [['kernel', 'size', 'native ms', 'js ms', 'js/native', 'native GFLOP/s', 'js GFLOP/s']];
  for (const r of rows)
    lines.push([
      r.kernel,
      r.size,
      f(r.native_ms, 3),
      f(r.js_ms, 3),
      f(r.speedup, 1) + (r.speedup ? 'x' : ''),
      f(r.native_gflops, 1),
      f(r.js_gflops, 1),
    ]);
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const native = loadNativeKernels();
  const rows = benchKernels();
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ native: native.reason, blas: native.blas ?? null, rows }, null, 2) + '\n');
  } else {
    process.stdout.write(`native: ${native.reason}${native.blas ? `; ${native.blas.config}` : ''}\n`);
    process.stdout.write(
      `OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'} PREFDYN_THREADS=${process.env.PREFDYN_THREADS ?? '(unset)'}\n\n`,
    );
    process.stdout.write(formatKernelTable(rows) + '\n');
  }
}
