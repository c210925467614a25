// The values that pass between the stages of a run (setup.ts -> trainer.ts -> run-folder.ts), kept
// here so that none of those modules imports another only for a type.
import type { PreferencePair } from '../data/pair.js';
import type { GroupMetrics } from './metrics.js';
import type { Policy } from './policy.js';

/** The pairs a run sees: indices into the policy's pair list, their groups and reference log-probs. */
export interface TrainData {
  /** Group of every pair the policy knows, by pair index. */
  groups: string[];
  train: number[];
  test: number[];
  /** Reference response log-probs by pair index. */
  refChosen: Float64Array;
  refRejected: Float64Array;
  /**
   * True when the starting policy is the reference (same model; LoRA starts at B = 0; last-layer at
   * W0). Then step 0 scores the policy with the reference log-probs themselves, so every step-0
   * margin is exactly 0 and the loss exactly ln 2, whatever rounding a different batching gives.
   */
  startsAtReference: boolean;
}

export interface TrainResult {
  steps: number;
  totalSteps: number;
  status: 'completed' | 'interrupted';
  lastTrain?: GroupMetrics[];
  lastTest?: GroupMetrics[];
  /** Every checkpoint of the run so far, oldest first: on resume, those up to the resumed step, then the new ones. */
  checkpoints: string[];
}

export interface RunSetup {
  pairs: PreferencePair[];
  data: TrainData;
  policy: Policy;
  notes: string[];
  /** For config.json and summary.json: the limits used and how many pairs they cut. */
  truncation: TruncationRecord;
}

export interface TruncationRecord {
  /** The resolved --max-length (the model's context when 0 was asked). */
  max_length: number;
  /** 0 = none beyond max_length. */
  max_prompt_length: number;
  truncated_pairs: number;
  n_pairs: number;
}
