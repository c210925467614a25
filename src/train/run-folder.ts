// The run folder of architecture.md contract 4: config.json, metrics.jsonl (one line per
// step x split x group, written and flushed to the OS as each step ends), summary.json.
import fs from 'node:fs';
import path from 'node:path';
import type { GroupMetrics } from './metrics.js';

export const METRICS_FILE = 'metrics.jsonl';

export interface MetricsLine {
  step: number;
  epoch: number;
  split: 'train' | 'test';
  group: string;
  n: number;
  [key: string]: number | string;
}

export function metricLines(step: number, epoch: number, split: 'train' | 'test', metrics: GroupMetrics[],
  weights: Record<string, number>): MetricsLine[] {
  return metrics.map((m) => ({ step, epoch, split, group: m.group, n: m.n, ...m.values, ...weights }));
}

export class MetricsWriter {
  private readonly fd: number;
  bytes: number;

  /** Opens metrics.jsonl for appending; `truncateTo` cuts it back to a checkpoint's length first. */
  constructor(readonly runDir: string, truncateTo?: number) {
    const file = path.join(runDir, METRICS_FILE);
    if (truncateTo !== undefined) fs.truncateSync(file, truncateTo);
    this.fd = fs.openSync(file, truncateTo === undefined ? 'w' : 'a');
    this.bytes = truncateTo ?? 0;
  }

  append(lines: MetricsLine[]): void {
    const text = Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join(''), 'utf8');
    fs.writeSync(this.fd, text);
    this.bytes += text.byteLength;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
