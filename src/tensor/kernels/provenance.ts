// What produced a number: prefdyn's version, the kernel set, the BLAS library and core behind it, its
// threads, and node's version. Recorded in every run's config.json and summary.json and in `reproduce`'s
// summary.json, so that two results can always be traced to the code and kernels that computed them
// (OpenBLAS picks different kernels per CPU core type, and the sums round differently).
import { readJsonFile } from '../../util/json-file.js';
import { packagePath } from '../../util/package-root.js';
import { kernels } from './index.js';
import { loadNativeKernels } from './native/load.js';

export interface Provenance {
  /** package.json's version. */
  prefdyn: string;
  kernels: 'js' | 'native';
  /** OpenBLAS's configuration string and core type; null with the TypeScript kernels. */
  blas: { config: string; core: string } | null;
  /** Threads of the matrix products (BLAS); the TypeScript kernels run on one. */
  threads: number;
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
    node: process.version,
  };
}

/** The kernel set that computes here, for cache keys: "js", or "native (OpenBLAS <core>)". */
export function kernelIdentity(): string {
  const set = kernels().name;
  return set === 'native' ? `native (OpenBLAS ${loadNativeKernels().blas?.corename ?? 'unknown core'})` : set;
}
