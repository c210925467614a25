// Chooses the kernel set once per process: PREFDYN_KERNELS=js|native, default native when the addon
// is built, else js. Says once on stderr which set runs when native was wanted but is missing.
import type { Kernels } from './types.js';
import { jsKernels } from './js/index.js';
import { loadNativeKernels } from './native/load.js';

let chosen: Kernels | undefined;

export function kernels(): Kernels {
  if (chosen) return chosen;
  const want = process.env.PREFDYN_KERNELS ?? 'auto';
  if (want !== 'js' && want !== 'native' && want !== 'auto') {
    throw new Error(`PREFDYN_KERNELS must be "js" or "native", got "${want}"`);
  }
  if (want === 'js') return (chosen = jsKernels);
  const native = loadNativeKernels();
  if (native.kernels) return (chosen = native.kernels);
  if (want === 'native')
    throw new Error(`PREFDYN_KERNELS=native, but the native kernels are unavailable: ${native.reason}`);
  process.stderr.write(
    `prefdyn: using the TypeScript kernels (native kernels unavailable: ${native.reason}); run \`prefdyn doctor\` for the fast path\n`,
  );
  return (chosen = jsKernels);
}

/** For tests that run the same checks on both sets. */
export function setKernels(k: Kernels): void {
  chosen = k;
}

export type { Kernels } from './types.js';
