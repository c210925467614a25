// Runs the built `prefdyn` command as a user would, for tests of output, messages and exit codes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
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
  return runCommand(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), ...args], opts);
}

function runCommand(
  program: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string },
): CliResult {
  defaultCacheDir ??= tempDir('prefdyn-test-cache-');
  const res = spawnSync(program, args, {
    cwd: opts.cwd ?? repoRoot,
    env: { PREFDYN_CACHE_DIR: defaultCacheDir, ...process.env, ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** A file system mounted for one command: a read-only one (EROFS even for root), or a full one (ENOSPC). */
export interface TestMount {
  dir: string;
  kind: 'read-only' | 'full';
}

/** Whether this machine lets a process mount in its own namespace (`unshare -rm`, Linux user namespaces). */
export const canMount = spawnSync('unshare', ['-rm', 'true']).status === 0;

/**
 * Runs `prefdyn args` in a private mount namespace where each mount's `dir` (an existing folder) is a
 * read-only or a full tmpfs, or, for a read-only mount of a non-empty folder, that folder bound read-only.
 * The mounts exist only for that process: nothing to unmount, nothing left behind.
 */
export function runCliWithMounts(args: string[], mounts: TestMount[], opts: { env?: NodeJS.ProcessEnv } = {}) {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const setup = mounts.map(({ dir, kind }) =>
    kind === 'full'
      ? `mount -t tmpfs -o size=4k tmpfs ${q(dir)} && (cat /dev/zero > ${q(path.join(dir, 'filler'))} 2>/dev/null; true)`
      : fs.readdirSync(dir).length === 0
        ? `mount -t tmpfs -o ro tmpfs ${q(dir)}`
        : `mount --bind ${q(dir)} ${q(dir)} && mount -o remount,bind,ro ${q(dir)}`,
  );
  const main = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');
  const script = [...setup, `exec ${q(process.execPath)} ${q(main)} ${args.map(q).join(' ')}`].join(' && ');
  return runCommand('unshare', ['-rm', 'sh', '-c', script], opts);
}
