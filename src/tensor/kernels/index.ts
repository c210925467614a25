// Chooses the kernel set once per process: PREFDYN_KERNELS=js|native, default native when the addon
// is built, else js. Says once on stderr which set runs when native was wanted but is missing. Also the
// matmul precision of frozen BF16 weights (PREFDYN_MATMUL_PRECISION).
import type { Kernels } from './types.js';
import { UserError } from '../../util/errors.js';
import { jsKernels } from './js/index.js';
import { loadNativeKernels } from './native/load.js';

let chosen: Kernels | undefined;

export function kernels(): Kernels {
  if (chosen) return chosen;
  const want = process.env.PREFDYN_KERNELS ?? 'auto';
  if (want !== 'js' && want !== 'native' && want !== 'auto') {
    throw new UserError(`PREFDYN_KERNELS must be "js" or "native", got "${want}"`);
  }
  if (want === 'js') return choose(jsKernels);
  const native = loadNativeKernels();
  if (native.kernels) return choose(native.kernels);
  if (want === 'native')
    throw new UserError(`PREFDYN_KERNELS=native, but the native kernels are unavailable: ${native.reason}`);
  process.stderr.write(
    `prefdyn: using the TypeScript kernels (native kernels unavailable: ${native.reason}); run \`prefdyn doctor\` for the fast path\n`,
  );
  return choose(jsKernels);
}

/** k as the set, told the matmul precision when it is known (else matmulPrecision() tells it when it is). */
function choose(k: Kernels): Kernels {
  chosen = k;
  if (precision !== undefined) k.smallProductsOnOneThread(ownBf16Threads(precision));
  return k;
}

/** Whether bf16gemm runs on threads of its own (the BF16 dot-product kernel), beside which BLAS's must stay idle. */
function ownBf16Threads(p: MatmulPrecision): boolean {
  return p === 'bf16' && loadNativeKernels().blas?.bf16Dot === true;
}

/**
 * The precision of products with a frozen BF16 weight, PREFDYN_MATMUL_PRECISION: "f32" (default) multiplies the
 * weight's exact F32 values by the F32 activations; "bf16" rounds the activations (and, in training, the gradients
 * multiplied by the weight) to BF16 first, as a PyTorch bf16 model does: faster where the CPU has BF16 dot-product
 * instructions (BENCHMARKS.md), with the numbers moved by BF16 rounding (relative 2^-8 at most per rounded value).
 */
export type MatmulPrecision = 'f32' | 'bf16';
let precision: MatmulPrecision | undefined;

export function matmulPrecision(): MatmulPrecision {
  if (precision === undefined) setMatmulPrecision(parseMatmulPrecision(process.env.PREFDYN_MATMUL_PRECISION));
  return precision!;
}

/** A value of PREFDYN_MATMUL_PRECISION (unset: "f32"), or a UserError naming the allowed ones. */
export function parseMatmulPrecision(value: string | undefined): MatmulPrecision {
  const want = value ?? 'f32';
  if (want !== 'f32' && want !== 'bf16') {
    throw new UserError(`PREFDYN_MATMUL_PRECISION must be "f32" or "bf16", got "${want}"`);
  }
  return want;
}

/** The precision (tests set both in turn); under bf16 the chosen set's small F32 products run on one thread (ownBf16Threads). */
export function setMatmulPrecision(p: MatmulPrecision): void {
  precision = p;
  chosen?.smallProductsOnOneThread(ownBf16Threads(p));
}

/** For tests that run the same checks on both sets. */
export function setKernels(k: Kernels): void {
  choose(k);
}

export type { Kernels } from './types.js';
