// Reads a run folder's metrics.jsonl (architecture.md contract 4) into per-group series.
import { METRICS_FILE } from '../train/run-folder.js';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';

export interface MetricPoint {
  step: number;
  loss: number;
  policyAccuracy: number;
  margin: number;
  /** rewards/accuracies, when the line has it. */
  rewardAccuracy?: number;
  /** The line's weights/* keys (weights/unembed_delta_norm = ||W_U(t) - W_U(0)||_F, per-layer norms), when it has them. */
  weights?: Record<string, number>;
  /**
   * TRL's per-step keys when the line has them (TRL_KEYS: train lines' grad_norm and learning_rate,
   * logits/*); a grad_norm of null (a step stopped for a non-finite gradient) is left out.
   */
  trl?: Record<string, number>;
}

export const TRL_KEYS = ['grad_norm', 'learning_rate', 'logits/chosen', 'logits/rejected'] as const;

/** series.get(split).get(group): points sorted by step. */
export type RunSeries = Map<'train' | 'test', Map<string, MetricPoint[]>>;

const REQUIRED = ['step', 'split', 'group', 'loss', 'policy/accuracies', 'rewards/margins'] as const;

export function readRunMetrics(runDir: string): RunSeries {
  const file = path.join(runDir, METRICS_FILE);
  if (!fs.existsSync(runDir)) throw new UserError(`${runDir}: no such run folder`);
  if (!fs.existsSync(file))
    throw new UserError(`${file}: no such file (a run folder holds config.json, metrics.jsonl and summary.json)`);
  const series: RunSeries = new Map([
    ['train', new Map()],
    ['test', new Map()],
  ]);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `${file}:${i + 1}`;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch (err) {
      throw new UserError(`${where}: not valid JSON (${(err as Error).message})`);
    }
    for (const key of REQUIRED) if (!(key in obj)) throw new UserError(`${where}: missing "${key}"`);
    const { step, split, group } = obj;
    if (!Number.isInteger(step) || (step as number) < 0)
      throw new UserError(`${where}: "step" must be a non-negative integer, got ${JSON.stringify(step)}`);
    if (split !== 'train' && split !== 'test')
      throw new UserError(`${where}: "split" must be "train" or "test", got ${JSON.stringify(split)}`);
    if (typeof group !== 'string')
      throw new UserError(`${where}: "group" must be a string, got ${JSON.stringify(group)}`);
    const numbers = ['loss', 'policy/accuracies', 'rewards/margins'].map((k) => {
      const v = obj[k];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new UserError(`${where}: "${k}" must be a finite number, got ${JSON.stringify(v)}`);
      return v;
    });
    const point: MetricPoint = {
      step: step as number,
      loss: numbers[0]!,
      policyAccuracy: numbers[1]!,
      margin: numbers[2]!,
    };
    const optional = (key: string): number => {
      const v = obj[key];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new UserError(`${where}: "${key}" must be a finite number, got ${JSON.stringify(v)}`);
      return v;
    };
    if ('rewards/accuracies' in obj) point.rewardAccuracy = optional('rewards/accuracies');
    for (const key of Object.keys(obj).filter((k) => k.startsWith('weights/')))
      (point.weights ??= {})[key] = optional(key);
    for (const key of TRL_KEYS) if (key in obj && obj[key] !== null) (point.trl ??= {})[key] = optional(key);
    const byGroup = series.get(split)!;
    const list = byGroup.get(group) ?? [];
    list.push(point);
    byGroup.set(group, list);
  }
  for (const byGroup of series.values()) for (const list of byGroup.values()) list.sort((a, b) => a.step - b.step);
  if (series.get('train')!.size === 0) throw new UserError(`${file}: no "train" lines; nothing to compare`);
  return series;
}
