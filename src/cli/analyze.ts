// `prefdyn analyze`: distinguishability and predicted learning order from an embeddings file.
import { type Command, type ParsedArgs } from './command.js';
import { UsageError } from '../util/errors.js';
import { NON_NEGATIVE_INTEGER, parseList, parseNumber, POSITIVE_INTEGER } from '../util/option-value.js';
import { checkOutputFile } from '../util/output-path.js';
import { analyzeEmbeddings } from '../analysis/analyze.js';
import { analysisTable } from '../report/analysis-table.js';
import { openEmbeddingsFile } from '../analysis/embeddings-file.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { embeddingsForAnalysis } from '../analysis/embed-for-analysis.js';
import { cacheDir } from '../util/cache-dir.js';
import { rowsDataFingerprint, sourceDataFingerprint } from '../analysis/data-fingerprint.js';
import { addSourceOptions, SOURCE_OPTIONS_HELP, sourceOptionsFromArgs } from './data-options.js';
import {
  PAIR_TOKEN_OPTIONS,
  PAIR_TOKEN_OPTIONS_HELP,
  POSITION_OPTION,
  POSITION_OPTION_HELP,
  positionArg,
  tokenizeArg,
  truncationArgs,
} from './scoring-options.js';

export const command: Command = {
  name: 'analyze',
  summary: 'distinguishability per group and the predicted learning order (before training)',
  help: `Usage: prefdyn analyze --embeddings NAME [--mix G1,G2,...] [--bootstrap 200] [--seed 1234] [--json FILE]
       prefdyn analyze --model DIR --data SRC [--cache DIR] [same options]

Reads NAME.safetensors (tensor "embeddings" [N, d] F32, or F16/BF16) and NAME.rows.jsonl ({"id", "group", "label"}
per row, label +1/-1; an optional "prompt" enables the near-duplicate check) and prints, per group:
n+, n-, delta = ||mu+ - mu-||, delta_u (its unbiased version, theory.md s.7), concentration (largest covariance eigenvalue), delta/sqrt(conc), the
Fisher ratio along mu+ - mu-, the fitted tail exponent, the initial margin velocity in the mix, the
predicted rank with its bootstrap interval, and the one-step accuracy with its Cantelli bound.
With --model and --data it first embeds the pairs (as \`prefdyn embed\`) into a cached embeddings file.

Options:
  --embeddings NAME   embeddings file (contract 3), with or without ".safetensors"
  --mix G1,G2,...     groups trained together (default: all groups)
  --bootstrap R       bootstrap replicates for intervals, 0 to skip (default 200)
  --seed S            seed of the bootstrap (default 1234)
  --json FILE         also write the full analysis (contract 5) to FILE
  --model DIR         embed with this model instead of reading --embeddings
  --data SRC          the data source to embed (with --model)
  --cache DIR         where embeddings made with --model are kept (default $PREFDYN_CACHE_DIR/embeddings,
                      i.e. .cache/embeddings; the trainer's caches live beside it)
  --batch-size N      sequences per forward pass when embedding (default 8)
${POSITION_OPTION_HELP}
${PAIR_TOKEN_OPTIONS_HELP}
${SOURCE_OPTIONS_HELP}

Example:
  prefdyn analyze --embeddings emb/persona --mix agreeableness,subscribes-to-Buddhism --json a.json`,
  options: addSourceOptions({
    embeddings: { type: 'string' },
    model: { type: 'string' },
    data: { type: 'string' },
    cache: { type: 'string' },
    'batch-size': { type: 'string', default: '8' },
    ...POSITION_OPTION,
    ...PAIR_TOKEN_OPTIONS,
    mix: { type: 'string' },
    bootstrap: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1234' },
    json: { type: 'string' },
  }),
  async run({ values }) {
    if (typeof values.json === 'string') checkOutputFile('--json', values.json);
    const name = await embeddingsName(values);
    const bootstrap = parseNumber('--bootstrap', values.bootstrap, NON_NEGATIVE_INTEGER);
    const seed = parseNumber('--seed', values.seed, NON_NEGATIVE_INTEGER);
    const mix = values.mix === undefined ? undefined : parseList('--mix', values.mix);
    const source = openEmbeddingsFile(name);
    let report;
    try {
      report = analyzeEmbeddings(source, { mix, bootstrap, seed });
    } finally {
      source.close();
    }
    report.source.embeddings = name;
    const data_fingerprint =
      typeof values.data === 'string'
        ? await sourceDataFingerprint(values.data, sourceOptionsFromArgs(values))
        : rowsDataFingerprint(source.rows);
    if (typeof values.json === 'string') writeJsonAtomic(values.json, { ...report, data_fingerprint });
    process.stdout.write(analysisTable(report) + '\n');
  },
};

/** --embeddings NAME, or the cached embeddings of --model DIR over --data SRC (made first if needed). */
async function embeddingsName(values: ParsedArgs['values']): Promise<string> {
  const { embeddings, model, data } = values;
  if (typeof embeddings === 'string') {
    if (model !== undefined || data !== undefined)
      throw new UsageError('give either --embeddings NAME or --model DIR --data SRC, not both');
    if (values.position !== undefined)
      throw new UsageError('--position chooses where --model embeds; an embeddings file already has its position');
    return embeddings;
  }
  if (typeof model !== 'string' || typeof data !== 'string') {
    throw new UsageError(
      'analyze needs --embeddings NAME (NAME.safetensors + NAME.rows.jsonl), or --model DIR and --data SRC',
    );
  }
  const batchSize = parseNumber('--batch-size', values['batch-size'], POSITIVE_INTEGER);
  const made = await embeddingsForAnalysis({
    model,
    data,
    source: sourceOptionsFromArgs(values),
    batchSize,
    position: positionArg(values),
    truncation: truncationArgs(values),
    tokenize: tokenizeArg(values),
    cacheDir: typeof values.cache === 'string' ? values.cache : cacheDir('embeddings'),
  });
  for (const line of [made.note, made.warning]) if (line) process.stderr.write(`prefdyn: ${line}\n`);
  process.stderr.write(`prefdyn: ${made.cached ? 'using cached' : 'wrote'} embeddings ${made.name}.safetensors\n`);
  return made.name;
}
