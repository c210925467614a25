// Distinguishability of a model's prompt embeddings (theory.md s.3), as `prefdyn analyze --model
// --data` computes it (same embeddings cache), plus the mean squared embedding norm that scales the
// last-layer learning rate (last-layer-lr.ts).
import type { AnalysisReport } from '../analysis/analysis-report.js';
import { analyzeEmbeddings } from '../analysis/analyze.js';
import { embeddingsForAnalysis } from '../analysis/embed-for-analysis.js';
import { embeddingsPaths, openEmbeddingsFile, type EmbeddingSource } from '../analysis/embeddings-file.js';
import { writeSafetensors } from '../model/safetensors.js';
import type { EmbedPosition } from '../model/embed.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import { cacheDir } from '../util/cache-dir.js';
import type { PairTokenization } from '../tokenizer/pair.js';

export interface ModelAnalysis {
  report: AnalysisReport;
  /** E ||g||^2 over every row: the scale of the last-layer logistic regression. */
  meanSquaredNorm: number;
  cached: boolean;
}

/**
 * Analyses `model` on `data` (all groups as one mix) and writes the analysis JSON (contract 5) to `jsonFile`;
 * with `keep`, also one group's embeddings as an embeddings file (contract 3) named `keep.name` (for the
 * report's embedding clouds, figure 5).
 */
export async function analyzeModel(
  model: string,
  data: string,
  o: {
    position: EmbedPosition;
    bootstrap: number;
    seed: number;
    jsonFile: string;
    tokenize: PairTokenization;
    keep?: { group: string; name: string };
  },
): Promise<ModelAnalysis> {
  const made = await embeddingsForAnalysis({
    model,
    data,
    source: {},
    batchSize: 8,
    position: o.position,
    truncation: {},
    tokenize: o.tokenize,
    cacheDir: cacheDir('embeddings'),
  });
  const source = openEmbeddingsFile(made.name);
  try {
    const report = analyzeEmbeddings(source, { bootstrap: o.bootstrap, seed: o.seed });
    writeJsonAtomic(o.jsonFile, report);
    if (o.keep) writeGroupEmbeddings(source, o.keep.group, o.keep.name);
    return { report, meanSquaredNorm: meanSquaredNorm(source), cached: made.cached };
  } finally {
    source.close();
  }
}

/** Mean over rows of ||g||^2, accumulated in float64. */
export function meanSquaredNorm(source: EmbeddingSource): number {
  let sum = 0;
  let n = 0;
  for (const group of source.groups) {
    const { x, labels } = source.readGroup(group);
    for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
    n += labels.length;
  }
  return sum / n;
}

/** One group's rows of `source` as an embeddings file (contract 3): rows file first, tensors last, as embed-for-analysis.ts. */
function writeGroupEmbeddings(source: EmbeddingSource, group: string, name: string): void {
  const { x, d } = source.readGroup(group);
  const rows = source.rows.filter((r) => r.group === group);
  const paths = embeddingsPaths(name);
  writeFileAtomic(
    paths.rows,
    rows.map((r) => JSON.stringify({ id: r.id, group: r.group, label: r.label }) + '\n').join(''),
  );
  const position = source.embeddingPosition;
  const metadata = position === null ? undefined : { embedding_position: position };
  writeSafetensors(paths.tensors, [{ name: 'embeddings', shape: [rows.length, d], data: x }], metadata);
}
