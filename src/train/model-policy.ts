// Full and LoRA modes: the policy is a CausalLM, response log-probs come from its forward pass with
// prompt tokens masked (src/model/logprobs.ts), and the loss gradient enters the autograd tape as
// the surrogate sum_i dL/dpc_i * pc_i + dL/dpr_i * pr_i, whose gradient equals the loss's.
import { backward, noGrad, resetTape } from '../tensor/autograd.js';
import { add, mul, narrow, sum } from '../tensor/ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import type { CausalLM, ForwardOptions } from '../model/model.js';
import type { LoraAdapter } from '../model/lora.js';
import { nextTokenLogProbs, responseLogProbs, type PairTokens } from '../model/logprobs.js';
import { deltaNorm, type TrainParam } from './gradients.js';
import type { Policy } from './policy.js';

export interface ModelPolicyOptions {
  model: CausalLM;
  /** Token ids of every pair, by pair index. */
  tokens: PairTokens[];
  /** LoRA mode: only the adapter is trained (attached to `model`). Full mode: every model parameter. */
  adapter?: LoraAdapter;
  /**
   * Full mode: the initial value of every parameter, for the weight-change norms. LoRA mode has none: the
   * adapter never touches the unembedding (its delta norm is 0), and the frozen base stays in its stored type.
   */
  initial?: Map<string, Float32Array>;
  save(dir: string): Promise<void>;
  description: string;
  /** Recompute each layer's activations in the backward pass (--gradient-checkpointing). */
  gradientCheckpointing: boolean;
}

/** "model.layers.3.mlp.up_proj.weight" -> "layers.3"; "h.0.attn.c_attn.weight" -> "h.0"; else undefined. */
export function layerOf(name: string): string | undefined {
  return /(?:^|\.)((?:layers|h)\.\d+)\./.exec(name)?.[1];
}

/**
 * Logits are only needed where answers are predicted: single-token pairs take one forward of the prompt.
 * `logitSums` [2n] receives the chosen then the rejected responses' sums of vocabulary-mean logits.
 */
function scorePairs(
  model: CausalLM,
  tokens: PairTokens[],
  opts: ForwardOptions,
  logitSums: Float64Array,
): { chosen: Tensor; rejected: Tensor } {
  const n = tokens.length;
  if (tokens.every((t) => t.chosen.length === 1 && t.rejected.length === 1)) {
    const [chosen, rejected] = nextTokenLogProbs(
      model,
      tokens.map((t) => t.prompt),
      [Int32Array.from(tokens, (t) => t.chosen[0]!), Int32Array.from(tokens, (t) => t.rejected[0]!)],
      opts,
      logitSums.subarray(0, n),
    );
    logitSums.copyWithin(n, 0, n); // chosen and rejected are scored at the same position
    return { chosen: chosen!, rejected: rejected! };
  }
  const both = responseLogProbs(
    model,
    [
      ...tokens.map((t) => ({ prompt: t.prompt, response: t.chosen })),
      ...tokens.map((t) => ({ prompt: t.prompt, response: t.rejected })),
    ],
    opts,
    logitSums,
  );
  return { chosen: narrow(both, 0, 0, n), rejected: narrow(both, 0, n, n) };
}

export function modelPolicy(o: ModelPolicyOptions): Policy {
  const trained = o.adapter ? o.adapter.params() : o.model.params();
  const params: TrainParam[] = [];
  for (const [name, t] of trained) {
    t.requiresGrad = true;
    t.grad ??= new Float32Array(t.data.length);
    params.push({ name, data: t.data, grad: t.grad });
  }
  let kept: { chosen: Tensor; rejected: Tensor } | undefined;
  const unembed = o.model.params().get(o.model.unembeddingName)!;

  return {
    params,
    description: o.description,
    logps(indices, training, rng) {
      const tokens = indices.map((i) => o.tokens[i]!);
      const n = tokens.length;
      const sums = new Float64Array(2 * n);
      const out = training
        ? scorePairs(o.model, tokens, { training, rng, gradientCheckpointing: o.gradientCheckpointing }, sums)
        : noGrad(() => scorePairs(o.model, tokens, { training, rng }, sums));
      kept = training ? out : undefined;
      return {
        chosen: Float64Array.from(out.chosen.data),
        rejected: Float64Array.from(out.rejected.data),
        logitSums: { chosen: sums.subarray(0, n), rejected: sums.subarray(n) },
        tokens: {
          chosen: Int32Array.from(tokens, (t) => t.chosen.length),
          rejected: Int32Array.from(tokens, (t) => t.rejected.length),
        },
      };
    },
    backward(dChosen, dRejected) {
      if (!kept) throw new Error('backward without a training forward');
      const weight = (d: Float64Array) => new Tensor(Float32Array.from(d), [d.length]);
      const surrogate = add(sum(mul(kept.chosen, weight(dChosen))), sum(mul(kept.rejected, weight(dRejected))));
      kept = undefined;
      try {
        backward(surrogate);
      } finally {
        resetTape();
      }
    },
    weightNorms() {
      const out: Record<string, number> = {
        'weights/unembed_delta_norm': o.initial ? deltaNorm(unembed.data, o.initial.get(o.model.unembeddingName)!) : 0,
      };
      const perLayer = new Map<string, number>();
      for (const p of params) {
        const layer = layerOf(p.name);
        if (!layer) continue;
        const sq = o.initial ? deltaNorm(p.data, o.initial.get(p.name)!) ** 2 : 0;
        perLayer.set(layer, (perLayer.get(layer) ?? 0) + sq);
      }
      if (o.adapter) for (const [layer, sq] of loraDeltaSquares(o.adapter)) perLayer.set(layer, sq);
      for (const [layer, sq] of perLayer) out[`weights/delta_norm/${layer}`] = Math.sqrt(sq);
      return out;
    },
    save: o.save,
  };
}

/**
 * Per layer, sum over adapted modules of ||scaling * B A||_F^2, computed as
 * scaling^2 * sum((B^T B) o (A A^T)) with r x r Gram matrices (never forming B A). A [r,in], B [out,r].
 */
function loraDeltaSquares(adapter: LoraAdapter): Map<string, number> {
  const out = new Map<string, number>();
  const ps = adapter.params();
  for (const [name, A] of ps) {
    if (!name.endsWith('.lora_A.weight')) continue;
    const B = ps.get(name.replace('.lora_A.weight', '.lora_B.weight'))!;
    const r = A.shape[0]!;
    const nin = A.shape[1]!;
    const nout = B.shape[0]!;
    let s = 0;
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        let aa = 0;
        for (let k = 0; k < nin; k++) aa += A.data[i * nin + k]! * A.data[j * nin + k]!;
        let bb = 0;
        for (let k = 0; k < nout; k++) bb += B.data[k * r + i]! * B.data[k * r + j]!;
        s += aa * bb;
      }
    }
    const layer = layerOf(name.replace(/^base_model\.model\./, '')) ?? 'other';
    const scaling = adapter.scalingOf(name.replace(/^base_model\.model\./, '').replace(/\.lora_A\.weight$/, ''));
    out.set(layer, (out.get(layer) ?? 0) + scaling * scaling * s);
  }
  return out;
}
