// A model folder (architecture.md contract 1) as a ready CausalLM: config.json picks the architecture,
// every tensor is checked against it before any compute (checkpoint.ts), then wrapped as parameters.
import { loadWeights, type Weights } from './checkpoint.js';
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

export function modelFromWeights(config: ModelConfig, weights: Weights): CausalLM {
  const build = MODELS[config.arch] as (c: ModelConfig, p: Map<string, Tensor>) => CausalLM;
  return build(config, tensorsFromWeights(weights));
}

/** The model's parameters as Weights (sharing their data, not copying it), for saveCheckpoint. */
export function weightsOf(model: CausalLM): Weights {
  return new Map([...model.params()].map(([n, t]) => [n, { shape: [...t.shape], data: t.data }]));
}

export async function loadModel(dir: string): Promise<CausalLM> {
  const { config, weights } = await loadWeights(dir);
  return modelFromWeights(config, weights);
}

/** A model folder's model and tokenizer (checked against vocab_size), with a PEFT adapter attached if given. */
export async function loadModelForScoring(
  dir: string,
  adapterDir?: string,
): Promise<{ model: CausalLM; tokenizer: ModelTokenizer }> {
  const model = await loadModel(dir);
  const tokenizer = loadTokenizer(dir, { vocabSize: model.config.vocabSize });
  if (adapterDir !== undefined) LoraAdapter.read(adapterDir, model).attachTo(model);
  return { model, tokenizer };
}
