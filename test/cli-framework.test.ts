import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers/cli.js';

test('no arguments prints every command with its summary and exits 0', () => {
  const res = runCli([]);
  assert.equal(res.code, 0);
  assert.match(res.stdout, /^prefdyn: preference training/);
  assert.match(res.stdout, /\n {2}prefdyn data stats +per-group pairs, train\/test sizes/);
});

test('an unknown command exits 2, names it and points to --help', () => {
  const res = runCli(['frobnicate']);
  assert.equal(res.code, 2);
  assert.equal(res.stderr, 'prefdyn: unknown command "frobnicate"; run `prefdyn --help` for the list of commands\n');
});

test('an unknown option exits 2 and points to --help', () => {
  const res = runCli(['data', 'list', '--bogus']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /^prefdyn: Unknown option '--bogus'/);
  assert.match(res.stderr, /Run `prefdyn data list --help` for usage\.\n$/);
});

test('a wrong number of arguments exits 2 and says how many were expected', () => {
  assert.deepEqual(
    [runCli(['data', 'stats']).code, runCli(['data', 'stats']).stderr],
    [2, 'prefdyn: data stats takes 1 argument(s), got 0\nRun `prefdyn data stats --help` for usage.\n'],
  );
  const extra = runCli(['data', 'list', 'persona']);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /^prefdyn: data list takes 0 argument\(s\), got 1 \(persona\)/);
});
