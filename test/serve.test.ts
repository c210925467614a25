// `prefdyn serve` over HTTP: what it lists, the figures it draws, the live event, and every way out of
// its folders that must end in 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServer, type RunningServer } from '../src/server/server.js';
import { rootOf } from '../src/server/safe-path.js';
import { spawn } from 'node:child_process';
import { fixturesDir, repoRoot, runCli } from './helpers/cli.js';

const cliMain = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');
import { appendStep, rawGet, serveFixture, TRAVERSALS, type ServeFixture } from './helpers/serve-fixture.js';

let f: ServeFixture;
let server: RunningServer;

before(async () => {
  f = await serveFixture();
  server = await startServer({ roots: [rootOf(f.root)], host: '127.0.0.1', port: 0 });
});
after(() => server.close());

test('lists the run and the experiment under the root', async () => {
  const r = await rawGet(server.url, '/api/entries');
  assert.equal(r.status, 200);
  assert.deepEqual(
    (JSON.parse(r.body) as { id: string; kind: string; files: string[] }[]).map((e) => [e.id, e.kind, e.files]),
    [
      ['0/experiments/quick', 'experiment', ['REPORT.md']],
      ['0/runs/lin', 'run', []],
    ],
  );
});

/** Vertices of each line mark in an SVG: "M x,y L x,y ..." has one per M or L. */
const lineVertexCounts = (svg: string) =>
  [...svg.matchAll(/aria-roledescription="line mark" d="([^"]*)"/g)].map((m) => m[1]!.split(/[ML]/).length - 1);

test('figures of the run hold its points: one vertex per logged step', async () => {
  const r = await rawGet(server.url, '/api/figures?run=0%2Fruns%2Flin');
  assert.equal(r.status, 200);
  const body = JSON.parse(r.body) as { figures: { name: string; svg: string }[]; steps: Record<string, number> };
  assert.deepEqual(
    body.figures.map((x) => x.name),
    ['curves', 'trl'],
  );
  assert.deepEqual(body.steps, { '0/runs/lin': 3 });
  // curves: train loss, margin, reward and policy accuracy for groups a and b: 8 lines of 3 steps
  assert.deepEqual(lineVertexCounts(body.figures[0]!.svg), Array(8).fill(3));
  // TRL: grad_norm, learning_rate, logits/chosen, logits/rejected of the one run
  assert.deepEqual(lineVertexCounts(body.figures[1]!.svg), Array(4).fill(3));
  const unknown = await rawGet(server.url, '/api/figures?run=0%2F..%2Fruns%2Flin');
  assert.equal(unknown.status, 404);
});

test('an appended metrics line raises a server-sent event and the redrawn figure has the new point', async () => {
  const u = new URL(server.url);
  let appended = false;
  const got = new Promise<string>((resolve, reject) => {
    const req = http.get({ host: u.hostname, port: u.port, path: '/api/events?run=0%2Fruns%2Flin' }, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream');
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (text.includes('event: metrics')) {
          req.destroy();
          resolve(text);
        } else if (text.includes('retry:') && !appended) {
          appended = true;
          appendStep(f, 3);
        }
      });
    });
    req.on('error', (e) => (e.message.includes('aborted') ? undefined : reject(e)));
  });
  assert.match(await got, /event: metrics\ndata: "0\/runs\/lin"\n\n/);
  const r = await rawGet(server.url, '/api/figures?run=0%2Fruns%2Flin');
  const body = JSON.parse(r.body) as { figures: { svg: string }[]; steps: Record<string, number> };
  assert.deepEqual(body.steps, { '0/runs/lin': 4 });
  assert.deepEqual(lineVertexCounts(body.figures[1]!.svg), Array(4).fill(4));
});

test('a run whose metrics.jsonl went away: a one-line error, and the server keeps serving', async () => {
  const gone = path.join(f.root, 'runs', 'gone');
  fs.mkdirSync(gone);
  fs.copyFileSync(path.join(f.run, 'metrics.jsonl'), path.join(gone, 'metrics.jsonl'));
  assert.equal((await rawGet(server.url, '/api/entries')).status, 200);
  fs.rmSync(path.join(gone, 'metrics.jsonl'));
  const r = await rawGet(server.url, '/api/figures?run=0%2Fruns%2Fgone');
  assert.equal(r.status, 422);
  assert.deepEqual(JSON.parse(r.body), { error: 'runs/gone: metrics.jsonl is gone' });
  fs.rmSync(gone, { recursive: true });
  assert.equal((await rawGet(server.url, '/api/entries')).status, 200);
});

test('files under the root are served; every way out gets 404', async () => {
  const ok = await rawGet(server.url, '/files/0/experiments/quick/REPORT.md');
  assert.equal(ok.status, 200);
  assert.equal(ok.body, '# quick\n');
  assert.match(ok.headers['content-security-policy'] as string, /^sandbox allow-scripts;/);
  for (const p of TRAVERSALS) {
    const r = await rawGet(server.url, p);
    assert.equal(r.status, 404, p);
    assert.ok(!r.body.includes('secret'), p);
  }
  assert.equal((await rawGet(server.url, '/files/0/runs')).status, 404, 'a folder');
});

test('read-only and loopback-only: POST is 405, a foreign Host header 403', async () => {
  assert.equal((await rawGet(server.url, '/api/entries', {}, 'POST')).status, 405);
  assert.equal((await rawGet(server.url, '/api/entries', {}, 'DELETE')).status, 405);
  assert.equal((await rawGet(server.url, '/', { Host: 'evil.example:80' })).status, 403);
  assert.equal((await rawGet(server.url, '/', { Host: `localhost:${new URL(server.url).port}` })).status, 200);
});

test('serve: a bad port is a bad value, a missing folder a one-line error', () => {
  let r = runCli(['serve', '--port', 'abc']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').at(-1), 'prefdyn: --port must be an integer in [0, 65535], got "abc"');
  const missing = path.join(f.root, 'nope');
  r = runCli(['serve', missing, '--port', '0']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `prefdyn: ${missing}: no such folder\n`);
  fs.writeFileSync(path.join(f.root, 'x.txt'), '');
  r = runCli(['serve', path.join(f.root, 'x.txt'), '--port', '0']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `prefdyn: ${path.join(f.root, 'x.txt')}: not a folder (serve takes folders holding runs)\n`);
});

test('train --serve prints the URL of a dashboard that lists the run while it trains, and stops it with the training', async () => {
  const dir = path.dirname(f.root);
  const model = path.join(dir, 'model');
  let r = runCli(['model', 'init', '--arch', 'llama', '--size', 'd=16,layers=1,heads=2,kv=1', '--out', model]);
  assert.equal(r.code, 0, r.stderr);
  const run = path.join(dir, 'served-run');
  const data = path.join(fixturesDir, 'train', 'pairs.jsonl');
  // a child process, so that this test can query the dashboard while training runs
  const child = spawn(
    process.execPath,
    [
      cliMain,
      'train',
      '--model',
      model,
      '--data',
      data,
      '--mode',
      'last-layer',
      '--steps',
      '100000',
      '--batch-size',
      '4',
      '--serve',
      '--out',
      run,
    ],
    { env: { ...process.env, PREFDYN_CACHE_DIR: path.join(dir, 'cache') } },
  );
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      const m = /prefdyn: live dashboard at (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`train exited before printing the URL: ${stderr}`)));
  });
  let entries: { id: string }[] = [];
  for (let i = 0; i < 100 && entries.length === 0; i++) {
    entries = JSON.parse((await rawGet(url, '/api/entries')).body) as { id: string }[];
    if (entries.length === 0) await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(
    entries.map((e) => e.id),
    ['0'],
  );
  // Ctrl-C: the run stops after its step with a checkpoint (exit 130), and the dashboard with it
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  await assert.rejects(rawGet(url, '/api/entries'), /ECONNREFUSED|ECONNRESET/);
});

/** Starts `prefdyn serve` with `args`, waits for its URL line, stops it; returns what it printed. */
async function serveOutput(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cliMain, 'serve', ...args]);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (stdout.includes('\n')) resolve();
    });
    void exited.then(() => reject(new Error(`serve exited: ${stderr}`)));
  });
  child.kill('SIGTERM');
  assert.equal(await exited, 0, `Ctrl-C / SIGTERM stops it cleanly; stderr: ${stderr}`);
  return { stdout, stderr };
}

test('serve binds loopback by default; another --host only with a printed warning', async () => {
  let out = await serveOutput([f.root, '--port', '0']);
  assert.match(out.stdout, /^prefdyn serve: http:\/\/127\.0\.0\.1:\d+\/ \(read-only; Ctrl-C stops\)\n$/);
  assert.equal(out.stderr, '');
  out = await serveOutput([f.root, '--port', '0', '--host', '0.0.0.0']);
  assert.match(out.stdout, /^prefdyn serve: http:\/\/0\.0\.0\.0:\d+\//);
  assert.equal(
    out.stderr,
    `prefdyn: warning: --host 0.0.0.0: the dashboard is reachable from other machines; anyone who reaches it can read every file under ${f.root}\n`,
  );
});
