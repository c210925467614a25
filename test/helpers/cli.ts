// Runs the built `prefdyn` command as a user would, for tests of output, messages and exit codes.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { tempDir } from './temp.js';

/** The repository root (tests run from dist/test/..., sources and fixtures live at the root). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The cache of commands run by tests that name none: one temporary folder per test process, never the repository's. */
let defaultCacheDir: string | undefined;

export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): CliResult {
  defaultCacheDir ??= tempDir('prefdyn-test-cache-');
  const res = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { PREFDYN_CACHE_DIR: defaultCacheDir, ...process.env, ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}
