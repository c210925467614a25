// LoRA with PEFT semantics against PyTorch (lora-llama: q_proj, v_proj; lora-gpt2: Conv1D c_attn),
// merging, the PEFT adapter folder round trip, and bad adapter folders.
import { tempDir } from './helpers/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { backward } from '../src/tensor/autograd.js';
import { loadModel } from '../src/model/load.js';
import { LoraAdapter, PAPER_LORA } from '../src/model/lora.js';
import { Rng } from '../src/util/rng.js';
import { runCli } from './helpers/cli.js';
import {
  assertClose,
  forwardBackwardNll,
  parityDir,
  parityInputs,
  readReference,
  relativeError,
} from './helpers/parity.js';

const CASES = [
  ['lora-llama', 'llama-gqa-tied'],
  ['lora-gpt2', 'gpt2'],
] as const;

for (const [name, base] of CASES) {
  test(`lora parity: ${name} logits, loss and LoRA gradients match PEFT in PyTorch; the base stays frozen`, async () => {
    const model = await loadModel(path.join(parityDir, base));
    const adapter = LoraAdapter.read(path.join(parityDir, name), model);
    adapter.attachTo(model);
    for (const p of adapter.params().values()) p.requiresGrad = true;
    const ref = readReference(path.join(parityDir, name));
    const { logits, loss } = forwardBackwardNll(model, backward);
    assertClose('logits', logits.data, ref.get('logits'), 1e-4);
    assertClose('loss', loss.data, ref.get('loss'), 1e-4);
    const refGrads = [...ref.keys()]
      .filter((k) => k.startsWith('grad.'))
      .map((k) => k.slice(5))
      .sort();
    assert.deepEqual([...adapter.params().keys()].sort(), refGrads);
    for (const [pname, p] of adapter.params()) assertClose(`grad ${pname}`, p.grad!, ref.get(`grad.${pname}`), 1e-4);
    for (const [pname, p] of model.params()) assert.equal(p.grad, null, `base parameter ${pname} got a gradient`);
  });

  test(`lora merge: ${name} merged into the base gives the logits of base + adapter`, async () => {
    const model = await loadModel(path.join(parityDir, base));
    const adapter = LoraAdapter.read(path.join(parityDir, name), model);
    adapter.attachTo(model);
    const { ids, B, T } = parityInputs();
    const withAdapter = model.forward(ids, B, T).logits!.data;
    adapter.mergeInto(model);
    assert.equal(model.adapter, undefined);
    const merged = model.forward(ids, B, T).logits!.data;
    assert.ok(relativeError(merged, withAdapter) < 1e-5, `merged vs adapter: ${relativeError(merged, withAdapter)}`);
    assert.ok(
      relativeError(withAdapter, readReference(path.join(parityDir, base)).get('logits')!) > 1e-3,
      'the adapter must change the logits for this test to mean anything',
    );
  });
}

test('lora: a PEFT adapter folder round-trips (config and every tensor, bit for bit)', async () => {
  const model = await loadModel(path.join(parityDir, 'gpt2'));
  const adapter = LoraAdapter.read(path.join(parityDir, 'lora-gpt2'), model);
  const dir = path.join(tempDir('prefdyn-lora-'), 'adapter');
  adapter.write(dir, 'gpt2');
  const back = LoraAdapter.read(dir, model);
  assert.deepEqual(back.config, adapter.config);
  assert.deepEqual([...back.params().keys()], [...adapter.params().keys()]);
  for (const [n, t] of adapter.params()) assert.deepEqual(back.params().get(n)!.data, t.data, n);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  assert.equal(cfg.fan_in_fan_out, true);
  assert.equal(cfg.peft_type, 'LORA');
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['adapter'], 'no temporary folder left behind');
});

test('lora: a new adapter (B = 0) leaves the logits unchanged; dropout is seeded', async () => {
  const model = await loadModel(path.join(parityDir, 'llama-gqa-tied'));
  const { ids, B, T } = parityInputs();
  const base = model.forward(ids, B, T).logits!.data;
  const adapter = LoraAdapter.create(model, PAPER_LORA, new Rng(1));
  adapter.attachTo(model);
  assert.deepEqual(model.forward(ids, B, T).logits!.data, base);
  assert.equal(adapter.scaling, 4);
  assert.equal(adapter.params().size, 2 * 2 * 2); // 2 layers x (q_proj, v_proj) x (A, B)
  const a = adapter.params().get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')!;
  assert.deepEqual(a.shape, [8, 32]);
  assert.ok(a.data.every((v) => Math.abs(v) <= 1 / Math.sqrt(32)));
  for (const [n, t] of adapter.params()) if (n.includes('lora_B')) t.data.fill(0.05);
  const run = (seed: number) => model.forward(ids, B, T, { training: true, rng: new Rng(seed) }).logits!.data;
  assert.deepEqual(run(3), run(3));
  assert.notDeepEqual(run(3), run(4));
  assert.throws(() => model.forward(ids, B, T, { training: true }), /LoRA dropout in training needs an rng/);
});

test('lora: bad adapter folders are refused with the file and the tensor named', async () => {
  const model = await loadModel(path.join(parityDir, 'llama-gqa-tied'));
  const tmp = tempDir('prefdyn-lora-bad-');
  assert.throws(() => LoraAdapter.read(tmp, model), {
    message: `${path.join(tmp, 'adapter_config.json')}: no such file (not a PEFT adapter folder)`,
  });
  // read like every JSON file (util/json-file.ts): the file named, the parse error given
  fs.writeFileSync(path.join(tmp, 'adapter_config.json'), '{"peft_type": ');
  assert.throws(
    () => LoraAdapter.read(tmp, model),
    (err: Error) => err.message.startsWith(`${path.join(tmp, 'adapter_config.json')}: not valid JSON (`),
  );
  fs.writeFileSync(path.join(tmp, 'adapter_config.json'), '[]');
  assert.throws(() => LoraAdapter.read(tmp, model), {
    message: `${path.join(tmp, 'adapter_config.json')}: must be a JSON object`,
  });
  // an adapter made for GPT-2 does not fit this Llama model
  fs.cpSync(path.join(parityDir, 'lora-gpt2'), tmp, { recursive: true });
  assert.throws(() => LoraAdapter.read(tmp, model), {
    message: `${path.join(tmp, 'adapter_config.json')}: target_modules ["c_attn"] match no module of this llama model (its projections: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)`,
  });
  const cfgFile = path.join(tmp, 'adapter_config.json');
  fs.writeFileSync(cfgFile, JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 8, target_modules: ['q_proj'] }));
  fs.cpSync(
    path.join(parityDir, 'lora-llama', 'adapter_model.safetensors'),
    path.join(tmp, 'adapter_model.safetensors'),
  );
  assert.throws(() => LoraAdapter.read(tmp, model), {
    message: `${path.join(tmp, 'adapter_model.safetensors')}: tensor "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" has shape [4, 32], expected [2, 32] (r = 2)`,
  });
  fs.writeFileSync(cfgFile, JSON.stringify({ peft_type: 'PREFIX_TUNING' }));
  assert.throws(() => LoraAdapter.read(tmp, model), {
    message: `${cfgFile}: peft_type "PREFIX_TUNING" is not supported (only "LORA")`,
  });
});

test('prefdyn model merge: the saved folder scores like base + adapter; bad input names the missing option', async () => {
  const out = path.join(tempDir('prefdyn-merge-'), 'merged');
  const res = runCli([
    'model',
    'merge',
    '--model',
    path.join(parityDir, 'llama-gqa-tied'),
    '--adapter',
    path.join(parityDir, 'lora-llama'),
    '--out',
    out,
  ]);
  assert.equal(res.code, 0, res.stderr);
  const base = await loadModel(path.join(parityDir, 'llama-gqa-tied'));
  LoraAdapter.read(path.join(parityDir, 'lora-llama'), base).attachTo(base);
  const { ids, B, T } = parityInputs();
  const withAdapter = base.forward(ids, B, T).logits!.data;
  const merged = (await loadModel(out)).forward(ids, B, T).logits!.data;
  assert.ok(
    relativeError(merged, withAdapter) < 1e-5,
    `merged folder vs adapter: ${relativeError(merged, withAdapter)}`,
  );
  const bad = runCli(['model', 'merge', '--model', path.join(parityDir, 'llama-gqa-tied'), '--out', out]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'prefdyn: model merge needs --adapter\n');
});
