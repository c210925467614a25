// A model folder (architecture.md contract 1) as a ready CausalLM: config.json picks the architecture,
// every tensor is checked against it before any compute (checkpoint.ts), then wrapped as parameters.
import { loadStoredWeights, validateCheckpoint, type StoredWeights } from './checkpoint.js';
import { checkMemory, estimateMemory, type MemoryCheck } from './memory-estimate.js';
import type { ModelConfig } from './config.js';
import { Gpt2 } from './gpt2.js';
import { Llama } from './llama.js';
import { LoraAdapter } from './lora.js';
import { loadTokenizer, type ModelTokenizer } from '../tokenizer/load.js';
import { tensorsFromWeights, type CausalLM } from './model.js';

export function modelFromWeights(config: ModelConfig, weights: StoredWeights): CausalLM {
  const params = tensorsFromWeights(weights);
  return config.arch === 'llama' ? new Llama(config, params) : new Gpt2(config, params);
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
