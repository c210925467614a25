// The memory a command will need, estimated from config.json and the checkpoint's headers before any
// weight is read, and the check against the memory available (util/memory.ts): one line naming the
// parts when it does not fit, instead of an allocation failure minutes into loading.
// An estimate, not a bound: weights in the type they are kept in (16-bit matrices stay 16-bit), the
// activations of the largest forward pass (all layers' when training, the tape keeps them), and the
// optimizer state of the trained parameters (AdamW: weight, gradient, m, v in F32).
import { UserError } from '../util/errors.js';
import { availableMemory, humanBytes, MEMORY_LIMIT_ENV, type AvailableMemory } from '../util/memory.js';
import type { PreferencePair } from '../data/pair.js';
import type { ModelTokenizer } from '../tokenizer/load.js';
import { tokenizedPairs, type PairTokenization } from '../tokenizer/pair.js';
import type { PairTokens } from '../tokenizer/truncation.js';
import { parameterCount, type ModelConfig } from './config.js';
import { truncationLimits, type TruncationRequest } from './context-length.js';

export type TrainingKind = 'none' | 'lora' | 'full' | 'last-layer';

export interface Workload {
  /** Sequences per forward pass (a DPO micro-batch scores chosen and rejected: 2 x pairs). */
  sequences: number;
  /** Tokens of the longest sequence. */
  seqLen: number;
  training: TrainingKind;
  /** LoRA: the adapter's parameter count. */
  loraParams?: number;
  /** Weights held besides the model's (a separate reference model), in bytes. */
  extraWeightBytes?: number;
}

export interface MemoryEstimate {
  weights: number;
  activations: number;
  optimizer: number;
  total: number;
}

const F32 = 4;

/** Bytes `w` needs on a model of `config` whose weights take `weightBytes` as loaded (ValidatedCheckpoint.keptBytes). */
export function estimateMemory(config: ModelConfig, weightBytes: number, w: Workload): MemoryEstimate {
  const d = config.hiddenSize;
  const f = config.intermediateSize;
  const L = config.numHiddenLayers;
  const rows = w.sequences * w.seqLen;
  // Floats per layer: the residual stream, norms, q/k/v/o and attention output (~12 d per token), the MLP's
  // gate/up/activation/down (~4 ffn per token), and the [heads, T, T] scores and probabilities.
  const layer = rows * (12 * d + 4 * f) + 2 * w.sequences * config.numAttentionHeads * w.seqLen * w.seqLen;
  const logits = 2 * rows * config.vocabSize; // the logits and their log-softmax (or gradient)
  const layersLive = w.training === 'none' || w.training === 'last-layer' ? 1 : L;
  const activations = F32 * (layersLive * layer + logits);
  const params = parameterCount(config);
  let optimizer = 0;
  if (w.training === 'full') {
    // Every weight trained in F32 (what was 16-bit is expanded), its gradient, m, v, and its starting copy.
    optimizer = Math.max(0, F32 * params - weightBytes) + 4 * F32 * params;
  } else if (w.training === 'lora') {
    optimizer = 4 * F32 * (w.loraParams ?? 0);
  } else if (w.training === 'last-layer') {
    optimizer = 4 * F32 * config.vocabSize * d;
  }
  const weights = weightBytes + (w.extraWeightBytes ?? 0);
  return { weights, activations, optimizer, total: weights + activations + optimizer };
}

/**
 * Throws a UserError when `need` exceeds the memory available (nothing is checked when that is unknown):
 * "<command> needs about X (weights A, activations B, optimizer C) but only Y is available (<source>); <advice>".
 */
export function checkMemory(
  command: string,
  need: MemoryEstimate,
  available: AvailableMemory | undefined = availableMemory(),
): void {
  if (!available || need.total <= available.bytes) return;
  throw new UserError(
    `${command} needs about ${humanBytes(need.total)} (weights ${humanBytes(need.weights)}, activations ${humanBytes(need.activations)}, optimizer ${humanBytes(need.optimizer)}) ` +
      `but only ${humanBytes(available.bytes)} is available (${available.source}); use a smaller --batch-size or --max-length, ` +
      `a smaller model, or a machine with more memory (${MEMORY_LIMIT_ENV} overrides the figure)`,
  );
}

/** Tokens of the longest sequence a pair makes: its prompt and its longer response. */
export function longestSequence(tokens: readonly PairTokens[]): number {
  let most = 1;
  for (const t of tokens) most = Math.max(most, t.prompt.length + Math.max(t.chosen.length, t.rejected.length));
  return most;
}

/** What a command will run on a model, known from its config and tokenizer before the weights are read. */
export interface MemoryCheck {
  command: string;
  workload(config: ModelConfig, tokenizer: ModelTokenizer): Workload;
}

/** The check of a no-grad scoring command: `perBatch` sequences of at most the longest tokenised pair. */
export function scoringCheck(
  command: string,
  pairs: PreferencePair[],
  truncation: TruncationRequest,
  perBatch: number,
  tokenize: PairTokenization,
): MemoryCheck {
  return {
    command,
    workload: (config, tok) => ({
      sequences: perBatch,
      seqLen: longestSequence(tokenizedPairs(tok, pairs, truncationLimits(truncation, config), tokenize).tokens),
      training: 'none',
    }),
  };
}
