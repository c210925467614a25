// What produced a number: prefdyn's version, the kernel set, the BLAS library and core behind it, its
// threads, the matmul precision of BF16 weights, and node's version. Recorded in every run's config.json
// and summary.json and in `reproduce`'s summary.json, so that two results can always be traced to the code
// and kernels that computed them (OpenBLAS picks different kernels per CPU core type, and the sums round
// differently).
import { readJsonFile } from '../../util/json-file.js';
import { packagePath } from '../../util/package-root.js';
import { bf16DotProducts, kernels, matmulPrecision } from './index.js';
import { loadNativeKernels } from './native/load.js';

export interface Provenance {
  /** package.json's version. */
  prefdyn: string;
  kernels: 'js' | 'native';
  /** OpenBLAS's configuration string and core type; null with the TypeScript kernels. */
  blas: { config: string; core: string } | null;
  /** Threads of the matrix products (BLAS); the TypeScript kernels run on one. */
  threads: number;
  /**
   * Products with frozen BF16 weights: "f32", or "bf16" (PREFDYN_MATMUL_PRECISION), "bf16 (AVX512-BF16)" on the
   * CPU's BF16 dot products. Absent from outputs written before it was recorded (all of them "f32").
   */
  matmul?: string;
  node: string;
}

export function provenance(): Provenance {
  const set = kernels().name;
  const blas = set === 'native' ? loadNativeKernels().blas : undefined;
  return {
    prefdyn: (readJsonFile(packagePath('package.json')) as { version: string }).version,
    kernels: set,
    blas: blas ? { config: blas.config, core: blas.corename } : null,
    threads: blas?.threads ?? 1,
    matmul: matmulDescription(),
    node: process.version,
  };
}

function matmulDescription(): string {
  if (matmulPrecision() === 'f32') return 'f32';
  return bf16DotProducts(kernels()) ? 'bf16 (AVX512-BF16)' : 'bf16';
}

/** The kernels that compute here, for cache keys: "js" or "native (OpenBLAS <core>)", then ", <precision> matmul" under the bf16 precision. */
export function kernelIdentity(): string {
  const set = kernels().name;
  const identity = set === 'native' ? `native (OpenBLAS ${loadNativeKernels().blas?.corename ?? 'unknown core'})` : set;
  return matmulPrecision() === 'f32' ? identity : `${identity}, ${matmulDescription()} matmul`;
}
