// `prefdyn train --serve`: the dashboard of the run in a child `prefdyn serve RUN_DIR --port 0`
// process, so pages stay responsive while a training step holds the trainer's event loop. It stops
// with the training; `prefdyn serve RUN_DIR` shows the finished run.
import { spawn } from 'node:child_process';
import { packagePath } from '../util/package-root.js';
import { UserError } from '../util/errors.js';

export interface DashboardProcess {
  url: string;
  stop(): void;
}

/** Starts the child and resolves with the URL it prints. */
export function startDashboardProcess(dir: string): Promise<DashboardProcess> {
  const child = spawn(process.execPath, [packagePath('dist', 'src', 'cli', 'main.js'), 'serve', dir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const url = /(http:\/\/\S+\/)/.exec(out)?.[1];
      if (url) resolve({ url, stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) =>
      reject(new UserError(`--serve: the dashboard did not start (exit ${code}): ${err.trim() || out.trim()}`)),
    );
  });
}
