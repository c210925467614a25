#!/usr/bin/env node
// Writes a random-weight Hugging Face model folder as a user's checkpoint would arrive: sharded
// safetensors (model-0000i-of-0000n.safetensors + model.safetensors.index.json), 16-bit weights by
// default, config.json with HF field names, and the bundled model's tokenizer. Seeded: the same options
// give the same files. Weights are drawn one tensor at a time and written one shard at a time, so a
// 7B-class folder needs about one shard of memory, not the model's F32 size. Needs the build (dist/).
//
//   node scripts/make-random-model.mjs --out models/random-bf16
//   node scripts/make-random-model.mjs --size d=4096,layers=32,heads=32,kv=8,ffn=11008,vocab=32000 \
//     --shard-mb 2000 --out /data/llama-7b-random
//
// Options: --arch llama|gpt2 (default llama), --size SPEC as `prefdyn model init` takes it (default
// d=256,layers=4,heads=4,kv=2: 5.0M parameters, seconds to embed on 2 cores), --dtype BF16|F16|F32
// (default BF16), --shard-mb N (default 4: a few shards even for the default size), --seed N
// (default 0), --tokenizer DIR (default models/prefdyn-tiny), --overwrite.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(root, 'dist', 'src', p));
const [{ initConfig, initTensor, parseSizeSpec }, { expectedTensors, writeModelConfig, parameterCount }] =
  await Promise.all([dist('model/init.js'), dist('model/config.js')]);
const { checkModelFolderTarget, TOKENIZER_FILES } = await dist('model/checkpoint.js');
const { writeSafetensors, INDEX_FILE } = await dist('model/safetensors.js');
const { WRITE_DTYPES } = await dist('model/dtype.js');
const { f32ToHalf } = await dist('tensor/half.js');
const { loadTokenizer } = await dist('tokenizer/load.js');
const { writeFolderAtomic, writeFileAtomic } = await dist('util/atomic-write.js');

function fail(message) {
  process.stderr.write(`make-random-model: ${message}\n`);
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    arch: { type: 'string', default: 'llama' },
    size: { type: 'string', default: 'd=256,layers=4,heads=4,kv=2' },
    dtype: { type: 'string', default: 'BF16' },
    'shard-mb': { type: 'string', default: '4' },
    seed: { type: 'string', default: '0' },
    tokenizer: { type: 'string', default: path.join(root, 'models', 'prefdyn-tiny') },
    overwrite: { type: 'boolean' },
  },
});
if (!values.out)
  fail('usage: node scripts/make-random-model.mjs --out DIR [--size SPEC] [--dtype BF16] [--shard-mb 4]');
if (!['llama', 'gpt2'].includes(values.arch)) fail(`--arch must be llama or gpt2, got "${values.arch}"`);
if (!WRITE_DTYPES.includes(values.dtype))
  fail(`--dtype must be one of ${WRITE_DTYPES.join(', ')}, got "${values.dtype}"`);
const shardBytes = Number(values['shard-mb']) * 1024 * 1024;
const seed = Number(values.seed);
if (!(shardBytes > 0)) fail(`--shard-mb must be a number > 0, got "${values['shard-mb']}"`);
if (!Number.isSafeInteger(seed) || seed < 0) fail(`--seed must be an integer >= 0, got "${values.seed}"`);

try {
  checkModelFolderTarget(values.out, { overwrite: values.overwrite === true });
  const tok = loadTokenizer(values.tokenizer);
  const size = parseSizeSpec(values.size, values.arch);
  const config = initConfig(values.arch, size, size.vocab ?? tok.vocabSize, { bos: tok.bos?.id, eos: tok.eos?.id });
  const dtype = values.dtype;
  const bytesPer = dtype === 'F32' ? 4 : 2;
  const tensors = expectedTensors(config);
  // Shards in the expected order, each closed when the next tensor would take it past --shard-mb.
  const shards = [[]];
  let filled = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * bytesPer;
    if (filled > 0 && filled + bytes > shardBytes) {
      shards.push([]);
      filled = 0;
    }
    shards.at(-1).push(t);
    filled += bytes;
  }
  const name = (i) =>
    `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
  const weightMap = {};
  let totalSize = 0;
  writeFolderAtomic(values.out, (tmp) => {
    const torchDtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype];
    writeModelConfig(tmp, { ...config, raw: { ...config.raw, torch_dtype: torchDtype } });
    shards.forEach((list, i) => {
      const written = list.map(({ name: n, shape }) => {
        const values32 = initTensor(config, seed, n, shape);
        weightMap[n] = name(i);
        totalSize += values32.length * bytesPer;
        return { name: n, shape, dtype, data: dtype === 'F32' ? values32 : f32ToHalf(dtype, values32) };
      });
      writeSafetensors(path.join(tmp, name(i)), written, { format: 'pt' });
    });
    writeFileAtomic(
      path.join(tmp, INDEX_FILE),
      JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2) + '\n',
    );
    for (const f of TOKENIZER_FILES) {
      const src = path.join(values.tokenizer, f);
      if (fs.existsSync(src)) fs.copyFileSync(src, path.join(tmp, f));
    }
  });
  process.stdout.write(
    `wrote ${values.out}: ${values.arch} ${values.size}, ${parameterCount(config).toLocaleString('en-US')} parameters, ` +
      `${dtype}, ${shards.length} shard${shards.length === 1 ? '' : 's'} (${(totalSize / 1024 / 1024).toFixed(1)} MB), seed ${seed}\n`,
  );
} catch (err) {
  if (err?.name === 'UserError') fail(err.message);
  throw err;
}
