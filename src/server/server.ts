// `prefdyn serve`: a read-only HTTP server over run and experiment folders.
//   GET /                      the dashboard page (report/dashboard-page.ts)
//   GET /dashboard.js          its script
//   GET /api/entries           the runs and experiments found under the roots (discover.ts)
//   GET /api/figures?run=ID..  figures of one run, or of several overlaid, as SVG (figures.ts)
//   GET /api/events?run=ID..   server-sent events: "metrics" with the run id when its metrics.jsonl changes
//   GET /files/<root>/<path>   a file under a root, through safe-path.ts; anything else is 404
// Only GET and HEAD. On a loopback address, requests must name that address in Host (a web page
// elsewhere cannot reach the server through DNS rebinding).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { DASHBOARD_HTML, DASHBOARD_JS } from '../report/dashboard-page.js';
import { discover, type Entry } from './discover.js';
import { figuresFor, runLabel } from './figures.js';
import { MetricsWatcher } from './live.js';
import { resolveUnder, safeSegments, type Root } from './safe-path.js';

export interface ServeOptions {
  roots: Root[];
  host: string;
  port: number;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export const isLoopback = (host: string): boolean => LOOPBACK.has(host) || /^127\./.test(host);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
};

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const watcher = new MetricsWatcher();
  const streams = new Set<http.ServerResponse>();
  let entries = discover(o.roots);
  /** The runs named by ids; rediscovers once when one is unknown (a run started after the server). */
  const runsOf = (ids: string[]): Entry[] | undefined => {
    const find = () => ids.map((id) => entries.find((e) => e.id === id && e.kind === 'run'));
    let found = find();
    if (found.some((e) => !e)) {
      entries = discover(o.roots);
      found = find();
    }
    return ids.length > 0 && found.every((e) => e) ? (found as Entry[]) : undefined;
  };
  let allowedHosts: Set<string> | undefined;

  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': type, ...SECURITY_HEADERS, ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = (status: number, value: unknown) =>
      send(status, 'application/json; charset=utf-8', JSON.stringify(value));
    const notFound = () => send(404, 'text/plain; charset=utf-8', 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(405, 'text/plain; charset=utf-8', 'read-only\n', { Allow: 'GET, HEAD' });
    if (allowedHosts && !allowedHosts.has(req.headers.host ?? ''))
      return send(403, 'text/plain; charset=utf-8', 'bad Host\n');
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q < 0 ? raw : raw.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    const ids = params.getAll('run');

    if (pathname === '/' || pathname === '/index.html')
      return send(200, 'text/html; charset=utf-8', DASHBOARD_HTML, {
        'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
      });
    if (pathname === '/dashboard.js') return send(200, 'text/javascript; charset=utf-8', DASHBOARD_JS);
    if (pathname === '/api/entries') {
      entries = discover(o.roots);
      return json(
        200,
        entries.map((e) => ({
          id: e.id,
          kind: e.kind,
          label: runLabel(e),
          root: o.roots[e.root]!.given,
          files: e.files,
        })),
      );
    }
    if (pathname === '/api/figures') {
      const runs = runsOf(ids);
      if (!runs) return json(404, { error: `no such run: ${ids.join(', ') || '(none given)'}` });
      // a metrics.jsonl removed since discovery throws in figuresFor: answered like any failed read
      Promise.resolve()
        .then(() => figuresFor(runs))
        .then(
          (result) => json(200, result),
          (err: unknown) => {
            if (err instanceof UserError) json(422, { error: err.message });
            else json(500, { error: `internal error: ${(err as Error).message}` });
          },
        );
      return;
    }
    if (pathname === '/api/events') {
      const runs = runsOf(ids);
      if (!runs) return json(404, { error: `no such run: ${ids.join(', ') || '(none given)'}` });
      res.writeHead(200, { 'Content-Type': 'text/event-stream', ...SECURITY_HEADERS, Connection: 'keep-alive' });
      streams.add(res);
      const stops = runs.map((run) =>
        watcher.watch(run, (id) => res.write(`event: metrics\ndata: ${JSON.stringify(id)}\n\n`)),
      );
      // subscribed (first stat taken) before the page hears it is: nothing written from here on is missed
      res.write('retry: 1000\n\n');
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
      req.on('close', () => {
        clearInterval(heartbeat);
        stops.forEach((stop) => stop());
        streams.delete(res);
      });
      return;
    }
    const file = /^\/files\/(\d+)\/(.+)$/.exec(pathname);
    if (file) {
      const root = o.roots[Number(file[1])];
      const segments = safeSegments(file[2]!);
      const real = root && segments ? resolveUnder(root, segments) : undefined;
      if (!real) return notFound();
      let body: Buffer;
      try {
        if (!fs.statSync(real).isFile()) return notFound();
        body = fs.readFileSync(real);
      } catch {
        return notFound();
      }
      return send(200, CONTENT_TYPES[path.extname(real).toLowerCase()] ?? 'application/octet-stream', body, {
        'Content-Security-Policy':
          "sandbox allow-scripts; default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'unsafe-inline'",
      });
    }
    notFound();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new UserError(
          err.code === 'EADDRINUSE'
            ? `port ${o.port} on ${o.host} is in use; pick another with --port (0 = any free port)`
            : `cannot listen on ${o.host}:${o.port} (${err.code ?? err.message})`,
        ),
      ),
    );
    server.listen(o.port, o.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  if (isLoopback(o.host))
    allowedHosts = new Set([`${hostInUrl}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
  return {
    url: `http://${hostInUrl}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        watcher.close();
        for (const s of streams) s.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
