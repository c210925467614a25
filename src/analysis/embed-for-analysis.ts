// `prefdyn analyze --model DIR --data SRC`: embeds the pairs with the model (src/model/embed.ts) into an
// embeddings file (contract 3) under a cache folder, keyed by a fingerprint of the model files, the data
// source and its options (content hashes, as the trainer's caches), so a second analysis of the same
// data reuses it. The rows carry the prompt, which enables the near-duplicate check.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadSource } from '../data/source.js';
import type { SourceOptions } from '../data/source-options.js';
import { embedPairs } from '../model/embed.js';
import { loadModelForScoring } from '../model/load.js';
import { truncationLimits, truncationMetadata, type TruncationRequest } from '../model/context-length.js';
import { writeSafetensors } from '../model/safetensors.js';
import { fileHash, folderHash } from '../util/file-hash.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { embeddingsPaths } from './embeddings-file.js';
import { stderrCounter } from '../util/progress.js';

export interface EmbedRequest {
  model: string;
  data: string;
  source: SourceOptions;
  batchSize: number;
  cacheDir: string;
  /** --max-length / --max-prompt-length as asked (absent: the model's context, covered by its folder hash). */
  truncation: TruncationRequest;
}

/** Content hashes of the model folder and of the data file when SRC is one (memoised, util/file-hash.ts), and the options, truncation included. */
export function embeddingsFingerprint(req: EmbedRequest): string {
  const h = createHash('sha256');
  h.update(`model=${folderHash(req.model)}\n`);
  h.update(`data=${req.data}\n`);
  if (fs.existsSync(req.data) && fs.statSync(req.data).isFile()) h.update(`data-file=${fileHash(req.data)}\n`);
  h.update(JSON.stringify({ flip: req.source.flip ?? false, fields: req.source.fields ?? {} }));
  h.update(
    `\ntruncation=${JSON.stringify({ max_length: req.truncation.maxLength ?? 'model', max_prompt_length: req.truncation.maxPromptLength ?? 'none' })}\n`,
  );
  return h.digest('hex').slice(0, 16);
}

/**
 * The embeddings file's NAME (cached or freshly written), whether it came from the cache, and, when
 * freshly written, the note on truncated pairs (undefined when none were cut).
 */
export async function embeddingsForAnalysis(
  req: EmbedRequest,
): Promise<{ name: string; cached: boolean; note?: string }> {
  const name = path.join(req.cacheDir, `embeddings-${embeddingsFingerprint(req)}`);
  const paths = embeddingsPaths(name);
  if (fs.existsSync(paths.tensors) && fs.existsSync(paths.rows)) return { name, cached: true };
  const { pairs } = await loadSource(req.data, req.source);
  const { model, tokenizer } = await loadModelForScoring(req.model);
  const limits = truncationLimits(req.truncation, model.config);
  const { data, d, rows, position, note } = embedPairs(model, tokenizer, pairs, {
    position: 'auto',
    batchSize: req.batchSize,
    limits,
    onProgress: stderrCounter('embedding'),
  });
  // embedPairs writes one row per pair ('prompt') or two, chosen then rejected ('response').
  const perPair = position === 'prompt' ? 1 : 2;
  // Rows first, tensors last: a cache entry counts only when both exist, so an interrupted run is redone.
  writeFileAtomic(
    paths.rows,
    rows.map((r, i) => JSON.stringify({ ...r, prompt: pairs[Math.floor(i / perPair)]!.prompt }) + '\n').join(''),
  );
  writeSafetensors(paths.tensors, [{ name: 'embeddings', shape: [rows.length, d], data }], {
    position,
    model: req.model,
    data: req.data,
    ...truncationMetadata(limits),
  });
  return { name, cached: false, note };
}
