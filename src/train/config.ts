// The training configuration: every option of `prefdyn train`, its default (the paper's value where
// theory.md s.6 gives one, else TRL / Hugging Face TrainingArguments'), and its resolution from a
// YAML/JSON file plus command-line overrides (the command line wins). The resolved config, with the
// source of every value, is what a run folder's config.json holds.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { OBJECTIVES, type ObjectiveName } from './objectives.js';
import { OPTIMIZERS, type OptimizerName } from './optimizers.js';
import { SCHEDULES, type ScheduleName } from './schedules.js';

export const MODES = ['full', 'lora', 'last-layer'] as const;
export const DEFAULT_ROBUST_LABEL_SMOOTHING = 0.1;
export type TrainMode = (typeof MODES)[number];

export interface TrainConfig {
  model: string;
  ref_model: string;
  data: string;
  flip: boolean;
  mode: TrainMode;
  lora_r: number;
  lora_alpha: number;
  lora_dropout: number;
  lora_targets: string[];
  objective: ObjectiveName;
  label_smoothing: number;
  beta: number;
  optimizer: OptimizerName;
  lr: number;
  lr_scheduler: ScheduleName;
  warmup_steps: number;
  weight_decay: number;
  momentum: number;
  max_grad_norm: number;
  batch_size: number;
  gradient_accumulation_steps: number;
  epochs: number;
  /** Optimizer updates; 0 = derived from epochs. */
  steps: number;
  eval_every: number;
  seed: number;
  test_fraction: number;
  no_shuffle: boolean;
  /** Tokens of prompt + response per sequence; 0 = the model's max_position_embeddings / n_positions. */
  max_length: number;
  /** Prompt tokens kept when a sequence is too long; 0 = no limit beyond max_length. */
  max_prompt_length: number;
  save_every: number;
  report_to: ReportTo;
  out: string;
}

/** Hugging Face's report_to: where metrics go besides metrics.jsonl. */
export const REPORT_TO = ['none', 'tensorboard'] as const;
export type ReportTo = (typeof REPORT_TO)[number];

type Kind = 'string' | 'boolean' | 'int' | 'number' | 'list';

interface OptionDef {
  key: keyof TrainConfig;
  kind: Kind;
  help: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  gt?: number;
  lt?: number;
}

// The order here is the order of `--help` and of config.json.
export const OPTION_DEFS: OptionDef[] = [
  { key: 'model', kind: 'string', help: 'starting (policy) model folder, Hugging Face layout' },
  { key: 'ref_model', kind: 'string', help: 'reference model folder (default: the starting model)' },
  { key: 'data', kind: 'string', help: 'data source: persona, persona:<b1>,<b2>, hh-rlhf, or a .jsonl/.json path' },
  { key: 'flip', kind: 'boolean', help: 'swap chosen and rejected' },
  { key: 'mode', kind: 'string', choices: ['full', 'lora', 'last-layer'], help: 'what is trained (default full)' },
  { key: 'lora_r', kind: 'int', min: 1, help: 'LoRA rank (default 8, paper)' },
  { key: 'lora_alpha', kind: 'number', gt: 0, help: 'LoRA alpha; scale alpha/r (default 32, paper)' },
  { key: 'lora_dropout', kind: 'number', min: 0, lt: 1, help: 'LoRA dropout (default 0.05, paper)' },
  { key: 'lora_targets', kind: 'list', help: 'LoRA target modules (default q_proj,v_proj, paper)' },
  {
    key: 'objective',
    kind: 'string',
    choices: OBJECTIVES,
    help: 'dpo|ipo|hinge|robust; robust = conservative DPO (cDPO) (default dpo)',
  },
  {
    key: 'label_smoothing',
    kind: 'number',
    min: 0,
    lt: 0.5,
    help: 'eps, the assumed label-flip rate of dpo/robust (default 0 for dpo; 0.1 for robust, must be > 0)',
  },
  { key: 'beta', kind: 'number', gt: 0, help: 'beta (default 0.01 for persona sources, paper; 0.1 otherwise, TRL)' },
  {
    key: 'optimizer',
    kind: 'string',
    choices: OPTIMIZERS,
    help: 'adamw|sgd (default sgd for last-layer, adamw otherwise)',
  },
  { key: 'lr', kind: 'number', gt: 0, help: 'learning rate (default 0.1 last-layer, 1e-5 lora, 1e-6 full)' },
  { key: 'lr_scheduler', kind: 'string', choices: SCHEDULES, help: 'constant|linear|cosine (default constant, paper)' },
  { key: 'warmup_steps', kind: 'int', min: 0, help: 'linear warm-up updates (default 0, paper)' },
  { key: 'weight_decay', kind: 'number', min: 0, help: 'weight decay (default 0)' },
  { key: 'momentum', kind: 'number', min: 0, lt: 1, help: 'SGD momentum (default 0)' },
  {
    key: 'max_grad_norm',
    kind: 'number',
    min: 0,
    help: 'clip the global gradient norm; 0 disables (default 1.0; 0 for last-layer)',
  },
  { key: 'batch_size', kind: 'int', min: 1, help: 'pairs per micro-batch (default 128 last-layer, 8 otherwise)' },
  {
    key: 'gradient_accumulation_steps',
    kind: 'int',
    min: 1,
    help: 'micro-batches per update (default 1 last-layer, 16 otherwise: effective 128, paper)',
  },
  { key: 'epochs', kind: 'number', gt: 0, help: 'passes over the training split (default 1, paper)' },
  {
    key: 'steps',
    kind: 'int',
    min: 0,
    help: 'optimizer updates; overrides --epochs (default: from epochs; 100 for last-layer, paper)',
  },
  {
    key: 'eval_every',
    kind: 'int',
    min: 0,
    help: 'evaluate the test split every N updates; 0 = at start and end only (default 10)',
  },
  { key: 'seed', kind: 'int', help: 'seed of the split, the data order and dropout (default 1234)' },
  {
    key: 'test_fraction',
    kind: 'number',
    min: 0,
    lt: 1,
    help: 'held-out share per group; 0 trains on all (default 0.1, paper)',
  },
  { key: 'no_shuffle', kind: 'boolean', help: 'batches in source order' },
  {
    key: 'max_length',
    kind: 'int',
    min: 0,
    help: "prompt + response tokens; longer pairs are truncated, prompt first from its start (TRL keep_end); 0 = the model's context (default 0: its max_position_embeddings / n_positions)",
  },
  {
    key: 'max_prompt_length',
    kind: 'int',
    min: 0,
    help: 'prompt tokens kept when a sequence is too long; 0 = no limit beyond --max-length (default 0)',
  },
  { key: 'save_every', kind: 'int', min: 0, help: 'checkpoint every N updates; 0 = at the end only (default 0)' },
  {
    key: 'report_to',
    kind: 'string',
    choices: REPORT_TO,
    help: 'none|tensorboard: also write TensorBoard event files, one folder per group under RUN/tensorboard/ (default none)',
  },
  { key: 'out', kind: 'string', help: 'run folder to write' },
];

export const cliName = (key: string): string => key.replace(/_/g, '-');

/** Where each resolved value came from. */
export type ValueSource = 'default' | 'file' | 'command line';

export interface ResolvedConfig {
  config: TrainConfig;
  sources: Record<keyof TrainConfig, ValueSource>;
}

/** True for sources of the paper's persona data, where beta defaults to 0.01 (theory.md s.6). */
export function isPersonaSource(data: string): boolean {
  return data === 'persona' || data.startsWith('persona:');
}

/** Defaults that depend on other values (mode, data): the paper's protocol, theory.md s.6. */
function defaults(c: Partial<TrainConfig>): Omit<TrainConfig, 'model' | 'data' | 'out'> {
  const mode = c.mode ?? 'full';
  const lastLayer = mode === 'last-layer';
  return {
    ref_model: c.model ?? '',
    flip: false,
    mode,
    lora_r: 8,
    lora_alpha: 32,
    lora_dropout: 0.05,
    lora_targets: ['q_proj', 'v_proj'],
    objective: 'dpo',
    // robust is conservative DPO; 0.1 is the flip rate commonly used with it (cDPO, TRL examples).
    label_smoothing: c.objective === 'robust' ? DEFAULT_ROBUST_LABEL_SMOOTHING : 0,
    beta: c.data !== undefined && isPersonaSource(c.data) ? 0.01 : 0.1,
    optimizer: lastLayer ? 'sgd' : 'adamw',
    lr: lastLayer ? 0.1 : mode === 'lora' ? 1e-5 : 1e-6,
    lr_scheduler: 'constant',
    warmup_steps: 0,
    weight_decay: 0,
    momentum: 0,
    max_grad_norm: lastLayer ? 0 : 1.0,
    batch_size: lastLayer ? 128 : 8,
    gradient_accumulation_steps: lastLayer ? 1 : 16,
    epochs: 1,
    steps: lastLayer ? 100 : 0,
    eval_every: 10,
    seed: 1234,
    test_fraction: 0.1,
    no_shuffle: false,
    max_length: 0,
    max_prompt_length: 0,
    save_every: 0,
    report_to: 'none',
  };
}

/** Converts one raw value (a command-line string or a parsed YAML/JSON value) to its option's type. */
function coerce(def: OptionDef, raw: unknown, where: string): unknown {
  const name = `--${cliName(def.key)}`;
  const bad = (want: string) => new Error(`${where}: ${name} must be ${want}, got ${JSON.stringify(raw)}`);
  let v: unknown = raw;
  switch (def.kind) {
    case 'boolean':
      if (raw === 'true') v = true;
      else if (raw === 'false') v = false;
      if (typeof v !== 'boolean') throw bad('true or false');
      return v;
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw bad('a non-empty string');
      if (def.choices && !def.choices.includes(raw)) throw bad(`one of ${def.choices.join(', ')}`);
      return raw;
    case 'list':
      if (typeof raw === 'string')
        v = raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
      if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string'))
        throw bad('a comma-separated list');
      return v;
    case 'int':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw bad('a number');
      if (def.kind === 'int' && !Number.isInteger(n)) throw bad('an integer');
      if (def.min !== undefined && n < def.min) throw bad(`>= ${def.min}`);
      if (def.max !== undefined && n > def.max) throw bad(`<= ${def.max}`);
      if (def.gt !== undefined && !(n > def.gt)) throw bad(`> ${def.gt}`);
      if (def.lt !== undefined && !(n < def.lt)) throw bad(`< ${def.lt}`);
      return n;
    }
  }
}

/** Reads a YAML or JSON config file (JSON is YAML) into an object of option values, keys as on the command line or in snake_case. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(
      `config file ${file} is not valid ${path.extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new Error(`config file ${file} must hold a mapping of option: value`);
  return doc as Record<string, unknown>;
}

/**
 * Resolves the configuration: defaults < file < command line. `cli` holds the command line's values
 * keyed by option name in snake_case (absent = not given). Errors name the option and where it came from.
 */
export function resolveConfig(
  file: { path: string; values: Record<string, unknown> } | undefined,
  cli: Record<string, unknown>,
): ResolvedConfig {
  const given: Partial<Record<keyof TrainConfig, unknown>> = {};
  const sources: Partial<Record<keyof TrainConfig, ValueSource>> = {};
  const byKey = new Map(OPTION_DEFS.map((d) => [d.key as string, d]));
  if (file) {
    for (const [rawKey, raw] of Object.entries(file.values)) {
      const def = byKey.get(rawKey.replace(/-/g, '_'));
      if (!def)
        throw new Error(`${file.path}: unknown option "${rawKey}"; known: ${OPTION_DEFS.map((d) => d.key).join(', ')}`);
      given[def.key] = coerce(def, raw, file.path);
      sources[def.key] = 'file';
    }
  }
  for (const [key, raw] of Object.entries(cli)) {
    if (raw === undefined) continue;
    const def = byKey.get(key);
    if (!def) throw new Error(`unknown option --${cliName(key)}`);
    given[def.key] = coerce(def, raw, 'command line');
    sources[def.key] = 'command line';
  }
  for (const key of ['model', 'data', 'out'] as const) {
    if (given[key] === undefined) throw new Error(`--${key} is required (on the command line or in the config file)`);
  }
  const partial = given as Partial<TrainConfig>;
  const config = { ...defaults(partial), ...partial } as TrainConfig;
  for (const d of OPTION_DEFS) sources[d.key] ??= 'default';
  if (config.objective === 'hinge' || config.objective === 'ipo') {
    if (config.label_smoothing !== 0)
      throw new Error(
        `--label-smoothing applies to the dpo and robust objectives only, got ${config.label_smoothing} with --objective ${config.objective}`,
      );
  }
  if (config.objective === 'robust' && config.label_smoothing === 0) {
    throw new Error(
      `--objective robust is conservative DPO and needs --label-smoothing > 0 (default ${DEFAULT_ROBUST_LABEL_SMOOTHING}), got 0 (${sources.label_smoothing === 'file' ? file!.path : 'command line'}); for plain DPO use --objective dpo`,
    );
  }
  return { config, sources: sources as Record<keyof TrainConfig, ValueSource> };
}

/** The parseArgs option table of `prefdyn train`. */
export function trainOptionSpec(): Record<string, { type: 'string' | 'boolean' }> {
  const spec: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const d of OPTION_DEFS) spec[cliName(d.key)] = { type: d.kind === 'boolean' ? 'boolean' : 'string' };
  return spec;
}

/** Effective pairs per optimizer update. */
export const effectiveBatch = (c: TrainConfig): number => c.batch_size * c.gradient_accumulation_steps;
