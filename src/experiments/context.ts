// What every experiment receives: the base model, where to write, the seed, the settings, the data.
import type { DataSources } from './data-sources.js';
import type { Profile } from './profile.js';
import type { PairTokenization } from '../tokenizer/pair.js';

export interface ExperimentContext {
  /** The base (reference) model folder. */
  model: string;
  /** The reproduction's output folder; each experiment writes into its own sub-folder. */
  out: string;
  seed: number;
  /** How every run and analysis tokenises the pairs (--tokenize). */
  tokenize: PairTokenization;
  profile: Profile;
  data: DataSources;
  /** One progress line (the terminal's stderr in `prefdyn reproduce`). */
  log(line: string): void;
}

/** Step at which "loss after k" and the initial margin slope are read: a fifth of the run. */
export const compareStep = (steps: number): number => Math.max(1, Math.round(steps / 5));

/** Wall time since t0 for progress lines (never in summary.json, which must be deterministic). */
export function seconds(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)}s`;
}
