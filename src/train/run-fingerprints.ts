// Content fingerprints of what a run was started on, recorded in its config.json: the base model's and
// the reference's files (util/file-hash.ts folderHash, as the caches key them) and the data: the pairs
// as loaded and split (train pairs first, then test) and the source file when the source is one. --resume
// recomputes them and refuses a run whose inputs changed (fingerprintChanges). The per-group
// fingerprints let `prefdyn compare` check that an analysis describes the same data (analyze records
// the same per-group fingerprints).
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
  /** Per group (train and test together): its pairs and their fingerprint (groupFingerprints). */
  groups: Record<string, GroupFingerprint>;
}

/** A group's pairs: how many, and SHA-256 over them in id order (null where only the count is known). */
export interface GroupFingerprint {
  n: number;
  sha256: string | null;
}

/** Each group's pair count and fingerprint, independent of the order and split of the pairs. */
export function groupFingerprints(pairs: readonly PreferencePair[]): Record<string, GroupFingerprint> {
  const byGroup = new Map<string, PreferencePair[]>();
  for (const p of pairs) {
    const list = byGroup.get(p.group);
    if (list) list.push(p);
    else byGroup.set(p.group, [p]);
  }
  const out: Record<string, GroupFingerprint> = {};
  for (const [group, list] of byGroup) {
    const h = crypto.createHash('sha256');
    const sorted = [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const p of sorted) h.update(JSON.stringify([p.id, p.prompt, p.chosen, p.rejected]) + '\n');
    out[group] = { n: list.length, sha256: h.digest('hex') };
  }
  return out;
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
  const isFile = fs.existsSync(source) && fs.statSync(source).isFile();
  return {
    pairs: h.digest('hex'),
    source_file: isFile ? fileHash(source) : null,
    n_train: nTrain,
    n_test: pairs.length - nTrain,
    groups: groupFingerprints(pairs),
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
