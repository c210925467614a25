// The per-step numbers TRL users watch (grad_norm before clipping, learning_rate, logits/chosen and
// logits/rejected), one small panel each against step, one line per run: the dashboard's
// training-health figure. Same look as figure-specs.ts.
import type { TopLevelSpec } from 'vega-lite';
import { TRL_KEYS, type RunSeries } from '../analysis/run-metrics.js';
import { FIGURE_CONFIG, type FigureSpec } from './figure-specs.js';

const PANEL_TITLES: Record<(typeof TRL_KEYS)[number], string> = {
  grad_norm: 'grad_norm (global L2, before clipping)',
  learning_rate: 'learning_rate (of the update)',
  'logits/chosen': 'logits/chosen (mean raw logit, chosen tokens)',
  'logits/rejected': 'logits/rejected (mean raw logit, rejected tokens)',
};

/** The "all" train lines of each run (label -> series); null when no run logged any of TRL_KEYS. */
export function trlMetricsSpec(runs: Map<string, RunSeries>, opts: { name: string; title: string }): FigureSpec | null {
  const values: { panel: string; step: number; value: number; run: string }[] = [];
  for (const [run, series] of runs) {
    for (const p of series.get('train')!.get('all') ?? []) {
      for (const key of TRL_KEYS) {
        const value = p.trl?.[key];
        if (value !== undefined) values.push({ panel: PANEL_TITLES[key], step: p.step, value, run });
      }
    }
  }
  if (values.length === 0) return null;
  return {
    name: opts.name,
    title: opts.title,
    caption:
      'Training health as TRL logs it: a grad_norm that spikes or grows, or logits drifting far from where they started, deserve a look before the curves do.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: FIGURE_CONFIG,
      data: { values },
      facet: { field: 'panel', type: 'nominal', sort: TRL_KEYS.map((k) => PANEL_TITLES[k]), title: null },
      columns: 2,
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 260,
        height: 140,
        mark: { type: 'line', strokeWidth: 1.6 },
        encoding: {
          x: { field: 'step', type: 'quantitative', axis: { title: 'step (optimizer updates)' } },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
          color: { field: 'run', type: 'nominal', title: 'run' },
          description: { field: 'run', type: 'nominal' },
        },
      },
    } as TopLevelSpec,
  };
}
