// Tokenises test/fixtures/parity/logprobs/pairs.jsonl with prefdyn's own tokenizer (the small GPT-2
// test tokenizer) and writes tokens.json, the ids make_fixtures.py scores with PyTorch. Run by hand
// from the repository root after `npx tsc -p .` (see make_fixtures.py for the whole sequence).
import fs from 'node:fs';
import path from 'node:path';
import { loadSource } from '../../dist/src/data/source.js';
import { loadTokenizer } from '../../dist/src/tokenizer/load.js';
import { pairTokens } from '../../dist/src/tokenizer/pair.js';

const dir = path.join('test', 'fixtures', 'parity', 'logprobs');
const tok = loadTokenizer(path.join('test', 'fixtures', 'tokenizers', 'gpt2-small'));
const { pairs } = await loadSource(path.join(dir, 'pairs.jsonl'), {});
const out = pairs.map((p) => {
  // In context, as `prefdyn logprobs` scores by default (byte-level BPE: the same ids as separately), untruncated.
  const t = pairTokens(tok, p, { maxLength: 100_000 }, 'in-context').tokens;
  return { id: p.id, group: p.group, prompt_ids: t.prompt, chosen_ids: t.chosen, rejected_ids: t.rejected };
});
fs.writeFileSync(
  path.join(dir, 'tokens.json'),
  `{"pairs": [\n${out.map((p) => `  ${JSON.stringify(p)}`).join(',\n')}\n]}\n`,
);
console.log(`wrote ${out.length} tokenised pairs to ${path.join(dir, 'tokens.json')}`);
