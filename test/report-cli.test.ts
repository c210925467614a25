// `prefdyn report` end to end: a tiny run and its analysis, made by the test, to report.html and figures/.
import { tempDir } from './helpers/temp.js';
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, fixturesDir } from './helpers/cli.js';

const tmp = tempDir('prefdyn-report-');
const model = path.join(tmp, 'tiny');
const run = path.join(tmp, 'run');
const analysis = path.join(tmp, 'analysis.json');
const data = path.join(fixturesDir, 'train', 'pairs.jsonl');
const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };

before(() => {
  const steps = [
    ['model', 'init', '--arch', 'llama', '--size', 'd=32,layers=2,heads=4,kv=2'],
    ['--tokenizer', path.join(fixturesDir, 'tokenizers', 'gpt2-small'), '--out', model, '--seed', '3'],
  ];
  let r = runCli(steps.flat(), { env });
  assert.equal(r.code, 0, r.stderr);
  r = runCli(
    [
      ...['train', '--model', model, '--data', data, '--test-fraction', '0.25', '--batch-size', '12'],
      ...['--mode', 'last-layer', '--lr', '1', '--steps', '3', '--out', run],
    ],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  r = runCli(['analyze', '--model', model, '--data', data, '--bootstrap', '20', '--json', analysis], { env });
  assert.equal(r.code, 0, r.stderr);
});

test('report: a run and its analysis -> self-contained report.html and one SVG and PNG per figure', () => {
  const out = path.join(tmp, 'report');
  const r = runCli(['report', run, analysis, '--out', out, '--figures', 'png'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), path.join(out, 'report.html'));
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.ok(!/https?:\/\//.test(html), 'no external URL');
  assert.ok(!/<(link|img|iframe)\b|\bsrc=/.test(html), 'nothing loaded from elsewhere');
  // Run: curves, predictors, priority (marked by the run, so not repeated for the analysis), weights.
  const figures = ['run-curves', 'run-predictors', 'run-priority', 'run-weights'];
  assert.equal((html.match(/<svg\b/g) ?? []).length, figures.length);
  for (const f of figures) {
    assert.ok(html.includes(`<figure id="${f}">`), f);
    assert.ok(fs.statSync(path.join(out, 'figures', `${f}.svg`)).size > 1000, `${f}.svg`);
    const png = fs.readFileSync(path.join(out, 'figures', `${f}.png`));
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${f}.png is a PNG`);
  }
  // Hover text names the run's behaviours.
  assert.ok(html.includes('<title>alpha</title>') && html.includes('<title>beta</title>'));
  // The sortable analysis table holds the analysis's Delta of each group.
  const a = JSON.parse(fs.readFileSync(analysis, 'utf8'));
  for (const g of a.groups) assert.ok(html.includes(`<td data-v="${g.delta}">`), `Delta of ${g.group}`);
  assert.match(html, /<table class="sortable">/);
  assert.match(r.stderr, /note: No misalignment: give a `prefdyn reproduce` folder/);
});

test('report: default --out is report/ inside the first PATH; --figures none writes only report.html', () => {
  const r = runCli(['report', run, '--figures', 'none'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), path.join(run, 'report', 'report.html'));
  assert.deepEqual(fs.readdirSync(path.join(run, 'report')), ['report.html']);
});

test('report: bad paths and options are one-line errors', () => {
  const missing = path.join(tmp, 'nope');
  let r = runCli(['report', missing], { env });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `prefdyn: ${missing}: no such file or folder\n`);
  r = runCli(['report', tmp, '--out', path.join(tmp, 'x')], { env });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `prefdyn: ${tmp}: not a run folder (no metrics.jsonl), a \`prefdyn reproduce\` folder (no summary.json) or an analysis JSON file\n`,
  );
  r = runCli(['report', data], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^prefdyn: .*pairs\.jsonl: not valid JSON/);
  r = runCli(['report', run, '--figures', 'jpg'], { env });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'prefdyn: --figures must be svg, png or none, got "jpg"\n');
});
