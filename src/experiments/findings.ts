// The paper's three findings (Im & Li 2024), each with the status and the one line of evidence its
// experiment gives here.
import type { MisalignmentResult } from './misalignment.js';
import type { PrioritisationResult } from './prioritisation.js';
import type { ProtocolTest } from './protocol-tests.js';
import type { SingleBehavioursResult } from './single-behaviours.js';
import { HEADLINE_MEASURE, type FindingStatus } from './verdicts.js';

export interface Finding {
  claim: string;
  status: FindingStatus;
  evidence: string;
}

export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) !== 0 && (Math.abs(x) < 10 ** -digits || Math.abs(x) >= 1e5)
    ? x.toExponential(2)
    : x.toFixed(digits);
}

export const interval = (ci: [number, number] | null): string =>
  ci ? `[${fmt(ci[0], 2)}, ${fmt(ci[1], 2)}]` : 'no interval';

export function findings(a: SingleBehavioursResult, b: PrioritisationResult, c: MisalignmentResult): Finding[] {
  const h = a.headline;
  const d0 = c.delta[0]!;
  const loss = (r: MisalignmentResult['flip']['from_base']) => fmt(r.observed[HEADLINE_MEASURE] ?? null, 4);
  return [
    {
      claim: 'Behaviours with a larger distinguishability Delta are learned faster.',
      status: a.status,
      evidence: `${h.predictor} against held-out speed, ${h.mode} DPO, ${h.n_behaviours} behaviours each trained alone, seeds ${h.seeds.join(', ')}: ${a.verdict_tests.map(testText).join('; ')}.`,
    },
    {
      claim:
        'Trained together, more distinguishable behaviours are learned first (the shared update prioritises them).',
      status: b.status,
      evidence: `margin velocity in the mix (shares and cross terms) against held-out speed, ${b.mix.n_behaviours} behaviours trained together: ${b.mix.verdict_tests.map(testText).join('; ')}. Pairs: ${b.pair_tests
        .filter((t) => t.measure === b.mix.priority.measure)
        .map((t) => `${t.prediction} came true for ${t.hits} of ${t.decided} (p = ${fmt(t.p_value)})`)
        .join(', ')}.`,
    },
    {
      claim:
        'Alignment raises Delta, so flipping the preferences of an aligned model is faster than flipping the base model.',
      status: c.status,
      evidence: `Delta of ${c.behaviour}: ${fmt(d0.before)} ${interval(d0.before_ci)} before alignment, ${fmt(d0.after)} ${interval(d0.after_ci)} after; flipped training's mean train loss ${loss(c.flip.from_aligned)} from the aligned model vs ${loss(c.flip.from_base)} from the base model (lower is faster); Fisher ratio ${fmt(d0.fisher[0])} -> ${fmt(d0.fisher[1])}. Flip speed from the aligned model minus from the base model over seeds ${c.flip.seeds.map((r) => r.seed).join(', ')}: ${c.tests
        .filter((t) => a.verdict_tests.some((v) => v.measure === t.measure))
        .map((t) => `${t.measure} mean ${fmt(t.mean)} ${interval(t.interval)}, p = ${fmt(t.p_value)}: ${t.decision}`)
        .join('; ')}${c.flip.seeds.length < 2 ? ' (one seed: no test of the difference)' : ''}.`,
    },
  ];
}

/** "final_test_loss: Spearman 0.42 [0.05, 0.71] (per seed 0.40, 0.45, 0.38), p = 0.012: supported" */
export function testText(t: ProtocolTest): string {
  const spread = t.per_seed.length > 1 ? ` (per seed ${t.per_seed.map((r) => fmt(r, 2)).join(', ')})` : '';
  const ci = `${interval(t.interval)}${t.interval_degenerate ? ' (degenerate)' : ''}`;
  return `${t.measure}: Spearman ${fmt(t.value, 2)} ${ci}${spread}, p = ${fmt(t.p_value)}: ${t.decision}`;
}
