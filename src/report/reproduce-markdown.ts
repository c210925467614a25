// REPORT.md of a reproduction: for each experiment, what ran, the table of predicted against observed,
// and the plain-language status of the paper's finding; then the caveats.
import { MEASURES } from '../analysis/observed-speed.js';
import { decisionRuleText, showsOtherDirection } from '../analysis/decision-rule.js';
import { EXACT_MAX_N } from '../analysis/rank-tests.js';
import { fmt, interval } from '../experiments/findings.js';
import type { ProtocolTest } from '../experiments/protocol-tests.js';
import type { ReproduceSummary } from '../experiments/reproduce-summary.js';
import { PAPER_BEHAVIOURS as PAPER } from '../experiments/behaviours.js';
import type { SingleBehavioursResult } from '../experiments/single-behaviours.js';
import { HEADLINE_MEASURE } from '../experiments/verdicts.js';
import { markdownTable as table } from './markdown-table.js';
import { plural } from '../util/plural.js';

export function reproduceMarkdown(s: ReproduceSummary): string {
  const a = s.single;
  const b = s.prioritisation;
  const c = s.misalignment;
  const p = s.profile;
  const measures = MEASURES.map((m) => m.name);
  const lines: string[] = [
    '# Reproduction of Im & Li (ICML 2024): learning dynamics of DPO',
    '',
    `Model \`${s.model}\` (hidden size ${s.d}), ${p.name} profile, seed ${s.seed}, beta ${p.beta}. Data: ${s.data.source}.`,
    `Observed speed is measured ${MEASURES.length} ways (${MEASURES.map((m) => `\`${m.name}\`: ${m.description}`).join('; ')}); the protocol's measures are tested, its held-out verdict measures (${s.protocol.verdict.measures.map((m) => `\`${m}\``).join(', ')}) decide the verdicts, and \`${HEADLINE_MEASURE}\` is the train-side measure shown in the short summaries.`,
    '',
    '## Protocol (fixed before any run)',
    '',
    ...protocolLines(s),
    '',
    '## Verdicts',
    '',
    ...s.findings.map(
      (f, i) => `${i + 1}. **${f.claim}** ${f.status[0]!.toUpperCase()}${f.status.slice(1)}. ${f.evidence}`,
    ),
    '',
    '## (a) Single behaviours across distinguishability',
    '',
    `Each behaviour trained alone, per mode and seed: last-layer DPO with plain SGD at lr ${a.lr} for ${p.lastLayer.steps} steps (batch ${p.lastLayer.batchSize}); LoRA DPO at lr ${p.loraAlone.lr} for ${p.loraAlone.steps} steps of ${p.loraAlone.effectiveBatch} pairs. Predictors from the base model's prompt embeddings at --position ${a.embedding_position} (\`${a.analysis}\`). Observed values are of the ${a.headline.mode} runs, averaged over seeds. Rank 1 = predicted fastest.`,
    '',
    table(
      [
        'behaviour',
        'pairs',
        'Delta',
        'Delta 95% CI',
        'solo velocity',
        'rank by Delta',
        ...s.protocol.measures.map((m) => `${m} (${a.headline.mode})`),
      ],
      a.behaviours.map((r) => [
        (PAPER as readonly string[]).includes(r.group) ? `**${r.group}**` : r.group,
        String(r.n_pairs),
        fmt(r.delta),
        interval(r.delta_ci),
        fmt(r.solo_velocity),
        String(r.rank_by_delta),
        ...s.protocol.measures.map((m) => observedCell(m, r.mean_observed[a.headline.mode]?.[m] ?? null)),
      ]),
    ),
    '',
    `Every pre-registered test: Spearman of the predictor against the behaviours' mean speed rank over seeds, a bootstrap 95% interval over behaviours, the one-sided permutation p-value, and the spread over seeds. In last-layer mode with balanced labels the solo velocity is Delta^2/4 and the first-order loss drop lr beta^2 Delta^2/8 (theory.md s.7): the train-loss tests marked "identity" are close to one by construction; the held-out tests of the ${a.headline.mode} runs decide the verdict.`,
    '',
    testTable(a.tests),
    '',
    positionParagraph(a.position_agreement),
    '',
    table(
      ['behaviour', ...a.position_agreement.positions.map((p) => `Delta at ${p}`)],
      a.position_agreement.delta.map((r) => [r.group, fmt(r.values[0]), fmt(r.values[1])]),
    ),
    '',
    '## (b) Prioritisation: behaviours trained together',
    '',
    `Last-layer DPO (same settings as (a)) on pairs chosen before any run by their Delta gap (the closest, the median and the farthest of the protocol's behaviours, and two with unequal sizes: the more distinguishable keeps a quarter of its pairs), and on all ${b.mix.n_behaviours} behaviours together. The official priority gap orders a pair as Delta does (theory.md s.7); the shared-update prediction (margin velocity with the mix's shares and cross terms, s.4) can differ. Cells: did the gap's prediction / the velocity's prediction come true by that measure.`,
    '',
    table(
      [
        'kind',
        'pair (higher Delta first)',
        'Delta',
        'pairs',
        'first by gap',
        'first by velocity',
        ...s.protocol.measures,
      ],
      b.pairs.map((r) => [
        r.kind,
        `${r.groups[0]} + ${r.groups[1]}`,
        `${fmt(r.delta[0])} / ${fmt(r.delta[1])}`,
        `${r.pairs_per_group[0]} / ${r.pairs_per_group[1]}`,
        r.predicted_first,
        r.velocity_first,
        ...s.protocol.measures.map((m) => {
          const o = r.outcomes.find((x) => x.measure === m);
          return `${yesNo(o?.came_true ?? null)} / ${yesNo(o?.velocity_came_true ?? null)}`;
        }),
      ]),
    ),
    '',
    'Sign tests over the pairs (one-sided; the pairs share behaviours, so they are approximate):',
    '',
    table(
      ['prediction', 'measure', 'came true', 'p', 'verdict'],
      b.pair_tests.map((t) => [t.prediction, t.measure, `${t.hits} of ${t.decided}`, fmt(t.p_value), t.decision]),
    ),
    '',
    `All ${b.mix.n_behaviours} behaviours trained together (\`${b.mix.run}\`): each predictor against each behaviour's observed speed in the mix. The verdict of finding 2 rests on the shared-update prediction (\`margin_velocity\`) against the held-out measures. The official gap over all ${b.mix.priority.decided} decided pairs of the mix by \`${b.mix.priority.measure}\`: ${b.mix.priority.hits} came true (sign test p = ${fmt(b.mix.priority.p_value)}, approximate).`,
    '',
    testTable(b.mix.tests),
    '',
    '## (c) Misalignment: alignment raises Delta; flipping an aligned model is faster',
    '',
    `Aligned on \`${c.behaviour}\` with LoRA DPO for ${c.align.epochs} ${plural('epoch', c.align.epochs)} (${c.align.steps} steps of ${c.align.effective_batch} pairs), trying the paper's lr ${c.align.paper_lr} times ${c.align.attempts.map((t) => t.multiple).join(', ')} in turn until the held-out policy accuracy rose by at least ${c.align.moved_gain} over the base model's (fixed before the run): ${c.align.attempts.map((t) => `${t.multiple} x took it from ${fmt(t.base_policy_accuracy)} to ${fmt(t.final_test?.policy_accuracy)}`).join('; ')}. ${c.align.moved ? `The model moved at ${c.align.multiple} x (lr ${c.align.lr})` : `No multiple moved the model; the experiment went on with the largest (lr ${c.align.lr}${c.flip.mode === 'lora' ? ", also the flips' lr" : ''}), so its Delta change and flips are those of a model that was not aligned`}. Merged into \`${c.aligned_model}\`. Delta of every behaviour from the base and from the aligned model's embeddings:`,
    '',
    table(
      ['behaviour', 'Delta before', '95% CI', 'Delta after', '95% CI', 'change', 'Fisher ratio', 'Delta/sqrt(conc.)'],
      c.delta.map((r) => [
        r.group === c.behaviour ? `**${r.group}** (aligned)` : r.group,
        fmt(r.before),
        interval(r.before_ci),
        fmt(r.after),
        interval(r.after_ci),
        `${r.after >= r.before ? '+' : ''}${fmt(r.after - r.before)}`,
        `${fmt(r.fisher[0])} -> ${fmt(r.fisher[1])}`,
        `${fmt(r.delta_over_sqrt_concentration[0])} -> ${fmt(r.delta_over_sqrt_concentration[1])}`,
      ]),
    ),
    '',
    'A raw Delta that rises while the normalised separations fall is a spread of the clouds, not a separation.',
    '',
    `Then ${c.flip.mode === 'lora' ? 'LoRA' : c.flip.mode} DPO on the flipped preferences (chosen and rejected swapped), ${c.flip.steps} steps at lr ${c.flip.lr}, each run with its starting model as the reference; first seed (${c.flip.seeds[0]!.seed}):`,
    '',
    table(
      ['starting model', ...measures],
      [
        ['aligned', c.flip.from_aligned],
        ['base', c.flip.from_base],
      ].map(([name, r]) => [
        name as string,
        ...measures.map((m) => observedCell(m, (r as typeof c.flip.from_base).observed[m] ?? null)),
      ]),
    ),
    '',
    `Aligned minus base flip speed per seed (larger = the aligned model flips faster), one-sided paired t-test over seeds. The interval is the two-sided 95% t interval of the mean; the one-sided test at 0.05 matches a 90% interval, so p just below 0.05 can sit beside a 95% interval that holds 0:`,
    '',
    table(
      ['measure', 'differences', 'mean', '95% interval', 'p', 'verdict'],
      c.tests.map((t) => [
        t.measure,
        t.differences.map((d) => fmt(d, 4)).join(', '),
        fmt(t.mean, 4),
        interval(t.interval),
        fmt(t.p_value),
        t.decision,
      ]),
    ),
    '',
    `By the mean over seeds, the flip from the aligned model was faster on ${c.aligned_faster_on.length ? c.aligned_faster_on.map((m) => `\`${m}\``).join(', ') : 'no measure'} and slower on ${c.aligned_slower_on.length ? c.aligned_slower_on.map((m) => `\`${m}\``).join(', ') : 'no measure'} (steps to 90% and losses: lower is faster; margin slope: higher is faster).`,
    '',
    '## Caveats',
    '',
    ...s.caveats.map((x) => `- ${x}`),
    '',
    'Every number above comes from the run folders next to this file (config.json, metrics.jsonl, summary.json) and from summary.json here.',
    '',
  ];
  return lines.join('\n');
}

/** Steps are counts; the other measures are losses and slopes. */
function observedCell(measure: string, v: number | null): string {
  return measure.startsWith('steps_') && v !== null ? String(v) : fmt(v, 4);
}

function yesNo(v: boolean | null): string {
  return v === null ? 'tie' : v ? 'yes' : 'no';
}

/** The protocol as a list: what was fixed before any run. */
function protocolLines(s: ReproduceSummary): string[] {
  const q = s.protocol;
  const drawn = q.behaviours.slice(PAPER.length);
  return [
    `- Source: ${q.source === 'quick' || q.source === 'full' ? `the built-in ${q.source} protocol` : `\`${q.source}\``}.`,
    `- Behaviours (${q.behaviours.length}): the paper's five (in bold below) and ${drawn.length} drawn from the other Persona behaviours with draw seed ${q.draw_seed}${drawn.length ? `: ${drawn.map((b) => `\`${b}\``).join(', ')}` : ''}.`,
    `- Seeds: ${q.seeds.join(', ')}. Modes: ${q.modes.join(', ')}.`,
    `- Speed measures: ${q.measures.map((m) => `\`${m}\``).join(', ')}. Predictors: ${q.predictors.map((m) => `\`${m}\``).join(', ')}.`,
    `- Finding 1's verdict: \`${q.verdict.predictor}\` against ${q.verdict.measures.map((m) => `\`${m}\``).join(' and ')} in ${q.verdict.mode} mode; supported when every one of these tests is, not supported when any is not, undecided otherwise.`,
    `- Decision rule: ${decisionRuleText(q.decision)}; permutation tests with ${q.decision.permutations} seeded draws beyond ${EXACT_MAX_N} behaviours (exact up to ${EXACT_MAX_N}).`,
  ];
}

/** One row per pre-registered rank test. */
function testTable(tests: readonly ProtocolTest[]): string {
  return table(
    ['mode', 'predictor', 'measure', 'Spearman', '95% interval', 'per seed', 'p', 'verdict'],
    tests.map((t) => [
      t.mode,
      t.predictor,
      t.note ? `${t.measure} (identity)` : t.measure,
      fmt(t.value, 2),
      `${interval(t.interval)}${t.interval_degenerate ? ' (degenerate)' : ''}`,
      t.per_seed.map((r) => fmt(r, 2)).join(', '),
      showsOtherDirection(t.decision, t.p_value, t.p_value_other_direction)
        ? `${fmt(t.p_value)} (other direction ${fmt(t.p_value_other_direction)})`
        : fmt(t.p_value),
      t.decision,
    ]),
  );
}

/** The embedding position used and the rank agreement of Delta with the other one (issue: faithful embeddings). */
function positionParagraph(agreement: SingleBehavioursResult['position_agreement']): string {
  const [used, other] = agreement.positions;
  return `Embedding position: Delta above is taken at \`${used}\`; at \`${other}\` (\`${agreement.analysis}\`) the Spearman rank agreement of Delta over the ${agreement.delta.length} behaviours is ${fmt(agreement.spearman, 2)}. question: the last token of the bare question (the official code's); newline: the last token of question + "\\n", where the model answers and what last-layer DPO trains on.`;
}
