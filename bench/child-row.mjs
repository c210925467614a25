// Benchmarks measure each implementation in its own child process, so that each peak RSS is its own.
import { spawnSync } from 'node:child_process';

/**
 * Runs a child that prints one JSON line (its last line of stdout); the row, or {error} saying why there
 * is none. Children get this process's environment, with `env`'s variables set on top.
 */
export function childRow(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  const last = (r.stdout ?? '').trim().split('\n').pop();
  if (r.status === 0 && last) return JSON.parse(last);
  const why = r.error?.message ?? (r.stderr ?? '').trim().split('\n').pop() ?? `exit ${r.status}`;
  return { error: `${cmd} ${args.join(' ')}: ${why}` };
}
