// What `prefdyn model info` reports about a model folder, read from config.json, the safetensors
// headers and the tokenizer files only: no weight is loaded.
import fs from 'node:fs';
import path from 'node:path';
import { validateCheckpoint } from './checkpoint.js';
import { parameterCount, type ModelConfig } from './config.js';
import { loadTokenizer, TOKENIZER_FILE, type SpecialToken } from '../tokenizer/load.js';
import type { Dtype } from './dtype.js';
import { INDEX_FILE, SINGLE_FILE } from './safetensors.js';

export interface TokenizerSummary {
  type: string;
  vocabSize: number;
  bos: SpecialToken | null;
  eos: SpecialToken | null;
  /** Token ids of Persona's answers, when each is a single token (null otherwise). */
  yesId: number | null;
  noId: number | null;
}

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

function singleIdOrNull(encode: (text: string) => number[], text: string): number | null {
  const ids = encode(text);
  return ids.length === 1 ? ids[0]! : null;
}

export function summarizeModel(dir: string): ModelSummary {
  const checked = validateCheckpoint(dir);
  let tokenizer: TokenizerSummary | null = null;
  if (fs.existsSync(path.join(dir, TOKENIZER_FILE))) {
    const tok = loadTokenizer(dir, { vocabSize: checked.config.vocabSize });
    const encode = (text: string): number[] => tok.encode(text, false);
    tokenizer = {
      type: tok.modelType,
      vocabSize: tok.vocabSize,
      bos: tok.bos ?? null,
      eos: tok.eos ?? null,
      yesId: singleIdOrNull(encode, ' Yes'),
      noId: singleIdOrNull(encode, ' No'),
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
