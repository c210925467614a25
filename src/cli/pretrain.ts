// `prefdyn pretrain`: causal-LM pretraining of a model folder on bundled or user text.
import { notice, type Command } from './command.js';
import { lockFolder } from '../util/folder-lock.js';
import { UsageError } from '../util/errors.js';
import {
  NON_NEGATIVE_INTEGER,
  NON_NEGATIVE_NUMBER,
  parseChoice,
  parseNumber,
  POSITIVE_INTEGER,
  POSITIVE_NUMBER,
} from '../util/option-value.js';
import { pretrain } from '../pretrain/pretrain.js';
import { TEXT_SOURCE_SYNTAX } from '../pretrain/text-sources.js';
import { SCHEDULES } from '../train/schedules.js';
import { WRITE_DTYPES } from '../model/dtype.js';
import { checkModelFolderTarget } from '../model/checkpoint.js';

const help = `Usage: prefdyn pretrain --model DIR --text SRC [--text SRC ...] --out DIR [options]

Next-token (causal LM) training of a model folder, e.g. one made by \`prefdyn model init\`. Each text
source becomes documents; each document is followed by the EOS token, and the documents, in a seeded
order, are packed into sequences of --seq-len tokens. A seeded --held-out fraction of the documents is
kept out of training and scored (mean NLL and perplexity) before and after. The loss is the mean NLL
over non-padding tokens; AdamW (PyTorch semantics, betas 0.9/0.95 as nanoGPT; weight decay on
matrices only), learning rate warm-up then --lr-scheduler, gradient clipping. Progress goes to stderr,
the summary to stdout; the model folder (with the tokenizer of --model) is written atomically.

Text sources (--text, repeatable):
  persona              the bundled Persona statements only (never the questions with their answers)
  persona:<b>[,<b>..]  the statements of some behaviours
  hh-rlhf              the bundled HH-RLHF dialogues, prompt + chosen
  FILE.txt             plain text, documents separated by blank lines (any other extension too)
  FILE.jsonl           one document per line: a JSON string or {"text": "..."} (.gz accepted)

Options:
  --model DIR            model folder to start from (required)
  --text SRC             text source, repeatable (required)
  --out DIR              model folder to write (required); never an input, and a folder holding
                         files prefdyn did not write only with --overwrite
  --overwrite            replace --out even if it holds other files (they are deleted)
  --steps N              optimizer steps (default 1000)
  --batch-size B         sequences per step (default 16)
  --seq-len T            tokens per sequence, at most the model's context (default 256)
  --lr X                 peak learning rate (default 1e-3)
  --warmup-steps N       linear warm-up from 0 (default 100)
  --lr-scheduler NAME    ${SCHEDULES.join(', ')} after warm-up (default cosine)
  --weight-decay X       AdamW decoupled weight decay of the matrices (default 0.1)
  --max-grad-norm X      clip the global gradient norm; 0 = off (default 1.0)
  --held-out F           fraction of documents held out (default 0.01)
  --seed N               seed of the split, the packing and the batch order (default 0)
  --log-every N          steps between progress lines (default: steps/20)
  --dtype F32|F16|BF16   dtype of the saved weights (default F32)

Example:
  prefdyn pretrain --model models/init --text persona --text hh-rlhf --out models/pretrained --steps 2000 --seed 0`;

export const command: Command = {
  name: 'pretrain',
  summary: 'causal-LM pretraining of a model folder on bundled or user text',
  help,
  options: {
    model: { type: 'string' },
    text: { type: 'string', multiple: true },
    out: { type: 'string' },
    steps: { type: 'string', default: '1000' },
    'batch-size': { type: 'string', default: '16' },
    'seq-len': { type: 'string', default: '256' },
    lr: { type: 'string', default: '1e-3' },
    'warmup-steps': { type: 'string', default: '100' },
    'lr-scheduler': { type: 'string', default: 'cosine' },
    'weight-decay': { type: 'string', default: '0.1' },
    'max-grad-norm': { type: 'string', default: '1.0' },
    'held-out': { type: 'string', default: '0.01' },
    seed: { type: 'string', default: '0' },
    'log-every': { type: 'string' },
    dtype: { type: 'string', default: 'F32' },
    overwrite: { type: 'boolean' },
  },
  async run({ values: v }) {
    for (const name of ['model', 'out'] as const) {
      if (typeof v[name] !== 'string' || (v[name] as string).length === 0)
        throw new UsageError(`pretrain needs --${name} DIR`);
    }
    const texts = (v.text as string[] | undefined) ?? [];
    if (texts.length === 0) throw new UsageError(`pretrain needs at least one --text SRC (${TEXT_SOURCE_SYNTAX})`);
    const scheduler = parseChoice('--lr-scheduler', v['lr-scheduler'], SCHEDULES);
    const dtype = parseChoice('--dtype', v.dtype, WRITE_DTYPES);
    const steps = parseNumber('--steps', v.steps, POSITIVE_INTEGER);
    const logEvery =
      v['log-every'] === undefined
        ? Math.max(1, Math.round(steps / 20))
        : parseNumber('--log-every', v['log-every'], POSITIVE_INTEGER);
    const overwrite = v.overwrite === true;
    checkModelFolderTarget(v.out as string, {
      overwrite,
      inputs: [{ option: '--model', path: v.model as string }, ...texts.map((t) => ({ option: '--text', path: t }))],
    });
    lockFolder(v.out as string, notice); // released when the process exits
    const result = await pretrain(
      {
        modelDir: v.model as string,
        texts,
        out: v.out as string,
        steps,
        batchSize: parseNumber('--batch-size', v['batch-size'], POSITIVE_INTEGER),
        seqLen: parseNumber('--seq-len', v['seq-len'], POSITIVE_INTEGER),
        lr: parseNumber('--lr', v.lr, POSITIVE_NUMBER),
        seed: parseNumber('--seed', v.seed, NON_NEGATIVE_INTEGER),
        warmupSteps: parseNumber('--warmup-steps', v['warmup-steps'], NON_NEGATIVE_INTEGER),
        scheduler,
        weightDecay: parseNumber('--weight-decay', v['weight-decay'], NON_NEGATIVE_NUMBER),
        maxGradNorm: parseNumber('--max-grad-norm', v['max-grad-norm'], NON_NEGATIVE_NUMBER),
        heldOut: parseNumber('--held-out', v['held-out'], { gt: 0, lt: 1 }),
        logEvery,
        dtype,
        overwrite,
      },
      (line) => process.stderr.write(`${line}\n`),
    );
    const lastInterval = steps % logEvery || logEvery;
    const ppl = (loss: number) => Math.exp(loss).toFixed(2);
    process.stdout.write(
      [
        `wrote ${v.out} (${result.parameters.toLocaleString('en-US')} parameters, ${dtype})`,
        `steps ${steps}, tokens seen ${result.tokensSeen.toLocaleString('en-US')} (${result.epochs.toFixed(2)} epochs of ${result.trainTokens.toLocaleString('en-US')} training tokens), ${result.seconds.toFixed(0)} s`,
        `train loss ${result.finalTrainLoss.toFixed(4)} (mean of the last ${lastInterval === 1 ? 'step' : `${lastInterval} steps`})`,
        `held-out loss ${result.initialHeldOutLoss.toFixed(4)} -> ${result.heldOutLoss.toFixed(4)} (perplexity ${ppl(result.initialHeldOutLoss)} -> ${ppl(result.heldOutLoss)}, ${result.heldOutTokens.toLocaleString('en-US')} tokens)`,
      ].join('\n') + '\n',
    );
  },
};
