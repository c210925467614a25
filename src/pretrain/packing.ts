// Documents -> fixed-length training sequences, nanoGPT style: every document is tokenised and
// followed by the EOS token, the documents are concatenated in a seeded order, and the stream is cut
// into rows of T inputs whose targets are the next tokens (row i covers stream[i*T .. i*T+T], so every
// token but the first is a target exactly once). The last, short row is padded: its padding inputs
// are EOS and its padding targets -1 (masked: no loss).
import { Rng } from '../util/rng.js';

export interface PackedSequences {
  /** Number of rows N. */
  rows: number;
  /** Sequence length T. */
  seqLen: number;
  /** [N, T] token ids. */
  inputs: Int32Array;
  /** [N, T] next-token ids, -1 where padded. */
  targets: Int32Array;
  /** Number of targets that are not padding. */
  tokens: number;
}

/** Splits documents into train and held-out sets by a seeded permutation: heldOutFraction of them (rounded) are held out. */
export function splitDocuments<T>(
  documents: readonly T[],
  heldOutFraction: number,
  seed: number,
): { train: T[]; heldOut: T[] } {
  const order = Rng.derive(seed, 'held-out').permutation(documents.length);
  const nHeld = Math.round(documents.length * heldOutFraction);
  return {
    heldOut: order.slice(0, nHeld).map((i) => documents[i]!),
    train: order.slice(nHeld).map((i) => documents[i]!),
  };
}

/** Packs token-id documents (each already ending in EOS) into [N, T] rows, documents shuffled by `seed`. */
export function packSequences(
  documents: readonly (readonly number[])[],
  seqLen: number,
  padId: number,
  seed: number,
): PackedSequences {
  const order = Rng.derive(seed, 'packing').permutation(documents.length);
  let total = 0;
  for (const d of documents) total += d.length;
  const stream = new Int32Array(total);
  let at = 0;
  for (const i of order) {
    stream.set(documents[i]!, at);
    at += documents[i]!.length;
  }
  const tokens = Math.max(0, total - 1);
  const rows = Math.ceil(tokens / seqLen);
  const inputs = new Int32Array(rows * seqLen).fill(padId);
  const targets = new Int32Array(rows * seqLen).fill(-1);
  inputs.set(stream.subarray(0, tokens));
  targets.set(stream.subarray(1));
  return { rows, seqLen, inputs, targets, tokens };
}
