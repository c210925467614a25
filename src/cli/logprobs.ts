// `prefdyn logprobs`: summed response log-probs of every pair (architecture.md contract 6).
import { type Command } from './command.js';
import { addSourceOptions, SOURCE_OPTIONS_HELP, sourceOptionsFromArgs } from './data-options.js';
import { SCORING_OPTIONS, SCORING_OPTIONS_HELP, scoringArgs } from './scoring-options.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { loadSource } from '../data/source.js';
import { loadModelForScoring } from '../model/load.js';
import { scoringCheck } from '../model/memory-estimate.js';
import { pairLogProbs } from '../model/logprobs.js';
import { truncationLimits } from '../model/context-length.js';
import { tokenizedPairs } from '../tokenizer/pair.js';
import { stderrCounter } from '../util/progress.js';
import { plural } from '../util/plural.js';

export const command: Command = {
  name: 'logprobs',
  summary: 'log pi(chosen | prompt) and log pi(rejected | prompt) of every pair',
  help: `Usage: prefdyn logprobs --model DIR --data SRC --out FILE.jsonl [options]

Writes one line per pair: {"id", "group", "logp_chosen", "logp_rejected", "n_tokens_chosen",
"n_tokens_rejected"}: response log-probs summed over the response tokens, prompt tokens masked.
Responses are tokenised in context: prompt + response together, the response being the tokens after
the prompt's (--tokenize separate: each alone); responses of several tokens end with EOS.
Pairs whose answers are single tokens (persona's " Yes"/" No") cost one forward pass of the prompt.
Pairs longer than --max-length are truncated first (below); n_tokens_* count the response tokens scored.

Options:
  --out FILE.jsonl       where to write (required; written atomically)
  --adapter DIR          a PEFT LoRA adapter folder to apply to the model
${SCORING_OPTIONS_HELP}
${SOURCE_OPTIONS_HELP}

Example:
  prefdyn logprobs --model models/tiny --data persona:agreeableness --out lp.jsonl`,
  options: addSourceOptions({ ...SCORING_OPTIONS, adapter: { type: 'string' } }),
  async run({ values }) {
    const args = scoringArgs('logprobs', values, (out) => [out]);
    const { pairs } = await loadSource(args.data, sourceOptionsFromArgs(values));
    const { model, tokenizer } = await loadModelForScoring(
      args.model,
      values.adapter as string | undefined,
      scoringCheck('logprobs', pairs, args.truncation, 2 * args.batchSize, args.tokenize),
    );
    const { tokens, note } = tokenizedPairs(
      tokenizer,
      pairs,
      truncationLimits(args.truncation, model.config),
      args.tokenize,
    );
    if (note) process.stderr.write(`prefdyn: ${note}\n`);
    const scores = pairLogProbs(
      model,
      tokens,
      args.batchSize,
      stderrCounter('scoring'),
      pairs.map((p) => p.id),
    );
    const lines = pairs.map((p, i) => {
      const s = scores[i]!;
      return JSON.stringify({
        id: p.id,
        group: p.group,
        logp_chosen: s.logpChosen,
        logp_rejected: s.logpRejected,
        n_tokens_chosen: s.nTokensChosen,
        n_tokens_rejected: s.nTokensRejected,
      });
    });
    writeFileAtomic(args.out, lines.map((l) => l + '\n').join(''));
    const groups = new Set(pairs.map((p) => p.group)).size;
    process.stdout.write(
      `wrote log-probs of ${pairs.length} pairs (${groups} ${plural('group', groups)}) to ${args.out}\n`,
    );
  },
};
