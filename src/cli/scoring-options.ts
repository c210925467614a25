// Options shared by the commands that run a model over a data source (logprobs, embed; analyze --model
// takes the pair-token options too; train and reproduce take --tokenize).
import { type ParsedArgs } from './command.js';
import { UsageError } from '../util/errors.js';
import { parseChoice, parseNumber, POSITIVE_INTEGER } from '../util/option-value.js';
import { checkOutputFile } from '../util/output-path.js';
import type { TruncationRequest } from '../model/context-length.js';
import type { EmbedPosition } from '../model/embed.js';
import { DEFAULT_PAIR_TOKENIZATION, PAIR_TOKENIZATIONS, type PairTokenization } from '../tokenizer/pair.js';

export const TOKENIZE_OPTION = { tokenize: { type: 'string', default: DEFAULT_PAIR_TOKENIZATION } } as const;

export const TOKENIZE_OPTION_HELP = `  --tokenize HOW         in-context (default): prompt + response tokenised together, the response
                         being the tokens after the prompt's, as the model reads it (TRL's trainers
                         today); separate: each response tokenised alone (TRL 0.12 to 0.2x's
                         DPOTrainer). Chat data is rendered with the model's chat_template when its
                         tokenizer_config.json has one.`;

/** --tokenize, checked. */
export function tokenizeArg(values: ParsedArgs['values']): PairTokenization {
  return parseChoice('--tokenize', values.tokenize, PAIR_TOKENIZATIONS);
}

/** How pairs become token ids: --tokenize and the truncation options. */
export const PAIR_TOKEN_OPTIONS = {
  ...TOKENIZE_OPTION,
  'max-length': { type: 'string' },
  'max-prompt-length': { type: 'string' },
} as const;

export const PAIR_TOKEN_OPTIONS_HELP = `${TOKENIZE_OPTION_HELP}
  --max-length N         tokens of prompt + response per sequence (default: the model's
                         max_position_embeddings / n_positions); longer pairs are truncated
  --max-prompt-length N  when a sequence is too long, keep at most the prompt's last N tokens
                         (default: no limit beyond --max-length). The rule (TRL's keep_end): the
                         prompt is cut from its start (the last turn stays; a Llama BOS is kept) to
                         --max-prompt-length, and always so that one response token fits; then
                         responses are cut from their end. stderr says how many pairs were cut.
                         A prompt that fills --max-length leaves one response token: give
                         --max-prompt-length to keep room for the responses.`;

export const SCORING_OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  'batch-size': { type: 'string', default: '8' },
  ...PAIR_TOKEN_OPTIONS,
} as const;

export const SCORING_OPTIONS_HELP = `  --model DIR            Hugging Face model folder (config.json, model.safetensors, tokenizer.json)
  --data SRC             data source (required)
  --batch-size N         sequences per forward pass (default 8)
${PAIR_TOKEN_OPTIONS_HELP}`;

/** "prompt" is newline's name before question existed, kept so scripts that pass it still work. */
const POSITIONS = ['auto', 'question', 'newline', 'response', 'prompt'] as const;

/** --position of embed and analyze --model (absent: auto). */
export const POSITION_OPTION = { position: { type: 'string' } } as const;

export const POSITION_OPTION_HELP = `  --position P           where g(x) is taken (default auto); one row per pair at question and newline
                         (label +1 when the preferred answer is " Yes", -1 for " No"), two at response:
                           question  the last token of the bare question: the prompt without its
                                     trailing "\\n" (persona: the closing quote), tokenised on its own
                                     (the official code's embedding)
                           newline   the last token of the prompt as scored, question + "\\n", where
                                     the model answers; what last-layer DPO trains on ("prompt" is its
                                     former name)
                           response  prompt + chosen (row "<id>/chosen", +1) and prompt + rejected
                                     ("<id>/rejected", -1)
                           auto      newline when every pair is a Yes/No pair (persona), else response`;

/** --position, parsed (absent: auto); "prompt" reads as "newline". */
export function positionArg(values: ParsedArgs['values']): EmbedPosition | 'auto' {
  const position = parseChoice('--position', values.position ?? 'auto', POSITIONS);
  return position === 'prompt' ? 'newline' : position;
}

/** --max-length and --max-prompt-length as given (absent: the model's defaults, resolved once it is loaded). */
export function truncationArgs(values: ParsedArgs['values']): TruncationRequest {
  const request: TruncationRequest = {};
  if (values['max-length'] !== undefined)
    request.maxLength = parseNumber('--max-length', values['max-length'], POSITIVE_INTEGER);
  if (values['max-prompt-length'] !== undefined)
    request.maxPromptLength = parseNumber('--max-prompt-length', values['max-prompt-length'], POSITIVE_INTEGER);
  return request;
}

/** --model, --data, --out, --batch-size, --tokenize and the truncation options, checked; `outFiles(out)` (the files the command writes) must be writable paths. */
export function scoringArgs(
  name: string,
  values: ParsedArgs['values'],
  outFiles: (out: string) => string[],
): {
  model: string;
  data: string;
  out: string;
  batchSize: number;
  tokenize: PairTokenization;
  truncation: TruncationRequest;
} {
  for (const key of ['model', 'data', 'out'] as const) {
    if (typeof values[key] !== 'string' || (values[key] as string).length === 0)
      throw new UsageError(`${name} needs --${key}`);
  }
  const batchSize = parseNumber('--batch-size', values['batch-size'], POSITIVE_INTEGER);
  const truncation = truncationArgs(values);
  const tokenize = tokenizeArg(values);
  const out = values.out as string;
  for (const file of outFiles(out)) checkOutputFile('--out', file);
  return { model: values.model as string, data: values.data as string, out, batchSize, tokenize, truncation };
}
