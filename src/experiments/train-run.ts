// One training run of an experiment, through the same entry point as `prefdyn train` (runTraining):
// a run folder of contract 4, read back as series.
import { readRunMetrics, type RunSeries } from '../analysis/run-metrics.js';
import { resolveConfig, type TrainMode } from '../train/config.js';
import { runTraining } from '../train/run-training.js';
import type { PairTokenization } from '../tokenizer/pair.js';

export interface RunSpec {
  /** The run folder; replaced if it exists. */
  dir: string;
  model: string;
  data: string;
  flip?: boolean;
  mode: TrainMode;
  steps: number;
  lr: number;
  beta: number;
  batchSize: number;
  gradientAccumulationSteps?: number;
  evalEvery: number;
  seed: number;
  tokenize: PairTokenization;
}

export interface FinishedRun {
  dir: string;
  series: RunSeries;
  /** The last checkpoint folder (model or adapter). */
  checkpoint: string;
}

export async function trainRun(spec: RunSpec): Promise<FinishedRun> {
  const resolved = resolveConfig(undefined, {
    model: spec.model,
    data: spec.data,
    out: spec.dir,
    flip: spec.flip ?? false,
    mode: spec.mode,
    steps: spec.steps,
    lr: spec.lr,
    beta: spec.beta,
    batch_size: spec.batchSize,
    gradient_accumulation_steps: spec.gradientAccumulationSteps ?? 1,
    eval_every: spec.evalEvery,
    seed: spec.seed,
    tokenize: spec.tokenize,
  });
  const { result } = await runTraining({
    start: { resolved, source: {} },
    replace: true,
    notice: () => {}, // the experiment's own log says what runs; the run folder records the rest
  });
  const checkpoint = result.checkpoints.at(-1);
  if (!checkpoint) throw new Error(`${spec.dir}: the run wrote no checkpoint`);
  return { dir: spec.dir, series: readRunMetrics(spec.dir), checkpoint };
}
