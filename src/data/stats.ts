// Per-group summaries of a data source, computed in one streaming pass that keeps only aggregates
// (counts and prompt lengths), never the pairs.
import type { SkippedRow } from './errors.js';
import { pairLabel } from './pair.js';
import { streamSource } from './source.js';
import type { SourceOptions } from './source-options.js';
import { checkTestFraction, testSize } from './split.js';

/** Prompt lengths in characters (UTF-16 code units, JavaScript's string length). */
export interface LengthPercentiles {
  p50: number;
  p90: number;
  max: number;
}

export interface GroupStats {
  group: string;
  pairs: number;
  train: number;
  test: number;
  /** Pairs whose chosen answer is " Yes" (label +1) and " No" (label -1); other pairs count in neither. */
  prefers_yes: number;
  prefers_no: number;
  prompt_chars: LengthPercentiles;
}

export interface DataStats {
  source: string;
  description: string;
  test_fraction: number;
  groups: GroupStats[];
  /** Sums over groups; prompt_chars over all prompts; `groups` is the number of groups. */
  total: Omit<GroupStats, 'group'> & { groups: number };
  skipped: { count: number; reasons: { reason: string; count: number }[]; rows: SkippedRow[] };
}

/** Nearest-rank percentile of sorted values (0 for none). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

function lengthPercentiles(lengths: number[]): LengthPercentiles {
  const sorted = Float64Array.from(lengths).sort();
  return { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), max: percentile(sorted, 1) };
}

interface GroupTally {
  pairs: number;
  yes: number;
  no: number;
  promptChars: number[];
}

export async function dataStats(spec: string, opts: { source?: SourceOptions; testFraction: number }): Promise<DataStats> {
  checkTestFraction(opts.testFraction);
  const skippedRows: SkippedRow[] = [];
  const stream = streamSource(spec, {
    ...opts.source,
    onSkip: (s) => {
      skippedRows.push(s);
      opts.source?.onSkip?.(s);
    },
  });
  const tallies = new Map<string, GroupTally>();
  for await (const batch of stream.batches) {
    for (const pair of batch) {
      let t = tallies.get(pair.group);
      if (!t) tallies.set(pair.group, (t = { pairs: 0, yes: 0, no: 0, promptChars: [] }));
      t.pairs++;
      const label = pairLabel(pair);
      if (label === 1) t.yes++;
      else if (label === -1) t.no++;
      t.promptChars.push(pair.prompt.length);
    }
  }
  const groups: GroupStats[] = [...tallies].map(([group, t]) => {
    const test = testSize(t.pairs, opts.testFraction);
    return { group, pairs: t.pairs, train: t.pairs - test, test, prefers_yes: t.yes, prefers_no: t.no, prompt_chars: lengthPercentiles(t.promptChars) };
  });
  const sum = (key: 'pairs' | 'train' | 'test' | 'prefers_yes' | 'prefers_no') => groups.reduce((s, g) => s + g[key], 0);
  const reasons = new Map<string, number>();
  for (const s of skippedRows) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
  return {
    source: spec,
    description: stream.description,
    test_fraction: opts.testFraction,
    groups,
    total: {
      groups: groups.length,
      pairs: sum('pairs'),
      train: sum('train'),
      test: sum('test'),
      prefers_yes: sum('prefers_yes'),
      prefers_no: sum('prefers_no'),
      prompt_chars: lengthPercentiles([...tallies.values()].flatMap((t) => t.promptChars)),
    },
    skipped: { count: skippedRows.length, reasons: [...reasons].map(([reason, count]) => ({ reason, count })), rows: skippedRows },
  };
}
