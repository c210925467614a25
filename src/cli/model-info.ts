// `prefdyn model info DIR`: a model folder's architecture, size, storage and tokenizer, from headers only.
import type { Command } from './command.js';
import { summarizeModel, type ModelSummary } from '../model/summary.js';

export function humanBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

function asJson(s: ModelSummary): unknown {
  const c = s.config;
  return {
    dir: s.dir,
    arch: c.arch,
    layers: c.numHiddenLayers,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    heads: c.numAttentionHeads,
    kv_heads: 'numKeyValueHeads' in c ? c.numKeyValueHeads : c.numAttentionHeads,
    head_dim: c.headDim,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: c.tieWordEmbeddings,
    parameters: s.parameters,
    dtypes: s.dtypes,
    files: s.files,
    skipped: s.skipped,
    tokenizer: s.tokenizer && {
      type: s.tokenizer.type,
      vocab_size: s.tokenizer.vocabSize,
      bos: s.tokenizer.bos,
      eos: s.tokenizer.eos,
      yes_id: s.tokenizer.yesId,
      no_id: s.tokenizer.noId,
    },
  };
}

function asText(s: ModelSummary): string {
  const c = s.config;
  const special = (t: { token: string; id: number } | null): string =>
    t ? `${JSON.stringify(t.token)} = ${t.id}` : 'none';
  const answer = (id: number | null): string => (id === null ? 'not one token' : `= ${id}`);
  const rows: [string, string][] = [
    ['model', s.dir],
    ['arch', c.arch],
    ['layers', `${c.numHiddenLayers}`],
    ['hidden size', `${c.hiddenSize} (mlp ${c.intermediateSize})`],
    [
      'heads',
      'numKeyValueHeads' in c
        ? `${c.numAttentionHeads} (kv heads ${c.numKeyValueHeads}, head dim ${c.headDim})`
        : `${c.numAttentionHeads} (head dim ${c.headDim})`,
    ],
    ['vocab', `${c.vocabSize}${c.tieWordEmbeddings ? ' (lm_head tied to the embedding)' : ''}`],
    ['positions', `${c.maxPositionEmbeddings}`],
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
      ? `${t.type}, ${t.vocabSize} tokens, BOS ${special(t.bos)}, EOS ${special(t.eos)}; " Yes" ${answer(t.yesId)}, " No" ${answer(t.noId)}`
      : 'none (no tokenizer.json)',
  ]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export const command: Command = {
  name: 'model info',
  summary: 'architecture, parameter count, dtypes and tokenizer of a model folder (reads headers only)',
  help: `Usage: prefdyn model info DIR [--json]

Reads DIR/config.json, the safetensors headers (model.safetensors or the shards of
model.safetensors.index.json) and DIR/tokenizer.json, checks every tensor's name, shape and dtype
against the config, and prints the architecture, parameter count, dtypes, files and tokenizer.
No weights are loaded, so a 7B checkpoint is described in milliseconds.

Options:
  --json   print one JSON object instead of text

Example:
  prefdyn model info models/gpt2-tiny`,
  options: { json: { type: 'boolean' } },
  positionals: [1, 1],
  async run(args) {
    const summary = summarizeModel(args.positionals[0]!);
    process.stdout.write((args.values.json ? JSON.stringify(asJson(summary), null, 2) : asText(summary)) + '\n');
  },
};
