// The dtypes of model folders prefdyn writes and reads: merge and full fine-tuning write the base
// model's dtype unless --dtype says otherwise (round trips through the written folders), 16-bit weights
// that nothing changed are written back bit for bit, and PyTorch pickle folders are refused in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fixturesDir, runCli } from './helpers/cli.js';
import { parityDir } from './helpers/parity.js';
import { tempDir } from './helpers/temp.js';
import { loadWeights, saveCheckpoint, validateCheckpoint } from '../src/model/checkpoint.js';
import { modelFromWeights, weightsOf } from '../src/model/load.js';
import { LoraAdapter } from '../src/model/lora.js';
import { openCheckpointTensors } from '../src/model/safetensors.js';
import type { WriteDtype } from '../src/model/dtype.js';
import { bf16BitsToF32 } from '../src/tensor/half.js';

const tmp = tempDir('prefdyn-dtype-');

/** The parity Llama rewritten as `dtype` (tokenizer copied): a base model stored in 16 bits. */
async function baseAs(dtype: WriteDtype): Promise<string> {
  const dir = path.join(tmp, `base-${dtype}`);
  if (fs.existsSync(dir)) return dir;
  const src = path.join(parityDir, 'llama-gqa-tied');
  const { config, weights } = await loadWeights(src);
  saveCheckpoint(dir, config, weights, src, { dtype });
  return dir;
}

function dtypesOf(dir: string): string[] {
  return [...validateCheckpoint(dir).dtypes.keys()];
}

test('model merge writes the base model dtype by default and --dtype on request; both round-trip the merged values', async () => {
  const base = await baseAs('BF16');
  const adapter = path.join(parityDir, 'lora-llama');
  // The merge computed here in F32 on the BF16 base's values: what every written dtype rounds from.
  const { config, weights } = await loadWeights(base);
  const model = modelFromWeights(config, weights);
  LoraAdapter.read(adapter, model).mergeInto(model);
  const want = weightsOf(model);

  const asBase = path.join(tmp, 'merged-default');
  const r = runCli(['model', 'merge', '--model', base, '--adapter', adapter, '--out', asBase]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*merged-default \(BF16\)\n$/);
  assert.deepEqual(dtypesOf(asBase), ['BF16']);
  const got16 = openCheckpointTensors(asBase);
  const base16 = openCheckpointTensors(base);
  try {
    for (const [name, w] of want) {
      const bits = got16.readStored(name);
      assert.ok(!(bits instanceof Float32Array), `${name} is stored 16-bit`);
      const values = w.data as Float32Array;
      for (let i = 0; i < values.length; i++) {
        const v = bf16BitsToF32(bits.bits[i]!);
        // Round to nearest BF16: within half a BF16 ulp (2^-8 relative to the binade).
        assert.ok(Math.abs(v - values[i]!) <= Math.abs(values[i]!) * 2 ** -8, `${name}[${i}]: ${v} vs ${values[i]}`);
      }
    }
    // A weight the adapter does not touch is written back as it was stored, bit for bit.
    const bitsOf = (t: typeof got16, name: string) => t.readStored(name) as { bits: Uint16Array };
    const name = 'model.embed_tokens.weight';
    assert.deepEqual(bitsOf(got16, name).bits, bitsOf(base16, name).bits);
    const q = 'model.layers.0.self_attn.q_proj.weight';
    assert.notDeepEqual(bitsOf(got16, q).bits, bitsOf(base16, q).bits, 'the adapted weight changed');
  } finally {
    got16.close();
    base16.close();
  }

  const asF32 = path.join(tmp, 'merged-f32');
  const r32 = runCli(['model', 'merge', '--model', base, '--adapter', adapter, '--out', asF32, '--dtype', 'F32']);
  assert.equal(r32.code, 0, r32.stderr);
  assert.deepEqual(dtypesOf(asF32), ['F32']);
  const back = (await loadWeights(asF32)).weights;
  for (const [name, w] of want) {
    const got = back.get(name)!.data;
    const values = w.data as Float32Array;
    for (let i = 0; i < values.length; i++) {
      // The same F32 sums, possibly by another kernel blocking: a few float32 ulps of the rank-2 update.
      assert.ok(Math.abs(got[i]! - values[i]!) <= 2 ** -20 * (1 + Math.abs(values[i]!)), `${name}[${i}]`);
    }
  }

  const bad = runCli(['model', 'merge', '--model', base, '--adapter', adapter, '--out', asF32, '--dtype', 'fp8']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'prefdyn: --dtype must be one of F32, F16, BF16, got "fp8"\n');
});

test('full fine-tuning saves checkpoints in the starting model dtype, or in --dtype', async () => {
  const base = await baseAs('F16');
  const common = [
    'train',
    '--model',
    base,
    '--data',
    path.join(fixturesDir, 'train', 'pairs.jsonl'),
    '--mode',
    'full',
    '--steps',
    '1',
    '--batch-size',
    '4',
    '--gradient-accumulation-steps',
    '1',
  ];
  const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
  const run16 = path.join(tmp, 'run-f16');
  const r = runCli([...common, '--out', run16], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(dtypesOf(path.join(run16, 'checkpoints', 'step-1')), ['F16']);
  assert.equal(JSON.parse(fs.readFileSync(path.join(run16, 'config.json'), 'utf8')).config.dtype, 'auto');

  const runBf = path.join(tmp, 'run-bf16');
  const rb = runCli([...common, '--dtype', 'BF16', '--out', runBf], { env });
  assert.equal(rb.code, 0, rb.stderr);
  const ck = path.join(runBf, 'checkpoints', 'step-1');
  assert.deepEqual(dtypesOf(ck), ['BF16']);
  assert.equal(JSON.parse(fs.readFileSync(path.join(ck, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
});

test('a folder with a PyTorch pickle checkpoint is refused with the one-line conversion recipe', () => {
  const dir = path.join(tmp, 'pickled');
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(parityDir, 'llama-gqa-tied', 'config.json'), path.join(dir, 'config.json'));
  fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'not read');
  const r = runCli(['model', 'info', dir]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `prefdyn: ${path.join(dir, 'pytorch_model.bin')}: PyTorch pickle checkpoints are not read (unsafe to load); convert the folder to safetensors: python -c "from transformers import AutoModelForCausalLM as M; M.from_pretrained('${dir}').save_pretrained('${dir}', safe_serialization=True)"\n`,
  );
  fs.renameSync(path.join(dir, 'pytorch_model.bin'), path.join(dir, 'consolidated.pth'));
  assert.match(runCli(['model', 'info', dir]).stderr, /consolidated\.pth: PyTorch pickle checkpoints/);
});
