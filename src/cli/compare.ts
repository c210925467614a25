// `prefdyn compare`: predicted learning order (from `analyze --json`) against a run folder's metrics.
import path from 'node:path';
import { notice, type Command } from './command.js';
import { UsageError } from '../util/errors.js';
import { NON_NEGATIVE_INTEGER, parseNumber } from '../util/option-value.js';
import { checkOutputFile } from '../util/output-path.js';
import { checkAnalysisInput, checkSameData, compareRun } from '../analysis/compare-run.js';
import { runDataFingerprint } from '../train/run-folder.js';
import { compareTable } from '../report/compare-table.js';
import { readJsonFile } from '../util/json-file.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { readRunMetrics } from '../analysis/run-metrics.js';

export const command: Command = {
  name: 'compare',
  summary: 'predicted vs observed learning order: correlations, priority hits, verdicts',
  help: `Usage: prefdyn compare --analysis A.json --run RUN_DIR [--k 10] [--bootstrap 1000] [--seed 1234] [--json FILE]

Reads an analysis (prefdyn analyze --json) and a run folder (metrics.jsonl), recomputes the predicted
speed for the run's own mix of groups, measures each group's observed speed five ways (steps to 90%
policy accuracy on train and test, train loss at step k, area under the train loss curve, slope of the
reward margin over steps 0..k), and prints Spearman and Kendall tau-b with bootstrap intervals over
groups, the pairwise priority predictions that came true, and a verdict per finding. A run trained on
other data than the analysis describes (another pair count, or other pairs, in a group both name: the
data fingerprints of analyze's JSON and the run's config.json) is refused.

Options:
  --analysis FILE   analysis JSON (contract 5)
  --run DIR         run folder (contract 4)
  --k K             step for "loss after k" and the initial slope (default 10)
  --bootstrap R     bootstrap replicates over groups, 0 to skip (default 1000)
  --seed S          seed of the bootstrap (default 1234)
  --json FILE       also write the comparison as JSON

Example:
  prefdyn compare --analysis a.json --run runs/mix --k 10`,
  options: {
    analysis: { type: 'string' },
    run: { type: 'string' },
    k: { type: 'string', default: '10' },
    bootstrap: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1234' },
    json: { type: 'string' },
  },
  async run({ values }) {
    const analysisFile = values.analysis as string | undefined;
    const runDir = values.run as string | undefined;
    if (!analysisFile || !runDir) throw new UsageError('compare needs --analysis A.json and --run RUN_DIR');
    if (typeof values.json === 'string') checkOutputFile('--json', values.json);
    const k = parseNumber('--k', values.k, NON_NEGATIVE_INTEGER);
    const bootstrap = parseNumber('--bootstrap', values.bootstrap, NON_NEGATIVE_INTEGER);
    const seed = parseNumber('--seed', values.seed, NON_NEGATIVE_INTEGER);
    const analysis = checkAnalysisInput(analysisFile, readJsonFile(analysisFile));
    const series = readRunMetrics(runDir);
    const unchecked = checkSameData(analysis, runDataFingerprint(runDir), {
      analysis: analysisFile,
      run: path.join(runDir, 'config.json'),
    });
    if (unchecked) notice(unchecked);
    const report = compareRun(analysis, series, { k, bootstrap, seed });
    if (typeof values.json === 'string') writeJsonAtomic(values.json, report);
    process.stdout.write(compareTable(report) + '\n');
  },
};
