// `prefdyn model merge`: a PEFT LoRA adapter merged into its base model, saved as a model folder.
import { notice, type Command } from './command.js';
import { lockFolder } from '../util/folder-lock.js';
import { UsageError } from '../util/errors.js';
import { parseChoice } from '../util/option-value.js';
import { WRITE_DTYPES } from '../model/dtype.js';
import { mergeAdapter } from '../model/merge.js';
import { checkModelFolderTarget } from '../model/checkpoint.js';

export const command: Command = {
  name: 'model merge',
  summary: 'merge a LoRA adapter (PEFT folder) into its base model and save the result',
  help: `Usage: prefdyn model merge --model DIR --adapter DIR --out DIR [--dtype F32|F16|BF16] [--overwrite]

Merges a PEFT LoRA adapter (adapter_config.json, adapter_model.safetensors; e.g. a checkpoint of
\`prefdyn train --mode lora\`) into the base model's weights, W += (alpha/r) B A, as PEFT's
merge_and_unload does, and writes a plain Hugging Face model folder (config.json, model.safetensors,
tokenizer) atomically, in the base model's dtype unless --dtype says otherwise. The merge itself is
computed in F32. The merged model scores like base + adapter, and can start a new run or serve as
its --ref-model (the paper's misalignment experiment: align, merge, then train on flipped preferences).

Options:
  --model DIR      the base model folder the adapter was trained on (required)
  --adapter DIR    the PEFT adapter folder (required)
  --out DIR        where to write the merged model (required); never an input, and a folder
                   holding files prefdyn did not write only with --overwrite
  --dtype D        dtype of the written weights: F32, F16 or BF16 (default: the base model's)
  --overwrite      replace --out even if it holds other files (they are deleted)

Example:
  prefdyn model merge --model models/prefdyn-tiny --adapter runs/lora/checkpoints/step-15 --out models/aligned`,
  options: {
    model: { type: 'string' },
    adapter: { type: 'string' },
    out: { type: 'string' },
    dtype: { type: 'string' },
    overwrite: { type: 'boolean' },
  },
  async run({ values }) {
    for (const key of ['model', 'adapter', 'out'] as const) {
      if (typeof values[key] !== 'string' || values[key] === '') throw new UsageError(`model merge needs --${key}`);
    }
    const [model, adapter, out] = [values.model as string, values.adapter as string, values.out as string];
    const overwrite = values.overwrite === true;
    const dtype = values.dtype === undefined ? undefined : parseChoice('--dtype', values.dtype, WRITE_DTYPES);
    checkModelFolderTarget(out, {
      overwrite,
      inputs: [
        { option: '--model', path: model },
        { option: '--adapter', path: adapter },
      ],
    });
    lockFolder(out, notice); // released when the process exits
    const written = await mergeAdapter(model, adapter, out, { overwrite, ...(dtype ? { dtype } : {}) });
    process.stdout.write(`merged ${adapter} into ${model}; wrote ${out} (${written.dtype})\n`);
  },
};
