// A folder for `prefdyn serve` tests: a real run (the trainer over linearPolicy), an experiment folder,
// a secret file beside the root, and a symlink that leads out of it; plus raw HTTP GETs that send the
// path byte for byte (fetch and URL would normalise ".." away before it reaches the server).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { tempDir } from './temp.js';
import { linearRun } from './linear-policy.js';

export interface ServeFixture {
  /** The folder given to serve. */
  root: string;
  /** runs/lin: a run folder; its metrics.jsonl gets appended to by tests. */
  run: string;
  lines: Record<string, number | string>[];
  /** A file outside the root that no request may read. */
  secret: string;
}

export async function serveFixture(steps = 3): Promise<ServeFixture> {
  const base = tempDir('prefdyn-serve-');
  const root = path.join(base, 'root');
  const run = path.join(root, 'runs', 'lin');
  fs.mkdirSync(run, { recursive: true });
  const { lines } = await linearRun(run, steps);
  const exp = path.join(root, 'experiments', 'quick');
  fs.mkdirSync(exp, { recursive: true });
  fs.writeFileSync(path.join(exp, 'REPORT.md'), '# quick\n');
  const secret = path.join(base, 'secret.txt');
  fs.writeFileSync(secret, 'secret\n');
  fs.symlinkSync(secret, path.join(root, 'leak.txt'));
  fs.symlinkSync(base, path.join(root, 'up'));
  return { root, run, lines, secret };
}

/** GET `rawPath` exactly as written; resolves status, body and headers. */
export function rawGet(
  url: string,
  rawPath: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** One metrics line for group "all" at `step`, in the run's own format (a copy of its last "all" line). */
export function appendStep(f: ServeFixture, step: number): void {
  const last = f.lines.filter((l) => l.group === 'all').at(-1)!;
  fs.appendFileSync(path.join(f.run, 'metrics.jsonl'), JSON.stringify({ ...last, step, loss: 0.1 }) + '\n');
}

/** Traversal attempts: each must get 404 (the secret lives one level above the root). */
export const TRAVERSALS = [
  '/files/0/../secret.txt',
  '/files/0/%2e%2e/secret.txt',
  '/files/0/%2E%2E/secret.txt',
  '/files/0/runs/..%2f..%2fsecret.txt',
  '/files/0/runs%2f..%2f..%2fsecret.txt',
  '/files/0/..%5csecret.txt',
  '/files/0//etc/passwd',
  '/files/0/%2fetc%2fpasswd',
  '/files/0/leak.txt',
  '/files/0/up/secret.txt',
  '/files/1/secret.txt',
  '/files/0/runs/lin/%00',
  '/files/0/runs/lin/.',
  '/files/0/%252e%252e/secret.txt',
  '/../secret.txt',
];
