// The training loop, as a sequence of small named steps:
//   evaluate(test, 0) -> for each update k: trainStep(k) [forward, losses, metrics line, backward,
//   clip, update] -> evaluate(test, k+1) every --eval-every -> checkpoint every --save-every -> summary.
// Every line of metrics.jsonl with step k describes the weights after k updates (W_k): train lines
// are the batch of update k+1 scored before that update (as TRL logs), test lines the whole test split.
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { Progress } from '../util/progress.js';
import { batchOrder, stepsForEpochs, type BatchOrder } from './batches.js';
import { listCheckpoints, writeCheckpoint, type TrainerState } from './checkpoint.js';
import { effectiveBatch, type TrainConfig } from './config.js';
import { clipGradNorm, zeroGrads } from './gradients.js';
import {
  firstNonFiniteGroup,
  groupMetrics,
  pairLosses,
  type GroupMetrics,
  type PairLogits,
  type PairLogps,
} from './metrics.js';
import { createOptimizer, type Optimizer, type OptimizerState } from './optimizers.js';
import type { Policy, ResponseLogps } from './policy.js';
import type { TrainData, TrainResult } from './run-types.js';
import { metricLines, MetricsWriter } from './run-folder.js';
import { lrFactor } from './schedules.js';
import { TensorboardWriter } from './tensorboard.js';

export type { TrainData, TrainResult } from './run-types.js';

export interface TrainOptions {
  config: TrainConfig;
  runDir: string;
  policy: Policy;
  data: TrainData;
  /** Continue from a checkpoint (the policy must already hold its weights). */
  resume?: { state: TrainerState; optimizer: OptimizerState };
  progress?: Progress;
  /** Polled after each update: true stops the run with a checkpoint (Ctrl-C). */
  stopRequested?: () => boolean;
}

/** Raised when a loss or gradient is not finite; the checkpoint of the last good weights is written first. */
export class NonFiniteError extends UserError {}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function totalSteps(c: TrainConfig, nTrain: number): number {
  return c.steps > 0 ? c.steps : stepsForEpochs(c.epochs, nTrain, effectiveBatch(c));
}

/** Refuses an effective batch larger than the training split (checked before any compute by run-training.ts). */
export function checkBatchFits(c: TrainConfig, nTrain: number): void {
  const E = effectiveBatch(c);
  if (nTrain < E) {
    throw new UserError(
      `the effective batch (--batch-size ${c.batch_size} x --gradient-accumulation-steps ${c.gradient_accumulation_steps} = ${E}) is larger than the training split (${nTrain} pairs); lower --batch-size or --test-fraction`,
    );
  }
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const c = o.config;
  const E = effectiveBatch(c);
  checkBatchFits(c, o.data.train.length);
  const total = o.resume?.state.total_steps ?? totalSteps(c, o.data.train.length);
  const order = batchOrder(o.data.train.length, E, c.seed, !c.no_shuffle);
  const rng = Rng.derive(c.seed, 'dropout');
  if (o.resume) rng.setState(o.resume.state.rng);
  const optimizer = createOptimizer(
    {
      name: c.optimizer,
      weightDecay: c.weight_decay,
      momentum: c.momentum,
      adamBeta1: 0.9,
      adamBeta2: 0.999,
      adamEpsilon: 1e-8,
    },
    o.resume?.optimizer,
  );
  const tensorboard = c.report_to === 'tensorboard' ? new TensorboardWriter(o.runDir) : undefined;
  const writer = new MetricsWriter(o.runDir, o.resume?.state.metrics_bytes, tensorboard);
  const resumedAt = o.resume?.state.step ?? 0;
  const earlier = o.resume
    ? listCheckpoints(o.runDir)
        .filter((k) => k.step <= resumedAt)
        .map((k) => k.dir)
    : [];
  const result: TrainResult = { steps: resumedAt, totalSteps: total, status: 'completed', checkpoints: earlier };

  /** Checkpoints the weights after `step` updates; `at` is the dropout RNG and metrics length that go with them. */
  const checkpoint = async (step: number, at = { rng: rng.getState(), bytes: writer.bytes }) => {
    const state: TrainerState = {
      step,
      epoch: order.epochAt(step),
      total_steps: total,
      data_order: { seed: c.seed, shuffle: !c.no_shuffle, effective_batch: E, next_step: step },
      rng: at.rng,
      metrics_bytes: at.bytes,
    };
    result.checkpoints.push(await writeCheckpoint(o.runDir, o.policy, optimizer.state, state));
  };

  try {
    if (!o.resume) result.lastTest = evaluate(o, order, writer, 0);
    for (let step = result.steps; step < total; step++) {
      // A step stopped for a non-finite gradient has already drawn dropout and written its train lines:
      // its checkpoint takes the RNG and metrics length from before the step, so a resume replays it exactly.
      const before = { rng: rng.getState(), bytes: writer.bytes };
      const bad = trainStep(o, order, optimizer, rng, writer, step, total, result);
      if (bad?.weightsFinite) {
        await checkpoint(step, before);
        throw new NonFiniteError(
          `${bad.what} at step ${step}; stopped before the update, last good weights saved in ${result.checkpoints.at(-1)}`,
        );
      }
      if (bad) throw weightsNotFinite(bad.what, step, result);
      result.steps = step + 1;
      const last = step + 1 === total;
      if (last || (c.eval_every > 0 && (step + 1) % c.eval_every === 0))
        result.lastTest = evaluate(o, order, writer, step + 1);
      o.progress?.step(step + 1, total, result.lastTrain?.at(-1)?.values.loss ?? NaN);
      await yieldToEventLoop(); // a step is synchronous: this is when a Ctrl-C handler gets to run
      const stop = !last && (o.stopRequested?.() ?? false);
      if (last || stop || (c.save_every > 0 && (step + 1) % c.save_every === 0)) await checkpoint(step + 1);
      if (stop) {
        result.status = 'interrupted';
        o.progress?.message(`interrupted after step ${step + 1}; resume with --resume ${o.runDir}`);
        break;
      }
    }
  } finally {
    writer.close();
    o.progress?.end();
  }
  return result;
}

/**
 * Update `step`: score its batch (micro-batch by micro-batch, gradients accumulated), write the train
 * lines, clip, and apply the optimizer. Returns what went non-finite, if anything (then no update was
 * applied), and whether the current weights are still good to checkpoint (a non-finite gradient) or
 * themselves score non-finite values.
 */
function trainStep(
  o: TrainOptions,
  order: BatchOrder,
  optimizer: Optimizer,
  rng: Rng,
  writer: MetricsWriter,
  step: number,
  total: number,
  result: TrainResult,
): { what: string; weightsFinite: boolean } | undefined {
  const c = o.config;
  const E = effectiveBatch(c);
  const batch = order.indicesOf(step).map((i) => o.data.train[i]!);
  const objective = { beta: c.beta, labelSmoothing: c.label_smoothing };
  const params = o.policy.params;
  zeroGrads(params);
  const pc = new Float64Array(E);
  const pr = new Float64Array(E);
  const losses = new Float64Array(E);
  const logits = pairLogitsOf(E);
  for (let start = 0; start < E; start += c.batch_size) {
    const micro = batch.slice(start, start + c.batch_size);
    const scored = o.policy.logps(micro, true, rng);
    const lp = pairLogps(o.data, micro, scored, step);
    const { loss, slope } = pairLosses(c.objective, objective, lp);
    pc.set(lp.policyChosen, start);
    pr.set(lp.policyRejected, start);
    losses.set(loss, start);
    setPairLogits(logits, scored, start);
    // The loss of the update is the mean over its E pairs: dL/dpc = beta l'(h) / E, dL/dpr = -beta l'(h) / E.
    const dC = slope.map((s) => (c.beta * s) / E);
    o.policy.backward(
      dC,
      dC.map((x) => -x),
    );
  }
  const groups = batch.map((i) => o.data.groups[i]!);
  const metrics = groupMetrics(
    groups,
    c.beta,
    { ...refLogps(o.data, batch), policyChosen: pc, policyRejected: pr },
    losses,
    logits,
  );
  // Non-finite scores from non-finite weights (an update diverged): those weights are not checkpointed.
  const badGroup = firstNonFiniteGroup(metrics);
  if (badGroup !== undefined)
    return {
      what: `non-finite loss or log-prob in group "${badGroup}"`,
      weightsFinite: Object.values(o.policy.weightNorms()).every(Number.isFinite),
    };
  // TRL's grad_norm (before clipping) and learning_rate (the one this update applies) join the train lines.
  const norm = clipGradNorm(params, c.max_grad_norm);
  const lr = c.lr * lrFactor({ name: c.lr_scheduler, warmupSteps: c.warmup_steps, totalSteps: total }, step);
  const perStep = { ...o.policy.weightNorms(), grad_norm: norm, learning_rate: lr };
  writer.append(metricLines(step, order.epochAt(step), 'train', metrics, perStep));
  result.lastTrain = metrics;
  if (!Number.isFinite(norm))
    return {
      what: `non-finite gradient (norm ${norm}) for a batch of groups ${[...new Set(groups)].join(', ')}`,
      weightsFinite: true,
    };
  optimizer.update(params, lr);
  return undefined;
}

/** Scores the whole test split with the weights after `step` updates and writes its lines. */
function evaluate(o: TrainOptions, order: BatchOrder, writer: MetricsWriter, step: number): GroupMetrics[] | undefined {
  const c = o.config;
  const test = o.data.test;
  if (test.length === 0) return undefined;
  const pc = new Float64Array(test.length);
  const pr = new Float64Array(test.length);
  const logits = pairLogitsOf(test.length);
  const noRng = new Rng(0); // evaluation applies no dropout
  for (let start = 0; start < test.length; start += c.batch_size) {
    const micro = test.slice(start, start + c.batch_size);
    const scored = o.policy.logps(micro, false, noRng);
    const lp = pairLogps(o.data, micro, scored, step);
    pc.set(lp.policyChosen, start);
    pr.set(lp.policyRejected, start);
    setPairLogits(logits, scored, start);
  }
  const lp = { ...refLogps(o.data, test), policyChosen: pc, policyRejected: pr };
  const { loss } = pairLosses(c.objective, { beta: c.beta, labelSmoothing: c.label_smoothing }, lp);
  const metrics = groupMetrics(
    test.map((i) => o.data.groups[i]!),
    c.beta,
    lp,
    loss,
    logits,
  );
  const badGroup = firstNonFiniteGroup(metrics);
  if (badGroup !== undefined) throw weightsNotFinite(`non-finite test loss or log-prob in group "${badGroup}"`, step);
  writer.append(metricLines(step, order.epochAt(step), 'test', metrics, o.policy.weightNorms()));
  return metrics;
}

/** The weights after `step` updates score non-finite values: stop without checkpointing them. */
function weightsNotFinite(what: string, step: number, result?: TrainResult): NonFiniteError {
  const last = result?.checkpoints.at(-1);
  return new NonFiniteError(
    `${what} with the weights after ${step} updates; stopped without saving them` +
      (last
        ? ` (the last checkpoint, ${last}, holds earlier weights; a lower --lr may help)`
        : ' (a lower --lr may help)'),
  );
}

function pairLogitsOf(n: number): PairLogits {
  return {
    logitSums: { chosen: new Float64Array(n), rejected: new Float64Array(n) },
    tokens: { chosen: new Int32Array(n), rejected: new Int32Array(n) },
  };
}

/** Copies a micro-batch's logit sums and lengths into `into` from pair `start` on. */
function setPairLogits(into: PairLogits, from: PairLogits, start: number): void {
  for (const side of ['chosen', 'rejected'] as const) {
    into.logitSums[side].set(from.logitSums[side], start);
    into.tokens[side].set(from.tokens[side], start);
  }
}

function refLogps(data: TrainData, indices: number[]): { refChosen: number[]; refRejected: number[] } {
  return { refChosen: indices.map((i) => data.refChosen[i]!), refRejected: indices.map((i) => data.refRejected[i]!) };
}

/**
 * Policy and reference log-probs of pairs `indices` scored with the weights after `step` updates.
 * At step 0 a policy that starts at the reference takes the reference's numbers (TrainData.startsAtReference):
 * the gradient still flows through `policy`'s forward, whose values equal these up to rounding.
 */
function pairLogps(data: TrainData, indices: number[], policy: ResponseLogps, step: number): PairLogps {
  const ref = refLogps(data, indices);
  return step === 0 && data.startsAtReference
    ? { ...ref, policyChosen: ref.refChosen, policyRejected: ref.refRejected }
    : { ...ref, policyChosen: policy.chosen, policyRejected: policy.rejected };
}
