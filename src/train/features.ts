// Last-layer mode's inputs, computed once from the reference model without gradients: the final
// hidden state at every position that predicts a response token (theory.md s.2: for single-token
// answers only g(x), the state at the last prompt token, shared by chosen and rejected).
import { noGrad } from '../tensor/autograd.js';
import { gatherRows, reshape } from '../tensor/ops/index.js';
import type { CausalLM } from '../model/model.js';
import { lastTokenHidden } from '../model/embed.js';
import { rightPadded, type PairTokens } from '../model/logprobs.js';
import { singleTokenFeatures, type ResponseFeatures } from './last-layer.js';

export function responseFeatures(model: CausalLM, tokens: PairTokens[], batchSize: number): ResponseFeatures {
  if (tokens.every((t) => t.chosen.length === 1 && t.rejected.length === 1)) {
    const { data, d } = lastTokenHidden(model, tokens.map((t) => t.prompt), batchSize);
    return singleTokenFeatures(data, d, Int32Array.from(tokens, (t) => t.chosen[0]!), Int32Array.from(tokens, (t) => t.rejected[0]!));
  }
  // One row per response position: sequence prompt + response, positions |x|-1 .. |x|+|y|-2.
  const seqs = tokens.flatMap((t) => [t, t].map((_, side) => ({ prompt: t.prompt, response: side === 0 ? t.chosen : t.rejected })));
  const rows: Float32Array[] = [];
  let d = 0;
  noGrad(() => {
    for (let start = 0; start < seqs.length; start += batchSize) {
      const batch = seqs.slice(start, start + batchSize);
      const { ids, B, T } = rightPadded(batch.map((s) => [...Array.from(s.prompt), ...Array.from(s.response)]));
      const { hidden } = model.forward(ids, B, T, { logits: 'none' }); // [B,T,d]
      d = hidden.shape[2]!;
      const positions = batch.flatMap((s, b) => Array.from(s.response, (_, j) => b * T + s.prompt.length - 1 + j));
      rows.push(gatherRows(reshape(hidden, [B * T, d]), Int32Array.from(positions)).data);
    }
  });
  const total = rows.reduce((n, r) => n + r.length, 0);
  const hidden = new Float32Array(total);
  let offset = 0;
  for (const r of rows) {
    hidden.set(r, offset);
    offset += r.length;
  }
  const side = () => ({ offsets: new Int32Array(tokens.length + 1), rows: [] as number[], targets: [] as number[] });
  const chosen = side();
  const rejected = side();
  let row = 0;
  tokens.forEach((t, i) => {
    for (const [s, resp] of [[chosen, t.chosen], [rejected, t.rejected]] as const) {
      for (let j = 0; j < resp.length; j++) {
        s.rows.push(row++);
        s.targets.push(resp[j]!);
      }
      s.offsets[i + 1] = s.rows.length;
    }
  });
  const finish = (s: typeof chosen) => ({ offsets: s.offsets, rows: Int32Array.from(s.rows), targets: Int32Array.from(s.targets) });
  return { d, hidden, chosen: finish(chosen), rejected: finish(rejected) };
}
