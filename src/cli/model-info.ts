// `prefdyn model info DIR`: a model folder's architecture, size, storage and tokenizer, from headers only.
import type { Command } from './command.js';
import { humanBytes } from '../util/memory.js';
import { answerWarning, summarizeModel, type AnswerTokens, type ModelSummary } from '../model/summary.js';
import { modelTypeOf, type LlamaConfig, type ModelConfig } from '../model/config.js';
import { contextLength } from '../model/context-length.js';
import type { RopeConfig } from '../model/rope-scaling.js';

const singleId = (ids: number[]): number | null => (ids.length === 1 ? ids[0]! : null);

/** " Yes" = 5592 in context (alone 28705, 5592), for the text summary. */
function answerText(a: AnswerTokens): string {
  const alone = a.separate.join(', ') === a.inContext.join(', ') ? '' : ` (alone ${a.separate.join(', ')})`;
  const ids =
    a.inContext.length === 1 ? `= ${a.inContext[0]}` : `= ${a.inContext.join(', ')}: ${a.inContext.length} tokens`;
  return `${JSON.stringify(a.answer)} ${ids}${alone}`;
}

/** theta and the scaling's type and options, in one line. */
function describeRope(rope: RopeConfig): string {
  const s = rope.scaling;
  const options =
    s.type === 'default'
      ? ''
      : s.type === 'llama3'
        ? `, llama3 factor ${s.factor} (low_freq_factor ${s.lowFreqFactor}, high_freq_factor ${s.highFreqFactor}, ` +
          `original_max_position_embeddings ${s.originalMaxPositionEmbeddings})`
        : `, ${s.type} factor ${s.factor}`;
  return `theta ${rope.theta}${options}`;
}

/** RoPE's settings as config.json names them, for --json. */
function ropeJson(rope: RopeConfig): Record<string, unknown> {
  const s = rope.scaling;
  const scaling =
    s.type === 'default'
      ? {}
      : s.type === 'llama3'
        ? {
            factor: s.factor,
            low_freq_factor: s.lowFreqFactor,
            high_freq_factor: s.highFreqFactor,
            original_max_position_embeddings: s.originalMaxPositionEmbeddings,
          }
        : { factor: s.factor };
  return { rope_theta: rope.theta, rope_type: s.type, ...scaling };
}

/** The Llama family's options as config.json names them, for --json. */
function llamaOptionsJson(c: LlamaConfig): Record<string, unknown> {
  return {
    sliding_window: c.slidingWindow,
    attention_biases: c.attentionBiases,
    mlp_bias: c.mlpBias,
    qk_norm: c.qkNorm,
  };
}

/** What the Llama family's options change from plain Llama, in words ('none' for plain Llama). */
function llamaOptionsText(c: LlamaConfig): string {
  const parts = [
    c.slidingWindow === null ? '' : `sliding window ${c.slidingWindow}`,
    c.attentionBiases.length === 0 ? '' : `bias on ${c.attentionBiases.join(', ')}`,
    c.mlpBias ? 'bias on the MLP' : '',
    c.qkNorm ? 'q_norm/k_norm per head' : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? 'none' : parts.join('; ');
}

function positionsText(c: ModelConfig): string {
  const limit = contextLength(c);
  return limit === c.maxPositionEmbeddings ? `${limit}` : `${c.maxPositionEmbeddings} (dynamic RoPE runs to ${limit})`;
}

function asJson(s: ModelSummary): unknown {
  const c = s.config;
  return {
    dir: s.dir,
    arch: c.arch,
    model_type: modelTypeOf(c),
    layers: c.numHiddenLayers,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    heads: c.numAttentionHeads,
    kv_heads: 'numKeyValueHeads' in c ? c.numKeyValueHeads : c.numAttentionHeads,
    head_dim: c.headDim,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: c.tieWordEmbeddings,
    ...(c.arch === 'gpt2' ? {} : { rope: ropeJson(c.rope) }),
    ...(c.arch === 'llama' ? llamaOptionsJson(c) : {}),
    parameters: s.parameters,
    dtypes: s.dtypes,
    files: s.files,
    skipped: s.skipped,
    tokenizer: s.tokenizer && {
      type: s.tokenizer.type,
      vocab_size: s.tokenizer.vocabSize,
      bos: s.tokenizer.bos,
      eos: s.tokenizer.eos,
      chat_template: s.tokenizer.chatTemplate,
      // In context (after a Persona prompt): the ids the model reads; null when an answer is not one token.
      yes_id: singleId(s.tokenizer.answers[0]!.inContext),
      no_id: singleId(s.tokenizer.answers[1]!.inContext),
      answers: s.tokenizer.answers.map((a) => ({ answer: a.answer, in_context: a.inContext, separate: a.separate })),
    },
  };
}

function asText(s: ModelSummary): string {
  const c = s.config;
  const special = (t: { token: string; id: number } | null): string =>
    t ? `${JSON.stringify(t.token)} = ${t.id}` : 'none';
  const rows: [string, string][] = [
    ['model', s.dir],
    ['arch', modelTypeOf(c)],
    ['layers', `${c.numHiddenLayers}`],
    ['hidden size', `${c.hiddenSize} (mlp ${c.intermediateSize})`],
    [
      'heads',
      'numKeyValueHeads' in c
        ? `${c.numAttentionHeads} (kv heads ${c.numKeyValueHeads}, head dim ${c.headDim})`
        : `${c.numAttentionHeads} (head dim ${c.headDim})`,
    ],
    ['vocab', `${c.vocabSize}${c.tieWordEmbeddings ? ' (lm_head tied to the embedding)' : ''}`],
    ['positions', positionsText(c)],
    ...(c.arch === 'gpt2' ? [] : ([['rope', describeRope(c.rope)]] as [string, string][])),
    ...(c.arch === 'gpt_neox'
      ? ([['rotary', `${c.rotaryDims} of ${c.headDim} channels per head`]] as [string, string][])
      : []),
    ...(c.arch === 'llama' ? ([['options', llamaOptionsText(c)]] as [string, string][]) : []),
    ['parameters', s.parameters.toLocaleString('en-US')],
    [
      'dtypes',
      Object.entries(s.dtypes)
        .map(([d, n]) => `${d} (${n} tensors)`)
        .join(', '),
    ],
    ['files', s.files.map((f) => `${f.file} ${humanBytes(f.bytes)}`).join(', ')],
  ];
  if (s.skipped.length > 0)
    rows.push(['skipped', `${s.skipped.length} buffers (${s.skipped[0]}${s.skipped.length > 1 ? ', ...' : ''})`]);
  const t = s.tokenizer;
  rows.push([
    'tokenizer',
    t
      ? `${t.type}, ${t.vocabSize} tokens, BOS ${special(t.bos)}, EOS ${special(t.eos)}` +
        (t.chatTemplate ? `, chat template in ${t.chatTemplate}` : '')
      : 'none (no tokenizer.json)',
  ]);
  if (t) rows.push(['answers', `in context: ${t.answers.map(answerText).join(', ')}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export const command: Command = {
  name: 'model info',
  summary: 'architecture, parameter count, dtypes and tokenizer of a model folder (reads headers only)',
  help: `Usage: prefdyn model info DIR [--json]

Reads DIR/config.json, the safetensors headers (model.safetensors or the shards of
model.safetensors.index.json) and DIR/tokenizer.json, checks every tensor's name, shape and dtype
against the config, and prints the architecture (model_type; for the Llama family the RoPE settings
and the options read: sliding window, biases, q/k norms), parameter count, dtypes, files and tokenizer.
No weights are loaded, so a 7B checkpoint is described in milliseconds. "answers" gives the ids of
" Yes" and " No" after a Persona prompt, tokenised in context as pairs are (and alone, where that
differs); stderr warns when an answer is not one token in context, as the theory's setting needs.

Options:
  --json   print one JSON object instead of text

Example:
  prefdyn model info models/gpt2-tiny`,
  options: { json: { type: 'boolean' } },
  positionals: [1, 1],
  async run(args) {
    const summary = summarizeModel(args.positionals[0]!);
    const warning = answerWarning(summary, 'in-context');
    if (warning) process.stderr.write(`prefdyn: ${warning}\n`);
    process.stdout.write((args.values.json ? JSON.stringify(asJson(summary), null, 2) : asText(summary)) + '\n');
  },
};
