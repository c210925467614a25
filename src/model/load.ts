// A model folder (architecture.md contract 1) as a ready CausalLM: config.json picks the architecture,
// every tensor is checked against it before any compute (checkpoint.ts), then wrapped as parameters.
import { loadStoredWeights, validateCheckpoint, type StoredWeights } from './checkpoint.js';
import { checkMemory, estimateMemory, type MemoryCheck } from './memory-estimate.js';
import type { Arch, ConfigOf, ModelConfig } from './config.js';
import { Gemma } from './gemma.js';
import { Gpt2 } from './gpt2.js';
import { GptNeox } from './gpt-neox.js';
import type { Tensor } from '../tensor/tensor.js';
import { Llama } from './llama.js';
import { LoraAdapter } from './lora.js';
import { loadTokenizer, type ModelTokenizer } from '../tokenizer/load.js';
import { tensorsFromWeights, type CausalLM } from './model.js';

/** The model class of each block structure (config.ts's FAMILIES gives each model_type one: mistral, qwen2 and qwen3 are Llama blocks). */
const MODELS: { [A in Arch]: (config: ConfigOf<A>, params: Map<string, Tensor>) => CausalLM } = {
  llama: (c, p) => new Llama(c, p),
  gpt2: (c, p) => new Gpt2(c, p),
  gpt_neox: (c, p) => new GptNeox(c, p),
  gemma: (c, p) => new Gemma(c, p),
  gemma2: (c, p) => new Gemma(c, p),
};

export function modelFromWeights(config: ModelConfig, weights: StoredWeights): CausalLM {
  const build = MODELS[config.arch] as (c: ModelConfig, p: Map<string, Tensor>) => CausalLM;
  return build(config, tensorsFromWeights(weights));
}

/** The model's parameters as stored (sharing their data, not copying it; 16-bit ones stay 16-bit), for saveCheckpoint. */
export function weightsOf(model: CausalLM): StoredWeights {
  return new Map([...model.params()].map(([n, t]) => [n, { shape: [...t.shape], data: t.stored }]));
}

/** A model folder's model; F16/BF16 matrices stay 16-bit until something trains them (loadStoredWeights). */
export async function loadModel(dir: string): Promise<CausalLM> {
  const { config, weights } = await loadStoredWeights(dir);
  return modelFromWeights(config, weights);
}

/**
 * A model folder's model and tokenizer (checked against vocab_size), with a PEFT adapter attached if given.
 * With `check`, the memory the command needs is estimated from the headers first and refused in one line
 * when it exceeds what is available (model/memory-estimate.ts).
 */
export async function loadModelForScoring(
  dir: string,
  adapterDir?: string,
  check?: MemoryCheck,
): Promise<{ model: CausalLM; tokenizer: ModelTokenizer }> {
  const checked = validateCheckpoint(dir);
  const tokenizer = loadTokenizer(dir, { vocabSize: checked.config.vocabSize });
  if (check) {
    const need = estimateMemory(checked.config, checked.keptBytes, check.workload(checked.config, tokenizer));
    checkMemory(check.command, need);
  }
  const model = await loadModel(dir);
  if (adapterDir !== undefined) LoraAdapter.read(adapterDir, model).attachTo(model);
  return { model, tokenizer };
}
