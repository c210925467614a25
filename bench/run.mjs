// `npm run bench`: the benchmark GPT (bench/step.mjs) on the native and TypeScript kernels and in PyTorch,
// measured side by side in one run, as ratios; then the kernel table (bench/kernels.mjs).
// Each model measurement runs in its own child process, so its peak RSS is its own. All children get
// this process's environment unchanged (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, PREFDYN_THREADS: printed),
// and PyTorch gets as many threads as prefdyn gives BLAS.
//   node bench/run.mjs [--no-js] [--no-torch] [--no-kernels] [--json]   (PREFDYN_BENCH_PYTHON: the python with torch)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childRow } from './child-row.mjs';
import { benchKernels, formatKernelTable } from './kernels.mjs';
import { BENCH_MODEL } from './step.mjs';
import { blasThreadCount, loadNativeKernels } from '../dist/src/tensor/kernels/native/load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Debian's python3-torch lives with the system python; the first python3 on PATH may lack it.
const TORCH_PYTHON = process.env.PREFDYN_BENCH_PYTHON ?? '/usr/bin/python3';
const flags = new Set(process.argv.slice(2));

function torchAvailable() {
  return existsSync(TORCH_PYTHON) && spawnSync(TORCH_PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

const fmt = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));

function table(lines) {
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => String(l[i]).length)));
  return lines
    .map((l) => l.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  '))
    .join('\n');
}

const threads = blasThreadCount();
const native = loadNativeKernels();
const env = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'PREFDYN_THREADS', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS']
  .map((k) => `${k}=${process.env[k] ?? '(unset)'}`)
  .join(' ');
const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} CPUs, Node ${process.version}`;
const loadBefore = os.loadavg()[0];

const m = BENCH_MODEL;
const rows = [];
if (native.kernels)
  rows.push({
    impl: 'prefdyn native',
    ...childRow(process.execPath, [path.join(here, 'step.mjs'), '--kernels', 'native', '--json']),
  });
else rows.push({ impl: 'prefdyn native', error: native.reason });
const torch = flags.has('--no-torch')
  ? undefined
  : torchAvailable()
    ? { impl: 'PyTorch', ...childRow(TORCH_PYTHON, [path.join(here, 'torch_step.py'), String(threads)]) }
    : { impl: 'PyTorch', error: `${TORCH_PYTHON} has no torch (Debian: apt-get install python3-torch)` };
if (torch) rows.push(torch);
if (!flags.has('--no-js'))
  rows.push({
    impl: 'prefdyn js',
    ...childRow(process.execPath, [path.join(here, 'step.mjs'), '--kernels', 'js', '--json']),
  });
const kernelRows = flags.has('--no-kernels') ? [] : benchKernels();
const loadAfter = os.loadavg()[0];

const tokens = m.B * m.T;
for (const r of rows) {
  if (r.error) continue;
  r.fwd_tokens_per_s ??= tokens / (r.fwd_ms / 1e3);
  r.step_tokens_per_s ??= tokens / (r.step_ms / 1e3);
}
const nat = rows.find((r) => r.impl === 'prefdyn native' && !r.error);
const pt = torch && !torch.error ? torch : undefined;
const ratios =
  nat && pt
    ? {
        step_time_prefdyn_over_torch: nat.step_ms / pt.step_ms,
        fwd_tokens_per_s_prefdyn_over_torch: nat.fwd_tokens_per_s / pt.fwd_tokens_per_s,
        // CPU time per call: on one thread what a step costs whatever else the machine runs (wall time under
        // load measures the scheduler as much as the code)
        step_cpu_prefdyn_over_torch: nat.step_cpu_ms / pt.step_cpu_ms,
        fwd_cpu_prefdyn_over_torch: nat.fwd_cpu_ms / pt.fwd_cpu_ms,
      }
    : undefined;
const targets = nat
  ? [
      ...(ratios
        ? [
            [
              'training step prefdyn/PyTorch <= 1.0 (stretch 0.7)',
              fmt(ratios.step_time_prefdyn_over_torch, 2),
              ratios.step_time_prefdyn_over_torch <= 0.7
                ? 'met (stretch too)'
                : ratios.step_time_prefdyn_over_torch <= 1
                  ? 'met'
                  : 'MISSED',
            ],
            [
              'forward tokens/s prefdyn/PyTorch >= 1.0',
              fmt(ratios.fwd_tokens_per_s_prefdyn_over_torch, 2),
              ratios.fwd_tokens_per_s_prefdyn_over_torch >= 1 ? 'met' : 'MISSED',
            ],
            ...(threads === 1
              ? [
                  [
                    'step CPU time prefdyn/PyTorch (1 thread, load-independent)',
                    fmt(ratios.step_cpu_prefdyn_over_torch, 2),
                    ratios.step_cpu_prefdyn_over_torch <= 0.7
                      ? 'met (stretch too)'
                      : ratios.step_cpu_prefdyn_over_torch <= 1
                        ? 'met'
                        : 'MISSED',
                  ],
                  [
                    'forward CPU time prefdyn/PyTorch (1 thread) <= 1.0',
                    fmt(ratios.fwd_cpu_prefdyn_over_torch, 2),
                    ratios.fwd_cpu_prefdyn_over_torch <= 1 ? 'met' : 'MISSED',
                  ],
                ]
              : []),
          ]
        : []),
      ['step MFU >= 50% of the sgemm rate', `${fmt(100 * nat.mfu, 0)}%`, nat.mfu >= 0.5 ? 'met' : 'MISSED'],
    ]
  : [];

if (flags.has('--json')) {
  process.stdout.write(
    JSON.stringify(
      {
        machine,
        env,
        threads,
        blas: native.blas ?? null,
        load: [loadBefore, loadAfter],
        model: m,
        rows,
        ratios,
        kernels: kernelRows,
      },
      null,
      2,
    ) + '\n',
  );
} else {
  const out = [];
  out.push(`machine: ${machine}; load average ${fmt(loadBefore, 1)} before, ${fmt(loadAfter, 1)} after`);
  out.push(`native: ${native.reason}`);
  out.push(`env: ${env}; BLAS threads ${threads} (PyTorch: torch.set_num_threads(${threads}))`);
  out.push(
    `model: GPT-2 style, ${m.layers} layers, d=${m.d}, ${m.heads} heads, ffn ${m.ffn}, vocab ${m.vocab}, batch ${m.B} x seq ${m.T}` +
      `${nat ? ` (${(nat.params / 1e6).toFixed(2)}M parameters, lm_head tied; ${fmt(nat.step_gflop, 1)} GFLOP of GEMM per step)` : ''}`,
  );
  out.push(
    'forward = no-grad forward + per-token log-probs; step = forward + NLL + backward + AdamW; medians after warm-up',
  );
  out.push('');
  const lines = [
    [
      '',
      'fwd ms',
      'fwd CPU ms',
      'fwd tok/s',
      'step ms',
      'step CPU ms',
      'step tok/s',
      'step GFLOP/s',
      'sgemm GFLOP/s',
      'MFU',
      'peak RSS MB',
    ],
  ];
  for (const r of rows) {
    if (r.error) {
      lines.push([r.impl, 'n/a', '', '', '', '', '', '', '', '', '']);
      continue;
    }
    const gflops = r.step_gflops ?? (nat ? nat.step_gflop / (r.step_ms / 1e3) : undefined);
    lines.push([
      r.impl,
      fmt(r.fwd_ms),
      fmt(r.fwd_cpu_ms),
      fmt(r.fwd_tokens_per_s, 0),
      fmt(r.step_ms),
      fmt(r.step_cpu_ms),
      fmt(r.step_tokens_per_s, 0),
      fmt(gflops),
      fmt(r.sgemm_gflops),
      gflops && r.sgemm_gflops ? `${fmt((100 * gflops) / r.sgemm_gflops, 0)}%` : '-',
      fmt(r.peak_rss_mb, 0),
    ]);
  }
  out.push(table(lines));
  for (const r of rows) if (r.error) out.push(`${r.impl}: n/a (${r.error})`);
  if (targets.length) {
    out.push('', table([['target (issue 4)', 'measured', ''], ...targets]));
  }
  if (kernelRows.length) out.push('', 'kernels (bench/kernels.mjs):', formatKernelTable(kernelRows));
  process.stdout.write(out.join('\n') + '\n');
}
