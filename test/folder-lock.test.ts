// One writer per output folder, between real processes: a second `train` (or `--resume`) on a run
// folder in use stops with one line naming the folder and the holder's PID; SIGTERM stops the holder
// like Ctrl-C (checkpoint, exit 143) and frees the folder; a lock left by a process that is gone is
// reported and taken over; pretrain, model merge and model init take the same lock.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, repoRoot, fixturesDir } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { initTinyLlama } from './helpers/tiny-model.js';
import { lockFile } from '../src/util/folder-lock.js';

const tmp = tempDir('prefdyn-lock-');
const model = path.join(tmp, 'tiny');
const env = { PREFDYN_CACHE_DIR: path.join(tmp, 'cache') };
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// 200 LoRA steps: the run is far from its end when its first metrics lines appear.
const trainArgs = (out: string) => [
  'train',
  '--model',
  model,
  '--data',
  path.join(fixturesDir, 'train', 'pairs.jsonl'),
  '--test-fraction',
  '0.25',
  '--batch-size',
  '4',
  '--gradient-accumulation-steps',
  '1',
  '--mode',
  'lora',
  '--steps',
  '200',
  '--out',
  out,
];

/** A lock line as a holder writes it. */
const holderLine = (pid: number) =>
  JSON.stringify({ pid, host: os.hostname(), started: '2026-01-01T00:00:00.000Z' }) + '\n';

/** The PID of a process that has ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.equal(r.status, 0);
  return r.pid!;
}

before(() => {
  initTinyLlama(model);
  assert.ok(!fs.existsSync(lockFile(model)), 'model init releases its lock');
});

test('a second train or --resume on a run folder in use exits 1 naming the folder and the PID; SIGTERM stops the first with exit 143', async () => {
  const run = path.join(tmp, 'run');
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), ...trainArgs(run)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const metrics = path.join(run, 'metrics.jsonl');
  const hasTrainLine = () => fs.existsSync(metrics) && fs.readFileSync(metrics, 'utf8').includes('"split":"train"');
  while (!hasTrainLine() && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  // Stopped (not ended) while the others try: it holds its lock however fast the machine finishes 200 steps.
  assert.equal(child.exitCode, null, 'the first run is still training');
  child.kill('SIGSTOP');

  const inUse = new RegExp(
    `^prefdyn: ${esc(run)}: in use by process ${child.pid} on ${esc(os.hostname())} \\(since [0-9T:.Z-]+\\); ` +
      `wait for it to end, or remove ${esc(lockFile(run))} if that process is not prefdyn\n$`,
  );
  const second = runCli(trainArgs(run), { env });
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, inUse);
  const resume = runCli(['train', '--resume', run], { env });
  assert.equal(resume.code, 1, resume.stderr);
  assert.match(resume.stderr, inUse);

  child.kill('SIGTERM'); // delivered when it continues
  child.kill('SIGCONT');
  assert.equal(await exited, 143, stderr);
  assert.match(stderr, /prefdyn: SIGTERM: stopping after this step \(a second SIGTERM to quit now\)/);
  const summary = JSON.parse(fs.readFileSync(path.join(run, 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'interrupted');
  assert.deepEqual(fs.readdirSync(path.join(run, 'checkpoints')), [`step-${summary.steps}`]);
  assert.ok(!fs.existsSync(lockFile(run)), 'the lock is released');

  const done = runCli(['train', '--resume', run], { env });
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /^completed 200\/200 steps/);
});

test('a stale lock (its process is gone) is reported in one line and taken over', () => {
  const out = path.join(tmp, 'stale-model');
  const pid = deadPid();
  fs.writeFileSync(lockFile(out), holderLine(pid));
  const r = runCli(['model', 'init', '--arch', 'gpt2', '--size', 'd=16,layers=1,heads=2', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stderr,
    `prefdyn: ${out}: taking over the stale lock of process ${pid} (started 2026-01-01T00:00:00.000Z; no longer running)\n`,
  );
  assert.ok(fs.existsSync(path.join(out, 'config.json')));
  assert.ok(!fs.existsSync(lockFile(out)));
});

test('pretrain, model merge and model init refuse an output folder that a live process holds', () => {
  // The holder is this test process.
  const out = path.join(tmp, 'held');
  fs.writeFileSync(lockFile(out), holderLine(process.pid));
  const refused = `prefdyn: ${out}: in use by process ${process.pid} on ${os.hostname()} (since 2026-01-01T00:00:00.000Z); wait for it to end, or remove ${lockFile(out)} if that process is not prefdyn\n`;
  const commands = [
    ['model', 'init', '--arch', 'gpt2', '--size', 'd=16,layers=1,heads=2', '--out', out],
    ['pretrain', '--model', model, '--text', path.join(fixturesDir, 'train', 'pairs.jsonl'), '--out', out],
    ['model', 'merge', '--model', model, '--adapter', model, '--out', out],
  ];
  for (const args of commands) {
    const r = runCli(args, { env });
    assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 1, stderr: refused }, args.slice(0, 2).join(' '));
    assert.ok(!fs.existsSync(out), `${args[0]} wrote nothing`);
  }
  assert.equal(fs.readFileSync(lockFile(out), 'utf8'), holderLine(process.pid), "the holder's lock is untouched");
});
