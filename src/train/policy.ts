// What the trainer needs from the thing it trains, whatever the mode: response log-probs of chosen
// and rejected for a set of pairs, the gradient of the loss pushed back through them, the
// weight-change norms, and saving in the Hugging Face (model) or PEFT (adapter) layout.
import type { Rng } from '../util/rng.js';
import type { TrainParam } from './gradients.js';

export interface ResponseLogps {
  /** Summed log-probs of the chosen / rejected responses, one per requested pair. */
  chosen: Float64Array;
  rejected: Float64Array;
  /**
   * Per response, the sum over its tokens of the vocabulary-mean logit (1/V) sum_v z_v, and its length
   * in tokens: TRL's logits/chosen and logits/rejected pool these over the tokens of a batch.
   */
  logitSums: { chosen: Float64Array; rejected: Float64Array };
  tokens: { chosen: Int32Array; rejected: Int32Array };
}

export interface Policy {
  readonly params: TrainParam[];
  /** One-line description of what is trained, recorded in summary.json. */
  readonly description: string;
  /**
   * Log-probs of pairs `indices` (into the policy's pair list). training = true keeps what `backward`
   * needs and applies dropout drawn from `rng`; training = false records nothing.
   */
  logps(indices: number[], training: boolean, rng: Rng): ResponseLogps;
  /** Adds dLoss/dlogp of the last training `logps` call into the params' gradients. */
  backward(dChosen: Float64Array, dRejected: Float64Array): void;
  /** weights/unembed_delta_norm = ||W_U(t) - W_U(0)||_F and, for full/LoRA, per-layer norms. */
  weightNorms(): Record<string, number>;
  /** Writes the trained weights into `dir` (which exists and is empty). */
  save(dir: string): Promise<void>;
}
