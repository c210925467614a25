// `prefdyn doctor`: the kernel set it reports follows PREFDYN_KERNELS and the addon's presence, the
// BLAS threads follow PREFDYN_THREADS, the matmul precision PREFDYN_MATMUL_PRECISION, and a setting prefdyn
// cannot start with exits 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers/cli.js';
import { loadNativeKernels } from '../src/tensor/kernels/native/load.js';

const nativeBuilt = loadNativeKernels().kernels !== undefined;

function doctorJson(env: NodeJS.ProcessEnv): { code: number; report: Record<string, any> } {
  const res = runCli(['doctor', '--json'], { env: { PREFDYN_KERNELS: undefined, PREFDYN_THREADS: undefined, ...env } });
  return { code: res.code, report: JSON.parse(res.stdout) };
}

test('doctor reports native when the addon is built, else js with the reason and the fast path', () => {
  const { code, report } = doctorJson({});
  assert.equal(code, 0);
  assert.equal(report.kernels, nativeBuilt ? 'native' : 'js');
  assert.equal(report.native.available, nativeBuilt);
  if (nativeBuilt) {
    assert.equal(report.why, 'default: the native addon is built');
    assert.equal(report.fastPath, null);
    assert.match(report.blas.config, /^OpenBLAS /);
  } else {
    assert.match(report.why, /^native kernels unavailable: /);
    assert.match(report.fastPath, /libopenblas-dev/);
  }
});

test('doctor follows PREFDYN_KERNELS=js and rejects an unknown kernel set with exit 1', () => {
  const js = doctorJson({ PREFDYN_KERNELS: 'js' });
  assert.equal(js.code, 0);
  assert.equal(js.report.kernels, 'js');
  assert.equal(js.report.why, 'PREFDYN_KERNELS=js');
  const bad = doctorJson({ PREFDYN_KERNELS: 'fast' });
  assert.equal(bad.code, 1);
  assert.equal(bad.report.kernels, null);
  assert.equal(bad.report.why, 'PREFDYN_KERNELS must be "js" or "native", got "fast"');
});

test(
  'doctor shows PREFDYN_THREADS as the BLAS thread count; an invalid value disables the native set with the reason',
  { skip: nativeBuilt ? false : 'native kernels not built' },
  () => {
    const one = doctorJson({ PREFDYN_THREADS: '1' });
    assert.equal(one.report.blas.threads, 1);
    assert.deepEqual(one.report.threads, { blas: 1, elementwise: 1, source: 'PREFDYN_THREADS' });
    const bad = doctorJson({ PREFDYN_THREADS: 'two' });
    assert.equal(bad.report.kernels, 'js');
    assert.equal(bad.report.native.reason, 'PREFDYN_THREADS must be a positive integer, got "two"');
  },
);

test('doctor shows the matmul precision of BF16 weights; an unknown one exits 1 with the reason', () => {
  const plain = doctorJson({ PREFDYN_MATMUL_PRECISION: undefined });
  assert.deepEqual(plain.report.matmul, { precision: 'f32', how: 'F32 products (default)' });
  const bf16 = doctorJson({ PREFDYN_MATMUL_PRECISION: 'bf16' });
  assert.equal(bf16.code, 0);
  assert.equal(bf16.report.matmul.precision, 'bf16');
  assert.equal(
    bf16.report.matmul.how,
    nativeBuilt && bf16.report.blas.bf16Dot
      ? "activations rounded to BF16, the CPU's BF16 dot products (AVX512-BF16)"
      : 'activations rounded to BF16, then F32 products (no AVX512-BF16 kernels here)',
  );
  const bad = doctorJson({ PREFDYN_MATMUL_PRECISION: 'fp8' });
  assert.equal(bad.code, 1);
  assert.deepEqual(bad.report.matmul, {
    precision: null,
    how: 'PREFDYN_MATMUL_PRECISION must be "f32" or "bf16", got "fp8"',
  });
});

test('any other command stops with one line on an unknown PREFDYN_MATMUL_PRECISION, before it works', () => {
  const res = runCli(['data', 'list'], { env: { PREFDYN_MATMUL_PRECISION: 'fp8' } });
  assert.equal(res.code, 1);
  assert.equal(res.stderr, 'prefdyn: PREFDYN_MATMUL_PRECISION must be "f32" or "bf16", got "fp8"\n');
  assert.equal(res.stdout, '');
});
