// Content fingerprints of what a run was started on, recorded in its config.json: the base model's and
// the reference's files (util/file-hash.ts folderHash, as the caches key them) and the data: the pairs
// as loaded and split (train pairs first, then test) and the source file when the source is one. --resume
// recomputes them and refuses a run whose inputs changed (fingerprintChanges). The per-group pair counts
// let `prefdyn compare` check that an analysis describes the same data.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { PreferencePair } from '../data/pair.js';
import { fileHash, folderHash } from '../util/file-hash.js';
import type { TrainConfig } from './config.js';

export interface DataFingerprint {
  /** SHA-256 over every pair's id, group, prompt, chosen and rejected, in order, and the train/test split. */
  pairs: string;
  /** SHA-256 of the data file; null for the bundled sources (their pairs are covered by `pairs`). */
  source_file: string | null;
  n_train: number;
  n_test: number;
  /** Pairs per group, train and test together. */
  groups: Record<string, number>;
}

export interface RunFingerprints {
  model: string;
  ref_model: string;
  data: DataFingerprint;
}

/** The fingerprint of `pairs`, of which the first `nTrain` are the training split. */
export function dataFingerprint(source: string, pairs: readonly PreferencePair[], nTrain: number): DataFingerprint {
  const h = crypto.createHash('sha256');
  h.update(`train ${nTrain} of ${pairs.length}\n`);
  for (const p of pairs) h.update(JSON.stringify([p.id, p.group, p.prompt, p.chosen, p.rejected]) + '\n');
  const groups: Record<string, number> = {};
  for (const p of pairs) groups[p.group] = (groups[p.group] ?? 0) + 1;
  const isFile = fs.existsSync(source) && fs.statSync(source).isFile();
  return {
    pairs: h.digest('hex'),
    source_file: isFile ? fileHash(source) : null,
    n_train: nTrain,
    n_test: pairs.length - nTrain,
    groups,
  };
}

export function runFingerprints(c: TrainConfig, pairs: readonly PreferencePair[], nTrain: number): RunFingerprints {
  return {
    model: folderHash(c.model),
    ref_model: folderHash(c.ref_model),
    data: dataFingerprint(c.data, pairs, nTrain),
  };
}

/** One line per input that differs between the recorded fingerprints and the current ones. */
export function fingerprintChanges(c: TrainConfig, saved: RunFingerprints, now: RunFingerprints): string[] {
  const changes: string[] = [];
  if (saved.model !== now.model) changes.push(`changed base model: the files of ${c.model} differ from the run's`);
  if (saved.ref_model !== now.ref_model)
    changes.push(`changed reference model: the files of ${c.ref_model} differ from the run's`);
  const [was, is] = [saved.data, now.data];
  if (was.pairs !== is.pairs) {
    const counts = `${was.n_train} + ${was.n_test} pairs then, ${is.n_train} + ${is.n_test} now`;
    const file = was.source_file !== is.source_file ? '; the file changed' : '';
    changes.push(`changed data: the pairs read from ${c.data} differ from the run's (train + test: ${counts}${file})`);
  }
  return changes;
}
