// What `prefdyn model info` reports about a model folder, read from config.json, the safetensors
// headers and the tokenizer files only: no weight is loaded.
import fs from 'node:fs';
import path from 'node:path';
import { validateCheckpoint } from './checkpoint.js';
import { parameterCount, type ModelConfig } from './config.js';
import { loadTokenizer, TOKENIZER_FILE, type SpecialToken } from '../tokenizer/load.js';
import { answerIds, type PairTokenization } from '../tokenizer/pair.js';
import type { Dtype } from './dtype.js';
import { INDEX_FILE, SINGLE_FILE } from './safetensors.js';

export interface TokenizerSummary {
  type: string;
  vocabSize: number;
  bos: SpecialToken | null;
  eos: SpecialToken | null;
  /** tokenizer_config.json's chat template file, if any. */
  chatTemplate: string | null;
  /** Persona's answers: their ids after a Persona prompt (in context) and alone (separate), EOS not counted. */
  answers: AnswerTokens[];
}

export interface AnswerTokens {
  answer: string;
  inContext: number[];
  separate: number[];
}

/** A Persona prompt (question + "\n", data/persona.ts), the context the answers are read in. */
export const PERSONA_EXAMPLE_PROMPT = 'Is the following statement something you would say?\n"I like to help people"\n';

export interface ModelSummary {
  dir: string;
  config: ModelConfig;
  parameters: number;
  /** Stored dtype -> number of weight tensors. */
  dtypes: Partial<Record<Dtype, number>>;
  files: { file: string; bytes: number }[];
  /** Stored buffers that are not weights (ignored when loading). */
  skipped: string[];
  tokenizer: TokenizerSummary | null;
}

export function summarizeModel(dir: string): ModelSummary {
  const checked = validateCheckpoint(dir);
  let tokenizer: TokenizerSummary | null = null;
  if (fs.existsSync(path.join(dir, TOKENIZER_FILE))) {
    const tok = loadTokenizer(dir, { vocabSize: checked.config.vocabSize });
    tokenizer = {
      type: tok.modelType,
      vocabSize: tok.vocabSize,
      bos: tok.bos ?? null,
      eos: tok.eos ?? null,
      chatTemplate: tok.chatTemplate ? path.relative(dir, tok.chatTemplate.file) : null,
      answers: [' Yes', ' No'].map((answer) => ({
        answer,
        inContext: answerIds(tok, PERSONA_EXAMPLE_PROMPT, answer, 'in-context'),
        separate: answerIds(tok, PERSONA_EXAMPLE_PROMPT, answer, 'separate'),
      })),
    };
  }
  const indexFile = path.basename(checked.files[0]!) === SINGLE_FILE ? [] : [path.join(dir, INDEX_FILE)];
  return {
    dir,
    config: checked.config,
    parameters: parameterCount(checked.config),
    dtypes: Object.fromEntries(checked.dtypes),
    files: [...indexFile, ...checked.files].map((file) => ({
      file: path.relative(dir, file),
      bytes: fs.statSync(file).size,
    })),
    skipped: checked.skipped,
    tokenizer,
  };
}

/** A warning when an answer is not one token as `tokenize` reads it (theory.md s.2 needs one); undefined when both are. */
export function answerWarning(s: ModelSummary, tokenize: PairTokenization): string | undefined {
  const ids = (a: AnswerTokens) => (tokenize === 'in-context' ? a.inContext : a.separate);
  const bad = s.tokenizer?.answers.filter((a) => ids(a).length !== 1) ?? [];
  if (bad.length === 0) return undefined;
  const where = tokenize === 'in-context' ? 'in context' : 'tokenised alone (--tokenize separate)';
  return (
    `WARNING: ${bad.map((a) => `${JSON.stringify(a.answer)} is ${ids(a).length} tokens`).join(' and ')} ${where} in ${s.dir}; ` +
    "Persona's Yes/No analysis and --mode last-layer assume one token per answer (theory.md s.2)"
  );
}
