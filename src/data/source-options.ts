// The options every loader takes, in one place, so that `data`, `train`, `embed`, `logprobs` and
// `analyze` read a data source the same way (the matching flags are in src/cli/data-options.ts).
import type { SkippedRow } from './errors.js';

/** Column names read from .jsonl/.json rows. */
export interface FieldMap {
  prompt: string;
  chosen: string;
  rejected: string;
  /** Unset: the first of "group", "subset", "category" a row has; none: the file name without extension. */
  group?: string;
  /** Unset: "id" if a row has it; otherwise "<file name>/<row index>". */
  id?: string;
}

export const DEFAULT_FIELDS: FieldMap = { prompt: 'prompt', chosen: 'chosen', rejected: 'rejected' };

/** The group columns tried in order when no group field is given. */
export const DEFAULT_GROUP_FIELDS = ['group', 'subset', 'category'] as const;

export interface SourceOptions {
  /** Swap chosen and rejected (and the label): the misalignment experiments. */
  flip?: boolean;
  /** Report bad rows through onSkip and go on, instead of stopping at the first. */
  skipInvalid?: boolean;
  /** Column mapping for .jsonl/.json files; ignored by the bundled sources. */
  fields?: Partial<FieldMap>;
  /** Called for every row not turned into a pair (bad rows under skipInvalid; hh-rlhf pairs whose prompts differ). */
  onSkip?: (skip: SkippedRow) => void;
}
