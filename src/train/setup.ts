// Everything a run needs, from its resolved config: the pairs and their split, token ids, the
// reference log-probs (cached), and the policy of the chosen mode, at its initial weights or at a
// checkpoint's. Bad input is reported here, before any training compute.
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { loadSource } from '../data/source.js';
import type { SourceOptions } from '../data/source-options.js';
import { splitPairs } from '../data/split.js';
import type { PreferencePair } from '../data/pair.js';
import { loadStoredWeights, saveCheckpoint, validateCheckpoint } from '../model/checkpoint.js';
import { checkMemory, estimateMemory, longestSequence, type Workload } from '../model/memory-estimate.js';
import { modelFromWeights, weightsOf } from '../model/load.js';
import { LoraAdapter } from '../model/lora.js';
import { pairLogProbs } from '../model/logprobs.js';
import { truncationLimits } from '../model/context-length.js';
import { modelTypeOf, type ModelConfig } from '../model/config.js';
import type { CausalLM } from '../model/model.js';
import { SafetensorsFile, SINGLE_FILE } from '../model/safetensors.js';
import { loadTokenizer } from '../tokenizer/load.js';
import { multiTokenAnswerWarning, pairTokens, tokenizedPairs, type PairTokens } from '../tokenizer/pair.js';
import type { TruncationLimits } from '../tokenizer/truncation.js';
import { Rng } from '../util/rng.js';
import type { TrainConfig } from './config.js';
import { cachedResponseFeatures } from './features.js';
import { folderHash } from '../util/file-hash.js';
import { lastLayerPolicy } from './last-layer.js';
import { modelPolicy } from './model-policy.js';
import { cachedRefLogps } from './ref-cache.js';
import type { RunSetup, TrainData, TruncationRecord } from './run-types.js';
import { stderrCounter } from '../util/progress.js';

/** A run's pairs: train pairs first, then test. */
export interface RunPairs {
  pairs: PreferencePair[];
  nTrain: number;
}

/** Pairs of the source, split per group; train pairs come first in the returned list. */
export async function loadRunPairs(c: TrainConfig, source: SourceOptions): Promise<RunPairs> {
  const loaded = await loadSource(c.data, { ...source, flip: c.flip });
  if (loaded.pairs.length === 0) {
    throw new UserError(
      `${c.data}: no pairs to train on${loaded.skipped.length ? ` (${loaded.skipped.length} rows skipped)` : ''}`,
    );
  }
  const { train, test } = splitPairs(loaded.pairs, { testFraction: c.test_fraction, seed: c.seed });
  if (train.length === 0)
    throw new UserError(
      `${c.data}: the training split is empty (--test-fraction ${c.test_fraction} of ${loaded.pairs.length} pairs)`,
    );
  return { pairs: [...train, ...test], nTrain: train.length };
}

/** The limits of pair truncation: the config's, 0 meaning the model's context (max_length) or none (max_prompt_length). */
function configLimits(c: TrainConfig, model: ModelConfig): TruncationLimits {
  return truncationLimits(
    { maxLength: c.max_length || undefined, maxPromptLength: c.max_prompt_length || undefined },
    model,
  );
}

/**
 * Token ids of every pair with the policy's tokenizer, truncated to `limits`; the reference's must give
 * the same ids. `note` reports the truncation.
 */
function tokenize(
  c: TrainConfig,
  pairs: PreferencePair[],
  vocabSize: number,
  limits: TruncationLimits,
): { tokens: PairTokens[]; note: string | undefined; truncated: number } {
  const tok = loadTokenizer(c.model, { vocabSize });
  const { tokens, note, truncated } = tokenizedPairs(tok, pairs, limits, c.tokenize);
  if (path.resolve(c.ref_model) !== path.resolve(c.model)) {
    const refTok = loadTokenizer(c.ref_model);
    pairs.forEach((p, i) => {
      const r = pairTokens(refTok, p, limits, c.tokenize).tokens;
      const t = tokens[i]!;
      for (const side of ['prompt', 'chosen', 'rejected'] as const) {
        if (Array.from(r[side]).join(',') !== Array.from(t[side]).join(',')) {
          throw new UserError(
            `incompatible tokenizers: ${path.join(c.model, 'tokenizer.json')} and ${path.join(c.ref_model, 'tokenizer.json')} ` +
              `give different token ids for the ${side} of pair ${p.id}; the reference must share the policy's tokenizer`,
          );
        }
      }
    });
  }
  return { tokens, note, truncated };
}

/** What a run holds at once: a micro-batch of pairs (chosen and rejected), the trained parameters, a separate reference. */
function trainWorkload(c: TrainConfig, config: ModelConfig, tokens: PairTokens[]): Workload {
  const sameModel = path.resolve(c.ref_model) === path.resolve(c.model);
  // LoRA: r x (in + out) per target per layer, with in + out at most d + max(d, ffn).
  const perTarget = c.lora_r * (config.hiddenSize + Math.max(config.hiddenSize, config.intermediateSize));
  return {
    sequences: 2 * c.batch_size,
    seqLen: longestSequence(tokens),
    training: c.mode,
    loraParams: c.lora_targets.length * config.numHiddenLayers * perTarget,
    extraWeightBytes: sameModel ? 0 : validateCheckpoint(c.ref_model).keptBytes,
  };
}

/** The run of config `c` on `loaded` (loadRunPairs), at the weights of `checkpoint` when given. */
export async function setupRun(c: TrainConfig, loaded: RunPairs, checkpoint?: string): Promise<RunSetup> {
  const notes: string[] = [];
  const { pairs, nTrain } = loaded;
  // Tokenised from the headers' config first, so the memory check knows the longest sequence.
  const checked = validateCheckpoint(c.model);
  const limits = configLimits(c, checked.config);
  const tokenized = tokenize(c, pairs, checked.config.vocabSize, limits);
  const tokens = tokenized.tokens;
  checkMemory('train', estimateMemory(checked.config, checked.keptBytes, trainWorkload(c, checked.config, tokens)));
  // Frozen weights stay in their stored type (16-bit matrices); whatever is trained becomes F32.
  const base = await loadStoredWeights(c.model);
  const model = modelFromWeights(base.config, base.weights);
  if (tokenized.note) notes.push(tokenized.note);
  const truncation: TruncationRecord = {
    max_length: limits.maxLength,
    max_prompt_length: limits.maxPromptLength ?? 0,
    truncated_pairs: tokenized.truncated,
    n_pairs: pairs.length,
  };
  const V = base.config.vocabSize;
  const sameModel = path.resolve(c.ref_model) === path.resolve(c.model);
  const data = (refChosen: Float64Array, refRejected: Float64Array): TrainData => ({
    groups: pairs.map((p) => p.group),
    train: Array.from({ length: nTrain }, (_, i) => i),
    test: Array.from({ length: pairs.length - nTrain }, (_, i) => nTrain + i),
    refChosen,
    refRejected,
    // LoRA starts with B = 0 and last-layer at W0: with the same model, the step-0 policy is the reference.
    startsAtReference: sameModel,
  });
  const ids = pairs.map((p) => p.id);

  if (c.mode === 'last-layer') {
    const nonlinear = model.nonlinearHead();
    if (nonlinear !== undefined) {
      throw new UserError(
        `--mode last-layer trains logits linear in lm_head (the theory's setting), but ${c.model} is a ${modelTypeOf(base.config)} model and ${nonlinear}; use --mode lora or full`,
      );
    }
    if (!sameModel) {
      throw new UserError(
        "--mode last-layer trains the reference model's own lm_head on its hidden states; --ref-model must be the starting model",
      );
    }
    const warning = multiTokenAnswerWarning(pairs, tokens);
    if (warning) notes.push(warning);
    const cached = await cachedResponseFeatures(model, folderHash(c.model), ids, tokens, c.batch_size);
    notes.push(
      cached.cached ? `hidden states read from ${cached.file}` : `hidden states computed and cached in ${cached.file}`,
    );
    const features = cached.data;
    const w0 = model.params().get(model.unembeddingName)!.data;
    if (base.config.tieWordEmbeddings)
      notes.push('the model ties lm_head to the token embedding; last-layer mode trains an untied copy of it');
    const w = checkpoint ? readLastLayerCheckpoint(checkpoint) : undefined;
    const policy = lastLayerPolicy({
      w0,
      w,
      vocabSize: V,
      features,
      weightDecay: c.weight_decay,
      description: `last-layer: lm_head [${V}, ${features.d}] on hidden states of ${c.model}`,
      save: async (dir, wTrained) => saveLastLayer(dir, c.model, model, wTrained),
    });
    // The reference is the policy at W0, scored the same way: every step-0 margin is exactly 0.
    const atW0 = w
      ? lastLayerPolicy({
          w0,
          vocabSize: V,
          features,
          weightDecay: c.weight_decay,
          description: '',
          save: async () => {},
        })
      : policy;
    const ref = atW0.logps(
      pairs.map((_, i) => i),
      false,
      new Rng(0),
    );
    return { pairs, data: data(ref.chosen, ref.rejected), policy, notes, truncation };
  }

  // Reference log-probs, cached: the starting model is the reference unless --ref-model says otherwise.
  const ref = await cachedRefLogps(
    {
      model: folderHash(c.ref_model),
      pairs: tokens.map((t, i) => ({ id: ids[i]!, ...t })),
      scoring: `summed response log-probs; batch ${c.batch_size}`, // the cache key adds the kernels
    },
    async () => {
      const refModel = sameModel ? model : await loadRefModel(c.ref_model, V);
      const lp = pairLogProbs(refModel, tokens, c.batch_size, stderrCounter('reference log-probs'), ids);
      return {
        chosen: Float64Array.from(lp, (x) => x.logpChosen),
        rejected: Float64Array.from(lp, (x) => x.logpRejected),
      };
    },
  );
  notes.push(
    ref.cached ? `reference log-probs read from ${ref.file}` : `reference log-probs computed and cached in ${ref.file}`,
  );
  if (c.mode === 'lora') {
    const lora = {
      r: c.lora_r,
      alpha: c.lora_alpha,
      dropout: c.lora_dropout,
      targetModules: c.lora_targets,
      useRslora: false,
    };
    const adapter = checkpoint
      ? LoraAdapter.read(checkpoint, model)
      : LoraAdapter.create(model, lora, Rng.derive(c.seed, 'lora-init'));
    adapter.attachTo(model);
    for (const t of model.params().values()) t.requiresGrad = false;
    const policy = modelPolicy({
      model,
      tokens,
      adapter,
      description: `lora: r=${c.lora_r} alpha=${c.lora_alpha} on ${c.lora_targets.join(',')}`,
      save: async (dir) => adapter.write(dir, c.model),
      gradientCheckpointing: c.gradient_checkpointing,
    });
    return { pairs, data: data(ref.chosen, ref.rejected), policy, notes, truncation };
  }

  // Full fine-tuning: every weight trained, so F32 (the starting values kept for the delta norms).
  const initial = new Map([...model.params()].map(([n, t]) => [n, t.data.slice()]));
  const policyModel = checkpoint ? modelFromWeights(base.config, (await loadStoredWeights(checkpoint)).weights) : model;
  const dtype = c.dtype === 'auto' ? base.dtype : c.dtype;
  const policy = modelPolicy({
    model: policyModel,
    tokens,
    initial,
    description: `full: all ${policyModel.params().size} tensors`,
    save: async (dir) => saveCheckpoint(dir, base.config, weightsOf(policyModel), c.model, { dtype }),
    gradientCheckpointing: c.gradient_checkpointing,
  });
  return { pairs, data: data(ref.chosen, ref.rejected), policy, notes, truncation };
}

async function loadRefModel(dir: string, vocabSize: number): Promise<CausalLM> {
  const ref = await loadStoredWeights(dir);
  if (ref.config.vocabSize !== vocabSize) {
    throw new UserError(
      `--ref-model ${dir} has vocab_size ${ref.config.vocabSize}, the policy ${vocabSize}: the reference must share the policy's tokenizer`,
    );
  }
  return modelFromWeights(ref.config, ref.weights);
}

/**
 * A last-layer checkpoint: the starting model's folder with the trained lm_head stored untied
 * (tie_word_embeddings false, lm_head.weight), so any reader of the HF layout scores with it.
 */
async function saveLastLayer(dir: string, modelDir: string, model: CausalLM, w: Float32Array): Promise<void> {
  const cfg = model.config;
  const weights = weightsOf(model);
  weights.set('lm_head.weight', { shape: [cfg.vocabSize, cfg.hiddenSize], data: w });
  saveCheckpoint(
    dir,
    { ...cfg, tieWordEmbeddings: false, raw: { ...cfg.raw, tie_word_embeddings: false } },
    weights,
    modelDir,
  );
}

function readLastLayerCheckpoint(dir: string): Float32Array {
  const f = SafetensorsFile.open(path.join(dir, SINGLE_FILE));
  try {
    return f.readF32('lm_head.weight');
  } finally {
    f.close();
  }
}
