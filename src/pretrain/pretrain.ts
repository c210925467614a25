// Causal-LM pretraining of a model folder (nanoGPT's train.py, in small): packed sequences from the
// corpus, mean next-token NLL, AdamW (PyTorch semantics; weight decay on matrices only, as nanoGPT),
// a warm-up + cosine (or constant, linear) schedule, global-norm gradient clipping, held-out
// perplexity before and after, and the result saved atomically as a model folder.
import { UserError } from '../util/errors.js';
import { saveCheckpoint } from '../model/checkpoint.js';
import { parameterCount } from '../model/config.js';
import type { WriteDtype } from '../model/dtype.js';
import { loadModel, weightsOf } from '../model/load.js';
import type { CausalLM } from '../model/model.js';
import { backward, noGrad, resetTape } from '../tensor/autograd.js';
import { loadTokenizer } from '../tokenizer/load.js';
import { clipGradNorm, zeroGrads, type TrainParam } from '../train/gradients.js';
import { createOptimizer, type OptimizerParams } from '../train/optimizers.js';
import { lrFactor, type ScheduleName } from '../train/schedules.js';
import { Rng } from '../util/rng.js';
import { buildCorpus } from './corpus.js';
import { causalLmLoss } from './lm-loss.js';
import type { PackedSequences } from './packing.js';

export interface PretrainOptions {
  modelDir: string;
  texts: string[];
  out: string;
  steps: number;
  batchSize: number;
  seqLen: number;
  lr: number;
  seed: number;
  warmupSteps: number;
  scheduler: ScheduleName;
  weightDecay: number;
  /** 0 disables clipping. */
  maxGradNorm: number;
  /** Fraction of documents held out for the perplexity. */
  heldOut: number;
  logEvery: number;
  dtype: WriteDtype;
  /** Replace an --out folder holding entries prefdyn did not write (--overwrite). */
  overwrite?: boolean;
}

export interface PretrainResult {
  parameters: number;
  documents: number;
  trainTokens: number;
  heldOutTokens: number;
  /** Non-padding targets the optimizer saw (steps x batch, padding excluded). */
  tokensSeen: number;
  epochs: number;
  /** Mean training loss over the last logging interval. */
  finalTrainLoss: number;
  initialHeldOutLoss: number;
  heldOutLoss: number;
  seconds: number;
}

export interface PretrainLog {
  (line: string): void;
}

/** Mean NLL over every non-padding target of `data`, without gradients (token-weighted over batches). */
export function heldOutLoss(model: CausalLM, data: PackedSequences, batchSize: number): number {
  const T = data.seqLen;
  let total = 0;
  let tokens = 0;
  noGrad(() => {
    for (let r = 0; r < data.rows; r += batchSize) {
      const B = Math.min(batchSize, data.rows - r);
      const { loss, tokens: n } = causalLmLoss(
        model,
        data.inputs.subarray(r * T, (r + B) * T),
        data.targets.subarray(r * T, (r + B) * T),
        B,
        T,
      );
      total += loss.item() * n;
      tokens += n;
    }
  });
  return total / tokens;
}

/** Row indices of successive batches: each epoch visits every row once, in a seeded order. */
function* batchRows(rows: number, batchSize: number, seed: number): Generator<{ rows: number[]; epoch: number }> {
  let epoch = 0;
  let order = Rng.derive(seed, `epoch-${epoch}`).permutation(rows);
  let at = 0;
  for (;;) {
    const batch: number[] = [];
    while (batch.length < batchSize) {
      if (at === order.length) {
        epoch += 1;
        order = Rng.derive(seed, `epoch-${epoch}`).permutation(rows);
        at = 0;
      }
      batch.push(order[at++]!);
    }
    yield { rows: batch, epoch: epoch + at / rows };
  }
}

function gatherRows(data: PackedSequences, rows: number[]): { inputs: Int32Array; targets: Int32Array } {
  const T = data.seqLen;
  const inputs = new Int32Array(rows.length * T);
  const targets = new Int32Array(rows.length * T);
  rows.forEach((r, i) => {
    inputs.set(data.inputs.subarray(r * T, (r + 1) * T), i * T);
    targets.set(data.targets.subarray(r * T, (r + 1) * T), i * T);
  });
  return { inputs, targets };
}

export async function pretrain(o: PretrainOptions, log: PretrainLog): Promise<PretrainResult> {
  const t0 = Date.now();
  const model = await loadModel(o.modelDir);
  const ctx = model.config.maxPositionEmbeddings;
  if (o.seqLen > ctx)
    throw new UserError(
      `--seq-len ${o.seqLen} is longer than the model's context (max_position_embeddings ${ctx} in ${o.modelDir}/config.json)`,
    );
  const tokenizer = loadTokenizer(o.modelDir, { vocabSize: model.config.vocabSize });
  const corpus = await buildCorpus(o.texts, tokenizer, { seqLen: o.seqLen, heldOutFraction: o.heldOut, seed: o.seed });
  for (const d of corpus.descriptions) log(`text: ${d}`);
  log(
    `corpus: ${corpus.train.tokens.toLocaleString('en-US')} training tokens (${corpus.train.rows} sequences of ${o.seqLen}), ` +
      `${corpus.heldOut.tokens.toLocaleString('en-US')} held-out tokens`,
  );

  const params: TrainParam[] = [];
  const matrices: TrainParam[] = [];
  const vectors: TrainParam[] = [];
  for (const [name, t] of model.params()) {
    t.requiresGrad = true;
    t.grad ??= new Float32Array(t.data.length);
    const p = { name, data: t.data, grad: t.grad };
    params.push(p);
    (t.rank >= 2 ? matrices : vectors).push(p);
  }
  const adam: Omit<OptimizerParams, 'weightDecay'> = {
    name: 'adamw',
    momentum: 0,
    adamBeta1: 0.9,
    adamBeta2: 0.95,
    adamEpsilon: 1e-8,
  };
  const decayed = createOptimizer({ ...adam, weightDecay: o.weightDecay });
  const undecayed = createOptimizer({ ...adam, weightDecay: 0 });
  const schedule = { name: o.scheduler, warmupSteps: o.warmupSteps, totalSteps: o.steps };

  const initialHeldOutLoss = heldOutLoss(model, corpus.heldOut, o.batchSize);
  log(
    `model: ${parameterCount(model.config).toLocaleString('en-US')} parameters; held-out loss before training ${initialHeldOutLoss.toFixed(4)} ` +
      `(perplexity ${Math.exp(initialHeldOutLoss).toFixed(1)})`,
  );

  const batches = batchRows(corpus.train.rows, o.batchSize, o.seed);
  let tokensSeen = 0;
  let epochs = 0;
  let interval = { loss: 0, steps: 0, tokens: 0, since: Date.now() };
  let finalTrainLoss = NaN;
  for (let step = 0; step < o.steps; step++) {
    const batch = batches.next().value!;
    epochs = batch.epoch;
    const { inputs, targets } = gatherRows(corpus.train, batch.rows);
    zeroGrads(params);
    const { loss, tokens } = causalLmLoss(model, inputs, targets, batch.rows.length, o.seqLen);
    const value = loss.item();
    if (!Number.isFinite(value)) {
      resetTape();
      throw new UserError(`training loss is ${value} at step ${step + 1}; lower --lr (${o.lr}) or set --max-grad-norm`);
    }
    backward(loss);
    const gradNorm = clipGradNorm(params, o.maxGradNorm);
    const lr = o.lr * lrFactor(schedule, step);
    decayed.update(matrices, lr);
    undecayed.update(vectors, lr);
    tokensSeen += tokens;
    interval = {
      ...interval,
      loss: interval.loss + value,
      steps: interval.steps + 1,
      tokens: interval.tokens + tokens,
    };
    if ((step + 1) % o.logEvery === 0 || step + 1 === o.steps) {
      finalTrainLoss = interval.loss / interval.steps;
      const perSecond = interval.tokens / Math.max(1e-3, (Date.now() - interval.since) / 1000);
      log(
        `step ${step + 1}/${o.steps} loss ${finalTrainLoss.toFixed(4)} lr ${lr.toExponential(2)} grad-norm ${gradNorm.toFixed(3)} ` +
          `epoch ${epochs.toFixed(2)} ${Math.round(perSecond).toLocaleString('en-US')} tok/s`,
      );
      interval = { loss: 0, steps: 0, tokens: 0, since: Date.now() };
    }
  }

  const finalHeldOut = heldOutLoss(model, corpus.heldOut, o.batchSize);
  saveCheckpoint(o.out, model.config, weightsOf(model), o.modelDir, { dtype: o.dtype, overwrite: o.overwrite });
  return {
    parameters: parameterCount(model.config),
    documents: corpus.documents,
    trainTokens: corpus.train.tokens,
    heldOutTokens: corpus.heldOut.tokens,
    tokensSeen,
    epochs,
    finalTrainLoss,
    initialHeldOutLoss,
    heldOutLoss: finalHeldOut,
    seconds: (Date.now() - t0) / 1000,
  };
}
