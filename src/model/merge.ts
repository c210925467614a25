// A LoRA adapter merged into its base model (PEFT's merge_and_unload): W += (alpha/r) B A for every
// adapted projection, saved as a plain Hugging Face folder, e.g. to use an aligned model as the
// reference of a later run (the paper's misalignment experiment).
import { loadStoredWeights, saveCheckpoint } from './checkpoint.js';
import type { WriteDtype } from './dtype.js';
import { modelFromWeights, weightsOf } from './load.js';
import { LoraAdapter } from './lora.js';
import { halfToF32 } from '../tensor/half.js';
import { UserError } from '../util/errors.js';
import { firstNonFinite } from '../util/finite.js';

/**
 * The base model with the adapter of `adapterDir` merged into its weights, saved to `out` (atomically) in
 * `options.dtype`, by default the base model's stored dtype. The adapted weights are merged in F32 (the
 * rest stay in their stored type until written). A merged weight holding NaN or +-Infinity is a UserError
 * naming the tensor; nothing is written.
 */
export async function mergeAdapter(
  baseModel: string,
  adapterDir: string,
  out: string,
  options: { overwrite?: boolean; dtype?: WriteDtype } = {},
): Promise<{ dtype: WriteDtype }> {
  const { config, weights: stored, dtype: baseDtype } = await loadStoredWeights(baseModel);
  const model = modelFromWeights(config, stored);
  LoraAdapter.read(adapterDir, model).mergeInto(model);
  const weights = weightsOf(model); // the merged weights are F32 now
  for (const [name, w] of weights) {
    const values = w.data instanceof Float32Array ? w.data : halfToF32(w.data);
    const i = firstNonFinite(values);
    if (i >= 0)
      throw new UserError(
        `tensor "${name}" of the merged model is ${values[i]} at index ${i}: ${baseModel} or ${adapterDir} holds non-finite weights`,
      );
  }
  const dtype = options.dtype ?? baseDtype;
  saveCheckpoint(out, config, weights, baseModel, { overwrite: options.overwrite, dtype });
  return { dtype };
}
