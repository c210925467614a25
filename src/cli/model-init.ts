// `prefdyn model init`: a new model folder with random weights (seeded), for tests and pretraining.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packagePath } from '../util/package-root.js';
import { notice, type Command } from './command.js';
import { lockFolder } from '../util/folder-lock.js';
import { humanBytes } from '../util/memory.js';
import { UsageError, UserError } from '../util/errors.js';
import { NON_NEGATIVE_INTEGER, parseChoice, parseNumber } from '../util/option-value.js';
import { checkModelFolderTarget, saveCheckpoint } from '../model/checkpoint.js';
import { parameterCount } from '../model/config.js';
import { INIT_MODEL_TYPES, initArchOf, initConfig, initWeights, parseSizeSpec, SIZE_PRESETS } from '../model/init.js';
import { loadTokenizer } from '../tokenizer/load.js';

const DEFAULT_TOKENIZER = packagePath('models', 'gpt2-tokenizer');

export const command: Command = {
  name: 'model init',
  summary: 'create a model folder with random weights (Llama, Mistral, Qwen2, Qwen3 or GPT-2)',
  help: `Usage: prefdyn model init --arch ${INIT_MODEL_TYPES.join('|')} --size SPEC --out DIR [options]

Writes a Hugging Face model folder (config.json, model.safetensors, tokenizer files) with weights
initialised as transformers does: normal(0, 0.02), norms 1, biases 0 (GPT-2's c_proj: 0.02/sqrt(2 n_layer)).

Options:
  --arch TYPE            config.json's model_type (required): ${INIT_MODEL_TYPES.join(', ')}
  --size SPEC            a preset (${Object.keys(SIZE_PRESETS.llama).join(', ')}), or KEY=VALUE,... with keys d, layers, heads,
                         kv (llama family), ffn, vocab, ctx, theta (llama family), tied (llama family),
                         window (mistral's sliding_window; default none); a preset may be followed
                         by overrides: "tiny,ctx=128" (default tiny)
  --out DIR              the model folder to write (required; replaced atomically if it is a model folder;
                         a folder holding files prefdyn did not write only with --overwrite)
  --overwrite            replace --out even if it holds other files (they are deleted)
  --seed N               seed of the initialisation (default 0)
  --tokenizer DIR        folder with tokenizer.json to copy (default the bundled GPT-2 tokenizer);
                         vocab defaults to its size

Example:
  prefdyn model init --arch llama --size tiny --out models/tiny --seed 1`,
  options: {
    arch: { type: 'string' },
    size: { type: 'string', default: 'tiny' },
    out: { type: 'string' },
    seed: { type: 'string', default: '0' },
    tokenizer: { type: 'string' },
    overwrite: { type: 'boolean' },
  },
  async run({ values }) {
    if (values.arch === undefined)
      throw new UsageError(`model init needs --arch (one of ${INIT_MODEL_TYPES.join(', ')})`);
    const modelType = parseChoice('--arch', values.arch, INIT_MODEL_TYPES);
    if (typeof values.out !== 'string' || values.out.length === 0) throw new UsageError('model init needs --out DIR');
    const seed = parseNumber('--seed', values.seed, NON_NEGATIVE_INTEGER);
    const tokDir = typeof values.tokenizer === 'string' ? values.tokenizer : DEFAULT_TOKENIZER;
    const overwrite = values.overwrite === true;
    checkModelFolderTarget(values.out, { overwrite, inputs: [{ option: '--tokenizer', path: tokDir }] });
    if (!fs.existsSync(path.join(tokDir, 'tokenizer.json')))
      throw new UserError(`--tokenizer ${tokDir}: no tokenizer.json there`);
    const tok = loadTokenizer(tokDir);
    const size = parseSizeSpec(values.size as string, initArchOf(modelType));
    const vocab = size.vocab ?? tok.vocabSize;
    if (vocab < tok.vocabSize)
      throw new UserError(
        `--size vocab=${vocab} is smaller than the tokenizer's ${tok.vocabSize} tokens (${tok.file})`,
      );
    const config = initConfig(modelType, size, vocab, { bos: tok.bos?.id, eos: tok.eos?.id });
    // The weights are held in memory as F32 while they are drawn and written: refuse what cannot fit.
    const bytes = parameterCount(config) * 4;
    if (bytes > os.totalmem())
      throw new UserError(
        `--size ${values.size}: ${parameterCount(config).toLocaleString('en-US')} parameters need ${humanBytes(bytes)} of memory as F32, more than this machine's ${humanBytes(os.totalmem())}`,
      );
    lockFolder(values.out, notice); // released when the process exits
    saveCheckpoint(values.out, config, initWeights(config, seed), tokDir, { overwrite });
    process.stdout.write(
      `wrote ${modelType} model (d=${config.hiddenSize}, layers=${config.numHiddenLayers}, heads=${config.numAttentionHeads}` +
        `${config.arch === 'llama' ? `, kv=${config.numKeyValueHeads}` : ''}, vocab=${vocab}, ${parameterCount(config).toLocaleString('en-US')} parameters, seed ${seed}) to ${values.out}\n`,
    );
  },
};
