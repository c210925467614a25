// `prefdyn analyze --model DIR --data SRC`: embeds the pairs with the model (src/model/embed.ts) into an
// embeddings file (contract 3) kept in the disk cache (train/disk-cache.ts: checksummed, keyed by the
// kernels, the model's content hash, the pairs' content and the options), so a second analysis of the
// same data reuses it. The rows carry the prompt, which enables the near-duplicate check.
import { createHash } from 'node:crypto';
import { loadSource } from '../data/source.js';
import type { PreferencePair } from '../data/pair.js';
import type { SourceOptions } from '../data/source-options.js';
import { embedPairs, positionMetadata, type EmbedPosition } from '../model/embed.js';
import { loadModelForScoring } from '../model/load.js';
import { scoringCheck } from '../model/memory-estimate.js';
import { truncationLimits, truncationMetadata, type TruncationRequest } from '../model/context-length.js';
import { SafetensorsFile, writeSafetensors } from '../model/safetensors.js';
import { cachedEntry, type EntryKey } from '../train/disk-cache.js';
import { folderHash } from '../util/file-hash.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { stderrCounter } from '../util/progress.js';
import type { PairTokenization } from '../tokenizer/pair.js';

export interface EmbedRequest {
  model: string;
  data: string;
  source: SourceOptions;
  batchSize: number;
  /** Where g(x) is taken (model/embed.ts); 'auto': newline for Yes/No pairs, else response. */
  position: EmbedPosition | 'auto';
  cacheDir: string;
  /** --max-length / --max-prompt-length as asked (absent: the model's context, covered by its folder hash). */
  truncation: TruncationRequest;
  tokenize: PairTokenization;
}

/** The cache key of the embeddings of `pairs` (as loaded from req.data with req.source). */
export function embeddingsKey(req: EmbedRequest, pairs: readonly PreferencePair[]): EntryKey {
  const inputs = createHash('sha256');
  for (const p of pairs) inputs.update(JSON.stringify(p) + '\n');
  const truncation = {
    max_length: req.truncation.maxLength ?? 'model',
    max_prompt_length: req.truncation.maxPromptLength ?? 'none',
  };
  return {
    purpose: 'embeddings',
    model: folderHash(req.model),
    inputs: inputs.digest('hex'),
    settings: `last-token hidden states, position ${req.position}; batch ${req.batchSize}; truncation ${JSON.stringify(truncation)}; tokenize ${req.tokenize}`,
  };
}

/**
 * The embeddings file's NAME (cached or freshly written), whether it came from the cache, and, when
 * freshly written, the note on truncated pairs (undefined when none were cut); `warning` when Yes/No
 * answers are not one token each (kept in the file's metadata, so a cached file repeats it).
 */
export async function embeddingsForAnalysis(
  req: EmbedRequest,
): Promise<{ name: string; cached: boolean; note?: string; warning?: string }> {
  const { pairs } = await loadSource(req.data, req.source);
  let note: string | undefined;
  const entry = await cachedEntry({
    dir: req.cacheDir,
    prefix: 'embeddings-',
    key: embeddingsKey(req, pairs),
    suffixes: ['.safetensors', '.rows.jsonl'],
    describe: { model: req.model, data: req.data },
    read: () => undefined,
    compute: async ([tensors, rowsFile]) => {
      const { model, tokenizer } = await loadModelForScoring(
        req.model,
        undefined,
        scoringCheck('analyze --model', pairs, req.truncation, req.batchSize, req.tokenize),
      );
      const limits = truncationLimits(req.truncation, model.config);
      const made = embedPairs(model, tokenizer, pairs, {
        position: req.position,
        batchSize: req.batchSize,
        limits,
        tokenize: req.tokenize,
        onProgress: stderrCounter('embedding'),
      });
      note = made.note;
      // embedPairs writes one row per pair ('question', 'newline') or two, chosen then rejected ('response').
      const perPair = made.position === 'response' ? 2 : 1;
      writeFileAtomic(
        rowsFile!,
        made.rows
          .map((r, i) => JSON.stringify({ ...r, prompt: pairs[Math.floor(i / perPair)]!.prompt }) + '\n')
          .join(''),
      );
      writeSafetensors(tensors!, [{ name: 'embeddings', shape: [made.rows.length, made.d], data: made.data }], {
        ...positionMetadata(made.position),
        model: req.model,
        data: req.data,
        ...truncationMetadata(limits),
        tokenize: req.tokenize,
        ...(made.warning ? { answer_warning: made.warning } : {}),
      });
    },
  });
  const file = SafetensorsFile.open(entry.file);
  let warning: string | undefined;
  try {
    warning = file.metadata.answer_warning;
  } finally {
    file.close();
  }
  return { name: entry.file.slice(0, -'.safetensors'.length), cached: entry.cached, note, warning };
}
