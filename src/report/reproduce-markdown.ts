// REPORT.md of a reproduction: for each experiment, what ran, the table of predicted against observed,
// and the plain-language status of the paper's finding; then the caveats.
import { MEASURES } from '../analysis/observed-speed.js';
import { fmt, interval } from '../experiments/findings.js';
import type { ReproduceSummary } from '../experiments/reproduce-summary.js';
import type { SingleBehavioursResult } from '../experiments/single-behaviours.js';
import { HEADLINE_MEASURE } from '../experiments/verdicts.js';

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const STATUS_WORDS = {
  holds: 'reproduced',
  partly: 'partly reproduced',
  'not reproduced': 'not reproduced',
  'no verdict': 'no verdict',
};

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
    `Observed speed is measured five ways (${MEASURES.map((m) => `\`${m.name}\`: ${m.description}`).join('; ')}); the verdicts use \`${HEADLINE_MEASURE}\`.`,
    '',
    '## Verdicts',
    '',
    ...s.findings.map(
      (f, i) =>
        `${i + 1}. **${f.claim}** ${STATUS_WORDS[f.status][0]!.toUpperCase()}${STATUS_WORDS[f.status].slice(1)}. ${f.evidence}`,
    ),
    '',
    '## (a) Single behaviours across distinguishability',
    '',
    `Each behaviour trained alone with last-layer DPO: plain SGD, lr ${a.lr}, ${p.lastLayer.steps} steps, batch ${p.lastLayer.batchSize} sampled each step; Delta from the base model's prompt embeddings at --position ${a.embedding_position} (\`${a.analysis}\`). Rank 1 = predicted or observed fastest.`,
    '',
    table(
      [
        'behaviour',
        'pairs',
        'Delta',
        'Delta 95% CI',
        'solo velocity',
        'rank by Delta',
        `mean train loss (${HEADLINE_MEASURE})`,
        'observed rank',
        'final test loss',
        'final test policy acc.',
      ],
      a.behaviours.map((r) => [
        r.group,
        String(r.n_pairs),
        fmt(r.delta),
        interval(r.delta_ci),
        fmt(r.solo_velocity),
        String(r.rank_by_delta),
        fmt(r.observed[HEADLINE_MEASURE], 4),
        String(
          observedRank(
            a.behaviours.map((x) => x.observed[HEADLINE_MEASURE] ?? null),
            r.observed[HEADLINE_MEASURE] ?? null,
          ),
        ),
        fmt(r.final_test?.loss, 4),
        fmt(r.final_test?.policy_accuracy),
      ]),
    ),
    '',
    'Rank correlations between the prediction and each observed speed (bootstrap 95% intervals over behaviours):',
    '',
    table(
      ['predictor', 'measure', 'Spearman', 'interval', 'Kendall tau-b', 'interval'],
      a.correlations.map((r) => [
        r.predictor === 'margin_velocity' ? 'solo velocity' : 'Delta',
        r.measure,
        fmt(r.spearman, 2),
        interval(r.spearman_ci),
        fmt(r.kendall_tau_b, 2),
        interval(r.kendall_ci),
      ]),
    ),
    '',
    positionParagraph(a.position_agreement),
    '',
    table(
      ['behaviour', ...a.position_agreement.positions.map((p) => `Delta at ${p}`)],
      a.position_agreement.delta.map((r) => [r.group, fmt(r.values[0]), fmt(r.values[1])]),
    ),
    '',
    '## (b) Prioritisation: two behaviours trained together',
    '',
    `Last-layer DPO on each pair's union (same settings as (a)). The priority gap of the paper's official code predicts which behaviour is learned first; "yes" means it was, by that measure.`,
    '',
    table(
      ['pair', 'Delta', 'predicted first (gap)', 'first by velocity', ...measures],
      b.pairs.map((r) => [
        `${r.groups[0]} + ${r.groups[1]}`,
        `${fmt(r.delta[0])} / ${fmt(r.delta[1])}`,
        `${r.predicted_first} (${fmt(r.priority_gap)})`,
        r.velocity_first,
        ...measures.map((m) => yesNo(r.outcomes.find((o) => o.measure === m)?.came_true ?? null)),
      ]),
    ),
    '',
    `Predicted order came true for ${b.headline.hits} of ${b.headline.decided} pairs by \`${b.headline.measure}\`, ${b.all_measures.hits} of ${b.all_measures.decided} over all measures.`,
    '',
    '## (c) Misalignment: alignment raises Delta; flipping an aligned model is faster',
    '',
    `Aligned on \`${c.behaviour}\` with LoRA DPO (lr ${c.align.lr}, ${c.align.steps} steps; final test policy accuracy ${fmt(c.align.final_test?.policy_accuracy)}), merged into \`${c.aligned_model}\`. Delta of every behaviour from the base and from the aligned model's embeddings:`,
    '',
    table(
      ['behaviour', 'Delta before', '95% CI', 'Delta after', '95% CI', 'change'],
      c.delta.map((r) => [
        r.group === c.behaviour ? `**${r.group}** (aligned)` : r.group,
        fmt(r.before),
        interval(r.before_ci),
        fmt(r.after),
        interval(r.after_ci),
        `${r.after >= r.before ? '+' : ''}${fmt(r.after - r.before)}`,
      ]),
    ),
    '',
    `Then ${c.flip.mode === 'lora' ? 'LoRA' : c.flip.mode} DPO on the flipped preferences (chosen and rejected swapped), ${c.flip.steps} steps at lr ${c.flip.lr}, each run with its starting model as the reference:`,
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
    `The flip from the aligned model was faster on ${c.aligned_faster_on.length ? c.aligned_faster_on.map((m) => `\`${m}\``).join(', ') : 'no measure'} and slower on ${c.aligned_slower_on.length ? c.aligned_slower_on.map((m) => `\`${m}\``).join(', ') : 'no measure'} (steps to 90% and losses: lower is faster; margin slope: higher is faster).`,
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

/** 1 = lowest mean loss (fastest); null values rank last. */
function observedRank(values: (number | null)[], v: number | null): number | string {
  if (v === null) return '-';
  return 1 + values.filter((x) => x !== null && x < v).length;
}

/** Steps are counts; the other measures are losses and slopes. */
function observedCell(measure: string, v: number | null): string {
  return measure.startsWith('steps_') && v !== null ? String(v) : fmt(v, 4);
}

function yesNo(v: boolean | null): string {
  return v === null ? 'tie' : v ? 'yes' : 'no';
}

/** The embedding position used and the rank agreement of Delta with the other one (issue: faithful embeddings). */
function positionParagraph(agreement: SingleBehavioursResult['position_agreement']): string {
  const [used, other] = agreement.positions;
  return `Embedding position: Delta above is taken at \`${used}\`; at \`${other}\` (\`${agreement.analysis}\`) the Spearman rank agreement of Delta over the ${agreement.delta.length} behaviours is ${fmt(agreement.spearman, 2)}. question: the last token of the bare question (the official code's); newline: the last token of question + "\\n", where the model answers and what last-layer DPO trains on.`;
}
