// `prefdyn embed`: final hidden states g(x) per pair (architecture.md contract 3), for `prefdyn analyze`.
import { type Command } from './command.js';
import { parseChoice } from '../util/option-value.js';
import { addSourceOptions, SOURCE_OPTIONS_HELP, sourceOptionsFromArgs } from './data-options.js';
import { SCORING_OPTIONS, SCORING_OPTIONS_HELP, scoringArgs } from './scoring-options.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { loadSource } from '../data/source.js';
import { embedPairs } from '../model/embed.js';
import { loadModelForScoring } from '../model/load.js';
import { scoringCheck } from '../model/memory-estimate.js';
import { truncationLimits, truncationMetadata } from '../model/context-length.js';
import { writeSafetensors } from '../model/safetensors.js';
import { stderrCounter } from '../util/progress.js';

const POSITIONS = ['auto', 'prompt', 'response'] as const;

export const command: Command = {
  name: 'embed',
  summary: 'final hidden states of every pair, for the distinguishability analysis',
  help: `Usage: prefdyn embed --model DIR --data SRC --out NAME [options]

Writes NAME.safetensors (one tensor "embeddings" [N, d], F32) and NAME.rows.jsonl (one
{"id", "group", "label"} per row, same order). An embedding is the final hidden state after the final
norm (what lm_head multiplies) at the last token of:
  prompt    the prompt: one row per pair, label +1 when the preferred answer is " Yes", -1 for " No"
  response  prompt + chosen (row "<id>/chosen", label +1) and prompt + rejected ("<id>/rejected", -1)
--position auto (default) uses prompt when every pair is a Yes/No pair (persona), else response.

Options:
  --out NAME             output name, without extension (required)
  --position auto|prompt|response  where to take the hidden state (default auto)
  --adapter DIR          a PEFT LoRA adapter folder to apply to the model
${SCORING_OPTIONS_HELP}
${SOURCE_OPTIONS_HELP}

Example:
  prefdyn embed --model models/tiny --data persona:agreeableness --out agreeableness`,
  options: addSourceOptions({
    ...SCORING_OPTIONS,
    adapter: { type: 'string' },
    position: { type: 'string', default: 'auto' },
  }),
  async run({ values }) {
    const args = scoringArgs('embed', values, (out) => [`${out}.safetensors`, `${out}.rows.jsonl`]);
    const position = parseChoice('--position', values.position, POSITIONS);
    const { pairs } = await loadSource(args.data, sourceOptionsFromArgs(values));
    const { model, tokenizer } = await loadModelForScoring(
      args.model,
      values.adapter as string | undefined,
      scoringCheck('embed', pairs, args.truncation, args.batchSize),
    );
    const limits = truncationLimits(args.truncation, model.config);
    const {
      data,
      d,
      rows,
      position: used,
      note,
    } = embedPairs(model, tokenizer, pairs, {
      position,
      batchSize: args.batchSize,
      limits,
      onProgress: stderrCounter('embedding'),
    });
    if (note) process.stderr.write(`prefdyn: ${note}\n`);
    writeSafetensors(`${args.out}.safetensors`, [{ name: 'embeddings', shape: [rows.length, d], data }], {
      position: used,
      model: args.model,
      data: args.data,
      ...truncationMetadata(limits),
    });
    writeFileAtomic(`${args.out}.rows.jsonl`, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    process.stdout.write(
      `wrote ${rows.length} embeddings [${rows.length}, ${d}] (at the last ${used} token) to ${args.out}.safetensors and ${args.out}.rows.jsonl\n`,
    );
  },
};
