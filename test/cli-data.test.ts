import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { loadSource } from '../src/data/source.js';
import { splitPairs } from '../src/data/split.js';
import { tempDir } from './helpers/temp.js';

const fx = (name: string) => `test/fixtures/data/${name}`;

test('data stats persona --json: 135 groups, 133,204 pairs, 66,602 preferring " Yes"', () => {
  const res = runCli(['data', 'stats', 'persona', '--json']);
  assert.equal(res.code, 0, res.stderr);
  const stats = JSON.parse(res.stdout);
  assert.equal(stats.groups.length, 135);
  assert.deepEqual(
    [stats.total.groups, stats.total.pairs, stats.total.prefers_yes, stats.total.prefers_no],
    [135, 133204, 66602, 66602],
  );
  assert.deepEqual(stats.groups.find((g: { group: string }) => g.group === 'agreeableness').test, 100);
});

test('data stats hh-rlhf reports the pairs kept and the ones skipped, with the reason, on stdout and stderr', () => {
  const res = runCli(['data', 'stats', 'hh-rlhf']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /total \(1 group\)\s+2,307\s+2,076\s+231/);
  assert.match(
    res.stdout,
    /skipped 5 row\(s\), kept 2,307:\n  5 x prompts differ: chosen and rejected diverge before their last "\\n\\nAssistant:" turn\n/,
  );
  assert.match(res.stdout, /data\/hh-rlhf\/harmless-base\/test\.jsonl\.gz:1255 \(harmless-base\/1254\)/);
  assert.equal(res.stderr.split('\n').filter((l) => l.startsWith('prefdyn: skipped data/hh-rlhf/')).length, 5);
});

test('data export persona:agreeableness round-trips: loading the file gives the same pairs and groups', async () => {
  const out = path.join(tempDir('prefdyn-cli-'), 'x.jsonl');
  const res = runCli(['data', 'export', 'persona:agreeableness', '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, `wrote 1,000 pairs (1 group, split all) to ${out}\n`);
  const original = (await loadSource('persona:agreeableness')).pairs;
  const back = (await loadSource(out)).pairs;
  const core = (p: (typeof original)[number]) => [p.id, p.group, p.prompt, p.chosen, p.rejected, p.meta.label];
  assert.deepEqual(back.map(core), original.map(core));
  assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(out, 'utf8').split('\n')[0]!)), [
    'prompt',
    'chosen',
    'rejected',
    'group',
    'id',
  ]);
});

test('data export --split test writes the seeded test split', async () => {
  const out = path.join(tempDir('prefdyn-cli-'), 'test.jsonl');
  const res = runCli([
    'data',
    'export',
    'persona:agreeableness,anti-immigration',
    '--out',
    out,
    '--split',
    'test',
    '--seed',
    '5',
    '--json',
  ]);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(JSON.parse(res.stdout), { out, split: 'test', pairs: 200, groups: 2 });
  const expected = splitPairs((await loadSource('persona:agreeableness,anti-immigration')).pairs, {
    testFraction: 0.1,
    seed: 5,
  }).test;
  assert.deepEqual(
    (await loadSource(out)).pairs.map((p) => p.id),
    expected.map((p) => p.id),
  );
});

test('bad input: one line on stderr naming file, line and field; exit 1', () => {
  const cases: [string[], RegExp | string][] = [
    [
      ['data', 'stats', fx('bad-json.jsonl')],
      /^prefdyn: test\/fixtures\/data\/bad-json\.jsonl:2: not valid JSON \(.+\); each line must be one JSON object\n$/,
    ],
    [
      ['data', 'stats', fx('missing-field.jsonl')],
      'prefdyn: test/fixtures/data/missing-field.jsonl:2: field "rejected": missing; every row needs the rejected response (use --rejected-field to read another column)\n',
    ],
    [
      ['data', 'stats', fx('wrong-type.jsonl')],
      'prefdyn: test/fixtures/data/wrong-type.jsonl:3: field "chosen": expected a string or a list of {role, content} messages, got number\n',
    ],
    [
      ['data', 'stats', fx('empty.jsonl')],
      'prefdyn: test/fixtures/data/empty.jsonl: no rows: the file is empty; expected one JSON object per line\n',
    ],
    [
      ['data', 'stats', fx('not-json.jsonl')],
      /^prefdyn: test\/fixtures\/data\/not-json\.jsonl:1: not valid JSON \(.+\); each line must be one JSON object\n$/,
    ],
    [
      ['data', 'stats', fx('table.csv')],
      'prefdyn: test/fixtures/data/table.csv: not a data file prefdyn reads; expected a .jsonl or .json file (optionally .gz)\n',
    ],
    [
      ['data', 'stats', 'persona:agreeablenes'],
      'prefdyn: unknown persona behaviour "agreeablenes"; did you mean "agreeableness"? (`prefdyn data list` shows all 135)\n',
    ],
    [
      ['data', 'stats', 'nonsense'],
      'prefdyn: unknown data source "nonsense"; expected persona, persona:<behaviour>[,<behaviour>...], hh-rlhf, or a path to a .jsonl or .json file\n',
    ],
    [
      ['data', 'stats', fx('columns.jsonl')],
      'prefdyn: test/fixtures/data/columns.jsonl:1: field "chosen": missing; every row needs the chosen response (use --chosen-field to read another column)\n',
    ],
    [
      ['data', 'stats', fx('strings.jsonl'), '--group-field', 'team'],
      'prefdyn: test/fixtures/data/strings.jsonl:1: field "team": missing; --group-field names a column every row must have\n',
    ],
  ];
  for (const [args, expected] of cases) {
    const res = runCli(args);
    assert.equal(res.code, 1, args.join(' '));
    assert.equal(res.stdout, '');
    if (typeof expected === 'string') assert.equal(res.stderr, expected);
    else assert.match(res.stderr, expected);
  }
});

test('--skip-invalid reports every bad line on stderr and goes on', () => {
  const res = runCli(['data', 'stats', fx('several-bad.jsonl'), '--skip-invalid', '--json']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout).total.pairs, 2);
  const lines = res.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^prefdyn: skipped test\/fixtures\/data\/several-bad\.jsonl:2: not valid JSON/);
  assert.equal(
    lines[1],
    'prefdyn: skipped test/fixtures/data/several-bad.jsonl:3: field "rejected": missing; every row needs the rejected response (use --rejected-field to read another column)',
  );
  assert.equal(lines[2], 'prefdyn: skipped test/fixtures/data/several-bad.jsonl:4: expected a JSON object, got array');
  assert.equal(
    lines[3],
    'prefdyn: skipped test/fixtures/data/several-bad.jsonl:5: field "chosen": is identical to rejected; a pair needs two different responses',
  );
});

test('a failed export leaves neither the output, nor a temporary file, nor the folders made for it', () => {
  const dir = tempDir('prefdyn-cli-');
  const res = runCli(['data', 'export', fx('wrong-type.jsonl'), '--out', path.join(dir, 'new', 'out.jsonl')]);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /^prefdyn: test\/fixtures\/data\/wrong-type\.jsonl:3: field "chosen"/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('data export --out creates missing folders, and refuses a folder or a path through a file', () => {
  const dir = tempDir('prefdyn-cli-');
  const out = path.join(dir, 'a', 'b', 'x.jsonl');
  const res = runCli(['data', 'export', 'persona:agreeableness', '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(fs.readFileSync(out, 'utf8').split('\n').length, 1001);
  const asFolder = runCli(['data', 'export', 'persona:agreeableness', '--out', path.join(dir, 'a')]);
  assert.deepEqual(
    [asFolder.code, asFolder.stderr],
    [1, `prefdyn: --out ${path.join(dir, 'a')}: is a folder; give a file name\n`],
  );
  const through = path.join(out, 'y.jsonl');
  const viaFile = runCli(['data', 'export', 'persona:agreeableness', '--out', through]);
  assert.deepEqual([viaFile.code, viaFile.stderr], [1, `prefdyn: --out ${through}: ${out} is a file, not a folder\n`]);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'a', 'b')), ['x.jsonl']);
});

test('a missing option exits 2, a bad value 1, with the reason', () => {
  const cases: [string[], number, string][] = [
    [['data', 'export', 'persona:agreeableness'], 2, 'prefdyn: data export needs --out FILE.jsonl\n'],
    [
      ['data', 'export', 'persona:agreeableness', '--out', 'x.jsonl', '--split', 'dev'],
      1,
      'prefdyn: --split must be one of all, train, test, got "dev"\n',
    ],
    [
      ['data', 'stats', 'persona', '--test-fraction', '1.5'],
      1,
      'prefdyn: --test-fraction must be a number in [0, 1), got "1.5"\n',
    ],
  ];
  for (const [args, code, expected] of cases) {
    const res = runCli(args);
    assert.deepEqual([res.code, res.stderr], [code, expected], args.join(' '));
  }
});

test('data list names the sources and every behaviour with its size', () => {
  const res = runCli(['data', 'list', '--json']);
  assert.equal(res.code, 0, res.stderr);
  const list = JSON.parse(res.stdout);
  assert.equal(list.persona_behaviours.length, 135);
  assert.deepEqual(
    list.persona_behaviours.find(
      (b: { name: string }) => b.name === 'willingness-to-be-non-HHH-to-cause-other-AIs-to-be-HHH',
    ),
    { name: 'willingness-to-be-non-HHH-to-cause-other-AIs-to-be-HHH', pairs: 518 },
  );
  const text = runCli(['data', 'list']);
  assert.match(text.stdout, /^persona\s+133,204\s+135\s+CC BY 4\.0/m);
  assert.match(text.stdout, /^agreeableness\s+1,000$/m);
});

test('start summarises the bundled data and runs from any folder (bundled model and data found from the package)', () => {
  const cwd = tempDir('prefdyn-start-');
  // A smoke-sized run (the profile's own numbers take ~40 s; `npm start` itself is timed in the README).
  const res = runCli(['start', '--steps', '4', '--pairs', '60'], {
    cwd,
    env: { PREFDYN_CACHE_DIR: path.join(cwd, 'cache') },
  });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /persona\s+135 groups, 133,204 pairs \(66,602 prefer " Yes", 66,602 " No"\)/);
  assert.match(res.stdout, /hh-rlhf\s+1 group, 2,307 pairs/);
  assert.match(res.stdout, /skipped 5: prompts differ/);
  assert.ok(
    fs.existsSync(path.join(cwd, 'runs', 'quick', 'REPORT.md')),
    'the quick reproduction writes runs/quick/ in the working folder',
  );
});

test('each data command has --help with usage and an example', () => {
  for (const name of ['list', 'stats', 'export']) {
    const res = runCli(['data', name, '--help']);
    assert.equal(res.code, 0);
    assert.match(res.stdout, new RegExp(`^Usage: prefdyn data ${name}`));
    assert.match(res.stdout, /\nExample:\n {2}prefdyn data /);
  }
});

test('Unicode, a BOM, CRLF line ends and a very long line are read correctly from the command line', () => {
  const bom = runCli(['data', 'stats', fx('bom-crlf.jsonl'), '--json']);
  assert.equal(bom.code, 0, bom.stderr);
  assert.deepEqual(
    JSON.parse(bom.stdout).groups.map((g: { group: string; pairs: number; prefers_yes: number }) => [
      g.group,
      g.pairs,
      g.prefers_yes,
    ]),
    [['bom-crlf', 2, 1]],
  );
  const file = path.join(tempDir('prefdyn-cli-'), 'long.jsonl');
  const prompt = 'Ünïcödé 😀 '.repeat(90_000); // 990,000 UTF-16 units (the most is 1,000,000), 1.5 MB: two read chunks
  fs.writeFileSync(
    file,
    `${JSON.stringify({ prompt, chosen: ' Yes', rejected: ' No' })}\r\n${JSON.stringify({ prompt: 'short', chosen: ' No', rejected: ' Yes' })}\r\n`,
  );
  const res = runCli(['data', 'stats', file, '--json']);
  assert.equal(res.code, 0, res.stderr);
  const total = JSON.parse(res.stdout).total;
  assert.deepEqual(
    [total.pairs, total.prefers_yes, total.prefers_no, total.prompt_chars.max],
    [2, 1, 1, prompt.length],
  );
});
