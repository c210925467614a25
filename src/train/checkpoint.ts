// Run checkpoints: checkpoints/step-N/ holds the trained weights (HF model or PEFT adapter layout,
// written by the policy), optimizer.safetensors (the optimizer's buffers) and trainer_state.json
// (update count, data-order position, RNG state, and the length of metrics.jsonl at that point, so a
// resumed run continues the file exactly). Written into a temporary folder and renamed into place:
// a failure half-way (a full disk) leaves earlier checkpoints untouched and no partial step-N.
// trainer_state.json also records the SHA-256 of every other file of the checkpoint, so that --resume
// can refuse weights or optimizer state that changed on disk (checkpointChanges).
import fs from 'node:fs';
import path from 'node:path';
import { SafetensorsFile, writeSafetensors } from '../model/safetensors.js';
import { UserError } from '../util/errors.js';
import { openAtomicFolder } from '../util/atomic-write.js';
import type { RngState } from '../util/rng.js';
import type { OptimizerState } from './optimizers.js';
import type { Policy } from './policy.js';
import { readJsonFile } from '../util/json-file.js';
import { sha256OfFile } from '../util/file-hash.js';

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
  /** SHA-256 of every other file of the checkpoint by name; absent in checkpoints of older versions. */
  files?: Record<string, string>;
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
    const files = Object.fromEntries(
      fs
        .readdirSync(out.path)
        .sort()
        .map((name) => [name, sha256OfFile(path.join(out.path, name))]),
    );
    fs.writeFileSync(path.join(out.path, STATE_FILE), JSON.stringify({ ...state, files }, null, 2) + '\n');
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

/** A checkpoint's trainer_state.json. */
export const readTrainerState = (dir: string): TrainerState => readJsonFile(path.join(dir, STATE_FILE)) as TrainerState;

export function readCheckpoint(dir: string): { state: TrainerState; optimizer: OptimizerState } {
  const state = readTrainerState(dir);
  const f = SafetensorsFile.open(path.join(dir, OPTIMIZER_FILE));
  try {
    const buffers = new Map(f.names().map((n) => [n, f.readF32(n)] as const));
    return { state, optimizer: { step: Number(f.metadata.step), buffers } };
  } finally {
    f.close();
  }
}

/** What differs between checkpoint `dir`'s files and the hashes its trainer_state.json recorded (none when it recorded none). */
export function checkpointChanges(dir: string): string[] {
  const state = readTrainerState(dir);
  if (!state.files) return [];
  const changes: string[] = [];
  for (const [name, sha256] of Object.entries(state.files)) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) changes.push(`checkpoint file ${file} is missing`);
    else if (sha256OfFile(file) !== sha256) changes.push(`checkpoint file ${file} changed since it was written`);
  }
  return changes;
}

/**
 * Removes the temporary folders (.step-N.<pid>.tmp, and .old ones set aside) that a process killed
 * while writing a checkpoint left in `runDir`/checkpoints; returns their names.
 */
export function removeStaleCheckpointTemporaries(runDir: string): string[] {
  const root = path.join(runDir, CHECKPOINTS_DIR);
  if (!fs.existsSync(root)) return [];
  const stale = fs.readdirSync(root).filter((n) => /^\.step-\d+\.\d+\.tmp(\.old)?$/.test(n));
  for (const n of stale) fs.rmSync(path.join(root, n), { recursive: true, force: true });
  return stale;
}
