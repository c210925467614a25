// `prefdyn reproduce`: the paper's experiments end to end (logic in src/experiments/).
import path from 'node:path';
import { type Command, type ParsedArgs } from './command.js';
import type { ProfileOverrides } from '../experiments/profile.js';
import { packagePath } from '../util/package-root.js';
import { NON_NEGATIVE_INTEGER, parseChoice, parseNumber, POSITIVE_INTEGER } from '../util/option-value.js';
import { EMBEDDING_POSITIONS } from '../experiments/context.js';
import { reproduce } from '../experiments/reproduce.js';
import { TOKENIZE_OPTION, TOKENIZE_OPTION_HELP, tokenizeArg } from './scoring-options.js';
import { reproduceMarkdown } from '../report/reproduce-markdown.js';
import { terminalSummary } from '../report/terminal-summary.js';
import { reportReproduction } from '../report/write-report.js';

/** The bundled model, as a path from the working folder ("models/prefdyn-tiny" in the package root). */
export const DEFAULT_MODEL = path.relative(process.cwd(), packagePath('models', 'prefdyn-tiny'));
export const DEFAULT_OUT = 'runs/reproduce';

/** The smoke-test options (--steps, --pairs) shared with `prefdyn start`. */
export const SMOKE_OPTIONS = { steps: { type: 'string' }, pairs: { type: 'string' } } as const;

export const command: Command = {
  name: 'reproduce',
  summary: "the paper's experiments end to end: Delta vs learning speed, prioritisation, misalignment",
  help: `Usage: prefdyn reproduce [--model DIR] [--out DIR] [--quick] [--protocol FILE] [--seed N]
                         [--position question|newline] [--json]

Runs the experiments of Im & Li (ICML 2024) under a protocol fixed before any run (behaviours: the
paper's five plus a seeded draw of other Persona behaviours; seeds; modes; measures; predictors; the
decision rule of every test):
  (a) each predictor (Delta and its normalised forms, measured before training) against how fast each
      behaviour is learned alone, in last-layer and LoRA mode, over the protocol's seeds;
  (b) pairs chosen by their Delta gap (and two with unequal sizes), then all behaviours together:
      the priority gap and the shared-update prediction against which is learned first;
  (c) LoRA DPO alignment on one behaviour, merged: Delta before and after, and how fast the flipped
      preferences are learned from the aligned model against from the base model.
Writes run folders, analyses, summary.json, REPORT.md (tables, a verdict per finding of the paper,
caveats, figures) and report.html with figures/ (prefdyn report) under --out, prints progress on stderr and a compact summary on stdout.

Options:
  --model DIR    base model, Hugging Face layout, " Yes"/" No" single tokens (default ${DEFAULT_MODEL})
  --out DIR      output folder; an earlier reproduction there is replaced (default ${DEFAULT_OUT})
  --quick        the short profile (what \`npm start\` runs): 10 behaviours, one seed; LoRA runs of (a)
                 of 20 steps x 32 pairs; alignment for one epoch (128 pairs a step) at 1,000 x the
                 paper's lr 1e-5, else 10,000 x; flips in last-layer mode. The full profile: 30
                 behaviours, 3 seeds; LoRA runs of 30 steps x 32 pairs; alignment for one epoch at the
                 smallest of 1, 10, 100, 1,000, 10,000 x that raises the held-out policy accuracy by
                 0.2 (else the largest); LoRA flips of 30 steps x 32 pairs at the alignment's lr
  --protocol FILE  YAML or JSON with any of random_behaviours, draw_seed, seeds, modes (last-layer,
                 lora), measures, predictors, decision {alpha, minimum_rho, permutations}; missing
                 keys keep the profile's built-in protocol
  --seed N       seed of splits, batch order, LoRA initialisation and bootstraps; the built-in protocols
                 run seeds N (quick) or N, N+1, N+2 (full) (default 1234)
  --position P   where Delta's embeddings are taken: question (default; the last token of the bare
                 question, as the official code) or newline (after the "\\n" prefdyn appends, where the
                 model answers); the other is analysed too and the rank agreement of Delta reported
  --json         print summary.json instead of the compact summary
${TOKENIZE_OPTION_HELP}
  --steps N      every run's step count but the alignment's one epoch (for smoke tests; the
                 verdicts need the profile's)
  --pairs N      pairs per behaviour, drawn with the seed (for smoke tests; default all 1,000)

Example:
  prefdyn reproduce --quick --out runs/quick`,
  options: {
    model: { type: 'string', default: DEFAULT_MODEL },
    out: { type: 'string', default: DEFAULT_OUT },
    quick: { type: 'boolean', default: false },
    protocol: { type: 'string' },
    seed: { type: 'string', default: '1234' },
    position: { type: 'string', default: 'question' },
    json: { type: 'boolean', default: false },
    ...TOKENIZE_OPTION,
    ...SMOKE_OPTIONS,
  },
  async run({ values }) {
    const out = values.out as string;
    const summary = await reproduce({
      model: values.model as string,
      out,
      profile: values.quick ? 'quick' : 'full',
      protocolFile: values.protocol as string | undefined,
      seed: parseNumber('--seed', values.seed, NON_NEGATIVE_INTEGER),
      position: parseChoice('--position', values.position, EMBEDDING_POSITIONS),
      tokenize: tokenizeArg(values),
      overrides: smokeOverrides(values),
      log: (line) => process.stderr.write(line + '\n'),
      markdown: reproduceMarkdown,
    });
    const report = await reportReproduction(out);
    process.stdout.write(
      values.json
        ? JSON.stringify(summary, null, 1) + '\n'
        : `${terminalSummary(summary, out)}\nfigures: ${report.html}\n`,
    );
  },
};

export function smokeOverrides(values: ParsedArgs['values']): ProfileOverrides {
  return {
    steps: values.steps === undefined ? undefined : parseNumber('--steps', values.steps, POSITIVE_INTEGER),
    pairsPerBehaviour:
      values.pairs === undefined ? undefined : parseNumber('--pairs', values.pairs, { integer: true, min: 10 }),
  };
}
