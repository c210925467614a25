// A model folder's tokenizer: tokenizer.json (+ tokenizer_config.json) through @huggingface/tokenizers,
// which runs the file's own normaliser, pre-tokeniser, model and post-processor (so special tokens are
// added exactly as the post-processor says: BOS for Llama's TemplateProcessing, none for GPT-2's ByteLevel).
// tokenizer_config.json's `add_bos_token` / `add_eos_token`, where given, override the post-processor
// (as transformers' Llama tokenizers rebuild it from them); its special tokens (bos/eos/pad/unk, and
// the ids of `added_tokens_decoder`) must be tokens of tokenizer.json; its `chat_template` (or a
// chat_template.jinja file beside it) is compiled here (chat-template.ts).
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import { readChatTemplate, type ChatTemplate } from './chat-template.js';

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
  readonly pad: SpecialToken | undefined;
  readonly unk: SpecialToken | undefined;
  /** The ids encode(text, true) puts before and after the text's own (Llama: [BOS] and []). */
  readonly specialPrefix: readonly number[];
  readonly specialSuffix: readonly number[];
  /** The model's chat template, when tokenizer_config.json or chat_template.jinja has one. */
  readonly chatTemplate: ChatTemplate | undefined;
  /** Token ids of `text`; with `addSpecialTokens`, wrapped in specialPrefix and specialSuffix. */
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
  // The largest id, counted in a loop: a spread of 128k ids overflows the call stack.
  let maxId = -1;
  for (const id of tok.get_vocab(true).values()) if (id > maxId) maxId = id;
  const vocabSize = maxId + 1;
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
  checkAddedTokens(config.added_tokens_decoder, (token) => tok.token_to_id(token), configFile, file);
  const bos = special('bos_token');
  const eos = special('eos_token');
  const pad = special('pad_token');
  const unk = special('unk_token');
  const raw = (text: string): number[] => tok.encode(text, { add_special_tokens: false }).ids;
  const { prefix, suffix } = specialWrapping(config, configFile, file, bos, eos, (text) => tok.encode(text).ids, raw);
  const model = json.model as { type?: unknown } | undefined;
  return {
    file,
    modelType: typeof model?.type === 'string' ? model.type : 'unknown',
    vocabSize,
    bos,
    eos,
    pad,
    unk,
    specialPrefix: prefix,
    specialSuffix: suffix,
    chatTemplate: readChatTemplate(dir, config, { bos, eos, pad, unk }),
    encode: (text, addSpecialTokens) => (addSpecialTokens ? [...prefix, ...raw(text), ...suffix] : raw(text)),
    decode: (ids) => tok.decode(ids),
    tokenOf: (id) => tok.id_to_token(id),
  };
}

/** added_tokens_decoder ({"<id>": {"content": ...}}): every entry must be that id in tokenizer.json. */
function checkAddedTokens(
  decoder: unknown,
  idOf: (token: string) => number | undefined,
  configFile: string,
  file: string,
): void {
  if (decoder === undefined) return;
  if (typeof decoder !== 'object' || decoder === null || Array.isArray(decoder))
    throw new UserError(`${configFile}: added_tokens_decoder must be an object of "<id>": {"content": ...}`);
  for (const [key, value] of Object.entries(decoder)) {
    const token = tokenName(value);
    if (token === undefined)
      throw new UserError(`${configFile}: added_tokens_decoder["${key}"] has no "content" string`);
    const id = idOf(token);
    if (id !== Number(key))
      throw new UserError(
        `${configFile}: added_tokens_decoder["${key}"] is "${token}", which ${file} ${id === undefined ? 'does not have' : `has as id ${id}`}`,
      );
  }
}

/**
 * The ids encode(text, true) adds around a text. With add_bos_token / add_eos_token in tokenizer_config.json:
 * [BOS] when add_bos_token, [EOS] when add_eos_token (transformers' Llama tokenizers rebuild their
 * post-processor from these). Otherwise the post-processor's, read off the encoding of one character.
 */
function specialWrapping(
  config: Record<string, unknown>,
  configFile: string,
  file: string,
  bos: SpecialToken | undefined,
  eos: SpecialToken | undefined,
  withSpecial: (text: string) => number[],
  raw: (text: string) => number[],
): { prefix: number[]; suffix: number[] } {
  const flag = (key: string, token: SpecialToken | undefined, name: string): number[] | undefined => {
    const value = config[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw new UserError(`${configFile}: ${key} must be true or false`);
    if (!value) return [];
    if (!token) throw new UserError(`${configFile}: ${key} is true but there is no ${name}_token`);
    return [token.id];
  };
  const addBos = flag('add_bos_token', bos, 'bos');
  const addEos = flag('add_eos_token', eos, 'eos');
  const probe = 'a';
  const wrapped = withSpecial(probe);
  const own = raw(probe);
  let at = 0;
  while (at + own.length <= wrapped.length && own.some((id, i) => wrapped[at + i] !== id)) at++;
  if (at + own.length > wrapped.length)
    throw new UserError(
      `${file}: its post-processor changes the tokens of the text itself; prefdyn supports post-processors that add special tokens around it`,
    );
  return { prefix: addBos ?? wrapped.slice(0, at), suffix: addEos ?? wrapped.slice(at + own.length) };
}
