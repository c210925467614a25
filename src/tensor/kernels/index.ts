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
  if (precision !== undefined) tellPrecision(k, precision);
  return k;
}

/** Under bf16 on the BF16 dot products, bf16gemm has threads of its own, beside which BLAS's must stay idle. */
function tellPrecision(k: Kernels, p: MatmulPrecision): void {
  k.smallProductsOnOneThread(p === 'bf16' && bf16DotProducts(k));
}

/** Whether the set k computes bf16gemm with the CPU's BF16 dot products: the native set on an AVX512-BF16 CPU. */
export function bf16DotProducts(k: Kernels): boolean {
  return k.name === 'native' && loadNativeKernels().blas?.bf16Dot === true;
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

/** The precision (tests set both in turn), told to the chosen set (tellPrecision). */
export function setMatmulPrecision(p: MatmulPrecision): void {
  precision = p;
  if (chosen) tellPrecision(chosen, p);
}

/** For tests that run the same checks on both sets. */
export function setKernels(k: Kernels): void {
  choose(k);
}

export type { Kernels } from './types.js';
