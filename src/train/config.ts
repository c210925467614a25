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
import { UsageError, UserError } from '../util/errors.js';
import { DEFAULT_PAIR_TOKENIZATION, PAIR_TOKENIZATIONS, type PairTokenization } from '../tokenizer/pair.js';
import { WRITE_DTYPES } from '../model/dtype.js';
import type { ModelType } from '../model/config.js';
import { PEFT_DEFAULT_TARGETS } from '../model/lora.js';
import { parseBoolean, parseChoice, parseList, parseNumber, parseText, type NumberRule } from '../util/option-value.js';

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
  /** Recompute each layer's activations in the backward pass instead of keeping them (full and lora). */
  gradient_checkpointing: boolean;
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
  /** How responses are tokenised (tokenizer/pair.ts). */
  tokenize: PairTokenization;
  save_every: number;
  /** dtype of the weights of full-mode checkpoints; 'auto' = the starting model's stored dtype. */
  dtype: SaveDtype;
  report_to: ReportTo;
  out: string;
}

/** `--dtype`: the starting model's dtype (auto) or one of the written dtypes. */
export const SAVE_DTYPES = ['auto', ...WRITE_DTYPES] as const;
export type SaveDtype = (typeof SAVE_DTYPES)[number];

/** Hugging Face's report_to: where metrics go besides metrics.jsonl. */
export const REPORT_TO = ['none', 'tensorboard'] as const;
export type ReportTo = (typeof REPORT_TO)[number];

type Kind = 'string' | 'boolean' | 'int' | 'number' | 'list';

interface OptionDef {
  key: keyof TrainConfig;
  kind: Kind;
  /** What the option does; `--help` adds its default, computed by defaults() (optionHelp). */
  help: string;
  choices?: readonly string[];
  rule?: NumberRule;
  /** Where the default comes from, when it matters: "paper" (theory.md s.6), "TRL". */
  origin?: string;
}

// The order here is the order of `--help` and of config.json.
export const OPTION_DEFS: OptionDef[] = [
  { key: 'model', kind: 'string', help: 'starting (policy) model folder, Hugging Face layout' },
  { key: 'ref_model', kind: 'string', help: 'reference model folder (default: the starting model)' },
  { key: 'data', kind: 'string', help: 'data source: persona, persona:<b1>,<b2>, hh-rlhf, or a .jsonl/.json path' },
  { key: 'flip', kind: 'boolean', help: 'swap chosen and rejected' },
  { key: 'mode', kind: 'string', choices: MODES, help: 'what is trained: full|lora|last-layer' },
  { key: 'lora_r', kind: 'int', rule: { min: 1 }, help: 'LoRA rank', origin: 'paper' },
  { key: 'lora_alpha', kind: 'number', rule: { gt: 0 }, help: 'LoRA alpha; scale alpha/r', origin: 'paper' },
  { key: 'lora_dropout', kind: 'number', rule: { min: 0, lt: 1 }, help: 'LoRA dropout', origin: 'paper' },
  {
    key: 'lora_targets',
    kind: 'list',
    help: "LoRA target modules; by default PEFT's for the model's family (gpt2: c_attn, gpt_neox: query_key_value)",
    origin: 'paper, llama, gemma',
  },
  {
    key: 'objective',
    kind: 'string',
    choices: OBJECTIVES,
    help: 'dpo|ipo|hinge|robust; robust = conservative DPO (cDPO)',
  },
  {
    key: 'label_smoothing',
    kind: 'number',
    rule: { min: 0, lt: 0.5 },
    help: 'eps, the assumed label-flip rate of dpo/robust (robust needs > 0)',
  },
  { key: 'beta', kind: 'number', rule: { gt: 0 }, help: 'beta', origin: 'paper for persona, TRL otherwise' },
  { key: 'optimizer', kind: 'string', choices: OPTIMIZERS, help: 'adamw|sgd' },
  { key: 'lr', kind: 'number', rule: { gt: 0 }, help: 'learning rate' },
  { key: 'lr_scheduler', kind: 'string', choices: SCHEDULES, help: 'constant|linear|cosine', origin: 'paper' },
  { key: 'warmup_steps', kind: 'int', rule: { min: 0 }, help: 'linear warm-up updates', origin: 'paper' },
  { key: 'weight_decay', kind: 'number', rule: { min: 0 }, help: 'weight decay' },
  { key: 'momentum', kind: 'number', rule: { min: 0, lt: 1 }, help: 'SGD momentum' },
  { key: 'max_grad_norm', kind: 'number', rule: { min: 0 }, help: 'clip the global gradient norm; 0 disables' },
  { key: 'batch_size', kind: 'int', rule: { min: 1 }, help: 'pairs per micro-batch' },
  {
    key: 'gradient_accumulation_steps',
    kind: 'int',
    rule: { min: 1 },
    help: 'micro-batches per update; times --batch-size, the effective batch',
    origin: 'effective 128, paper',
  },
  {
    key: 'gradient_checkpointing',
    kind: 'boolean',
    help: "recompute each layer's activations in the backward pass instead of keeping them: less memory, one more forward (full and lora)",
  },
  { key: 'epochs', kind: 'number', rule: { gt: 0 }, help: 'passes over the training split', origin: 'paper' },
  {
    key: 'steps',
    kind: 'int',
    rule: { min: 0 },
    help: 'optimizer updates; overrides --epochs; 0 = from epochs',
    origin: 'paper for last-layer',
  },
  {
    key: 'eval_every',
    kind: 'int',
    rule: { min: 0 },
    help: 'evaluate the test split every N updates; 0 = at start and end only',
  },
  { key: 'seed', kind: 'int', rule: { min: 0 }, help: 'seed of the split, the data order and dropout' },
  {
    key: 'test_fraction',
    kind: 'number',
    rule: { min: 0, lt: 1 },
    help: 'held-out share per group; 0 trains on all',
    origin: 'paper',
  },
  { key: 'no_shuffle', kind: 'boolean', help: 'batches in source order' },
  {
    key: 'max_length',
    kind: 'int',
    rule: { min: 0 },
    help: "prompt + response tokens; longer pairs are truncated, prompt first from its start (TRL keep_end); 0 = the model's context (max_position_embeddings / n_positions)",
  },
  {
    key: 'max_prompt_length',
    kind: 'int',
    rule: { min: 0 },
    help: 'prompt tokens kept when a sequence is too long; 0 = no limit beyond --max-length',
  },
  {
    key: 'tokenize',
    kind: 'string',
    choices: PAIR_TOKENIZATIONS,
    help: "in-context|separate: responses tokenised after the prompt, in one encoding, as the model reads them (TRL today), or each alone (TRL 0.12 to 0.2x); chat data uses the model's chat_template when it has one",
  },
  { key: 'save_every', kind: 'int', rule: { min: 0 }, help: 'checkpoint every N updates; 0 = at the end only' },
  {
    key: 'dtype',
    kind: 'string',
    choices: SAVE_DTYPES,
    help: "auto|F32|F16|BF16: dtype of the weights of full-mode checkpoints; auto = the starting model's. Training is F32; --resume continues from the written weights, exactly only when they are F32",
  },
  {
    key: 'report_to',
    kind: 'string',
    choices: REPORT_TO,
    help: 'none|tensorboard: also write TensorBoard event files, one folder per group under RUN/tensorboard/',
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
    gradient_checkpointing: false,
    epochs: 1,
    steps: lastLayer ? 100 : 0,
    eval_every: 10,
    seed: 1234,
    test_fraction: 0.1,
    no_shuffle: false,
    max_length: 0,
    max_prompt_length: 0,
    tokenize: DEFAULT_PAIR_TOKENIZATION,
    save_every: 0,
    dtype: 'auto',
    report_to: 'none',
  };
}

// The settings defaults() depends on, each with the values that change a default; `--help` shows
// a default per value where they differ ("1e-6 for full; 1e-5 for lora; 0.1 for last-layer").
const DEFAULT_CONTEXTS: { label: string; given: Partial<TrainConfig> }[][] = [
  MODES.map((mode) => ({ label: mode, given: { mode } })),
  [
    { label: 'persona sources', given: { data: 'persona' } },
    { label: 'other sources', given: { data: 'pairs.jsonl' } },
  ],
  [
    { label: 'robust', given: { objective: 'robust' } },
    { label: 'the other objectives', given: { objective: 'dpo' } },
  ],
];

function showDefault(v: unknown): string {
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'number' && v !== 0 && Math.abs(v) < 1e-3) return v.toExponential();
  return String(v);
}

/** An option's `--help` text: what it does, then its default(s) as defaults() computes them. */
export function optionHelp(def: OptionDef): string {
  if (!(def.key in defaults({}))) return def.help;
  const key = def.key as keyof ReturnType<typeof defaults>;
  let text = showDefault(defaults({})[key]);
  for (const contexts of DEFAULT_CONTEXTS) {
    if (contexts.some((c) => key in c.given)) continue; // --mode's default is not "lora for lora"
    const shown = contexts.map((c) => showDefault(defaults(c.given)[key]));
    if (new Set(shown).size === 1) continue;
    const byValue = new Map<string, string[]>();
    contexts.forEach((c, i) => byValue.set(shown[i]!, [...(byValue.get(shown[i]!) ?? []), c.label]));
    text = [...byValue].map(([value, labels]) => `${value} for ${labels.join(', ')}`).join('; ');
  }
  // ref_model defaults to the model, booleans to off: the help says so in words.
  if (text === '' || text === 'false') return def.help;
  return `${def.help} (default ${text}${def.origin ? `; ${def.origin}` : ''})`;
}

/** Converts one raw value (a command-line string or a parsed YAML/JSON value) to its option's type. */
function coerce(def: OptionDef, raw: unknown, where: string | undefined): unknown {
  const name = `${where === undefined ? '' : `${where}: `}--${cliName(def.key)}`;
  switch (def.kind) {
    case 'boolean':
      return parseBoolean(name, raw);
    case 'string':
      return def.choices ? parseChoice(name, raw, def.choices) : parseText(name, raw);
    case 'list':
      return parseList(name, raw);
    case 'int':
      return parseNumber(name, raw, { ...def.rule, integer: true });
    case 'number':
      return parseNumber(name, raw, def.rule);
  }
}

/** Reads a YAML or JSON config file (JSON is YAML) into an object of option values, keys as on the command line or in snake_case. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(
      `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UserError(
      `config file ${file} is not valid ${path.extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new UserError(`config file ${file} must hold a mapping of option: value`);
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
        throw new UserError(
          `${file.path}: unknown option "${rawKey}"; known: ${OPTION_DEFS.map((d) => d.key).join(', ')}`,
        );
      given[def.key] = coerce(def, raw, file.path);
      sources[def.key] = 'file';
    }
  }
  for (const [key, raw] of Object.entries(cli)) {
    if (raw === undefined) continue;
    const def = byKey.get(key);
    if (!def) throw new Error(`unknown option --${cliName(key)}`);
    given[def.key] = coerce(def, raw, undefined);
    sources[def.key] = 'command line';
  }
  for (const key of ['model', 'data', 'out'] as const) {
    if (given[key] === undefined)
      throw new UsageError(`--${key} is required (on the command line or in the config file)`);
  }
  const partial = given as Partial<TrainConfig>;
  const config = { ...defaults(partial), ...partial } as TrainConfig;
  for (const d of OPTION_DEFS) sources[d.key] ??= 'default';
  if (config.objective === 'hinge' || config.objective === 'ipo') {
    if (config.label_smoothing !== 0)
      throw new UserError(
        `--label-smoothing applies to the dpo and robust objectives only, got ${config.label_smoothing} with --objective ${config.objective}`,
      );
  }
  if (config.objective === 'robust' && config.label_smoothing === 0) {
    throw new UserError(
      `--objective robust is conservative DPO and needs --label-smoothing > 0 (default ${DEFAULT_ROBUST_LABEL_SMOOTHING}), got 0 (${sources.label_smoothing === 'file' ? file!.path : 'command line'}); for plain DPO use --objective dpo`,
    );
  }
  return { config, sources: sources as Record<keyof TrainConfig, ValueSource> };
}

/**
 * The defaults that depend on the model's family (`modelTypeOf` reads its model_type, only when needed):
 * LoRA targets not given become PEFT's for the family (model/lora.ts); everything else is returned as it is.
 */
export function withModelDefaults(resolved: ResolvedConfig, modelTypeOf: (model: string) => ModelType): ResolvedConfig {
  if (resolved.config.mode !== 'lora' || resolved.sources.lora_targets !== 'default') return resolved;
  const targets = PEFT_DEFAULT_TARGETS[modelTypeOf(resolved.config.model)];
  return { ...resolved, config: { ...resolved.config, lora_targets: [...targets] } };
}

/** The parseArgs option table of `prefdyn train`. */
export function trainOptionSpec(): Record<string, { type: 'string' | 'boolean' }> {
  const spec: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const d of OPTION_DEFS) spec[cliName(d.key)] = { type: d.kind === 'boolean' ? 'boolean' : 'string' };
  return spec;
}

/** Effective pairs per optimizer update. */
export const effectiveBatch = (c: TrainConfig): number => c.batch_size * c.gradient_accumulation_steps;
