// The pure-TypeScript kernel set: always available, and the reference the native set is tested against.
import type { Kernels } from '../types.js';
import { sgemm, sgemmBatched } from './sgemm.js';
import { bf16gemm, hgemm } from './hgemm.js';
import { rmsnormForward, rmsnormBackward, layernormForward, layernormBackward } from './norms.js';
import { swigluForward, swigluBackward, geluForward, geluBackward } from './activations.js';
import { causalSoftmaxForward, causalSoftmaxBackward, logSoftmaxGather, logSoftmaxGatherBackward } from './softmax.js';
import { adamw } from './adamw.js';

export const jsKernels: Kernels = {
  name: 'js',
  sgemm,
  sgemmBatched,
  hgemm,
  bf16gemm,
  smallProductsOnOneThread: () => {},
  rmsnormForward,
  rmsnormBackward,
  layernormForward,
  layernormBackward,
  swigluForward,
  swigluBackward,
  geluForward,
  geluBackward,
  causalSoftmaxForward,
  causalSoftmaxBackward,
  logSoftmaxGather,
  logSoftmaxGatherBackward,
  adamw,
};
