// The run folder of architecture.md contract 4: config.json, metrics.jsonl (one line per
// step x split x group, written and flushed to the OS as each step ends), summary.json.
import fs from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { SourceOptions } from '../data/source-options.js';
import type { ResolvedConfig, TrainConfig } from './config.js';
import type { GroupMetrics } from './metrics.js';
import type { RunSetup } from './setup.js';
import type { TrainResult } from './trainer.js';
import { readJsonFile } from '../util/json-file.js';

export const METRICS_FILE = 'metrics.jsonl';

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
    if (truncateTo !== undefined) fs.truncateSync(file, truncateTo);
    this.fd = fs.openSync(file, truncateTo === undefined ? 'w' : 'a');
    this.bytes = truncateTo ?? 0;
  }

  append(lines: MetricsLine[]): void {
    const text = Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join(''), 'utf8');
    fs.writeSync(this.fd, text);
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
  config: TrainConfig;
  /** Absent in run folders written before the source options were recorded: they used the defaults. */
  source?: { skip_invalid: boolean; fields: NonNullable<SourceOptions['fields']> };
}

/**
 * config.json: every option with where its value came from, and the data-source options (so --resume
 * reads the same pairs into the same groups; default: the loaders' defaults); max_length 0 (the model's context) is recorded as the
 * length it resolved to.
 */
export function writeRunConfig(
  runDir: string,
  resolved: ResolvedConfig,
  setup: RunSetup,
  source: RunSourceOptions = {},
): void {
  const saved: RunConfigFile & { sources: ResolvedConfig['sources'] } = {
    config: { ...resolved.config, max_length: setup.truncation.max_length },
    sources: resolved.sources,
    source: { skip_invalid: source.skipInvalid ?? false, fields: source.fields ?? {} },
  };
  writeJsonAtomic(path.join(runDir, 'config.json'), saved);
}

/** The saved config and source options of a run folder, for --resume. */
export function readRunConfig(runDir: string): { file: string; config: TrainConfig; source: RunSourceOptions } {
  const file = path.join(runDir, 'config.json');
  const saved = readJsonFile(file) as RunConfigFile;
  return {
    file,
    config: saved.config,
    source: { skipInvalid: saved.source?.skip_invalid ?? false, fields: saved.source?.fields ?? {} },
  };
}

/** summary.json: how the run ended, what was trained on what, the last metrics and the checkpoints (result.checkpoints, oldest first). */
export function writeRunSummary(runDir: string, resolved: ResolvedConfig, setup: RunSetup, result: TrainResult): void {
  writeJsonAtomic(path.join(runDir, 'summary.json'), {
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
  });
}
