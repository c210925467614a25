// One training run of an experiment, through the library (what `prefdyn train` does, minus the
// command line): resolved config -> setup -> train -> a run folder of contract 4, read back as series.
import fs from 'node:fs';
import { readRunMetrics, type RunSeries } from '../analysis/run-metrics.js';
import { resolveConfig, type TrainMode } from '../train/config.js';
import { writeRunConfig, writeRunSummary } from '../train/run-folder.js';
import { setupRun } from '../train/setup.js';
import { train } from '../train/trainer.js';

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
  });
  const { config } = resolved;
  const setup = await setupRun(config, {});
  fs.rmSync(spec.dir, { recursive: true, force: true });
  fs.mkdirSync(spec.dir, { recursive: true });
  writeRunConfig(spec.dir, resolved, setup);
  const result = await train({ config, runDir: spec.dir, policy: setup.policy, data: setup.data });
  writeRunSummary(spec.dir, resolved, setup, result);
  const checkpoint = result.checkpoints.at(-1);
  if (!checkpoint) throw new Error(`${spec.dir}: the run wrote no checkpoint`);
  return { dir: spec.dir, series: readRunMetrics(spec.dir), checkpoint };
}
