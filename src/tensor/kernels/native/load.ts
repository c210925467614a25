// Loads the C addon (build/Release/prefdyn_native.node, built by scripts/build-native.mjs) and wraps it
// as a `Kernels` set named 'native'. Never throws: when the addon cannot be used, `reason` says why.
// BLAS runs on PREFDYN_THREADS threads (default: the CPUs this process may use), and so does bf16gemm (on
// worker threads of its own, kept between calls), never at the same time; the elementwise kernels run
// single-threaded.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packagePath, packageRoot } from '../../../util/package-root.js';
import type { Kernels } from '../types.js';
import { plural } from '../../../util/plural.js';

/** OpenBLAS's description of itself (openblas_get_config, openblas_get_corename, ...). */
export interface BlasInfo {
  config: string;
  corename: string;
  threads: number;
  parallel: 'sequential' | 'pthreads' | 'openmp' | 'unknown';
  /** Whether bf16gemm runs on the CPU's BF16 dot-product instructions (AVX512-BF16); else on sgemm. */
  bf16Dot: boolean;
}

type KernelFunctions = Omit<Kernels, 'name'>;

interface Addon extends KernelFunctions {
  blasInfo(): BlasInfo;
  setBlasThreads(n: number): void;
}

export interface NativeLoad {
  kernels?: Kernels;
  blas?: BlasInfo;
  /** Why the native set is (or is not) available, in words a user can act on. */
  reason: string;
  addonPath: string;
}

const KERNEL_FUNCTIONS: (keyof KernelFunctions)[] = [
  'sgemm',
  'sgemmBatched',
  'hgemm',
  'bf16gemm',
  'smallProductsOnOneThread',
  'rmsnormForward',
  'rmsnormBackward',
  'layernormForward',
  'layernormBackward',
  'swigluForward',
  'swigluBackward',
  'geluForward',
  'geluBackward',
  'causalSoftmaxForward',
  'causalSoftmaxBackward',
  'logSoftmaxGather',
  'logSoftmaxGatherBackward',
  'adamw',
];

export const nativeAddonPath = packagePath('build', 'Release', 'prefdyn_native.node');

/** What scripts/build-native.mjs last recorded in build/native-build.json. */
export interface NativeBuildRecord {
  built: boolean;
  /** Whether the build found a C compiler and a linkable OpenBLAS. */
  openblas: boolean;
  reason: string;
}

/** The last build's record, or undefined when the build script has not run (or its record is unreadable). */
export function nativeBuildRecord(): NativeBuildRecord | undefined {
  try {
    const r = JSON.parse(
      readFileSync(path.join(packageRoot, 'build', 'native-build.json'), 'utf8'),
    ) as NativeBuildRecord;
    return typeof r.built === 'boolean' && typeof r.openblas === 'boolean' && typeof r.reason === 'string'
      ? r
      : undefined;
  } catch {
    return undefined;
  }
}

/** BLAS threads: PREFDYN_THREADS when set (a positive integer), else the CPUs available to this process. */
export function blasThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.PREFDYN_THREADS;
  if (raw === undefined || raw === '') return os.availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`PREFDYN_THREADS must be a positive integer, got "${raw}"`);
  return n;
}

let loaded: NativeLoad | undefined;

export function loadNativeKernels(): NativeLoad {
  return (loaded ??= tryLoad());
}

function tryLoad(): NativeLoad {
  const addonPath = nativeAddonPath;
  if (!existsSync(addonPath)) {
    const record = nativeBuildRecord();
    const why = record && !record.built ? `: ${record.reason}` : '';
    return { addonPath, reason: `the addon is not built (${path.relative(packageRoot, addonPath)} is missing${why})` };
  }
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(addonPath) as Addon;
  } catch (err) {
    return { addonPath, reason: `the addon failed to load: ${(err as Error).message.split('\n')[0]}` };
  }
  const missing = KERNEL_FUNCTIONS.filter((k) => typeof addon[k] !== 'function');
  if (missing.length > 0) {
    return {
      addonPath,
      reason: `the addon is out of date (missing ${missing.join(', ')}); rebuild it with \`npm run build:native\``,
    };
  }
  let threads: number;
  try {
    threads = blasThreadCount();
  } catch (err) {
    return { addonPath, reason: (err as Error).message };
  }
  addon.setBlasThreads(threads);
  const blas = addon.blasInfo();
  const kernels: Kernels = {
    name: 'native',
    ...(Object.fromEntries(KERNEL_FUNCTIONS.map((k) => [k, addon[k]])) as KernelFunctions),
  };
  return {
    kernels,
    blas,
    addonPath,
    reason: `built and loaded (OpenBLAS ${blas.corename}, ${blas.threads} BLAS ${plural('thread', blas.threads)})`,
  };
}
