// A model folder's tokenizer: tokenizer.json (+ tokenizer_config.json) through @huggingface/tokenizers,
// which runs the file's own normaliser, pre-tokeniser, model and post-processor (so special tokens are
// added exactly as the post-processor says: BOS for Llama's TemplateProcessing, none for GPT-2's ByteLevel).
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
const SPECIAL_TOKENS_MAP_FILE = 'special_tokens_map.json';

export interface SpecialToken {
  token: string;
  id: number;
}

export interface ModelTokenizer {
  /** The tokenizer.json it was read from. */
  readonly file: string;
  /** The tokenizer model's type ("BPE", "Unigram", "WordPiece", ...). */
  readonly modelType: string;
  /** Highest token id + 1, added tokens included: the embedding rows the model needs. */
  readonly vocabSize: number;
  readonly bos: SpecialToken | undefined;
  readonly eos: SpecialToken | undefined;
  /** Token ids of `text`; with `addSpecialTokens`, wrapped as the post-processor does. */
  encode(text: string, addSpecialTokens: boolean): number[];
  decode(ids: number[]): string;
  tokenOf(id: number): string | undefined;
}

function readJson(file: string): Record<string, unknown> {
  const json = readJsonFile(file);
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UserError(`${file}: must be a JSON object`);
  return json as Record<string, unknown>;
}

/** A special token named by tokenizer_config.json or special_tokens_map.json: a string or {content}. */
function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/**
 * Loads dir/tokenizer.json. With `vocabSize` (config.json's vocab_size), refuses a tokenizer that can
 * produce ids the model has no embedding row for.
 */
export function loadTokenizer(dir: string, options: { vocabSize?: number } = {}): ModelTokenizer {
  const file = path.join(dir, TOKENIZER_FILE);
  if (!fs.existsSync(file)) throw new UserError(`${dir}: no ${TOKENIZER_FILE}`);
  const json = readJson(file);
  const configFile = path.join(dir, TOKENIZER_CONFIG_FILE);
  const config = fs.existsSync(configFile) ? readJson(configFile) : {};
  const mapFile = path.join(dir, SPECIAL_TOKENS_MAP_FILE);
  const specialMap = fs.existsSync(mapFile) ? readJson(mapFile) : {};
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, config);
  } catch (err) {
    throw new UserError(`${file}: cannot be loaded (${(err as Error).message})`);
  }
  const ids = [...tok.get_vocab(true).values()];
  const vocabSize = ids.length === 0 ? 0 : Math.max(...ids) + 1;
  if (options.vocabSize !== undefined && vocabSize > options.vocabSize) {
    throw new UserError(
      `${file}: token ids go up to ${vocabSize - 1} (${vocabSize} tokens), more than the model's vocab_size ${options.vocabSize} in config.json`,
    );
  }
  const special = (key: string): SpecialToken | undefined => {
    const token = tokenName(config[key]) ?? tokenName(specialMap[key]);
    if (token === undefined) return undefined;
    const id = tok.token_to_id(token);
    if (id === undefined) throw new UserError(`${configFile}: ${key} "${token}" is not a token of ${file}`);
    return { token, id };
  };
  const model = json.model as { type?: unknown } | undefined;
  return {
    file,
    modelType: typeof model?.type === 'string' ? model.type : 'unknown',
    vocabSize,
    bos: special('bos_token'),
    eos: special('eos_token'),
    encode: (text, addSpecialTokens) => tok.encode(text, { add_special_tokens: addSpecialTokens }).ids,
    decode: (ids) => tok.decode(ids),
    tokenOf: (id) => tok.id_to_token(id),
  };
}
