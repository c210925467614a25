// The pre-registered protocol of a reproduction (theory.md s.7): which behaviours, seeds, training modes,
// speed measures and predictors experiment (a) uses, and the decision rule of its tests, all fixed before
// any run. Built in per profile, or read from `--protocol FILE.yaml` (keys missing there keep the built-in
// profile's values). The behaviours are the paper's five plus a seeded draw from the other Persona
// behaviours: the draw's seed belongs to the protocol, not to the run, so every run seed sees the same list.
import { personaBehaviours } from '../data/bundled.js';
import { DECISION_RULE } from '../analysis/decision-rule.js';
import { MEASURES } from '../analysis/observed-speed.js';
import { PREDICTORS } from '../analysis/compare-run.js';
import { UserError } from '../util/errors.js';
import { NON_NEGATIVE_INTEGER, parseChoice, parseList, parseNumber } from '../util/option-value.js';
import { Rng } from '../util/rng.js';
import { readConfigFile } from '../train/config.js';
import { PAPER_BEHAVIOURS } from './behaviours.js';
import type { ProfileName } from './profile.js';

export const PROTOCOL_MODES = ['last-layer', 'lora'] as const;
export type ProtocolMode = (typeof PROTOCOL_MODES)[number];

export interface Protocol {
  /** "quick" or "full" (built in), or the file it was read from. */
  source: string;
  /** Behaviours drawn (seeded) from Persona's others, beside the paper's five. */
  random_behaviours: number;
  draw_seed: number;
  /** The five, then the drawn ones in draw order. */
  behaviours: string[];
  /** Every run of experiment (a) is repeated for each seed. */
  seeds: number[];
  modes: ProtocolMode[];
  /** The measures (analysis/observed-speed.ts) and predictors (analysis/compare-run.ts) of the tests. */
  measures: string[];
  predictors: string[];
  /**
   * The tests finding 1's verdict rests on: the held-out measures of the LoRA runs when the protocol has
   * them, else of its first mode (last-layer train loss is nearly an identity in Delta, theory.md s.7).
   */
  verdict: { mode: ProtocolMode; predictor: string; measures: string[] };
  decision: { alpha: number; minimum_rho: number; permutations: number };
}

/** Held-out end points: finding 1's verdict rests on these (steps_to_90_test is often never reached). */
const VERDICT_MEASURES = ['final_test_loss', 'final_test_accuracy'];

type BuiltIn = Omit<Protocol, 'source' | 'behaviours' | 'verdict' | 'seeds'> & { runs: number };

/** The built-in quick protocol; its run seed is the reproduction's --seed. */
const QUICK: BuiltIn = {
  random_behaviours: 5,
  draw_seed: 2024,
  runs: 1,
  modes: ['last-layer', 'lora'],
  measures: ['loss_area', 'final_test_loss', 'final_test_accuracy', 'steps_to_90_test'],
  predictors: ['delta', 'delta_over_sqrt_concentration', 'fisher', 'margin_velocity'],
  decision: { ...DECISION_RULE },
};

/** The built-in protocols; the full one runs --seed and the next two. */
const BUILT_IN: Record<ProfileName, BuiltIn> = {
  quick: QUICK,
  full: { ...QUICK, random_behaviours: 25, runs: 3 },
};

const KEYS = ['random_behaviours', 'draw_seed', 'seeds', 'modes', 'measures', 'predictors', 'decision'] as const;

/**
 * The built-in protocol of `profile` (run seeds: `seed`, seed + 1, ...), with the keys of `file` (YAML or
 * JSON) in place of its own.
 */
export function protocolFor(profile: ProfileName, seed: number, file?: string): Protocol {
  const { runs, ...rest } = structuredClone(BUILT_IN[profile]);
  const base = { ...rest, seeds: Array.from({ length: runs }, (_, i) => seed + i) };
  if (file === undefined) return complete(base, profile);
  const doc = readConfigFile(file);
  const field = (key: string) => `${file}: ${key}`;
  for (const key of Object.keys(doc)) {
    if (!(KEYS as readonly string[]).includes(key))
      throw new UserError(`${file}: unknown key "${key}" (known: ${KEYS.join(', ')})`);
  }
  const measureNames = MEASURES.map((m) => m.name);
  if (doc.random_behaviours !== undefined)
    base.random_behaviours = parseNumber(field('random_behaviours'), doc.random_behaviours, {
      integer: true,
      min: 0,
      max: personaBehaviours().length - PAPER_BEHAVIOURS.length,
    });
  if (doc.draw_seed !== undefined)
    base.draw_seed = parseNumber(field('draw_seed'), doc.draw_seed, NON_NEGATIVE_INTEGER);
  if (doc.seeds !== undefined) {
    base.seeds = listOf(field('seeds'), doc.seeds).map((s) => parseNumber(field('seeds'), s, NON_NEGATIVE_INTEGER));
    if (new Set(base.seeds).size !== base.seeds.length)
      throw new UserError(`${field('seeds')} must not repeat a seed, got ${JSON.stringify(doc.seeds)}`);
  }
  if (doc.modes !== undefined)
    base.modes = unique(
      parseList(field('modes'), doc.modes).map((m) => parseChoice(field('modes'), m, PROTOCOL_MODES)),
    );
  if (doc.measures !== undefined)
    base.measures = unique(
      parseList(field('measures'), doc.measures).map((m) => parseChoice(field('measures'), m, measureNames)),
    );
  if (doc.predictors !== undefined)
    base.predictors = unique(
      parseList(field('predictors'), doc.predictors).map((m) => parseChoice(field('predictors'), m, PREDICTORS)),
    );
  if (doc.decision !== undefined) {
    const d = doc.decision as Record<string, unknown>;
    if (d === null || typeof d !== 'object' || Array.isArray(d))
      throw new UserError(`${field('decision')} must be a mapping of alpha, minimum_rho, permutations`);
    if (d.alpha !== undefined)
      base.decision.alpha = parseNumber(`${field('decision.alpha')}`, d.alpha, { gt: 0, lt: 1 });
    if (d.minimum_rho !== undefined)
      base.decision.minimum_rho = parseNumber(`${field('decision.minimum_rho')}`, d.minimum_rho, { gt: 0, max: 1 });
    if (d.permutations !== undefined)
      base.decision.permutations = parseNumber(`${field('decision.permutations')}`, d.permutations, {
        integer: true,
        min: 99,
      });
  }
  return complete(base, file);
}

function complete(p: Omit<Protocol, 'source' | 'behaviours' | 'verdict'>, source: string): Protocol {
  const others = personaBehaviours().filter((b) => !(PAPER_BEHAVIOURS as readonly string[]).includes(b));
  const drawn = Rng.derive(p.draw_seed, 'protocol/behaviours')
    .permutation(others.length)
    .slice(0, p.random_behaviours)
    .map((i) => others[i]!);
  const mode: ProtocolMode = p.modes.includes('lora') ? 'lora' : p.modes[0]!;
  const heldOut = p.measures.filter((m) => VERDICT_MEASURES.includes(m));
  return {
    source,
    ...p,
    behaviours: [...PAPER_BEHAVIOURS, ...drawn],
    verdict: {
      mode,
      predictor: p.predictors.includes('delta') ? 'delta' : p.predictors[0]!,
      measures: heldOut.length ? heldOut : p.measures,
    },
  };
}

function listOf(name: string, raw: unknown): unknown[] {
  if (Array.isArray(raw) && raw.length) return raw;
  if (typeof raw === 'number') return [raw];
  if (typeof raw === 'string') return parseList(name, raw);
  throw new UserError(`${name} must be a non-empty list, got ${JSON.stringify(raw)}`);
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
