// The paper's figures as Vega-Lite specs (data inline): pure functions from parsed results to a spec,
// its file name and a one-line caption saying what to see. Rendering (SVG, PNG) is in render.ts; the
// HTML report (report-html.ts) and `prefdyn serve` show the same specs.
import type { TopLevelSpec } from 'vega-lite';
import type { MetricPoint, RunSeries } from '../analysis/run-metrics.js';
import { MEASURES } from '../analysis/observed-speed.js';
import type { Correlation } from '../analysis/compare-run.js';
import type { DeltaChange } from '../experiments/misalignment.js';
import { shortNames } from './short-names.js';

export interface FigureSpec {
  /** File name without extension (figures/NAME.svg), unique within a report. */
  name: string;
  title: string;
  /** One line: what a reader should see. */
  caption: string;
  spec: TopLevelSpec;
}

/** Shared look: DejaVu Sans (what resvg finds on Debian), no frame around views, readable sizes. */
export const FIGURE_CONFIG = {
  font: 'DejaVu Sans, sans-serif',
  view: { stroke: null },
  axis: {
    labelFontSize: 10,
    titleFontSize: 11,
    titleFontWeight: 'normal',
    grid: true,
    gridColor: '#eee',
    labelLimit: 300,
  },
  header: { labelFontSize: 12, titleFontSize: 12 },
  legend: { labelFontSize: 10, titleFontSize: 11, labelLimit: 400, titleLimit: 400 },
  title: { fontSize: 13, anchor: 'start' },
} as const;

const STEP_AXIS = { title: 'step (optimizer updates)' };
/** The x and y of every curve panel: step, and a value whose panel header names it (y not from 0). */
const STEP_X = { field: 'step', type: 'quantitative', axis: STEP_AXIS };
const VALUE_Y = { field: 'value', type: 'quantitative', title: null, scale: { zero: false } };
/** Up to this many behaviours every line gets a colour; above it the extremes by Delta do and the rest are grey. */
export const ALL_COLOURED = 10;
const HIGHLIGHT_EACH_END = 5;
/** Sequential colours by rank, without viridis's pale yellow end (unreadable on white). */
const RANK_SCHEME = { name: 'viridis', extent: [0, 0.85] };

interface CurvePanel {
  title: string;
  split: 'train' | 'test';
  value(p: MetricPoint): number | undefined;
}

/** Figure 1's panels, in reading order; a panel without data (no test split, no reward accuracy) is left out. */
export const CURVE_PANELS: CurvePanel[] = [
  { title: 'train loss (nats)', split: 'train', value: (p) => p.loss },
  { title: 'test loss (nats)', split: 'test', value: (p) => p.loss },
  { title: 'train reward margin (beta x log-ratio, nats)', split: 'train', value: (p) => p.margin },
  { title: 'train reward accuracy (share of pairs)', split: 'train', value: (p) => p.rewardAccuracy },
  { title: 'train policy accuracy (share of pairs)', split: 'train', value: (p) => p.policyAccuracy },
  { title: 'test policy accuracy (share of pairs)', split: 'test', value: (p) => p.policyAccuracy },
];

/** The run's behaviours ("all" left out), by decreasing Delta when known (unknown last), else by name. */
export function behaviourOrder(series: RunSeries, delta?: ReadonlyMap<string, number>): string[] {
  const groups = [...series.get('train')!.keys()].filter((g) => g !== 'all');
  const d = (g: string) => delta?.get(g) ?? -Infinity;
  return groups.sort((a, b) => d(b) - d(a) || a.localeCompare(b));
}

/** Figure 1: per-behaviour curves against step, small multiples per metric, coloured and ordered by Delta. */
export function curvesSpec(
  series: RunSeries,
  opts: { name: string; title: string; delta?: ReadonlyMap<string, number> },
): FigureSpec {
  const order = behaviourOrder(series, opts.delta);
  const short = shortNames(order);
  const highlighted = new Set(
    order.length <= ALL_COLOURED ? order : [...order.slice(0, HIGHLIGHT_EACH_END), ...order.slice(-HIGHLIGHT_EACH_END)],
  );
  const legendLabel = (g: string) => {
    const d = opts.delta?.get(g);
    return d === undefined ? short.get(g)! : `${short.get(g)!} (Delta ${d.toFixed(3)})`;
  };
  const rows: Record<string, unknown>[] = [];
  const panels: string[] = [];
  for (const panel of CURVE_PANELS) {
    const before = rows.length;
    for (const g of order) {
      for (const p of series.get(panel.split)!.get(g) ?? []) {
        const value = panel.value(p);
        if (value === undefined) continue;
        rows.push({ panel: panel.title, step: p.step, value, group: g, label: legendLabel(g), hl: highlighted.has(g) });
      }
    }
    if (rows.length > before) panels.push(panel.title);
  }
  const byDelta = opts.delta ? 'by Delta, highest first' : 'by name';
  const grey = order.length - highlighted.size;
  const caption =
    (grey > 0
      ? `The ${HIGHLIGHT_EACH_END} behaviours with the highest and the ${HIGHLIGHT_EACH_END} with the lowest ${opts.delta ? 'Delta' : 'names'} in colour, the other ${grey} in grey; `
      : `One line per behaviour, ordered ${byDelta}; `) +
    (opts.delta
      ? 'if distinguishability predicts learning speed, the dark (high Delta) curves fall and rise first.'
      : 'give an analysis JSON to order and colour them by Delta.');
  const colourOrder = order.filter((g) => highlighted.has(g)).map(legendLabel);
  return {
    name: opts.name,
    title: opts.title,
    caption,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: FIGURE_CONFIG,
      data: { values: rows },
      facet: { field: 'panel', type: 'nominal', sort: panels, title: null },
      columns: 3,
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 230,
        height: 150,
        layer: [
          {
            transform: [{ filter: '!datum.hl' }],
            mark: { type: 'line', color: '#c8c8c8', strokeWidth: 0.8, opacity: 0.7 },
            encoding: {
              x: STEP_X,
              y: VALUE_Y,
              detail: { field: 'group', type: 'nominal' },
              description: { field: 'group', type: 'nominal' },
            },
          },
          {
            transform: [{ filter: 'datum.hl' }],
            mark: { type: 'line', strokeWidth: 1.6 },
            encoding: {
              x: STEP_X,
              y: VALUE_Y,
              color: {
                field: 'label',
                type: 'ordinal',
                sort: colourOrder,
                scale: { scheme: RANK_SCHEME },
                legend: { title: `behaviour (${byDelta})`, orient: 'right' },
              },
              description: { field: 'group', type: 'nominal' },
            },
          },
        ],
      },
    } as TopLevelSpec,
  };
}

/** What figure 2 plots: a `prefdyn compare` report (contract: ComparisonReport's groups and correlations). */
export interface PredictorInput {
  groups: ({ group: string; observed: Record<string, number | null> } & Partial<
    Record<Correlation['predictor'], number | null>
  >)[];
  correlations: Correlation[];
}

const PREDICTOR_TITLES: Record<Correlation['predictor'], string> = {
  delta: 'Delta (distinguishability)',
  margin_velocity: 'margin velocity (predicted)',
  delta_over_sqrt_concentration: 'Delta / sqrt(concentration)',
  fisher: 'Fisher ratio along mu+ - mu-',
};

/** Short enough to fit along a panel's height: a longer rotated title pushes that panel's title up. */
const MEASURE_UNITS: Record<string, string> = {
  steps_to_90_train: 'steps to 90% train acc.',
  steps_to_90_test: 'steps to 90% test acc.',
  loss_after_k: 'train loss at k (nats)',
  loss_area: 'mean train loss (nats)',
  initial_margin_slope: 'margin slope (nats/step)',
};

/** Figure 2: each predictor against each observed speed, one panel per pair with Spearman and Kendall. */
export function predictorSpec(input: PredictorInput, opts: { name: string; title: string }): FigureSpec {
  const short = shortNames(input.groups.map((g) => g.group));
  const labelled = input.groups.length <= 8;
  const rowsFor = (predictor: Correlation['predictor']) =>
    MEASURES.map((m) => {
      const c = input.correlations.find((x) => x.predictor === predictor && x.measure === m.name);
      const values = input.groups
        .filter(
          (g) => g.observed[m.name] !== null && g.observed[m.name] !== undefined && typeof g[predictor] === 'number',
        )
        .map((g) => ({ x: g[predictor], y: g.observed[m.name]!, group: g.group, label: short.get(g.group)! }));
      const missing = input.groups.length - values.length;
      return {
        title: {
          text: c ? `Spearman ${interval(c.spearman, c.spearman_ci)}` : m.name,
          subtitle: c
            ? `Kendall ${interval(c.kendall_tau_b, c.kendall_ci)}${missing ? `; ${missing} never reached` : ''}`
            : '',
          fontSize: 11,
        },
        width: 170,
        height: 140,
        data: { values },
        layer: [
          {
            mark: { type: 'point', filled: true, size: 45 },
            encoding: {
              x: { field: 'x', type: 'quantitative', title: PREDICTOR_TITLES[predictor], scale: { zero: false } },
              y: { field: 'y', type: 'quantitative', title: MEASURE_UNITS[m.name] ?? m.name, scale: { zero: false } },
              description: { field: 'group', type: 'nominal' },
            },
          },
          ...(labelled
            ? [
                {
                  mark: { type: 'text', align: 'left', dx: 5, dy: -5, fontSize: 8, color: '#555' },
                  encoding: {
                    x: { field: 'x', type: 'quantitative' },
                    y: { field: 'y', type: 'quantitative' },
                    text: { field: 'label' },
                  },
                },
              ]
            : []),
        ],
      };
    });
  const n = input.groups.length;
  return {
    name: opts.name,
    title: opts.title,
    caption: `Each of ${n} behaviours is a point. Spearman and Kendall are taken against speed (steps and losses negated, as in \`prefdyn compare\`), so a predictor that works scores above 0 in every panel, while the points fall in the first four columns and rise in the last (95% bootstrap intervals in brackets).`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: FIGURE_CONFIG,
      // One row per predictor the comparison correlated (Delta first, as the paper's figure).
      vconcat: (['delta', 'margin_velocity', 'delta_over_sqrt_concentration', 'fisher'] as const)
        .filter((p) => input.correlations.some((c) => c.predictor === p))
        .map((p) => ({ hconcat: rowsFor(p) })),
    } as TopLevelSpec,
  };
}

function interval(x: number, ci: [number, number] | null): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
  return ci ? `${f(x)} [${f(ci[0])}, ${f(ci[1])}]` : f(x);
}

/** Above this many behaviours the priority matrix is drawn as an overview (see priorityHeatmapSpec). */
export const LARGE_MATRIX = 40;

/** A pair of figure 3's check: `first` was predicted to be learned first; came_true by the observed speeds. */
export interface PairCheck {
  first: string;
  second: string;
  came_true: boolean | null;
}

/** Figure 3a: the priority-gap matrix, rows before columns where red, with the observed outcome per pair. */
export function priorityHeatmapSpec(
  priority: { groups: string[]; gap: number[][] },
  opts: { name: string; title: string; checks?: PairCheck[] },
): FigureSpec {
  const short = shortNames(priority.groups);
  const labels = priority.groups.map((g) => short.get(g)!);
  const n = labels.length;
  // Above LARGE_MATRIX behaviours a cell is a few pixels: no axis labels, no per-cell hover text (it
  // would be most of the file), and failed predictions marked by a dot instead of a symbol.
  const large = n > LARGE_MATRIX;
  const cells: Record<string, unknown>[] = [];
  priority.groups.forEach((a, i) =>
    priority.groups.forEach((b, j) => {
      if (i === j) return;
      const cell: Record<string, unknown> = { row: short.get(a), col: short.get(b), gap: priority.gap[i]![j]! };
      if (!large) cell.pair = `${a} before ${b}`;
      cells.push(cell);
    }),
  );
  const checks = (opts.checks ?? []).filter((c) => c.came_true !== null);
  const hits = checks.filter((c) => c.came_true).length;
  const marks = checks
    .filter((c) => !large || !c.came_true)
    .map((c) => ({
      row: short.get(c.first),
      col: short.get(c.second),
      mark: c.came_true ? '\u2713' : '\u2717',
      pair: `${c.first} before ${c.second}: ${c.came_true ? 'came true' : 'did not'}`,
    }));
  const cell = large ? 5 : n > 12 ? 14 : 34;
  const axis = large ? { labels: false, ticks: false, title: null } : { title: null, labelLimit: 400 };
  const maxAbs = Math.max(1e-12, ...cells.map((c) => Math.abs(c.gap as number)));
  const position = {
    x: { field: 'col', type: 'nominal', sort: labels, axis: { ...axis, labelAngle: -40 } },
    y: { field: 'row', type: 'nominal', sort: labels, axis },
  };
  const outcome = checks.length
    ? large
      ? ` Black dots: the ${checks.length - hits} of ${checks.length} decided pairs the run learned in the other order.`
      : ' \u2713 where the run learned the predicted-first behaviour first, \u2717 where it learned the other first.'
    : ' Give a run folder too to mark which predictions came true.';
  return {
    name: opts.name,
    title: checks.length ? `${opts.title}: ${hits} of ${checks.length} came true` : opts.title,
    caption:
      "Red: the row's behaviour is predicted to be learned before the column's (priority gap > 0), blue: after." +
      outcome +
      (large ? ` Rows and columns: the ${n} behaviours by predicted rank, fastest first.` : ''),
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: FIGURE_CONFIG,
      width: cell * n,
      height: cell * n,
      layer: [
        {
          data: { values: cells },
          mark: { type: 'rect', aria: !large },
          encoding: {
            ...position,
            color: {
              field: 'gap',
              type: 'quantitative',
              title: 'priority gap',
              scale: { scheme: 'redblue', reverse: true, domain: [-maxAbs, maxAbs] },
            },
            ...(large ? {} : { description: { field: 'pair', type: 'nominal' } }),
          },
        },
        {
          data: { values: marks },
          mark: large
            ? { type: 'square', size: 6, color: 'black', opacity: 1 }
            : { type: 'text', baseline: 'middle', fontWeight: 'bold', fontSize: Math.min(20, cell * 0.7) },
          encoding: {
            ...position,
            ...(large ? {} : { text: { field: 'mark' } }),
            description: { field: 'pair', type: 'nominal' },
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/** One prioritisation run of figure 3b: two behaviours trained together. */
export interface PairRun {
  title: string;
  series: RunSeries;
  groups: [string, string];
  predictedFirst: string;
}

/** Figure 3b: the two curves of each prioritisation pair in one panel (train loss and test policy accuracy). */
export function pairCurvesSpec(pairs: PairRun[], opts: { name: string; title: string }): FigureSpec {
  const legend = { title: null, orient: 'bottom', direction: 'vertical', labelLimit: 400 };
  const panel = (p: PairRun, split: 'train' | 'test', value: (m: MetricPoint) => number, yTitle: string) => {
    const short = shortNames(p.groups);
    const values = p.groups.flatMap((g) =>
      (p.series.get(split)!.get(g) ?? []).map((m) => ({
        step: m.step,
        value: value(m),
        group: g,
        label: `${short.get(g)!}${g === p.predictedFirst ? ' (predicted first)' : ''}`,
      })),
    );
    return {
      title: { text: p.title, fontSize: 11 },
      width: 230,
      height: 150,
      data: { values },
      mark: { type: 'line', strokeWidth: 1.8 },
      encoding: {
        x: STEP_X,
        y: { ...VALUE_Y, title: yTitle },
        // One legend for both channels (same field, same legend): solid vs dashed reads in grey print too.
        color: { field: 'label', type: 'nominal', legend },
        strokeDash: { field: 'label', type: 'nominal', legend },
        description: { field: 'group', type: 'nominal' },
      },
      resolve: { scale: { color: 'independent', strokeDash: 'independent' } },
    };
  };
  return {
    name: opts.name,
    title: opts.title,
    caption:
      'Each column is one run on two behaviours together; the behaviour marked "predicted first" should reach low loss and high accuracy sooner.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: FIGURE_CONFIG,
      hconcat: pairs.map((p) => ({
        vconcat: [
          panel(p, 'train', (m) => m.loss, 'train loss (nats)'),
          panel(p, 'test', (m) => m.policyAccuracy, 'test policy accuracy'),
        ],
        resolve: { scale: { color: 'independent', strokeDash: 'independent' } },
      })),
      resolve: { scale: { color: 'independent', strokeDash: 'independent' } },
    } as TopLevelSpec,
  };
}

/** Figure 4a: training on the flipped preferences from the aligned model and from the base model, in one panel each metric. */
export function flipCurvesSpec(
  runs: { aligned: RunSeries; base: RunSeries; behaviour: string },
  opts: { name: string; title: string },
): FigureSpec {
  const values = (
    [
      ['from the aligned model', runs.aligned],
      ['from the base model', runs.base],
    ] as const
  ).flatMap(([start, s]) =>
    (['train', 'test'] as const).flatMap((split) =>
      (s.get(split)!.get(runs.behaviour) ?? []).flatMap((m) => [
        { panel: `${split} loss (nats)`, step: m.step, value: m.loss, start },
        { panel: `${split} policy accuracy (flipped)`, step: m.step, value: m.policyAccuracy, start },
      ]),
    ),
  );
  const panels = [
    'train loss (nats)',
    'test loss (nats)',
    'train policy accuracy (flipped)',
    'test policy accuracy (flipped)',
  ];
  return {
    name: opts.name,
    title: opts.title,
    caption: `Both runs learn the flipped preferences of ${runs.behaviour}; if alignment made the behaviour more distinguishable, the aligned model unlearns it faster (its loss falls first).`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: FIGURE_CONFIG,
      data: { values },
      facet: {
        field: 'panel',
        type: 'nominal',
        sort: panels.filter((p) => values.some((v) => v.panel === p)),
        title: null,
      },
      columns: 2,
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 230,
        height: 150,
        mark: { type: 'line', strokeWidth: 1.8 },
        encoding: {
          x: STEP_X,
          y: VALUE_Y,
          color: {
            field: 'start',
            type: 'nominal',
            title: 'flip trained',
            scale: { domain: ['from the aligned model', 'from the base model'], range: ['#d62728', '#7f7f7f'] },
          },
          description: { field: 'start', type: 'nominal' },
        },
      },
    } as TopLevelSpec,
  };
}

/** Figure 4b: Delta before and after alignment per behaviour, with intervals. */
export function deltaChangeSpec(
  changes: DeltaChange[],
  opts: { name: string; title: string; aligned: string },
): FigureSpec {
  const short = shortNames(changes.map((c) => c.group));
  const label = (g: string) => `${short.get(g)!}${g === opts.aligned ? ' (aligned on)' : ''}`;
  const labels = changes.map((c) => label(c.group));
  const points = changes.flatMap((c) =>
    (
      [
        ['before alignment', c.before, c.before_ci],
        ['after alignment', c.after, c.after_ci],
      ] as const
    ).map(([when, delta, ci]) => ({
      label: label(c.group),
      group: `${c.group}: Delta ${when} ${delta.toFixed(4)}`,
      when,
      delta,
      lo: ci?.[0] ?? delta,
      hi: ci?.[1] ?? delta,
    })),
  );
  const when = { field: 'when', type: 'nominal', title: null, sort: ['before alignment', 'after alignment'] };
  const colour = { ...when, scale: { range: ['#7f7f7f', '#d62728'] } };
  return {
    name: opts.name,
    title: opts.title,
    caption: `Delta of each behaviour in the base model (grey) and in the model aligned on ${opts.aligned} (red), 95% bootstrap intervals; the paper predicts a rise for the aligned behaviour.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: FIGURE_CONFIG,
      width: 360,
      height: { step: 26 },
      data: { values: points },
      layer: [
        {
          mark: { type: 'rule', color: '#999' },
          encoding: {
            y: { field: 'label', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 400 } },
            x: { field: 'lo', type: 'quantitative', title: 'Delta = ||mu+ - mu-|| (embedding units)' },
            x2: { field: 'hi' },
            yOffset: when,
            color: colour,
          },
        },
        {
          mark: { type: 'point', filled: true, size: 50 },
          encoding: {
            y: { field: 'label', type: 'nominal', sort: labels },
            x: { field: 'delta', type: 'quantitative' },
            yOffset: when,
            color: colour,
            description: { field: 'group', type: 'nominal' },
          },
        },
      ],
    } as TopLevelSpec,
  };
}

/** A 2-D projection of prompt embeddings (report/projection.ts): one point per row, +1 = the preferred answer is " Yes". */
export interface Cloud {
  method: 'UMAP' | 'PCA';
  when: 'before' | 'after';
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  labels: ArrayLike<number>;
}

/** Figure 5: Yes/No prompt-embedding clouds before and after training, UMAP and PCA. */
export function embeddingCloudsSpec(
  clouds: Cloud[],
  opts: { name: string; title: string; behaviour: string; model: { before: string; after: string } },
): FigureSpec {
  const panel = (c: Cloud) => ({
    title: { text: `${c.method}, ${c.when === 'before' ? opts.model.before : opts.model.after}`, fontSize: 11 },
    width: 200,
    height: 170,
    data: {
      values: Array.from(c.labels, (l, i) => ({
        x: c.x[i]!,
        y: c.y[i]!,
        side: l > 0 ? 'prefers " Yes"' : 'prefers " No"',
      })),
    },
    mark: { type: 'point', filled: true, size: 14, opacity: 0.6 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: `${c.method} 1`, axis: { labels: false, ticks: false } },
      y: { field: 'y', type: 'quantitative', title: `${c.method} 2`, axis: { labels: false, ticks: false } },
      color: {
        field: 'side',
        type: 'nominal',
        title: 'pair',
        scale: { domain: ['prefers " Yes"', 'prefers " No"'], range: ['#1f77b4', '#ff7f0e'] },
      },
      description: { field: 'side', type: 'nominal' },
    },
  });
  const methods = [...new Set(clouds.map((c) => c.method))];
  return {
    name: opts.name,
    title: opts.title,
    caption: `Prompt embeddings of ${opts.behaviour}, coloured by the preferred answer: the more the two colours separate, the larger Delta and the faster DPO learns the behaviour (axes are unitless projections).`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: FIGURE_CONFIG,
      vconcat: methods.map((m) => ({
        hconcat: (['before', 'after'] as const)
          .map((w) => clouds.find((c) => c.method === m && c.when === w))
          .filter((c): c is Cloud => c !== undefined)
          .map(panel),
      })),
    } as TopLevelSpec,
  };
}

/** Figure 6: the weights' distance from their start, ||W(t) - W(0)||_F per weight, against step. */
export function weightNormsSpec(series: RunSeries, opts: { name: string; title: string }): FigureSpec | null {
  const train = series.get('train')!;
  const points = train.get('all') ?? [...train.values()][0] ?? [];
  const values = points.flatMap((p) =>
    Object.entries(p.weights ?? {}).map(([key, value]) => ({ step: p.step, value, weight: weightLabel(key) })),
  );
  if (values.length === 0) return null;
  return {
    name: opts.name,
    title: opts.title,
    caption:
      'How far training moved the weights from the reference model: last-layer DPO moves only the unembedding; a curve that keeps rising steeply has not settled.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: FIGURE_CONFIG,
      width: 360,
      height: 200,
      data: { values },
      mark: { type: 'line', strokeWidth: 1.6, point: values.length < 60 },
      encoding: {
        x: STEP_X,
        y: { field: 'value', type: 'quantitative', title: '||W(t) - W(0)||_F (Frobenius norm)' },
        color: { field: 'weight', type: 'nominal', title: 'weight' },
        description: { field: 'weight', type: 'nominal' },
      },
    } as TopLevelSpec,
  };
}

function weightLabel(key: string): string {
  if (key === 'weights/unembed_delta_norm') return 'unembedding (lm_head)';
  return key.replace(/^weights\/delta_norm\//, '').replace(/^weights\//, '');
}
