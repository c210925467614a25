// The causal language-modelling loss: mean next-token negative log-likelihood over the targets that
// are not padding, L = -(1/n) sum_{t: target_t != -1} log softmax(logits_t)[target_t].
import { gatherLogProbs, reshape, scale, sum } from '../tensor/ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { CausalLM } from '../model/model.js';

/** inputs, targets [B*T] (row-major [B,T]; target -1 = padding) -> the scalar mean NLL and the number of targets n. */
export function causalLmLoss(
  model: CausalLM,
  inputs: Int32Array,
  targets: Int32Array,
  B: number,
  T: number,
): { loss: Tensor; tokens: number } {
  let tokens = 0;
  for (const t of targets) if (t !== -1) tokens++;
  if (tokens === 0) throw new Error('causalLmLoss: every target is padding');
  const { logits } = model.forward(inputs, B, T); // [B,T,V]
  const V = logits!.shape[2]!;
  const logp = gatherLogProbs(reshape(logits!, [B * T, V]), targets); // [B*T], 0 at padding
  return { loss: scale(sum(logp), -1 / tokens), tokens };
}
