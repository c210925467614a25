// How fast each group was learned in a run, measured several ways (larger `speed` = faster for all).
import type { MetricPoint, RunSeries } from './run-metrics.js';

export const ACCURACY_TARGET = 0.9;

export interface Measure {
  name: string;
  description: string;
  /** Raw value per group (null: not measurable, e.g. the target never reached). */
  value(train: MetricPoint[], test: MetricPoint[] | undefined, k: number): number | null;
  /** Raw -> speed, larger = faster; null raw values rank as slowest. */
  speed(raw: number | null): number;
}

/** The first step at which policy accuracy reaches the target, or null. */
export function stepsToAccuracy(points: readonly MetricPoint[] | undefined, target = ACCURACY_TARGET): number | null {
  if (!points) return null;
  for (const p of points) if (p.policyAccuracy >= target) return p.step;
  return null;
}

/** The value at the last logged step <= k (null if none). */
function lossAfter(points: readonly MetricPoint[], k: number): number | null {
  let found: number | null = null;
  for (const p of points) if (p.step <= k) found = p.loss;
  return found;
}

/** Trapezoid area under the loss curve divided by the step span: the mean loss over the run. */
export function meanLossArea(points: readonly MetricPoint[]): number | null {
  if (points.length < 2) return points.length ? points[0]!.loss : null;
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    area += ((points[i]!.loss + points[i - 1]!.loss) / 2) * (points[i]!.step - points[i - 1]!.step);
  }
  return area / (points[points.length - 1]!.step - points[0]!.step);
}

/** Least-squares slope of the reward margin over steps 0..k (margin per step). */
export function initialMarginSlope(points: readonly MetricPoint[], k: number): number | null {
  const early = points.filter((p) => p.step <= k);
  if (early.length < 2) return null;
  const mx = early.reduce((s, p) => s + p.step, 0) / early.length;
  const my = early.reduce((s, p) => s + p.margin, 0) / early.length;
  let sxy = 0;
  let sxx = 0;
  for (const p of early) {
    sxy += (p.step - mx) * (p.margin - my);
    sxx += (p.step - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : null;
}

const slowestIfNull = (sign: number) => (raw: number | null) => (raw === null ? -Infinity : sign * raw);

export const MEASURES: Measure[] = [
  {
    name: 'steps_to_90_train',
    description: `first step with train policy accuracy >= ${ACCURACY_TARGET}`,
    value: (tr) => stepsToAccuracy(tr),
    speed: slowestIfNull(-1),
  },
  {
    name: 'steps_to_90_test',
    description: `first eval step with test policy accuracy >= ${ACCURACY_TARGET}`,
    value: (_tr, te) => stepsToAccuracy(te),
    speed: slowestIfNull(-1),
  },
  {
    name: 'loss_after_k',
    description: 'train loss at step k',
    value: (tr, _te, k) => lossAfter(tr, k),
    speed: slowestIfNull(-1),
  },
  {
    name: 'loss_area',
    description: 'area under the train loss curve / steps (mean loss)',
    value: (tr) => meanLossArea(tr),
    speed: slowestIfNull(-1),
  },
  {
    name: 'final_test_loss',
    description: 'test loss at the last evaluation (held out)',
    value: (_tr, te) => te?.at(-1)?.loss ?? null,
    speed: slowestIfNull(-1),
  },
  {
    name: 'final_test_accuracy',
    description: 'test policy accuracy at the last evaluation (held out)',
    value: (_tr, te) => te?.at(-1)?.policyAccuracy ?? null,
    speed: slowestIfNull(1),
  },
  {
    name: 'initial_margin_slope',
    description: 'slope of the train reward margin over steps 0..k',
    value: (tr, _te, k) => initialMarginSlope(tr, k),
    speed: slowestIfNull(1),
  },
];

export interface ObservedGroup {
  group: string;
  raw: Record<string, number | null>;
  speed: Record<string, number>;
}

export function observedSpeeds(series: RunSeries, groups: readonly string[], k: number): ObservedGroup[] {
  return groups.map((group) => {
    const train = series.get('train')!.get(group) ?? [];
    const test = series.get('test')!.get(group);
    const raw: Record<string, number | null> = {};
    const speed: Record<string, number> = {};
    for (const m of MEASURES) {
      raw[m.name] = m.value(train, test, k);
      speed[m.name] = m.speed(raw[m.name]!);
    }
    return { group, raw, speed };
  });
}
