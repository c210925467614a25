// A LoRA adapter merged into its base model (PEFT's merge_and_unload): W += (alpha/r) B A for every
// adapted projection, saved as a plain Hugging Face folder, e.g. to use an aligned model as the
// reference of a later run (the paper's misalignment experiment).
import { loadWeights, saveCheckpoint } from './checkpoint.js';
import { modelFromWeights } from './load.js';
import { LoraAdapter } from './lora.js';
import { UserError } from '../util/errors.js';
import { firstNonFinite } from '../util/finite.js';

/**
 * The base model with the adapter of `adapterDir` merged into its weights, saved to `out` (atomically).
 * A merged weight holding NaN or +-Infinity is a UserError naming the tensor; nothing is written.
 */
export async function mergeAdapter(
  baseModel: string,
  adapterDir: string,
  out: string,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  const { config, weights } = await loadWeights(baseModel);
  // The model's parameters wrap the same Float32Arrays as `weights`, so the merge updates `weights`.
  const model = modelFromWeights(config, weights);
  LoraAdapter.read(adapterDir, model).mergeInto(model);
  for (const [name, w] of weights) {
    const i = firstNonFinite(w.data);
    if (i >= 0)
      throw new UserError(
        `tensor "${name}" of the merged model is ${w.data[i]} at index ${i}: ${baseModel} or ${adapterDir} holds non-finite weights`,
      );
  }
  saveCheckpoint(out, config, weights, baseModel, options);
}
