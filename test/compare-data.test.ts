// `prefdyn compare` checks that the run and the analysis describe the same data: analyze --json records
// per-group pair counts and fingerprints computed as for runs (config.json), and compare refuses a run
// trained on other pairs under the same group names, naming the group and the two counts.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, fixturesDir } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { initTinyLlama } from './helpers/tiny-model.js';

const tmp = tempDir('prefdyn-compare-data-');
const model = path.join(tmp, 'tiny');
const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
const fixture = path.join(fixturesDir, 'train', 'pairs.jsonl');
const run = path.join(tmp, 'run');
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** analyze --model --data of `data` into `json`. */
function analyze(data: string, json: string): void {
  const r = runCli(['analyze', '--model', model, '--data', data, '--bootstrap', '0', '--json', json], { env });
  assert.equal(r.code, 0, r.stderr);
}

const compare = (json: string) => runCli(['compare', '--analysis', json, '--run', run, '--bootstrap', '0'], { env });

before(() => {
  initTinyLlama(model);
  const args = ['--test-fraction', '0.25', '--batch-size', '4', '--mode', 'last-layer', '--steps', '4'];
  const r = runCli(['train', '--model', model, '--data', fixture, ...args, '--out', run], { env });
  assert.equal(r.code, 0, r.stderr);
});

test("analyze --json records the data's per-group pair counts and fingerprints, equal to the run's", () => {
  const json = path.join(tmp, 'same.json');
  analyze(fixture, json);
  const analysed = readJson(json).data_fingerprint.groups;
  assert.deepEqual(analysed, readJson(path.join(run, 'config.json')).fingerprints.data.groups);
  assert.deepEqual([analysed.alpha.n, analysed.beta.n], [8, 8]);
  const r = compare(json);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
});

test('compare refuses a run trained on another number of pairs in a group, naming the group and both counts', () => {
  const data = path.join(tmp, 'fewer.jsonl');
  const lines = fs.readFileSync(fixture, 'utf8').trim().split('\n');
  fs.writeFileSync(data, lines.filter((l) => !l.includes('"alpha/0"')).join('\n') + '\n');
  const json = path.join(tmp, 'fewer.json');
  analyze(data, json);
  const r = compare(json);
  assert.deepEqual(r, {
    code: 1,
    stdout: '',
    stderr: `prefdyn: group "alpha" has 8 pairs in the run (${path.join(run, 'config.json')}) but 7 in the analysis (${json}): they describe different data\n`,
  });
});

test('compare refuses a run trained on other pairs of the same count', () => {
  const data = path.join(tmp, 'other.jsonl');
  fs.writeFileSync(data, fs.readFileSync(fixture, 'utf8').replace('Is the sky red?', 'Is the sky green?'));
  const json = path.join(tmp, 'other.json');
  analyze(data, json);
  const r = compare(json);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `prefdyn: group "alpha": the run's 8 pairs (${path.join(run, 'config.json')}) differ from the analysis's (${json}): they describe different data\n`,
  );
});

test('an analysis of an embeddings file records pair counts (two rows per pair for responses) and is checked by them', () => {
  const emb = path.join(tmp, 'emb');
  const e = runCli(['embed', '--model', model, '--data', fixture, '--out', emb], { env });
  assert.equal(e.code, 0, e.stderr);
  const json = path.join(tmp, 'emb.json');
  const a = runCli(['analyze', '--embeddings', emb, '--bootstrap', '0', '--json', json], { env });
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(readJson(json).data_fingerprint.groups, {
    alpha: { n: 8, sha256: null },
    beta: { n: 8, sha256: null },
  });
  assert.equal(compare(json).code, 0);
});
