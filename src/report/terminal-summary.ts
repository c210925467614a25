// The few lines `prefdyn reproduce` prints when it is done: one block per experiment, then the verdicts.
import path from 'node:path';
import { fmt, interval, testText } from '../experiments/findings.js';
import type { ReproduceSummary } from '../experiments/reproduce-summary.js';
import { HEADLINE_MEASURE } from '../experiments/verdicts.js';

export function terminalSummary(s: ReproduceSummary, out: string): string {
  const a = s.single;
  const c = s.misalignment;
  const width = Math.max(...a.behaviours.map((r) => r.group.length));
  const lines = [
    `(a) single behaviours (${a.behaviours.length}), ${s.protocol.modes.join(' and ')} DPO, seeds ${s.protocol.seeds.join(', ')}:`,
    `    ${'behaviour'.padEnd(width)}  Delta   final test loss (${a.headline.mode}, first seed)`,
    ...a.behaviours.map(
      (r) => `    ${r.group.padEnd(width)}  ${fmt(r.delta).padStart(5)}   ${fmt(r.final_test?.loss, 4)}`,
    ),
    ...a.verdict_tests.map((t) => `    ${t.predictor}, ${t.mode}: ${testText(t)}`),
    `(b) prioritisation, pairs by ${s.protocol.verdict.measures[0]} (did the gap's / the velocity's prediction come true):`,
    ...s.prioritisation.pairs.map((p) => {
      const o = p.outcomes.find((x) => x.measure === s.protocol.verdict.measures[0])!;
      const word = (v: boolean | null) => (v === null ? 'tie' : v ? 'yes' : 'no');
      return `    ${p.kind.padEnd(7)} ${p.groups[0]} + ${p.groups[1]}: ${word(o.came_true)} / ${word(o.velocity_came_true)}`;
    }),
    ...s.prioritisation.mix.verdict_tests.map(
      (t) => `    all ${s.prioritisation.mix.n_behaviours} together, ${t.predictor}: ${testText(t)}`,
    ),
    `(c) misalignment on ${c.behaviour}: Delta ${fmt(c.delta[0]!.before)} -> ${fmt(c.delta[0]!.after)} after LoRA alignment at ${c.align.multiple} x the paper's lr${c.align.moved ? '' : ' (it did not move the model)'};`,
    `    flip mean train loss ${fmt(c.flip.from_aligned.observed[HEADLINE_MEASURE] ?? null, 4)} from aligned vs ${fmt(c.flip.from_base.observed[HEADLINE_MEASURE] ?? null, 4)} from base`,
    ...c.tests
      .filter((t) => s.protocol.verdict.measures.includes(t.measure))
      .map(
        (t) =>
          `    flip speed aligned minus base, ${t.measure}: mean ${fmt(t.mean)} ${interval(t.interval)}, p ${fmt(t.p_value)}: ${t.decision}${t.seeds.length < 2 ? ' (one seed: no test)' : ''}`,
      ),
    '',
    'Findings of the paper:',
    ...s.findings.map((f, i) => `  ${i + 1}. [${f.status}] ${f.claim}`),
    '',
    `report ${path.join(out, 'REPORT.md')}, summary ${path.join(out, 'summary.json')}`,
  ];
  return lines.join('\n');
}
