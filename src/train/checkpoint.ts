// Run checkpoints: checkpoints/step-N/ holds the trained weights (HF model or PEFT adapter layout,
// written by the policy), optimizer.safetensors (the optimizer's buffers) and trainer_state.json
// (update count, data-order position, RNG state, and the length of metrics.jsonl at that point, so a
// resumed run continues the file exactly). Written into a temporary folder and renamed into place:
// a failure half-way (a full disk) leaves earlier checkpoints untouched and no partial step-N.
import fs from 'node:fs';
import path from 'node:path';
import { SafetensorsFile, writeSafetensors } from '../model/safetensors.js';
import { UserError } from '../util/errors.js';
import { openAtomicFolder } from '../util/atomic-write.js';
import type { RngState } from '../util/rng.js';
import type { OptimizerState } from './optimizers.js';
import type { Policy } from './policy.js';
import { readJsonFile } from '../util/json-file.js';

export const CHECKPOINTS_DIR = 'checkpoints';
const STATE_FILE = 'trainer_state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';

export interface TrainerState {
  /** Optimizer updates taken. */
  step: number;
  epoch: number;
  /** Batches are a function of (seed, shuffle, step): see batches.ts. */
  data_order: { seed: number; shuffle: boolean; effective_batch: number; next_step: number };
  rng: { s: RngState; spareNormal: number | null };
  /** Byte length of metrics.jsonl when the checkpoint was taken. */
  metrics_bytes: number;
  total_steps: number;
}

export const checkpointDir = (runDir: string, step: number): string =>
  path.join(runDir, CHECKPOINTS_DIR, `step-${step}`);

export async function writeCheckpoint(
  runDir: string,
  policy: Policy,
  optimizer: OptimizerState,
  state: TrainerState,
): Promise<string> {
  const final = checkpointDir(runDir, state.step);
  const out = openAtomicFolder(final);
  try {
    await policy.save(out.path);
    const buffers = [...optimizer.buffers].map(([name, data]) => ({ name, shape: [data.length], data }));
    writeSafetensors(path.join(out.path, OPTIMIZER_FILE), buffers, { step: String(optimizer.step) });
    fs.writeFileSync(path.join(out.path, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
    out.commit();
  } catch (err) {
    out.abort();
    throw new UserError(
      `could not write checkpoint ${final} (${(err as Error).message}); earlier checkpoints are intact`,
    );
  }
  return final;
}

/** The complete checkpoints (step-N folders) of a run folder, oldest first. */
export function listCheckpoints(runDir: string): { step: number; dir: string }[] {
  const root = path.join(runDir, CHECKPOINTS_DIR);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b)
    .map((step) => ({ step, dir: checkpointDir(runDir, step) }));
}

/** The newest complete checkpoint of a run folder, or the checkpoint folder itself. */
export function findCheckpoint(dir: string): string {
  if (fs.existsSync(path.join(dir, STATE_FILE))) return dir;
  const newest = listCheckpoints(dir).at(-1);
  if (!newest)
    throw new UserError(
      `--resume ${dir}: no checkpoint found (expected ${path.join(dir, CHECKPOINTS_DIR, 'step-N', STATE_FILE)})`,
    );
  return newest.dir;
}

export function readCheckpoint(dir: string): { state: TrainerState; optimizer: OptimizerState } {
  const state = readJsonFile(path.join(dir, STATE_FILE)) as TrainerState;
  const f = SafetensorsFile.open(path.join(dir, OPTIMIZER_FILE));
  try {
    const buffers = new Map(f.names().map((n) => [n, f.readF32(n)] as const));
    return { state, optimizer: { step: Number(f.metadata.step), buffers } };
  } finally {
    f.close();
  }
}
