// What every experiment receives: the base model, where to write, the seed, the settings, the data.
import type { EmbedPosition } from '../model/embed.js';
import type { DataSources } from './data-sources.js';
import type { Profile } from './profile.js';
import type { Protocol } from './protocol.js';
import type { PairTokenization } from '../tokenizer/pair.js';

export interface ExperimentContext {
  /** The base (reference) model folder. */
  model: string;
  /** The reproduction's output folder; each experiment writes into its own sub-folder. */
  out: string;
  seed: number;
  /** Where the analyses take g(x) (question: the official code's; newline: where the model answers). */
  position: EmbeddingPositionChoice;
  /** How every run and analysis tokenises the pairs (--tokenize). */
  tokenize: PairTokenization;
  profile: Profile;
  /** What experiment (a) runs and tests, fixed before any run. */
  protocol: Protocol;
  data: DataSources;
  /** One progress line (the terminal's stderr in `prefdyn reproduce`). */
  log(line: string): void;
}

/** The two prompt positions reproduce compares (model/embed.ts). */
export type EmbeddingPositionChoice = Exclude<EmbedPosition, 'response'>;
export const EMBEDDING_POSITIONS: readonly EmbeddingPositionChoice[] = ['question', 'newline'];

/** Step at which "loss after k" and the initial margin slope are read: a fifth of the run. */
export const compareStep = (steps: number): number => Math.max(1, Math.round(steps / 5));

/** Wall time since t0 for progress lines (never in summary.json, which must be deterministic). */
export function seconds(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)}s`;
}
