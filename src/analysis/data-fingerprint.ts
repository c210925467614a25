// What data an analysis describes, recorded in its JSON as "data_fingerprint" so that `prefdyn compare`
// can refuse a run trained on other data under the same group names: per group the pair count and, when
// the pairs themselves were read (analyze --model --data), their fingerprint computed as for runs
// (train/run-fingerprints.ts groupFingerprints).
import { loadSource } from '../data/source.js';
import type { SourceOptions } from '../data/source-options.js';
import { groupFingerprints, type GroupFingerprint } from '../train/run-fingerprints.js';

export interface AnalysisDataFingerprint {
  groups: Record<string, GroupFingerprint>;
}

/** The fingerprint of data source `data` read with `source` (as analyze --model --data embeds it). */
export async function sourceDataFingerprint(data: string, source: SourceOptions): Promise<AnalysisDataFingerprint> {
  return { groups: groupFingerprints((await loadSource(data, source)).pairs) };
}

/**
 * Pair counts of an embeddings file's rows (contract 3): one row per pair, or two ("<id>/chosen" and
 * "<id>/rejected") for response embeddings; the pairs themselves are unknown (sha256 null).
 */
export function rowsDataFingerprint(rows: readonly { id: string; group: string }[]): AnalysisDataFingerprint {
  const ids = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = ids.get(r.group) ?? new Set<string>();
    set.add(r.id.replace(/\/(chosen|rejected)$/, ''));
    ids.set(r.group, set);
  }
  return { groups: Object.fromEntries([...ids].map(([g, s]) => [g, { n: s.size, sha256: null }])) };
}
