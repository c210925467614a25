// The run folder of architecture.md contract 4: config.json, metrics.jsonl (one line per
// step x split x group, written and flushed to the OS as each step ends), summary.json.
import fs from 'node:fs';
import path from 'node:path';
import { writeAll, writeJsonAtomic } from '../util/atomic-write.js';
import { filesystemErrorText, reportedAgainst, UserError } from '../util/errors.js';
import { provenance } from '../tensor/kernels/provenance.js';
import type { DataFingerprint, RunFingerprints } from './run-fingerprints.js';
import type { SourceOptions } from '../data/source-options.js';
import type { ResolvedConfig, TrainConfig } from './config.js';
import { METRIC_KEYS, type GroupMetrics } from './metrics.js';
import type { RunSetup, TrainResult } from './run-types.js';
import { readJsonFile } from '../util/json-file.js';
import { CHECKPOINTS_DIR } from './checkpoint.js';

export const METRICS_FILE = 'metrics.jsonl';
export const CONFIG_FILE = 'config.json';
export const SUMMARY_FILE = 'summary.json';
/** `--report-to tensorboard`'s event files, one folder per group (train/tensorboard.ts). */
export const TENSORBOARD_DIR = 'tensorboard';

/** Whether `name` is an entry `prefdyn train` writes in a run folder (contract 4); hidden ones are its temporaries and locks. */
export function isRunFolderEntry(name: string): boolean {
  return (
    [CONFIG_FILE, METRICS_FILE, SUMMARY_FILE, CHECKPOINTS_DIR, TENSORBOARD_DIR].includes(name) || name.startsWith('.')
  );
}

export interface MetricsLine {
  step: number;
  epoch: number;
  split: 'train' | 'test';
  group: string;
  n: number;
  [key: string]: number | string;
}

export function metricLines(
  step: number,
  epoch: number,
  split: 'train' | 'test',
  metrics: GroupMetrics[],
  weights: Record<string, number>,
): MetricsLine[] {
  return metrics.map((m) => ({ step, epoch, split, group: m.group, n: m.n, ...m.values, ...weights }));
}

export class MetricsWriter {
  private readonly fd: number;
  bytes: number;

  /**
   * Opens metrics.jsonl for appending; `truncateTo` cuts it back to a checkpoint's length first.
   * `mirror` receives every appended batch of lines too (TensorBoard).
   */
  constructor(
    readonly runDir: string,
    truncateTo?: number,
    private readonly mirror?: { write(lines: MetricsLine[]): void; close(): void },
  ) {
    const file = path.join(runDir, METRICS_FILE);
    try {
      if (truncateTo !== undefined) fs.truncateSync(file, truncateTo);
      this.fd = fs.openSync(file, truncateTo === undefined ? 'w' : 'a');
    } catch (err) {
      const cause = filesystemErrorText(reportedAgainst(err, file));
      throw new UserError(cause ?? `${file}: cannot open for writing: ${(err as Error).message}`);
    }
    this.bytes = truncateTo ?? 0;
  }

  /**
   * Appends whole lines. A failed write (a full disk) may leave a torn last line: it ends the run with
   * a one-line error, and --resume cuts the file back to the last checkpoint's length.
   */
  append(lines: MetricsLine[]): void {
    const text = Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join(''), 'utf8');
    try {
      writeAll(this.fd, text);
    } catch (err) {
      const file = path.join(this.runDir, METRICS_FILE);
      const cause = filesystemErrorText(reportedAgainst(err, file));
      if (cause === undefined) throw err;
      throw new UserError(
        `${cause}; the run stopped, its checkpoints are intact (continue with --resume ${this.runDir})`,
      );
    }
    this.bytes += text.byteLength;
    this.mirror?.write(lines);
  }

  close(): void {
    fs.closeSync(this.fd);
    this.mirror?.close();
  }
}

/** The data-source options of a run that decide its pairs, groups and split (--flip is in the config). */
export type RunSourceOptions = Pick<SourceOptions, 'skipInvalid' | 'fields'>;

interface RunConfigFile {
  /** `tokenize` is absent in run folders written before --tokenize existed. */
  config: Omit<TrainConfig, 'tokenize'> & Partial<Pick<TrainConfig, 'tokenize'>>;
  /** Absent in run folders written before the source options were recorded: they used the defaults. */
  source?: { skip_invalid: boolean; fields: NonNullable<SourceOptions['fields']> };
  sources?: ResolvedConfig['sources'];
  /** Absent in run folders of older versions: their inputs cannot be checked on --resume. */
  fingerprints?: RunFingerprints;
}

/** A run's config.json as --resume reads it. */
export interface SavedRun {
  file: string;
  config: TrainConfig;
  source: RunSourceOptions;
  /** Where each value came from when the run started (absent in very old run folders). */
  sources: ResolvedConfig['sources'] | undefined;
  fingerprints: RunFingerprints | undefined;
}

/**
 * config.json: every option with where its value came from, the data-source options (so --resume
 * reads the same pairs into the same groups; default: the loaders' defaults), the inputs' fingerprints
 * and what computes (provenance.ts); max_length 0 (the model's context) is recorded as the length it
 * resolved to.
 */
export function writeRunConfig(
  runDir: string,
  resolved: ResolvedConfig,
  setup: RunSetup,
  source: RunSourceOptions,
  fingerprints: RunFingerprints,
): void {
  const saved: RunConfigFile & { provenance: unknown } = {
    config: { ...resolved.config, max_length: setup.truncation.max_length },
    sources: resolved.sources,
    source: { skip_invalid: source.skipInvalid ?? false, fields: source.fields ?? {} },
    fingerprints,
    provenance: provenance(),
  };
  writeJsonAtomic(path.join(runDir, CONFIG_FILE), saved);
}

/** The saved config, source options and fingerprints of a run folder, for --resume. */
export function readRunConfig(runDir: string): SavedRun {
  const file = path.join(runDir, CONFIG_FILE);
  const saved = readJsonFile(file) as RunConfigFile;
  if (saved === null || typeof saved !== 'object' || typeof saved.config !== 'object' || saved.config === null)
    throw new UserError(`${file}: not a run's config.json (no "config" object)`);
  return {
    file,
    // Runs written before --tokenize existed tokenised each response alone: resume them so.
    config: { ...saved.config, tokenize: saved.config.tokenize ?? 'separate' },
    source: { skipInvalid: saved.source?.skip_invalid ?? false, fields: saved.source?.fields ?? {} },
    sources: saved.sources,
    fingerprints: saved.fingerprints,
  };
}

/** The data fingerprint a run folder's config.json records, if it records one (older runs do not). */
export function runDataFingerprint(runDir: string): DataFingerprint | undefined {
  const file = path.join(runDir, CONFIG_FILE);
  if (!fs.existsSync(file)) return undefined;
  const saved = readJsonFile(file) as Partial<RunConfigFile> | null;
  return saved?.fingerprints?.data;
}

/**
 * The group metrics of one step and split as metrics.jsonl's first `bytes` bytes hold them (for the
 * summary of a run whose summary.json was not written): the line's numbers less the weight norms.
 */
export function metricsAt(runDir: string, bytes: number, step: number, split: 'train' | 'test'): GroupMetrics[] {
  const fd = fs.openSync(path.join(runDir, METRICS_FILE), 'r');
  const buf = Buffer.alloc(bytes);
  try {
    fs.readSync(fd, buf, 0, bytes, 0);
  } finally {
    fs.closeSync(fd);
  }
  return buf
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as MetricsLine)
    .filter((l) => l.step === step && l.split === split)
    .map(({ group, n, step: _s, epoch: _e, split: _p, ...rest }) => ({
      group,
      n,
      // The group's metrics only: lines also carry per-step keys (weights/*, grad_norm, learning_rate).
      values: Object.fromEntries(METRIC_KEYS.map((k) => [k, rest[k]])) as GroupMetrics['values'],
    }));
}

/** summary.json: how the run ended, what was trained on what, the last metrics and the checkpoints (result.checkpoints, oldest first). */
export function writeRunSummary(runDir: string, resolved: ResolvedConfig, setup: RunSetup, result: TrainResult): void {
  writeJsonAtomic(path.join(runDir, SUMMARY_FILE), {
    status: result.status,
    steps: result.steps,
    total_steps: result.totalSteps,
    policy: setup.policy.description,
    beta: resolved.config.beta,
    beta_source: resolved.sources.beta,
    n_pairs: setup.pairs.length,
    n_train: setup.data.train.length,
    n_test: setup.data.test.length,
    truncation: setup.truncation,
    notes: setup.notes,
    final_train: result.lastTrain?.map((m) => ({ group: m.group, n: m.n, ...m.values })),
    final_test: result.lastTest?.map((m) => ({ group: m.group, n: m.n, ...m.values })),
    checkpoints: result.checkpoints.map((p) => path.relative(runDir, p)),
    provenance: provenance(),
  });
}
