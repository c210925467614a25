// `prefdyn serve`: the live dashboard over run and experiment folders (src/server/).
import fs from 'node:fs';
import { type Command } from './command.js';
import { UserError } from '../util/errors.js';
import { parseNumber } from '../util/option-value.js';
import { isLoopback, startServer } from '../server/server.js';
import { rootOf } from '../server/safe-path.js';

export const DEFAULT_PORT = 6007;

export const command: Command = {
  name: 'serve',
  summary: 'live dashboard in the browser: runs, experiments, figures, overlays (read-only)',
  help: `Usage: prefdyn serve [PATH...] [--port ${DEFAULT_PORT}] [--host 127.0.0.1]

Lists the run folders (metrics.jsonl) and experiment folders (REPORT.md) under each PATH (default: the
current folder; up to 4 levels down), shows the figures of any run (tick two or more to overlay them),
and redraws them while a run is writing metrics.jsonl (server-sent events; no reload).
Read-only: only GET, and only files under the given folders ("..", encoded separators, absolute paths
and symlinks leading outside get 404). Binds 127.0.0.1 unless --host says otherwise (with a warning).

Options:
  --port N    port to listen on; 0 = any free port (default ${DEFAULT_PORT})
  --host H    address to bind (default 127.0.0.1); anything but loopback exposes the folders to the network

Example:
  prefdyn serve runs/ --port 6007`,
  options: {
    port: { type: 'string', default: String(DEFAULT_PORT) },
    host: { type: 'string', default: '127.0.0.1' },
  },
  positionals: [0, 64],
  async run({ positionals, values }) {
    const port = parseNumber('--port', values.port, { integer: true, min: 0, max: 65535 });
    const host = values.host as string;
    const roots = (positionals.length > 0 ? positionals : ['.']).map((p) => {
      if (!fs.existsSync(p)) throw new UserError(`${p}: no such folder`);
      if (!fs.statSync(p).isDirectory()) throw new UserError(`${p}: not a folder (serve takes folders holding runs)`);
      return rootOf(p);
    });
    if (!isLoopback(host))
      process.stderr.write(
        `prefdyn: warning: --host ${host}: the dashboard is reachable from other machines; anyone who reaches it can read every file under ${roots.map((r) => r.given).join(', ')}\n`,
      );
    const server = await startServer({ roots, host, port });
    // the handlers come before the URL: whoever reads it may stop the server at once
    const stopped = new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    process.stdout.write(`prefdyn serve: ${server.url} (read-only; Ctrl-C stops)\n`);
    await stopped;
  },
};
