// `prefdyn embed`: final hidden states g(x) per pair (architecture.md contract 3), for `prefdyn analyze`.
import { type Command } from './command.js';
import { addSourceOptions, SOURCE_OPTIONS_HELP, sourceOptionsFromArgs } from './data-options.js';
import {
  POSITION_OPTION,
  POSITION_OPTION_HELP,
  positionArg,
  SCORING_OPTIONS,
  SCORING_OPTIONS_HELP,
  scoringArgs,
} from './scoring-options.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { loadSource } from '../data/source.js';
import { embedPairs, positionMetadata } from '../model/embed.js';
import { loadModelForScoring } from '../model/load.js';
import { scoringCheck } from '../model/memory-estimate.js';
import { truncationLimits, truncationMetadata } from '../model/context-length.js';
import { writeSafetensors } from '../model/safetensors.js';
import { stderrCounter } from '../util/progress.js';

export const command: Command = {
  name: 'embed',
  summary: 'final hidden states of every pair, for the distinguishability analysis',
  help: `Usage: prefdyn embed --model DIR --data SRC --out NAME [options]

Writes NAME.safetensors (one tensor "embeddings" [N, d], F32) and NAME.rows.jsonl (one
{"id", "group", "label"} per row, same order). An embedding is the final hidden state after the final
norm (what lm_head multiplies) at the last token of the sequence --position names.

Options:
  --out NAME             output name, without extension (required)
${POSITION_OPTION_HELP}
  --adapter DIR          a PEFT LoRA adapter folder to apply to the model
${SCORING_OPTIONS_HELP}
${SOURCE_OPTIONS_HELP}

Example:
  prefdyn embed --model models/tiny --data persona:agreeableness --out agreeableness`,
  options: addSourceOptions({
    ...SCORING_OPTIONS,
    adapter: { type: 'string' },
    ...POSITION_OPTION,
  }),
  async run({ values }) {
    const args = scoringArgs('embed', values, (out) => [`${out}.safetensors`, `${out}.rows.jsonl`]);
    const position = positionArg(values);
    const { pairs } = await loadSource(args.data, sourceOptionsFromArgs(values));
    const { model, tokenizer } = await loadModelForScoring(
      args.model,
      values.adapter as string | undefined,
      scoringCheck('embed', pairs, args.truncation, args.batchSize, args.tokenize),
    );
    const limits = truncationLimits(args.truncation, model.config);
    const {
      data,
      d,
      rows,
      position: used,
      note,
      warning,
    } = embedPairs(model, tokenizer, pairs, {
      position,
      batchSize: args.batchSize,
      limits,
      tokenize: args.tokenize,
      onProgress: stderrCounter('embedding'),
    });
    for (const line of [note, warning]) if (line) process.stderr.write(`prefdyn: ${line}\n`);
    writeSafetensors(`${args.out}.safetensors`, [{ name: 'embeddings', shape: [rows.length, d], data }], {
      ...positionMetadata(used),
      model: args.model,
      data: args.data,
      tokenize: args.tokenize,
      ...truncationMetadata(limits),
    });
    writeFileAtomic(`${args.out}.rows.jsonl`, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    process.stdout.write(
      `wrote ${rows.length} embeddings [${rows.length}, ${d}] (at --position ${used}) to ${args.out}.safetensors and ${args.out}.rows.jsonl\n`,
    );
  },
};
