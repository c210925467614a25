// What `prefdyn doctor` reports: which kernel set runs and why, the BLAS behind the native set, threads,
// the matmul precision of BF16 weights, the environment variables that change either, and how to get the
// fast path when it is missing.
import os from 'node:os';
import path from 'node:path';
import {
  blasThreadCount,
  loadNativeKernels,
  nativeBuildRecord,
  type BlasInfo,
  type NativeBuildRecord,
} from './load.js';
import { parseMatmulPrecision, type MatmulPrecision } from '../index.js';

export const FAST_PATH_HINT =
  'apt-get install build-essential libopenblas-dev && npm rebuild prefdyn (or, in a checkout: npm run build:native)';

const ENV_VARS = [
  'PREFDYN_KERNELS',
  'PREFDYN_THREADS',
  'PREFDYN_MATMUL_PRECISION',
  'OPENBLAS_CORETYPE',
  'OPENBLAS_L2_SIZE',
  'OPENBLAS_NUM_THREADS',
] as const;

export interface KernelDiagnosis {
  /** The set `kernels()` picks in this environment, or null when it would refuse to start. */
  kernels: 'js' | 'native' | null;
  why: string;
  native: { available: boolean; reason: string; addon: string; build: NativeBuildRecord | null };
  blas: BlasInfo | null;
  threads: { blas: number | null; elementwise: 1; source: string };
  /** The matmul precision of frozen BF16 weights (null: PREFDYN_MATMUL_PRECISION is invalid) and how it computes. */
  matmul: { precision: 'f32' | 'bf16' | null; how: string };
  env: Record<(typeof ENV_VARS)[number], string | null>;
  node: { version: string; platform: string; arch: string; cpus: number };
  /** How to get the native kernels; null when they are in use. */
  fastPath: string | null;
}

/** Mirrors the choice made by kernels() in ../index.ts without making it (which would print its notice). */
function chosenSet(want: string, nativeAvailable: boolean, reason: string): Pick<KernelDiagnosis, 'kernels' | 'why'> {
  if (want === 'js') return { kernels: 'js', why: 'PREFDYN_KERNELS=js' };
  if (want !== 'native' && want !== 'auto') {
    return { kernels: null, why: `PREFDYN_KERNELS must be "js" or "native", got "${want}"` };
  }
  if (nativeAvailable)
    return {
      kernels: 'native',
      why: want === 'native' ? 'PREFDYN_KERNELS=native' : 'default: the native addon is built',
    };
  if (want === 'native')
    return { kernels: null, why: `PREFDYN_KERNELS=native, but the native kernels are unavailable: ${reason}` };
  return { kernels: 'js', why: `native kernels unavailable: ${reason}` };
}

function matmulOf(
  value: string | undefined,
  set: KernelDiagnosis['kernels'],
  blas: BlasInfo | undefined,
): KernelDiagnosis['matmul'] {
  let precision: MatmulPrecision;
  try {
    precision = parseMatmulPrecision(value);
  } catch (err) {
    return { precision: null, how: (err as Error).message };
  }
  if (precision === 'f32') return { precision: 'f32', how: 'F32 products (default)' };
  const how =
    set === 'native' && blas?.bf16Dot
      ? "activations rounded to BF16, the CPU's BF16 dot products (AVX512-BF16)"
      : 'activations rounded to BF16, then F32 products (no AVX512-BF16 kernels here)';
  return { precision: 'bf16', how };
}

function threadSource(env: NodeJS.ProcessEnv): string {
  if (env.PREFDYN_THREADS) return 'PREFDYN_THREADS';
  return `default: the ${os.availableParallelism()} CPUs available${env.OPENBLAS_NUM_THREADS ? ' (OPENBLAS_NUM_THREADS is overridden)' : ''}`;
}

export function diagnoseKernels(env: NodeJS.ProcessEnv = process.env): KernelDiagnosis {
  const native = loadNativeKernels();
  const choice = chosenSet(env.PREFDYN_KERNELS ?? 'auto', native.kernels !== undefined, native.reason);
  let threads: number | null;
  try {
    threads = native.blas?.threads ?? blasThreadCount(env);
  } catch {
    threads = null;
  }
  return {
    ...choice,
    native: {
      available: native.kernels !== undefined,
      reason: native.reason,
      addon: path.relative(process.cwd(), native.addonPath) || native.addonPath,
      build: nativeBuildRecord() ?? null,
    },
    blas: native.blas ?? null,
    threads: { blas: threads, elementwise: 1, source: threadSource(env) },
    matmul: matmulOf(env.PREFDYN_MATMUL_PRECISION, choice.kernels, native.blas),
    env: Object.fromEntries(ENV_VARS.map((k) => [k, env[k] ?? null])) as KernelDiagnosis['env'],
    node: { version: process.version, platform: process.platform, arch: process.arch, cpus: os.availableParallelism() },
    fastPath: choice.kernels === 'native' ? null : FAST_PATH_HINT,
  };
}
