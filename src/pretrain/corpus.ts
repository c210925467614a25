// The pretraining corpus: text sources -> documents -> token ids (each document followed by EOS) ->
// a seeded split of whole documents into train and held-out -> packed [N, T] sequences.
import { UserError } from '../util/errors.js';
import type { ModelTokenizer } from '../tokenizer/load.js';
import { packSequences, splitDocuments, type PackedSequences } from './packing.js';
import { loadTextDocuments } from './text-sources.js';

export interface Corpus {
  /** One line per source: what it is and how many documents it gave. */
  descriptions: string[];
  documents: number;
  train: PackedSequences;
  heldOut: PackedSequences;
}

export async function buildCorpus(
  sources: readonly string[],
  tokenizer: ModelTokenizer,
  o: { seqLen: number; heldOutFraction: number; seed: number },
): Promise<Corpus> {
  const eos = tokenizer.eos;
  if (eos === undefined)
    throw new UserError(
      `${tokenizer.file}: the tokenizer has no eos_token (tokenizer_config.json); pretraining separates documents with it`,
    );
  const descriptions: string[] = [];
  const tokenized: number[][] = [];
  for (const spec of sources) {
    const { description, documents } = await loadTextDocuments(spec);
    descriptions.push(`${description}: ${documents.length.toLocaleString('en-US')} documents`);
    for (const doc of documents) tokenized.push([...tokenizer.encode(doc, false), eos.id]);
  }
  const { train, heldOut } = splitDocuments(tokenized, o.heldOutFraction, o.seed);
  if (heldOut.length === 0) {
    throw new UserError(
      `--held-out ${o.heldOutFraction} of ${tokenized.length} documents holds out none; raise --held-out or add text`,
    );
  }
  if (train.length === 0)
    throw new UserError(`--held-out ${o.heldOutFraction} leaves no training documents out of ${tokenized.length}`);
  return {
    descriptions,
    documents: tokenized.length,
    train: packSequences(train, o.seqLen, eos.id, o.seed),
    heldOut: packSequences(heldOut, o.seqLen, eos.id, o.seed),
  };
}
