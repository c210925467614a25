// Small tokenizer.json files written by tests, reproducing the behaviours of real families that cannot be
// downloaded here:
// - sentencePieceTokenizer: Llama-2 / Mistral as Hugging Face converts them (normaliser Prepend "▁" +
//   Replace " " -> "▁", BPE with byte fallback, post-processor "<s> $A"). " Yes" alone is "▁" + "▁Yes";
//   after "\n" in context it is the one token "▁Yes".
// - byteLevelTokenizer: Llama-3's layout (byte-level BPE, <|begin_of_text|> added by the post-processor)
//   at any vocabulary size, the real one being 128,256 ids.
import fs from 'node:fs';
import path from 'node:path';

function added(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

function bosTemplate(bos: string, id: number) {
  return {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: bos, type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: bos, type_id: 1 } },
      { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { [bos]: { id: bos, ids: [id], tokens: [bos] } },
  };
}

/** Pieces of the SentencePiece vocabulary beyond <unk>, <s>, </s> and the 256 byte tokens: letters and the answers. */
const SP_MERGES: [string, string][] = [
  ['e', 's'],
  ['Y', 'es'],
  ['▁', 'Yes'],
  ['N', 'o'],
  ['▁', 'No'],
];

/** Writes a Llama-2/Mistral-style tokenizer.json (and tokenizer_config.json with `config`) into `dir`. */
export function sentencePieceTokenizer(dir: string, config: Record<string, unknown> = {}): void {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  const add = (piece: string) => (vocab[piece] ??= Object.keys(vocab).length);
  add('▁');
  for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') add(c);
  for (const [a, b] of SP_MERGES) add(a + b);
  writeTokenizer(
    dir,
    {
      added_tokens: [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')],
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'Prepend', prepend: '▁' },
          { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
        ],
      },
      pre_tokenizer: null,
      post_processor: bosTemplate('<s>', 1),
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: '<unk>',
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: true,
        byte_fallback: true,
        ignore_merges: false,
        vocab,
        merges: SP_MERGES.map(([a, b]) => `${a} ${b}`),
      },
    },
    { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', ...config },
  );
}

/** tokenizer.json from its parts (version, truncation and padding added) and tokenizer_config.json. */
function writeTokenizer(dir: string, parts: Record<string, unknown>, config: Record<string, unknown>): void {
  fs.mkdirSync(dir, { recursive: true });
  const json = { version: '1.0', truncation: null, padding: null, ...parts };
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config));
}

/** GPT-2's byte -> printable character map, which byte-level BPE vocabularies are written in. */
function byteChars(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : 256 + extra++));
}

/**
 * Writes a Llama-3-style tokenizer.json with `vocabSize` ids (the last two <|begin_of_text|> and
 * <|end_of_text|>; filler tokens in between) and a tokenizer_config.json with `config`.
 */
export function byteLevelTokenizer(dir: string, vocabSize: number, config: Record<string, unknown> = {}): void {
  const vocab: Record<string, number> = {};
  for (const c of byteChars()) vocab[c] = Object.keys(vocab).length;
  const merges = [
    ['Ġ', 'Y'],
    ['ĠY', 'es'],
    ['e', 's'],
    ['Ġ', 'N'],
    ['ĠN', 'o'],
  ];
  for (const [a, b] of merges) vocab[a! + b!] = Object.keys(vocab).length;
  const bos = vocabSize - 2;
  for (let i = Object.keys(vocab).length; i < bos; i++) vocab[`filler${i}`] = i;
  writeTokenizer(
    dir,
    {
      added_tokens: [added(bos, '<|begin_of_text|>'), added(bos + 1, '<|end_of_text|>')],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: bosTemplate('<|begin_of_text|>', bos),
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: true,
        vocab,
        merges: merges.map(([a, b]) => `${a} ${b}`),
      },
    },
    { bos_token: '<|begin_of_text|>', eos_token: '<|end_of_text|>', ...config },
  );
}
