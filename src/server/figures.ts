// The dashboard's figures for one run or an overlay of several: report/'s Vega-Lite specs rendered to
// SVG here, on the server (the page ships no chart library). One run: its per-behaviour curves, weight
// norms and TRL metrics. Several: each run's "all" curves as one line per run, and their TRL metrics.
// Renders are cached per metrics.jsonl size and mtime, so an unchanged run is never drawn twice and a
// changed one never served stale.
import { METRICS_FILE } from '../train/run-folder.js';
import path from 'node:path';
import { readRunMetrics, type RunSeries } from '../analysis/run-metrics.js';
import { curvesSpec, weightNormsSpec, type FigureSpec } from '../report/figure-specs.js';
import { svgOf } from '../report/render.js';
import { trlMetricsSpec } from '../report/trl-metrics-spec.js';
import type { Entry } from './discover.js';
import { stampOf } from './live.js';
import { UserError } from '../util/errors.js';

export interface RenderedFigure {
  name: string;
  title: string;
  caption: string;
  svg: string;
}

export interface FiguresResult {
  figures: RenderedFigure[];
  /** Train steps of group "all" per run id: what a watcher checks to see new points arrive. */
  steps: Record<string, number>;
}

/** size:mtime of a run's metrics.jsonl, the cache key of everything drawn from it. */
export function metricsStamp(run: Entry): string {
  const stamp = stampOf(path.join(run.dir, METRICS_FILE));
  if (stamp === 'missing') throw new UserError(`${runLabel(run)}: metrics.jsonl is gone`);
  return stamp;
}

const cache = new Map<string, Promise<FiguresResult>>();
const CACHE_MAX = 32;

export function figuresFor(runs: Entry[]): Promise<FiguresResult> {
  const key = runs.map((r) => `${r.id}@${metricsStamp(r)}`).join('|');
  let hit = cache.get(key);
  if (!hit) {
    hit = render(runs);
    hit.catch(() => cache.delete(key));
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, hit);
  }
  return hit;
}

/** A run's label in legends: its path under the root, or the root's name. */
export function runLabel(run: Entry): string {
  return run.rel || path.basename(run.dir);
}

async function render(runs: Entry[]): Promise<FiguresResult> {
  const series = new Map<string, RunSeries>(runs.map((r) => [runLabel(r), readRunMetrics(r.dir)]));
  const steps: Record<string, number> = {};
  runs.forEach((r) => (steps[r.id] = series.get(runLabel(r))!.get('train')!.get('all')?.length ?? 0));
  const specs: (FigureSpec | null)[] = [];
  if (runs.length === 1) {
    const s = [...series.values()][0]!;
    specs.push(curvesSpec(s, { name: 'curves', title: 'Per-behaviour learning curves' }));
    specs.push(weightNormsSpec(s, { name: 'weights', title: 'Weight change' }));
  } else {
    // Overlay: each run's aggregate ("all") lines become one "behaviour" named after the run.
    const overlay: RunSeries = new Map([
      ['train', new Map()],
      ['test', new Map()],
    ]);
    for (const [label, s] of series)
      for (const split of ['train', 'test'] as const) {
        const all = s.get(split)!.get('all');
        if (all) overlay.get(split)!.set(label, all);
      }
    specs.push(curvesSpec(overlay, { name: 'overlay', title: `${runs.length} runs overlaid (all behaviours pooled)` }));
  }
  specs.push(trlMetricsSpec(series, { name: 'trl', title: 'Training health (TRL metrics)' }));
  const figures: RenderedFigure[] = [];
  for (const f of specs) {
    if (f) figures.push({ name: f.name, title: f.title, caption: f.caption, svg: await svgOf(f.spec) });
  }
  return { figures, steps };
}
