// `prefdyn doctor`: which kernels run and why, the BLAS library and its threads, and how to get the fast path.
import { diagnoseKernels, type KernelDiagnosis } from '../tensor/kernels/native/diagnose.js';
import type { Command } from './command.js';

function formatDiagnosis(d: KernelDiagnosis): string {
  const unset = (v: string | null): string => v ?? '(unset)';
  const rows: [string, string][] = [
    ['kernels', d.kernels ? `${d.kernels} (${d.why})` : `none: prefdyn would stop (${d.why})`],
    ['native', `${d.native.available ? 'available' : 'unavailable'}: ${d.native.reason}`],
    ['addon', d.native.addon],
    ['BLAS', d.blas ? d.blas.config : '(none: the TypeScript sgemm)'],
    ['BLAS core', d.blas ? `${d.blas.corename} (OPENBLAS_CORETYPE=${unset(d.env.OPENBLAS_CORETYPE)})` : '-'],
    [
      'threads',
      `BLAS ${d.threads.blas ?? '?'}${d.blas ? ` (${d.blas.parallel})` : ''}, ${d.threads.source}; elementwise kernels ${d.threads.elementwise}`,
    ],
    [
      'matmul',
      d.matmul.precision ? `${d.matmul.precision}: ${d.matmul.how}` : `none: prefdyn would stop (${d.matmul.how})`,
    ],
    [
      'env',
      Object.entries(d.env)
        .map(([k, v]) => `${k}=${unset(v)}`)
        .join(' '),
    ],
    ['node', `${d.node.version} ${d.node.platform}-${d.node.arch}, ${d.node.cpus} CPUs`],
    ['fast path', d.fastPath ?? 'in use'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export const command: Command = {
  name: 'doctor',
  summary: 'which kernels run (native or TypeScript) and why, BLAS, threads, and the fast path',
  help: `Usage: prefdyn doctor [--json]

Reports the kernel set in use and why, the BLAS library behind the native kernels (OpenBLAS config and
core type), thread counts, the matmul precision of BF16 weights, the environment variables that change
them (PREFDYN_KERNELS=js|native, PREFDYN_THREADS, PREFDYN_MATMUL_PRECISION=f32|bf16, OPENBLAS_CORETYPE,
OPENBLAS_L2_SIZE, OPENBLAS_NUM_THREADS), and how to build the native kernels when they are missing. Exits 1
when prefdyn could not start its kernels in this environment or PREFDYN_MATMUL_PRECISION is unknown.

Options:
  --json    print the report as one JSON object

Example:
  prefdyn doctor`,
  options: { json: { type: 'boolean' } },
  async run(args) {
    const d = diagnoseKernels();
    process.stdout.write((args.values.json ? JSON.stringify(d, null, 2) : formatDiagnosis(d)) + '\n');
    return d.kernels && d.matmul.precision ? 0 : 1;
  },
};
