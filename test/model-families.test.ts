// GPT-NeoX, Gemma and Gemma-2 beyond the PyTorch parity (parity.test.ts): both config spellings,
// unsupported options refused in one line, LoRA's per-family default targets and PEFT's
// rank_pattern / alpha_pattern.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseModelConfig, type GemmaConfig, type GptNeoxConfig } from '../src/model/config.js';
import { loadModel } from '../src/model/load.js';
import { LoraAdapter, patternKey, PEFT_DEFAULT_TARGETS } from '../src/model/lora.js';
import { withModelDefaults, resolveConfig } from '../src/train/config.js';
import { Rng } from '../src/util/rng.js';
import { runCli, fixturesDir } from './helpers/cli.js';
import { parityDir, parityInputs, relativeError } from './helpers/parity.js';
import { SafetensorsFile, writeSafetensors } from '../src/model/safetensors.js';
import { tempDir } from './helpers/temp.js';

const F = 'config.json';
const readFixture = (name: string) =>
  JSON.parse(fs.readFileSync(path.join(parityDir, name, F), 'utf8')) as Record<string, unknown>;
const NEOX = readFixture('gpt-neox-parallel');
const GEMMA2 = readFixture('gemma2');

test('gpt_neox config: transformers 4 and 5 spellings give the same model; rotary channels from rotary_pct', () => {
  const v4 = parseModelConfig({ ...NEOX, rotary_pct: 0.5, rotary_emb_base: 500 }, F) as GptNeoxConfig;
  const { rotary_pct: _p, rotary_emb_base: _b, ...rest } = NEOX;
  const v5 = parseModelConfig(
    { ...rest, rope_parameters: { rope_type: 'default', rope_theta: 500, partial_rotary_factor: 0.5 } },
    F,
  ) as GptNeoxConfig;
  assert.deepEqual({ ...v4, raw: null }, { ...v5, raw: null });
  assert.equal(v4.rotaryDims, 8); // head_dim 16 * 0.5
  assert.deepEqual(v4.rope, { theta: 500, scaling: { type: 'default' } });
  const defaults = parseModelConfig(rest, F) as GptNeoxConfig;
  assert.equal(defaults.rotaryDims, 4); // GPTNeoXConfig's rotary_pct 0.25
  assert.equal(defaults.rope.theta, 10000);
  assert.equal(defaults.useParallelResidual, true);
  assert.equal(defaults.gelu, 'exact');
  assert.equal(defaults.tieWordEmbeddings, false);
});

test('gpt_neox and gemma configs: unsupported or contradictory options stop with one line naming them', () => {
  const cases: [Record<string, unknown>, string][] = [
    // RoPE is read by the Llama family's reader (rope-scaling.ts), which refuses the scalings GPT-NeoX and
    // Gemma do not implement
    [
      { ...NEOX, rope_scaling: { type: 'linear', factor: 2 } },
      'field "rope_scaling.type" must be one of "default", got "linear"',
    ],
    [
      { ...NEOX, rope_parameters: { rope_type: 'dynamic', factor: 2 } },
      'field "rope_parameters.rope_type" must be one of "default", got "dynamic"',
    ],
    [
      { ...GEMMA2, rope_scaling: { rope_type: 'llama3', factor: 8 } },
      'field "rope_scaling.rope_type" must be one of "default", got "llama3"',
    ],
    [
      { ...NEOX, rope_parameters: { rope_theta: 500 } },
      'rotary_emb_base 10000 and rope_parameters.rope_theta 500 disagree',
    ],
    [{ ...NEOX, rope_theta: 500 }, 'rotary_emb_base 10000 and rope_theta 500 disagree'],
    [
      { ...NEOX, rope_parameters: { partial_rotary_factor: 0.5 } },
      `rotary_pct ${NEOX.rotary_pct} and rope_parameters.partial_rotary_factor 0.5 disagree`,
    ],
    [
      { ...NEOX, hidden_act: 'relu' },
      'field "hidden_act" must be one of "gelu", "gelu_new", "gelu_pytorch_tanh", got "relu"',
    ],
    [
      { ...NEOX, rotary_pct: 0.1 },
      'rotary_pct 0.1 rotates 1 of the 16 channels of each head; RoPE needs an even number',
    ],
    [{ ...NEOX, rotary_pct: 0 }, 'field "rotary_pct" must be a number in (0, 1], got 0'],
    [
      { ...GEMMA2, hidden_activation: 'silu' },
      'field "hidden_activation" must be one of "gelu", "gelu_new", "gelu_pytorch_tanh", got "silu"',
    ],
    [
      { ...GEMMA2, layer_types: ['full_attention'] },
      'field "layer_types" must list 3 entries, each "sliding_attention" or "full_attention"',
    ],
    [
      { ...GEMMA2, rope_parameters: { rope_type: 'default', partial_rotary_factor: 0.5 } },
      'partial_rotary_factor 0.5 is not supported (Gemma rotates every channel)',
    ],
    [
      { ...GEMMA2, use_bidirectional_attention: true },
      'use_bidirectional_attention = true is not supported (bidirectional attention); prefdyn needs it false or absent',
    ],
  ];
  for (const [json, message] of cases) assert.throws(() => parseModelConfig(json, F), { message: `${F}: ${message}` });
  // architectures must name the row's class, as for the Llama family
  for (const [json, type] of [
    [{ ...NEOX, architectures: ['GPTNeoXForSequenceClassification'] }, 'gpt_neox'],
    [{ ...GEMMA2, architectures: ['GemmaForCausalLM'] }, 'gemma2'],
  ] as const) {
    assert.throws(() => parseModelConfig(json, F), {
      message: new RegExp(
        `^${F}: architectures \\["${json.architectures[0]}"\\] is not supported for model_type "${type}" ` +
          `\\(supported: .*gpt_neox \\(GPTNeoXForCausalLM\\), gemma \\(GemmaForCausalLM\\), gemma2 \\(Gemma2ForCausalLM\\)\\)$`,
      ),
    });
  }
});

test('gemma2 config: sliding layers by the 4.4x rule (even layers) or by layer_types; soft-caps null are off', () => {
  const c = parseModelConfig(GEMMA2, F) as GemmaConfig;
  assert.deepEqual(c.layerWindows, [3, null, 3]);
  assert.equal(c.queryPreAttnScalar, 12);
  const types = parseModelConfig(
    { ...GEMMA2, layer_types: ['full_attention', 'sliding_attention', 'sliding_attention'] },
    F,
  ) as GemmaConfig;
  assert.deepEqual(types.layerWindows, [null, 3, 3]);
  // transformers 5: rope_parameters instead of rope_theta, layer_types spelled out
  const { rope_theta: _t, ...noTheta } = GEMMA2;
  const v5 = parseModelConfig(
    {
      ...noTheta,
      rope_parameters: { rope_type: 'default', rope_theta: 10000 },
      layer_types: ['sliding_attention', 'full_attention', 'sliding_attention'],
    },
    F,
  );
  assert.deepEqual({ ...v5, raw: null }, { ...c, raw: null });
  const { attn_logit_softcapping: _a, final_logit_softcapping: _f, ...noCaps } = GEMMA2;
  const defaults = parseModelConfig(noCaps, F) as GemmaConfig;
  assert.deepEqual([defaults.attnLogitSoftcapping, defaults.finalLogitSoftcapping], [50, 30]); // Gemma2Config's
  const off = parseModelConfig({ ...GEMMA2, attn_logit_softcapping: null, final_logit_softcapping: null }, F);
  assert.deepEqual(
    [(off as GemmaConfig).attnLogitSoftcapping, (off as GemmaConfig).finalLogitSoftcapping],
    [null, null],
  );
  const gemma = parseModelConfig(readFixture('gemma'), F) as GemmaConfig;
  assert.deepEqual(gemma.layerWindows, [null, null]);
  assert.equal(gemma.queryPreAttnScalar, 16); // 1/sqrt(head_dim)
  assert.equal(gemma.gelu, 'tanh'); // hidden_act "gelu" is legacy: hidden_activation decides
});

test('lora: PEFT default targets per family (query_key_value for GPT-NeoX, q_proj/v_proj for Gemma)', async () => {
  const neox = await loadModel(path.join(parityDir, 'gpt-neox-parallel'));
  const a = LoraAdapter.create(neox, { ...loraBase, targetModules: [...PEFT_DEFAULT_TARGETS.gpt_neox] }, new Rng(1));
  assert.deepEqual(
    [...a.params().keys()].filter((n) => n.endsWith('lora_A.weight')),
    [0, 1].map((l) => `base_model.model.gpt_neox.layers.${l}.attention.query_key_value.lora_A.weight`),
  );
  const gemma = await loadModel(path.join(parityDir, 'gemma2'));
  const g = LoraAdapter.create(gemma, { ...loraBase, targetModules: [...PEFT_DEFAULT_TARGETS.gemma2] }, new Rng(1));
  assert.equal(g.params().size, 3 * 2 * 2);
  const resolved = resolveConfig(undefined, { model: 'm', data: 'd', out: 'o', mode: 'lora' });
  assert.deepEqual(withModelDefaults(resolved, () => 'gpt_neox').config.lora_targets, ['query_key_value']);
  assert.deepEqual(withModelDefaults(resolved, () => 'gpt2').config.lora_targets, ['c_attn']);
  for (const t of ['mistral', 'qwen2', 'qwen3'] as const)
    assert.deepEqual(withModelDefaults(resolved, () => t).config.lora_targets, ['q_proj', 'v_proj'], t);
  const given = resolveConfig(undefined, { model: 'm', data: 'd', out: 'o', mode: 'lora', lora_targets: 'dense' });
  assert.deepEqual(withModelDefaults(given, () => 'gpt_neox').config.lora_targets, ['dense']);
});

const loraBase = { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'], useRslora: false };

test("lora: pattern keys match as PEFT's get_pattern_key: a suffix after a dot, or a regex over the whole name", () => {
  const path0 = 'model.layers.0.self_attn.q_proj';
  assert.equal(patternKey({ q_proj: 1 }, path0), 'q_proj');
  assert.equal(patternKey({ 'layers.0.self_attn.q_proj': 1 }, path0), 'layers.0.self_attn.q_proj');
  assert.equal(patternKey({ proj: 1 }, path0), undefined); // "q_proj" is not ".proj"
  assert.equal(patternKey({ 'self_attn.q': 1 }, path0), undefined);
  assert.equal(patternKey({ 'layers.1.self_attn.q_proj': 1 }, 'model.layers.11.self_attn.q_proj'), undefined);
  assert.equal(patternKey({ 'layers\\.[02]\\..*q_proj': 1 }, path0), 'layers\\.[02]\\..*q_proj');
  assert.equal(patternKey({ v_proj: 1, 'model.*': 2 }, path0), 'model.*'); // first key that matches
});

test('lora: rank_pattern and alpha_pattern give modules their own r and alpha; they round-trip through adapter_config.json', async () => {
  const model = await loadModel(path.join(parityDir, 'gemma'));
  const { ids, B, T } = parityInputs();
  const config = {
    ...loraBase,
    rankPattern: { 'layers.1.self_attn.v_proj': 2 },
    alphaPattern: { 'layers.0.self_attn.q_proj': 32 },
  };
  const patterned = LoraAdapter.create(model, config, new Rng(5));
  const shapes = new Map(
    [...patterned.params()].map(([n, t]) => [n.replace('base_model.model.model.layers.', ''), t.shape]),
  );
  assert.deepEqual(shapes.get('1.self_attn.v_proj.lora_A.weight'), [2, 32]);
  assert.deepEqual(shapes.get('1.self_attn.v_proj.lora_B.weight'), [32, 2]);
  assert.deepEqual(shapes.get('0.self_attn.v_proj.lora_A.weight'), [4, 32]);
  assert.equal(patterned.scalingOf('model.layers.0.self_attn.q_proj'), 8); // 32 / 4
  assert.equal(patterned.scalingOf('model.layers.1.self_attn.v_proj'), 4); // 8 / 2
  assert.equal(patterned.scalingOf('model.layers.1.self_attn.q_proj'), 2); // 8 / 4
  const rng = new Rng(9);
  for (const t of patterned.params().values())
    if (t.name!.includes('lora_B')) for (let i = 0; i < t.size; i++) t.data[i] = 0.1 * rng.normal();
  patterned.attachTo(model);
  const withPatterns = model.forward(ids, B, T).logits!.data;
  // Written and read back: same config, same logits.
  const dir = path.join(tempDir('prefdyn-lora-pattern-'), 'adapter');
  patterned.write(dir, 'gemma');
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  assert.deepEqual([saved.rank_pattern, saved.alpha_pattern], [config.rankPattern, config.alphaPattern]);
  const back = LoraAdapter.read(dir, model);
  assert.deepEqual(back.config, patterned.config);
  back.attachTo(model);
  assert.deepEqual(model.forward(ids, B, T).logits!.data, withPatterns);
  // alpha 32 instead of 8 on layer 0's q_proj is the plain adapter with that module's B times 4.
  const cfgFile = path.join(dir, 'adapter_config.json');
  fs.writeFileSync(cfgFile, JSON.stringify({ ...saved, alpha_pattern: {} }));
  const plain = LoraAdapter.read(dir, model);
  for (const [n, t] of plain.params())
    if (n.includes('layers.0.self_attn.q_proj.lora_B')) for (let i = 0; i < t.size; i++) t.data[i] = 4 * t.data[i]!;
  plain.attachTo(model);
  const rel = relativeError(model.forward(ids, B, T).logits!.data, withPatterns);
  assert.ok(rel < 1e-5, `alpha_pattern vs scaled B: ${rel}`);
  // Refused with one line: a bad pattern, a bad value, DoRA.
  const refuse = (extra: Record<string, unknown>, message: string) => {
    fs.writeFileSync(cfgFile, JSON.stringify({ ...saved, ...extra }));
    assert.throws(() => LoraAdapter.read(dir, model), { message: `${cfgFile}: ${message}` });
  };
  refuse({ rank_pattern: { 'q_proj(': 2 } }, 'rank_pattern key "q_proj(" is not a valid regular expression');
  refuse({ rank_pattern: { q_proj: 2.5 } }, 'rank_pattern "q_proj" must be a positive integer, got 2.5');
  refuse({ alpha_pattern: [] }, '"alpha_pattern" must be an object of module pattern -> number, got []');
  refuse({ use_dora: true }, 'use_dora = true is not supported (DoRA adapters; only plain LoRA)');
  refuse({ layers_to_transform: [0] }, 'layers_to_transform is not supported (got [0]); prefdyn adapts every layer');
});

test('prefdyn train: LoRA on GPT-NeoX targets query_key_value by default; last-layer refuses soft-capped Gemma-2 logits', () => {
  const tmp = tempDir('prefdyn-families-train-');
  const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
  const data = path.join(fixturesDir, 'train', 'pairs.jsonl');
  const common = ['--data', data, '--steps', '1', '--batch-size', '4', '--gradient-accumulation-steps', '1'];
  const run = path.join(tmp, 'neox');
  const r = runCli(
    ['train', '--model', path.join(parityDir, 'gpt-neox-parallel'), '--mode', 'lora', ...common, '--out', run],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  const saved = JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8'));
  assert.deepEqual(saved.config.lora_targets, ['query_key_value']);
  const gemma2 = path.join(parityDir, 'gemma2');
  const ll = runCli(['train', '--model', gemma2, '--mode', 'last-layer', ...common, '--out', path.join(tmp, 'g2')], {
    env,
  });
  assert.equal(ll.code, 1);
  assert.equal(
    ll.stderr,
    `prefdyn: --mode last-layer trains logits linear in lm_head (the theory's setting), but ${gemma2} is a gemma2 model and its logits are soft-capped (final_logit_softcapping 5); use --mode lora or full\n`,
  );
});

test("gpt_neox checkpoints: Pythia's stored attention buffers are skipped, not refused; model info names the family", async () => {
  const src = path.join(parityDir, 'gpt-neox-parallel');
  const dir = path.join(tempDir('prefdyn-neox-buffers-'), 'pythia');
  fs.cpSync(src, dir, { recursive: true });
  const st = SafetensorsFile.open(path.join(src, 'model.safetensors'));
  const tensors = st.names().map((name) => ({ name, shape: st.info(name).shape, data: st.readF32(name) }));
  st.close();
  const buffers = ['attention.bias', 'attention.masked_bias', 'attention.rotary_emb.inv_freq'].map((b) => ({
    name: `gpt_neox.layers.0.${b}`,
    shape: [2],
    data: new Float32Array(2),
  }));
  writeSafetensors(path.join(dir, 'model.safetensors'), [...tensors, ...buffers], { format: 'pt' });
  const info = runCli(['model', 'info', dir, '--json']);
  assert.equal(info.code, 0, info.stderr);
  const json = JSON.parse(info.stdout);
  assert.equal(json.arch, 'gpt_neox');
  assert.deepEqual(json.rope, { rope_theta: 10000, rope_type: 'default' });
  const text = runCli(['model', 'info', path.join(parityDir, 'gpt-neox-sequential')]).stdout;
  assert.match(text, /^rope +theta 500$/m); // rope_parameters, read by the Llama family's reader
  assert.match(text, /^rotary +8 of 16 channels per head$/m);
  assert.deepEqual(
    json.skipped,
    buffers.map((b) => b.name),
  );
  const { ids, B, T } = parityInputs();
  const a = (await loadModel(dir)).forward(ids, B, T).logits!.data;
  assert.deepEqual(a, (await loadModel(src)).forward(ids, B, T).logits!.data);
});
