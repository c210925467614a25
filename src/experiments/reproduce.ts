// `prefdyn reproduce`: experiments (a), (b), (c) of theory.md s.6 on one model, in one output folder:
//   <out>/single/  <out>/prioritisation/  <out>/misalignment/  [<out>/data/]  summary.json  REPORT.md
// summary.json holds no timings and no absolute paths of its own making: same model, seed and profile
// give the same file.
import { provenance } from '../tensor/kernels/provenance.js';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { checkOutputFolder } from '../util/output-path.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { EmbeddingPositionChoice, ExperimentContext } from './context.js';
import { DataSources } from './data-sources.js';
import { findings, fmt } from './findings.js';
import { misalignment } from './misalignment.js';
import { prioritisation } from './prioritisation.js';
import { fitBatches, profileFor, trainPairsOf, type ProfileName, type ProfileOverrides } from './profile.js';
import type { ReproduceSummary } from './reproduce-summary.js';
import { singleBehaviours, type PositionAgreement } from './single-behaviours.js';
import { protocolFor } from './protocol.js';
import type { ProtocolTest, SummaryTest } from './protocol-tests.js';
import { EMBED_POSITION_DEFINITIONS } from '../model/embed.js';
import type { PairTokenization } from '../tokenizer/pair.js';
import { answerWarning, summarizeModel } from '../model/summary.js';

export interface ReproduceOptions {
  model: string;
  out: string;
  profile: ProfileName;
  overrides?: ProfileOverrides;
  /** A protocol file (YAML or JSON) in place of the profile's built-in protocol (protocol.ts). */
  protocolFile?: string;
  seed: number;
  /** Where the analyses take g(x) (default question, the official code's); the other position is analysed too, for the rank agreement. */
  position?: EmbeddingPositionChoice;
  tokenize: PairTokenization;
  log(line: string): void;
  /** REPORT.md from the summary (report/reproduce-markdown.ts; report/ sits above experiments/, so the caller passes it). */
  markdown(summary: ReproduceSummary): string;
}

/** Marks a folder as written by reproduce, which may then replace what it holds. */
const MARKER = '.prefdyn-reproduce';
/** Also what `prefdyn report` writes beside REPORT.md (report.html, figures/), cleared with the rest. */
const OUTPUTS = [
  'single',
  'prioritisation',
  'misalignment',
  'data',
  'summary.json',
  'REPORT.md',
  'report.html',
  'figures',
];

export async function reproduce(o: ReproduceOptions): Promise<ReproduceSummary> {
  if (!fs.existsSync(path.join(o.model, 'config.json'))) {
    throw new UserError(
      `${o.model}: not a model folder (no config.json); give --model DIR, a Hugging Face folder with " Yes" and " No" as single tokens (e.g. one made by \`prefdyn model init\`)`,
    );
  }
  // The runs' own notices are not shown: say here when the answers are not the single tokens the theory needs.
  const answers = answerWarning(summarizeModel(o.model), o.tokenize);
  if (answers) o.log(answers);
  const protocol = protocolFor(o.profile, o.seed, o.protocolFile);
  prepareOutput(o.out);
  const requested = profileFor(o.profile, o.overrides);
  const data = await DataSources.open(
    protocol.behaviours,
    requested.pairsPerBehaviour,
    o.seed,
    path.join(o.out, 'data'),
  );
  const profile = fitBatches(requested, trainPairsOf(Math.min(...data.counts.values())));
  const ctx: ExperimentContext = {
    model: o.model,
    out: o.out,
    seed: o.seed,
    position: o.position ?? 'question',
    tokenize: o.tokenize,
    profile,
    protocol,
    data,
    log: o.log,
  };
  o.log(
    `reproducing Im & Li (2024) on ${o.model}: ${profile.name} profile, protocol ${protocol.source} (${protocol.behaviours.length} behaviours, seeds ${protocol.seeds.join(', ')}, modes ${protocol.modes.join(', ')}), seed ${o.seed}, output ${o.out}`,
  );

  const single = await singleBehaviours(ctx);
  const prio = await prioritisation(ctx, single.report, single.result.lr);
  const mis = await misalignment(
    ctx,
    { report: single.report, meanSquaredNorm: single.result.mean_squared_norm },
    single.result.lr,
  );
  const summary: ReproduceSummary = {
    version: 1,
    model: o.model,
    seed: o.seed,
    provenance: provenance(),
    profile,
    protocol,
    d: single.report.source.d,
    embedding_position: ctx.position,
    data: {
      source:
        profile.pairsPerBehaviour === null
          ? 'persona (all pairs of each behaviour)'
          : `persona, ${profile.pairsPerBehaviour} pairs per behaviour drawn with the seed (files in data/)`,
      pairs: [...data.counts].map(([group, pairs]) => ({ group, pairs })),
    },
    single: single.result,
    prioritisation: prio,
    misalignment: mis,
    findings: findings(single.result, prio, mis),
    tests: [],
    caveats: [],
  };
  summary.tests = summaryTests(summary);
  summary.caveats = caveats(summary);
  writeJsonAtomic(path.join(o.out, 'summary.json'), summary);
  writeFileAtomic(path.join(o.out, 'REPORT.md'), o.markdown(summary));
  return summary;
}

/** Creates `out`, or clears the outputs of an earlier reproduction there; refuses any other non-empty folder. */
function prepareOutput(out: string): void {
  checkOutputFolder('--out', out);
  if (fs.existsSync(out)) {
    if (fs.readdirSync(out).length > 0 && !fs.existsSync(path.join(out, MARKER))) {
      throw new UserError(
        `--out ${out}: exists, is not empty and was not written by \`prefdyn reproduce\` (no ${MARKER} file); choose another --out`,
      );
    }
    for (const name of OUTPUTS) fs.rmSync(path.join(out, name), { recursive: true, force: true });
  }
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(
    path.join(out, MARKER),
    'written by prefdyn reproduce; its outputs here are replaced by the next run\n',
  );
}

/** Where Delta was measured, and how much the ranking depends on it. */
function positionCaveat(a: PositionAgreement): string {
  const [used, other] = a.positions;
  return `Delta is measured at --position ${used} (${EMBED_POSITION_DEFINITIONS[used]}); last-layer DPO trains on g(x) at newline, whose E||g||^2 sets its lr. Spearman rank agreement of Delta between ${used} and ${other} over the ${a.delta.length} behaviours: ${fmt(a.spearman, 2)} (\`${a.analysis}\`).`;
}

/** What keeps this reproduction from being the paper's, from the settings it actually ran with. */
function caveats(s: ReproduceSummary): string[] {
  const p = s.profile;
  const m = s.misalignment;
  const maxDelta = Math.max(...s.single.behaviours.map((b) => b.delta));
  const out = [
    `The model is tiny (hidden size ${s.d}) and was trained on a CPU; the paper used Llama-2-7B and Mistral-7B. Its prompt embeddings share a large common component (every prompt ends in "\\n"): Delta^2 is at most ${fmt(maxDelta ** 2, 2)} against E||g||^2 = ${fmt(s.single.mean_squared_norm, 1)}.`,
    `Last-layer learning rate ${s.single.lr} instead of the paper's 0.1 (beta kept at ${p.beta}): ${s.single.lr_rule}, scale ${p.lastLayer.lrScale}. Last-layer dynamics depend on lr and beta only through lr * beta^2, against the scale of g.`,
    `Alignment changed the scale of the embeddings as well as Delta: E||g||^2 over the protocol's behaviours was ${fmt(m.mean_squared_norm.before, 1)} before and ${fmt(m.mean_squared_norm.after, 1)} after. Both flip runs use one lr (as the paper's did), so part of a faster flip can come from the scale; Delta / sqrt(E||g||^2) of ${m.behaviour} went from ${fmt(m.delta[0]!.before / Math.sqrt(m.mean_squared_norm.before))} to ${fmt(m.delta[0]!.after / Math.sqrt(m.mean_squared_norm.after))}.`,
    `LoRA runs of (a): lr ${p.loraAlone.lr} (${fmt(p.loraAlone.lr / m.align.paper_lr, 0)} x the paper's ${m.align.paper_lr}) for ${p.loraAlone.steps} steps of ${p.loraAlone.effectiveBatch} pairs instead of one epoch of 128 at the paper's lr, which barely moves a tiny model; finding 1's verdict rests on these runs.`,
    m.align.moved
      ? `Alignment: LoRA (r 8, alpha 32, dropout 0.05, q_proj and v_proj, as the paper) for one epoch of ${m.align.effective_batch} pairs a step at ${m.align.multiple} x the paper's lr ${m.align.paper_lr} (${m.align.lr}): the smallest multiple tried (${m.align.attempts.map((t) => t.multiple).join(', ')}) that raised the held-out policy accuracy by at least ${m.align.moved_gain}.`
      : `Alignment did not move the model: one epoch at ${m.align.attempts.map((t) => t.multiple).join(', ')} x the paper's lr ${m.align.paper_lr} raised the held-out policy accuracy by less than ${m.align.moved_gain}; finding 3 is then tested on a model that was not aligned${m.flip.mode === 'lora' ? `, with flips at the largest lr (${m.align.lr})` : ''}.`,
    `Experiment (a) ranks ${s.protocol.behaviours.length} behaviours; prioritisation rests on ${s.prioritisation.pairs.length} pairs chosen by their Delta gap and one run of all ${s.prioritisation.mix.n_behaviours} behaviours together; misalignment on one alignment run.`,
    s.protocol.seeds.length > 1
      ? `Experiment (a) and the flips of (c) ran seeds ${s.protocol.seeds.join(', ')} (batch order, LoRA initialisation); the runs of (b) and the alignment of (c) ran seed ${s.seed} only.`
      : `One seed (${s.seed}); other seeds change the splits, batch order and LoRA initialisation (the full profile runs three).`,
    `g(x) is the true input of lm_head (final norm applied once); the official code applies the final RMSNorm twice.`,
    positionCaveat(s.single.position_agreement),
  ];
  if (p.flip.mode === 'last-layer')
    out.push(
      `The flip runs train the last layer (lr ${s.misalignment.flip.lr}) rather than LoRA as in the paper, so that the quick profile stays short; the full profile flips with LoRA.`,
    );
  if (p.pairsPerBehaviour !== null) out.push(`Only ${p.pairsPerBehaviour} pairs per behaviour were used (of 1,000).`);
  return out;
}

/** Every test of the three experiments in summary.json's one shape. */
function summaryTests(s: ReproduceSummary): SummaryTest[] {
  const rank = (finding: 1 | 2, experiment: string) => (t: ProtocolTest) => ({
    finding,
    experiment,
    mode: t.mode,
    n_behaviours: t.n_behaviours,
    seeds: t.seeds,
    measure: t.measure,
    predictor: t.predictor,
    statistic: t.statistic,
    value: t.value,
    p_value: t.p_value,
    interval: t.interval,
    decision: t.decision,
  });
  return [
    ...s.single.tests.map(rank(1, 'single behaviours')),
    ...s.prioritisation.mix.tests.map(rank(2, 'all behaviours together')),
    ...s.prioritisation.pair_tests.map((t): SummaryTest => ({
      finding: 2,
      experiment: 'pairs',
      mode: 'last-layer',
      n_behaviours: t.decided,
      seeds: [s.seed],
      measure: t.measure,
      predictor: t.prediction,
      statistic: 'sign test',
      value: t.decided ? t.hits / t.decided : NaN,
      p_value: t.p_value,
      interval: null,
      decision: t.decision,
    })),
    ...s.misalignment.tests.map((t): SummaryTest => ({
      finding: 3,
      experiment: 'misalignment',
      mode: s.misalignment.flip.mode,
      n_behaviours: 1,
      seeds: t.seeds,
      measure: t.measure,
      predictor: 'aligned minus base',
      statistic: 'paired t',
      value: t.mean,
      p_value: t.p_value,
      interval: t.interval,
      decision: t.decision,
    })),
  ];
}
