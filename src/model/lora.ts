// LoRA with PEFT semantics: a targeted projection y = W x becomes
//   y = W x + scaling * B (A dropout(x)),   A: lora_A [r, in], B: lora_B [out, r],
//   scaling = alpha / r (alpha / sqrt(r) with use_rslora), r and alpha per module where rank_pattern /
//   alpha_pattern name it (PEFT's get_pattern_key).
// A starts kaiming-uniform (a = sqrt(5): U(-1/sqrt(in), 1/sqrt(in))), B at zero, so a new adapter leaves
// the model unchanged. The base stays frozen (the trainer makes only the adapter's tensors trainable).
// GPT-2's Conv1D stores W as [in, out] (PEFT's fan_in_fan_out): A and B keep the same shapes, and a merge
// adds the transposed update. Adapter folders are PEFT's: adapter_config.json + adapter_model.safetensors,
// tensor names base_model.model.<module path>.lora_{A,B}.weight.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFolderAtomic } from '../util/atomic-write.js';
import { readJsonFile } from '../util/json-file.js';
import { kernels } from '../tensor/kernels/index.js';
import { dropout, linear, scale } from '../tensor/ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../util/rng.js';
import type { ModelType } from './config.js';
import type { CausalLM, ForwardOptions, ProjectionAdapter, ProjectionInfo } from './model.js';
import { SafetensorsFile, writeSafetensors } from './safetensors.js';

export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  /** Module names as PEFT matches them: the path equals one of these or ends in "." + one of them. */
  targetModules: string[];
  useRslora: boolean;
  /** PEFT's rank_pattern / alpha_pattern: module-name pattern -> r / alpha for the modules it matches. */
  rankPattern?: Record<string, number>;
  alphaPattern?: Record<string, number>;
}

/**
 * LoRA's default target modules per model_type: PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING,
 * which peft's LoraConfig uses when target_modules is not given.
 */
export const PEFT_DEFAULT_TARGETS: Record<ModelType, readonly string[]> = {
  llama: ['q_proj', 'v_proj'],
  mistral: ['q_proj', 'v_proj'],
  qwen2: ['q_proj', 'v_proj'],
  qwen3: ['q_proj', 'v_proj'],
  gpt2: ['c_attn'],
  gpt_neox: ['query_key_value'],
  gemma: ['q_proj', 'v_proj'],
  gemma2: ['q_proj', 'v_proj'],
};

/**
 * The pattern key of `patterns` that names module `path`, as PEFT's get_pattern_key (peft >= 0.13): the
 * first key k, in the file's order, for which the regex (.*\.)?(k)$ matches the whole path; undefined if none.
 */
export function patternKey(patterns: Record<string, number>, path: string): string | undefined {
  return Object.keys(patterns).find((k) => new RegExp(`^(?:.*\\.)?(?:${k})$`).test(path));
}

/** The paper's setting (theory.md section 6): r = 8, alpha = 32, dropout 0.05 on q_proj and v_proj. */
export const PAPER_LORA: LoraConfig = {
  r: 8,
  alpha: 32,
  dropout: 0.05,
  targetModules: ['q_proj', 'v_proj'],
  useRslora: false,
};

interface LoraPair {
  info: ProjectionInfo;
  r: number;
  scaling: number;
  A: Tensor; // [r, in]
  B: Tensor; // [out, r]
}

/** r and scaling of the module at PEFT path `peftPath` under `config` (its patterns first). */
function moduleRank(config: LoraConfig, peftPath: string): { r: number; scaling: number } {
  const rKey = config.rankPattern && patternKey(config.rankPattern, peftPath);
  const aKey = config.alphaPattern && patternKey(config.alphaPattern, peftPath);
  const r = rKey === undefined ? config.r : config.rankPattern![rKey]!;
  const alpha = aKey === undefined ? config.alpha : config.alphaPattern![aKey]!;
  return { r, scaling: config.useRslora ? alpha / Math.sqrt(r) : alpha / r };
}

export class LoraAdapter implements ProjectionAdapter {
  /** alpha / r of the modules no pattern names (scalingOf gives each module's). */
  readonly scaling: number;

  private constructor(
    readonly config: LoraConfig,
    private readonly pairs: Map<string, LoraPair>,
  ) {
    this.scaling = config.useRslora ? config.alpha / Math.sqrt(config.r) : config.alpha / config.r;
  }

  /** The scaling of the module at PEFT path `peftPath` (alpha / r with its patterns applied). */
  scalingOf(peftPath: string): number {
    for (const p of this.pairs.values()) if (p.info.peftPath === peftPath) return p.scaling;
    throw new Error(`LoRA: no adapter on module ${peftPath}`);
  }

  /** A fresh adapter for `model` (B = 0: the model's outputs are unchanged), A drawn from `rng`. */
  static create(model: CausalLM, config: LoraConfig, rng: Rng): LoraAdapter {
    validateLoraConfig(config, 'LoRA config');
    const pairs = new Map<string, LoraPair>();
    for (const info of targetedProjections(model, config.targetModules, 'LoRA config')) {
      const { r, scaling } = moduleRank(config, info.peftPath);
      const bound = 1 / Math.sqrt(info.inFeatures);
      const a = new Float32Array(r * info.inFeatures);
      for (let i = 0; i < a.length; i++) a[i] = (2 * rng.uniform() - 1) * bound;
      pairs.set(info.path, {
        info,
        r,
        scaling,
        A: new Tensor(a, [r, info.inFeatures], { name: peftName(info.peftPath, 'A') }),
        B: Tensor.zeros([info.outFeatures, r], { name: peftName(info.peftPath, 'B') }),
      });
    }
    return new LoraAdapter(config, pairs);
  }

  /** Reads a PEFT adapter folder written for `model`'s architecture; checks every tensor's shape. */
  static read(dir: string, model: CausalLM): LoraAdapter {
    const config = readAdapterConfig(dir);
    const file = path.join(dir, 'adapter_model.safetensors');
    const st = SafetensorsFile.open(file);
    try {
      const pairs = new Map<string, LoraPair>();
      const expected = new Set<string>();
      for (const info of targetedProjections(model, config.targetModules, path.join(dir, 'adapter_config.json'))) {
        const { r, scaling } = moduleRank(config, info.peftPath);
        const read = (part: 'A' | 'B', shape: number[]): Tensor => {
          const name = peftName(info.peftPath, part);
          expected.add(name);
          if (!st.has(name))
            throw new UserError(
              `${file}: tensor "${name}" missing (adapter_config.json targets ${config.targetModules.join(', ')})`,
            );
          const got = st.info(name).shape;
          if (got.join(',') !== shape.join(',')) {
            throw new UserError(
              `${file}: tensor "${name}" has shape [${got.join(', ')}], expected [${shape.join(', ')}] (r = ${r})`,
            );
          }
          return new Tensor(st.readF32(name), shape, { name });
        };
        pairs.set(info.path, {
          info,
          r,
          scaling,
          A: read('A', [r, info.inFeatures]),
          B: read('B', [info.outFeatures, r]),
        });
      }
      const extra = st.names().filter((n) => !expected.has(n));
      if (extra.length > 0) {
        throw new UserError(
          `${file}: tensor "${extra[0]}" is not a LoRA matrix of a targeted module of this model (${extra.length} such)`,
        );
      }
      return new LoraAdapter(config, pairs);
    } finally {
      st.close();
    }
  }

  /** Writes a PEFT adapter folder (atomically: a temporary folder renamed into place). */
  write(dir: string, baseModel: string): void {
    const fanInFanOut = [...this.pairs.values()].some((p) => p.info.layout === 'conv1d');
    const config = {
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      base_model_name_or_path: baseModel,
      r: this.config.r,
      lora_alpha: this.config.alpha,
      lora_dropout: this.config.dropout,
      target_modules: this.config.targetModules,
      use_rslora: this.config.useRslora,
      rank_pattern: this.config.rankPattern ?? {},
      alpha_pattern: this.config.alphaPattern ?? {},
      fan_in_fan_out: fanInFanOut,
      bias: 'none',
      inference_mode: true,
      modules_to_save: null,
    };
    writeFolderAtomic(dir, (tmp) => {
      fs.writeFileSync(path.join(tmp, 'adapter_config.json'), JSON.stringify(config, null, 2) + '\n');
      writeSafetensors(
        path.join(tmp, 'adapter_model.safetensors'),
        [...this.params()].map(([name, t]) => ({ name, shape: t.shape, data: t.data })),
        { format: 'pt' },
      );
    });
  }

  /** Makes `model`'s forward pass add this adapter's updates. */
  attachTo(model: CausalLM): void {
    model.adapter = this;
  }

  /** The adapter's trainable tensors by their PEFT names. */
  params(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const p of this.pairs.values()) {
      out.set(p.A.name!, p.A);
      out.set(p.B.name!, p.B);
    }
    return out;
  }

  /** x [..., in] -> scaling * B A dropout(x): [..., out], or undefined where no adapter is attached. */
  delta(modulePath: string, x: Tensor, opts: ForwardOptions): Tensor | undefined {
    const pair = this.pairs.get(modulePath);
    if (!pair) return undefined;
    const training = opts.training === true && this.config.dropout > 0;
    if (training && !opts.rng) throw new Error('LoRA dropout in training needs an rng (ForwardOptions.rng)');
    const xd = training ? dropout(x, this.config.dropout, opts.rng!, true) : x;
    return scale(linear(linear(xd, pair.A), pair.B), pair.scaling);
  }

  /** Adds scaling * B A into each targeted base weight (PEFT's merge_and_unload): the model no longer needs the adapter. */
  mergeInto(model: CausalLM): void {
    const k = kernels();
    for (const { info, r, scaling, A, B } of this.pairs.values()) {
      const w = model.params().get(`${info.path}.weight`);
      if (!w) throw new Error(`merge: model has no weight ${info.path}.weight`);
      if (info.layout === 'linear') {
        // W [out,in] += s * B [out,r] @ A [r,in]
        k.sgemm(false, false, info.outFeatures, info.inFeatures, r, scaling, B.data, A.data, 1, w.data);
      } else {
        // W [in,out] += s * A^T [in,r] @ B^T [r,out]
        k.sgemm(true, true, info.inFeatures, info.outFeatures, r, scaling, A.data, B.data, 1, w.data);
      }
    }
    if (model.adapter === this) model.adapter = undefined;
  }
}

/** The PEFT tensor name of a module's lora_A / lora_B. */
export function peftName(modulePath: string, part: 'A' | 'B'): string {
  return `base_model.model.${modulePath}.lora_${part}.weight`;
}

function targetedProjections(model: CausalLM, targets: string[], where: string): ProjectionInfo[] {
  const all = model.projections();
  const matched = all.filter((p) => targets.some((t) => p.peftPath === t || p.peftPath.endsWith(`.${t}`)));
  if (matched.length === 0) {
    const names = [...new Set(all.map((p) => p.peftPath.split('.').pop()))].join(', ');
    throw new UserError(
      `${where}: target_modules ${JSON.stringify(targets)} match no module of this ${model.config.arch} model (its projections: ${names})`,
    );
  }
  return matched;
}

function validateLoraConfig(c: LoraConfig, where: string): void {
  if (!(Number.isInteger(c.r) && c.r > 0)) throw new UserError(`${where}: r must be a positive integer, got ${c.r}`);
  if (!(c.alpha > 0)) throw new UserError(`${where}: lora_alpha must be positive, got ${c.alpha}`);
  if (!(c.dropout >= 0 && c.dropout < 1))
    throw new UserError(`${where}: lora_dropout must be in [0, 1), got ${c.dropout}`);
  if (c.targetModules.length === 0) throw new UserError(`${where}: target_modules is empty`);
  for (const [field, patterns, want] of [
    ['rank_pattern', c.rankPattern, 'a positive integer'],
    ['alpha_pattern', c.alphaPattern, 'a positive number'],
  ] as const) {
    for (const [key, v] of Object.entries(patterns ?? {})) {
      try {
        new RegExp(key);
      } catch {
        throw new UserError(`${where}: ${field} key ${JSON.stringify(key)} is not a valid regular expression`);
      }
      const ok = field === 'rank_pattern' ? Number.isInteger(v) && v > 0 : Number.isFinite(v) && v > 0;
      if (!ok)
        throw new UserError(`${where}: ${field} ${JSON.stringify(key)} must be ${want}, got ${JSON.stringify(v)}`);
    }
  }
}

/** Parses a PEFT adapter_config.json; refuses what prefdyn does not implement rather than ignoring it. */
export function readAdapterConfig(dir: string): LoraConfig {
  const file = path.join(dir, 'adapter_config.json');
  if (!fs.existsSync(file)) throw new UserError(`${file}: no such file (not a PEFT adapter folder)`);
  const json = readJsonFile(file);
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UserError(`${file}: must be a JSON object`);
  const raw = json as Record<string, unknown>;
  if (raw.peft_type !== 'LORA')
    throw new UserError(`${file}: peft_type ${JSON.stringify(raw.peft_type)} is not supported (only "LORA")`);
  if (raw.bias !== undefined && raw.bias !== 'none')
    throw new UserError(`${file}: bias "${String(raw.bias)}" is not supported (only "none")`);
  const mts = raw.modules_to_save;
  if (mts !== undefined && mts !== null && !(Array.isArray(mts) && mts.length === 0)) {
    throw new UserError(`${file}: modules_to_save is not supported (got ${JSON.stringify(mts)})`);
  }
  if (raw.use_dora === true)
    throw new UserError(`${file}: use_dora = true is not supported (DoRA adapters; only plain LoRA)`);
  for (const key of ['layers_to_transform', 'layers_pattern']) {
    const v = raw[key];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
      throw new UserError(`${file}: ${key} is not supported (got ${JSON.stringify(v)}); prefdyn adapts every layer`);
  }
  const patterns = (key: string): Record<string, number> | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v))
      throw new UserError(`${file}: "${key}" must be an object of module pattern -> number, got ${JSON.stringify(v)}`);
    return Object.keys(v).length === 0 ? undefined : (v as Record<string, number>);
  };
  const num = (key: string, fallback?: number): number => {
    const v = raw[key] ?? fallback;
    if (typeof v !== 'number')
      throw new UserError(`${file}: "${key}" must be a number, got ${JSON.stringify(raw[key])}`);
    return v;
  };
  const targets = raw.target_modules;
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string')) {
    throw new UserError(`${file}: "target_modules" must be a list of module names, got ${JSON.stringify(targets)}`);
  }
  const config: LoraConfig = {
    r: num('r'),
    alpha: num('lora_alpha'),
    dropout: num('lora_dropout', 0),
    targetModules: targets as string[],
    useRslora: raw.use_rslora === true,
    rankPattern: patterns('rank_pattern'),
    alphaPattern: patterns('alpha_pattern'),
  };
  validateLoraConfig(config, file);
  return config;
}
