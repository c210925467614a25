// The one way to run training, for `prefdyn train` and the experiments alike:
//   lock the run folder -> resolve (a new run's config, or the saved one of --resume) -> load the pairs
//   -> check what can be checked before any compute (batch size; on resume the fingerprints of model,
//   reference, data and checkpoint files) -> setup (reference log-probs, policy) -> write config.json
//   -> train -> summary.json.
// Resume cases: a run stopped before its first checkpoint starts again from step 0 with its config; a
// run whose last checkpoint is its final step but has no summary.json (killed in between) gets its
// summary; a finished run is left alone. Temporaries of a checkpoint write cut short are removed.
import fs from 'node:fs';
import path from 'node:path';
import type { SkippedRow } from '../data/errors.js';
import { UserError } from '../util/errors.js';
import { withFolderLock } from '../util/folder-lock.js';
import { readJsonFile } from '../util/json-file.js';
import { checkpointChanges, listCheckpoints, readCheckpoint, removeStaleCheckpointTemporaries } from './checkpoint.js';
import { resolveConfig, withModelDefaults, type ResolvedConfig } from './config.js';
import { modelTypeOf, readModelConfig } from '../model/config.js';
import { fingerprintChanges, runFingerprints } from './run-fingerprints.js';
import {
  CONFIG_FILE,
  METRICS_FILE,
  metricsAt,
  readRunConfig,
  SUMMARY_FILE,
  writeRunConfig,
  writeRunSummary,
  type RunSourceOptions,
  type SavedRun,
} from './run-folder.js';
import type { TrainResult } from './run-types.js';
import type { Progress } from '../util/progress.js';
import { loadRunPairs, setupRun } from './setup.js';
import { checkBatchFits, train } from './trainer.js';

export interface TrainingRequest {
  /** A new run: its resolved config (config.out is the run folder) and data-source options. */
  start?: { resolved: ResolvedConfig; source: RunSourceOptions };
  /** Or continue a run folder, or one of its checkpoint folders, with its saved config. */
  resume?: string;
  /** Resume although inputs or checkpoint files changed (each change is still reported, as a warning). */
  force?: boolean;
  /** Remove the run folder first (the experiments' runs); otherwise an existing run is refused. */
  replace?: boolean;
  /** One-line notices (what was reused, restarted, cleaned up, taken over; warnings). */
  notice: (text: string) => void;
  onSkip?: (skip: SkippedRow) => void;
  /** Progress of the steps from `startStep` on. */
  progress?: (startStep: number) => Progress;
  /** Polled after each update: true stops the run with a checkpoint. */
  stopRequested?: () => boolean;
  /** Called once the run folder holds its config, before the first step (e.g. to start a dashboard on it). */
  beforeTraining?: (runDir: string) => Promise<void>;
}

export interface TrainingOutcome {
  runDir: string;
  result: TrainResult;
  /** The run had finished already: nothing was trained (summary.json is written if it was missing). */
  alreadyComplete: boolean;
}

/** Where a request trains: the run folder, the config, and on resume the checkpoint folder (none: from step 0). */
interface Plan {
  runDir: string;
  resolved: ResolvedConfig;
  source: RunSourceOptions;
  resuming: boolean;
  checkpoint?: string;
  saved?: SavedRun;
}

export async function runTraining(req: TrainingRequest): Promise<TrainingOutcome> {
  const where = locate(req);
  return withFolderLock(where.runDir, req.notice, () => {
    if (req.replace) fs.rmSync(where.runDir, { recursive: true, force: true }); // only once the folder is ours
    return runLocked(req, plan(req, where));
  });
}

/** The run folder, and the checkpoint folder when --resume names one. */
function locate(req: TrainingRequest): { runDir: string; checkpoint?: string } {
  if (req.resume === undefined) {
    if (!req.start) throw new Error('runTraining: give start or resume');
    return { runDir: req.start.resolved.config.out };
  }
  // A checkpoint folder (runDir/checkpoints/step-N) names its run; anything else is the run folder.
  const isCheckpoint = fs.existsSync(path.join(req.resume, 'trainer_state.json'));
  const runDir = isCheckpoint ? path.resolve(req.resume, '..', '..') : req.resume;
  if (!fs.existsSync(path.join(runDir, CONFIG_FILE)))
    throw new UserError(`--resume ${req.resume}: not a run folder (no ${path.join(runDir, CONFIG_FILE)})`);
  return { runDir, checkpoint: isCheckpoint ? req.resume : undefined };
}

function plan(req: TrainingRequest, where: { runDir: string; checkpoint?: string }): Plan {
  const { runDir } = where;
  if (req.resume !== undefined) {
    const saved = readRunConfig(runDir);
    // The values come back from the file; where each came from originally is recorded beside them.
    const fromFile = resolveConfig({ path: saved.file, values: { ...saved.config } }, {});
    const resolved = { config: fromFile.config, sources: saved.sources ?? fromFile.sources };
    const stale = removeStaleCheckpointTemporaries(runDir);
    if (stale.length)
      req.notice(`removed ${stale.length} unfinished checkpoint write(s) of an earlier process: ${stale.join(', ')}`);
    const checkpoint = where.checkpoint ?? listCheckpoints(runDir).at(-1)?.dir;
    if (!checkpoint)
      req.notice(`${runDir} has no checkpoint (the run stopped before its first): starting it again from step 0`);
    return { runDir, resolved, source: saved.source, resuming: true, checkpoint, saved };
  }
  const { source } = req.start!;
  const resolved = withModelDefaults(req.start!.resolved, (model) => modelTypeOf(readModelConfig(model)));
  const c = resolved.config;
  if (resolved.sources.steps !== 'default' && c.steps === 0)
    throw new UserError(
      `--steps 0 (${resolved.sources.steps}): a run needs at least one update; leave --steps out to train --epochs ${c.epochs}`,
    );
  const hasConfig = fs.existsSync(path.join(runDir, CONFIG_FILE));
  if (hasConfig && listCheckpoints(runDir).length === 0) {
    req.notice(`${runDir} holds a run stopped before its first checkpoint: reusing the folder, starting from step 0`);
  } else if (hasConfig || fs.existsSync(path.join(runDir, METRICS_FILE))) {
    throw new UserError(
      `${runDir} already holds a run (${hasConfig ? CONFIG_FILE : METRICS_FILE}); choose another --out, or continue it with --resume ${runDir}`,
    );
  }
  return { runDir, resolved, source, resuming: false };
}

async function runLocked(req: TrainingRequest, p: Plan): Promise<TrainingOutcome> {
  const c = p.resolved.config;
  const loaded = await loadRunPairs(c, { ...p.source, onSkip: req.onSkip });
  checkBatchFits(c, loaded.nTrain);
  const fingerprints = runFingerprints(c, loaded.pairs, loaded.nTrain);
  if (p.resuming) {
    const changes = p.saved?.fingerprints ? fingerprintChanges(c, p.saved.fingerprints, fingerprints) : [];
    if (p.checkpoint) changes.push(...checkpointChanges(p.checkpoint));
    if (!p.saved?.fingerprints)
      req.notice(`${p.runDir}: config.json records no input fingerprints (an older prefdyn): inputs not checked`);
    if (changes.length && !req.force)
      throw new UserError(`--resume ${p.runDir}: ${changes.join('; ')}; refusing to continue (--force overrides)`);
    for (const change of changes) req.notice(`WARNING: --force: continuing although ${change}`);
  }

  const checkpoint = p.checkpoint ? readCheckpoint(p.checkpoint) : undefined;
  if (checkpoint && checkpoint.state.step >= checkpoint.state.total_steps) {
    const state = checkpoint.state;
    const result: TrainResult = {
      steps: state.step,
      totalSteps: state.total_steps,
      status: 'completed',
      checkpoints: listCheckpoints(p.runDir).map((k) => k.dir),
    };
    if (summaryCovers(p.runDir, state.step)) return { runDir: p.runDir, result, alreadyComplete: true };
    // Killed after its final checkpoint, before summary.json: write it from the checkpoint's metrics.
    const setup = await setupRun(c, loaded, p.checkpoint);
    result.lastTrain = metricsAt(p.runDir, state.metrics_bytes, state.step - 1, 'train');
    const test = metricsAt(p.runDir, state.metrics_bytes, state.step, 'test');
    if (test.length) result.lastTest = test;
    writeRunSummary(p.runDir, p.resolved, setup, result);
    req.notice(`${p.runDir}: the run had finished but had no summary.json; wrote it`);
    return { runDir: p.runDir, result, alreadyComplete: true };
  }

  const setup = await setupRun(c, loaded, p.checkpoint);
  fs.mkdirSync(p.runDir, { recursive: true });
  if (!checkpoint) writeRunConfig(p.runDir, p.resolved, setup, p.source, fingerprints);
  for (const note of setup.notes) req.notice(note);
  await req.beforeTraining?.(p.runDir);
  const result = await train({
    config: c,
    runDir: p.runDir,
    policy: setup.policy,
    data: setup.data,
    resume: checkpoint,
    progress: req.progress?.(checkpoint?.state.step ?? 0),
    stopRequested: req.stopRequested,
  });
  writeRunSummary(p.runDir, p.resolved, setup, result);
  return { runDir: p.runDir, result, alreadyComplete: false };
}

/** True when summary.json exists and reports `step` steps. */
function summaryCovers(runDir: string, step: number): boolean {
  const file = path.join(runDir, SUMMARY_FILE);
  return fs.existsSync(file) && (readJsonFile(file) as { steps?: unknown }).steps === step;
}
