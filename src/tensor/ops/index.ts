// Every differentiable op, by idea. Each file: forward through kernels() where a kernel exists, and
// its backward rule recorded on the tape (autograd.ts).
export { linear, matmul } from './linear.js';
export { embedding, gatherRows } from './embedding.js';
export { rmsnorm, layernorm } from './norms.js';
export { inverseFrequencies, rope } from './rope.js';
export { causalAttention, packedCausalAttention, type AttentionOptions } from './attention.js';
export { swiglu, gelu, geluExact, silu, sigmoid, logSigmoid, softplus, tanh, exp, log } from './activations.js';
export { softmax, logSoftmax, gatherLogProbs } from './softmax.js';
export { add, sub, mul, div, scale, neg, addScalar, square, sqrt, clamp } from './elementwise.js';
export { sum, mean, sumAxis, sumLastAxis, maskedSum } from './reductions.js';
export { reshape, transpose, narrow, slice, concat } from './shape.js';
export { dropout } from './dropout.js';
