// The longest sequence a model takes: config.json's n_positions (GPT-2: the rows of its learned
// position table) or max_position_embeddings (Llama: RoPE would run past it, on positions the model was
// never trained on), times the factor of dynamic RoPE scaling (which exists to run past it).
// Pair tokenisation truncates to it (src/tokenizer/truncation.ts); the models check it.
import { UserError } from '../util/errors.js';
import type { ModelConfig } from './config.js';
import type { TruncationLimits } from '../tokenizer/truncation.js';
import { ropeContextLength } from './rope-scaling.js';

/** The config.json field(s) that set the limit. */
export function contextLengthField(config: ModelConfig): string {
  if (config.arch === 'gpt2') return 'n_positions';
  const s = config.rope.scaling;
  return s.type === 'dynamic'
    ? `max_position_embeddings ${config.maxPositionEmbeddings} x dynamic RoPE factor ${s.factor} =`
    : 'max_position_embeddings';
}

/** The longest sequence, in tokens. */
export function contextLength(config: ModelConfig): number {
  return config.arch === 'gpt2'
    ? config.maxPositionEmbeddings
    : ropeContextLength(config.rope, config.maxPositionEmbeddings);
}

/** Refuses a forward pass over sequences longer than the model's context (T: padded length of the batch). */
export function checkSequenceLength(config: ModelConfig, T: number): void {
  const limit = contextLength(config);
  if (T > limit) {
    throw new UserError(
      `a sequence of ${T} tokens exceeds the model's ${contextLengthField(config)} ${limit} (config.json); ` +
        `truncate the pairs with --max-length ${limit} or less`,
    );
  }
}

/** What a user asked for: --max-length and --max-prompt-length, each optional. */
export interface TruncationRequest {
  maxLength?: number;
  maxPromptLength?: number;
}

/** The limits pair tokenisation uses with this model: --max-length defaults to the model's context. */
export function truncationLimits(request: TruncationRequest, config: ModelConfig): TruncationLimits {
  const limit = contextLength(config);
  const maxLength = request.maxLength ?? limit;
  if (maxLength > limit) {
    throw new UserError(
      `--max-length ${maxLength} exceeds the model's ${contextLengthField(config)} ${limit} (config.json); use at most ${limit}`,
    );
  }
  if (maxLength < 2)
    throw new UserError(`--max-length must be at least 2 (one prompt and one response token), got ${maxLength}`);
  const { maxPromptLength } = request;
  if (maxPromptLength !== undefined && !(maxPromptLength >= 1 && maxPromptLength < maxLength)) {
    throw new UserError(
      `--max-prompt-length must be at least 1 and less than --max-length ${maxLength} (so a response token fits), got ${maxPromptLength}`,
    );
  }
  return maxPromptLength === undefined ? { maxLength } : { maxLength, maxPromptLength };
}

/** The limits as string metadata (safetensors headers, cache records): max_length and, when set, max_prompt_length. */
export function truncationMetadata(limits: TruncationLimits): Record<string, string> {
  const meta: Record<string, string> = { max_length: String(limits.maxLength) };
  if (limits.maxPromptLength !== undefined) meta.max_prompt_length = String(limits.maxPromptLength);
  return meta;
}
