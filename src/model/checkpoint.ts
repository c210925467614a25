// Model folders in the Hugging Face layout (architecture.md contract 1): config.json, model.safetensors
// (or shards + index), tokenizer files. Everything is checked against the config before any compute.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFolderAtomic } from '../util/atomic-write.js';
import { checkOutputFolder, type OutputFolderRules } from '../util/output-path.js';
import { CHAT_TEMPLATE_FILE } from '../tokenizer/chat-template.js';
import { CONFIG_FILE, expectedTensors, readModelConfig, writeModelConfig, type ModelConfig } from './config.js';
import { FLOAT_DTYPES, isFloatDtype, type Dtype, type WriteDtype } from './dtype.js';
import type { HalfStorage } from '../tensor/half.js';
import {
  INDEX_FILE,
  openCheckpointTensors,
  SINGLE_FILE,
  writeSafetensors,
  type CheckpointTensors,
} from './safetensors.js';

export interface Weight {
  shape: number[];
  data: Float32Array;
}

/** Weights by Hugging Face tensor name, as expectedTensors(config) lists them. */
export type Weights = Map<string, Weight>;

/** A weight as a model holds it: F32, or a frozen matrix kept in its stored 16-bit type. */
export interface StoredWeight {
  shape: number[];
  data: Float32Array | HalfStorage;
}

export type StoredWeights = Map<string, StoredWeight>;

/** The tokenizer files copied along with a checkpoint, when present. */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  CHAT_TEMPLATE_FILE,
];

// Stored tensors that are not weights: GPT-2's attention-mask buffers, Llama's cached RoPE
// frequencies (older checkpoints), GPT-NeoX's mask and RoPE buffers (Pythia's checkpoints), and a tied
// lm_head that some writers save anyway.
const BUFFER_PATTERNS = [
  /^h\.\d+\.attn\.(bias|masked_bias)$/,
  /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/,
  /^gpt_neox\.layers\.\d+\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$/,
];

export interface ValidatedCheckpoint {
  config: ModelConfig;
  /** The safetensors files. */
  files: string[];
  /** Stored name of each expected tensor (GPT-2 checkpoints may prefix "transformer."). */
  storedNames: Map<string, string>;
  /** Stored tensors that are buffers, not weights, and are skipped. */
  skipped: string[];
  /** Stored dtype -> number of expected tensors with it. */
  dtypes: Map<Dtype, number>;
  /** Bytes of the weights as a model holds them (loadStoredWeights: 16-bit matrices 2 bytes each, the rest F32). */
  keptBytes: number;
}

function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Checks names, shapes and dtypes of every tensor against config.json; returns the open tensors too. */
function openValidated(dir: string): ValidatedCheckpoint & { tensors: CheckpointTensors } {
  const config = readModelConfig(dir);
  const tensors = openCheckpointTensors(dir);
  try {
    const where = tensors.files.length === 1 ? tensors.files[0]! : path.join(dir, INDEX_FILE);
    // GPT2LMHeadModel saves its GPT2Model under "transformer." and its (untied) lm_head.weight at the top.
    const prefix =
      config.arch === 'gpt2' && !tensors.has('wte.weight') && tensors.has('transformer.wte.weight')
        ? 'transformer.'
        : '';
    const storedName = (name: string) => (name === 'lm_head.weight' ? name : prefix + name);
    const storedNames = new Map<string, string>();
    const dtypes = new Map<Dtype, number>();
    let keptBytes = 0;
    for (const { name, shape } of expectedTensors(config)) {
      const stored = storedName(name);
      if (!tensors.has(stored)) {
        throw new UserError(
          `${where}: missing tensor "${stored}" (expected shape ${showShape(shape)} for this ${config.arch} config.json)`,
        );
      }
      const info = tensors.info(stored);
      if (info.shape.length !== shape.length || info.shape.some((s, i) => s !== shape[i])) {
        throw new UserError(
          `${info.file}: tensor "${stored}" has shape ${showShape(info.shape)}, expected ${showShape(shape)} from config.json`,
        );
      }
      if (!isFloatDtype(info.dtype)) {
        throw new UserError(
          `${info.file}: tensor "${stored}" has dtype ${info.dtype}; expected a float dtype (${FLOAT_DTYPES.join(', ')})`,
        );
      }
      storedNames.set(name, stored);
      dtypes.set(info.dtype, (dtypes.get(info.dtype) ?? 0) + 1);
      const half = shape.length === 2 && (info.dtype === 'F16' || info.dtype === 'BF16');
      keptBytes += shape.reduce((a, b) => a * b, 1) * (half ? 2 : 4);
    }
    const expected = new Set(storedNames.values());
    const skipped: string[] = [];
    for (const stored of tensors.names()) {
      if (expected.has(stored)) continue;
      const bare = stored.startsWith(prefix) ? stored.slice(prefix.length) : stored;
      const isBuffer =
        BUFFER_PATTERNS.some((p) => p.test(bare)) || (config.tieWordEmbeddings && stored === 'lm_head.weight');
      if (!isBuffer) {
        throw new UserError(
          `${tensors.info(stored).file}: unexpected tensor "${stored}": not part of a ${config.arch} model with this config.json`,
        );
      }
      skipped.push(stored);
    }
    return { config, files: tensors.files, storedNames, skipped, dtypes, keptBytes, tensors };
  } catch (err) {
    tensors.close();
    throw err;
  }
}

/** Validates a model folder from its headers alone (no weights read). */
export function validateCheckpoint(dir: string): ValidatedCheckpoint {
  const { tensors, ...checked } = openValidated(dir);
  tensors.close();
  return checked;
}

/**
 * The dtype a checkpoint's weights are stored in (the most common among them; F64 counts as F32): what
 * merge and full fine-tuning write by default.
 */
export function storedDtype(dtypes: Map<Dtype, number>): WriteDtype {
  let best: WriteDtype = 'F32';
  let most = 0;
  for (const [d, n] of dtypes) {
    const w: WriteDtype = d === 'F16' || d === 'BF16' ? d : 'F32';
    if (n > most) [best, most] = [w, n];
  }
  return best;
}

function readValidated<W>(
  dir: string,
  read: (tensors: CheckpointTensors, stored: string, shape: number[]) => W,
): { config: ModelConfig; weights: Map<string, W>; dtype: WriteDtype } {
  const { config, storedNames, tensors, dtypes } = openValidated(dir);
  try {
    const weights = new Map<string, W>();
    for (const { name, shape } of expectedTensors(config))
      weights.set(name, read(tensors, storedNames.get(name)!, shape));
    return { config, weights, dtype: storedDtype(dtypes) };
  } finally {
    tensors.close();
  }
}

/** Reads a validated model folder's weights as Float32 (F16, BF16 and F64 converted). */
export async function loadWeights(dir: string): Promise<{ config: ModelConfig; weights: Weights; dtype: WriteDtype }> {
  return readValidated(dir, (tensors, stored, shape) => ({ shape, data: tensors.readF32(stored) }));
}

/**
 * Reads a validated model folder's weights as a model holds them: F16/BF16 matrices (rank 2: the
 * projections, embeddings, lm_head; nearly all the bytes) stay in their 16-bit type, everything else is F32.
 */
export async function loadStoredWeights(
  dir: string,
): Promise<{ config: ModelConfig; weights: StoredWeights; dtype: WriteDtype }> {
  return readValidated(dir, (tensors, stored, shape) => ({
    shape,
    data: shape.length === 2 ? tensors.readStored(stored) : tensors.readF32(stored),
  }));
}

/** Whether `name` is an entry of a model folder as prefdyn (or Hugging Face) writes it: weights, config, tokenizer. */
export function isModelFolderEntry(name: string): boolean {
  return (
    [CONFIG_FILE, SINGLE_FILE, INDEX_FILE, ...TOKENIZER_FILES].includes(name) ||
    /^model-\d+-of-\d+\.safetensors$/.test(name)
  );
}

/**
 * Throws unless `dir` may receive a model folder (util/output-path.ts): absent, empty, or holding only
 * model-folder entries (it is replaced), or anything with `overwrite`; never one of `inputs`.
 * Commands call it before long work so that a wrong --out fails at once.
 */
export function checkModelFolderTarget(
  dir: string,
  options: { overwrite?: boolean; inputs?: OutputFolderRules['inputs'] } = {},
): void {
  checkOutputFolder('--out', dir, { writes: isModelFolderEntry, replaces: true, ...options });
}

const TORCH_DTYPE: Record<WriteDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/**
 * Writes a model folder: config.json, model.safetensors (dtype default F32) and the tokenizer files
 * found in `tokenizerSrcDir`. Built in a temporary sibling folder and renamed into place, so `dir` is
 * never left half-written; an existing model folder at `dir` is replaced (any other folder only with `overwrite`).
 */
export function saveCheckpoint(
  dir: string,
  config: ModelConfig,
  weights: StoredWeights,
  tokenizerSrcDir?: string,
  options: { dtype?: WriteDtype; overwrite?: boolean } = {},
): void {
  const dtype = options.dtype ?? 'F32';
  const expected = expectedTensors(config);
  for (const { name, shape } of expected) {
    const w = weights.get(name);
    if (!w) throw new Error(`saveCheckpoint: no weight "${name}"`);
    if (showShape(w.shape) !== showShape(shape)) {
      throw new Error(`saveCheckpoint: weight "${name}" has shape ${showShape(w.shape)}, expected ${showShape(shape)}`);
    }
  }
  if (weights.size !== expected.length) {
    const known = new Set(expected.map((t) => t.name));
    const extra = [...weights.keys()].filter((k) => !known.has(k));
    throw new Error(`saveCheckpoint: weights not part of a ${config.arch} model: ${extra.join(', ')}`);
  }
  checkModelFolderTarget(dir, { overwrite: options.overwrite });
  writeFolderAtomic(dir, (tmp) => {
    writeModelConfig(tmp, { ...config, raw: { ...config.raw, torch_dtype: TORCH_DTYPE[dtype] } });
    writeSafetensors(
      path.join(tmp, SINGLE_FILE),
      expected.map(({ name, shape }) => ({ name, shape, data: weights.get(name)!.data, dtype })),
      { format: 'pt' },
    );
    if (tokenizerSrcDir !== undefined) {
      if (!fs.existsSync(path.join(tokenizerSrcDir, 'tokenizer.json'))) {
        throw new UserError(`${tokenizerSrcDir}: no tokenizer.json to copy`);
      }
      for (const f of TOKENIZER_FILES) {
        const src = path.join(tokenizerSrcDir, f);
        if (fs.existsSync(src)) fs.copyFileSync(src, path.join(tmp, f));
      }
    }
  });
}
