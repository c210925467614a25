// The memory this process may still use, and byte counts in words. Commands that load a model compare
// their estimate with it before loading (model/memory-estimate.ts), so a model too large for the
// machine stops at once with one line instead of failing inside an allocation minutes later.
import fs from 'node:fs';
import { UserError } from './errors.js';

/** "1.5 GB" (powers of 1024), or "512 B". */
export function humanBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** The environment variable that sets the memory available (bytes, or with K/M/G/T: powers of 1024). */
export const MEMORY_LIMIT_ENV = 'PREFDYN_MEMORY_LIMIT';

export interface AvailableMemory {
  bytes: number;
  /** Where the figure comes from, for the message. */
  source: string;
}

function parseByteCount(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(raw.trim());
  if (!m) return undefined;
  const power = ['', 'K', 'M', 'G', 'T'].indexOf(m[2]!.toUpperCase());
  return Math.floor(Number(m[1]) * 1024 ** power);
}

function readNumberFile(file: string): number | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined; // "max" (no limit) is undefined
  } catch {
    return undefined;
  }
}

/** The cgroup's remaining allowance (v2 memory.max - memory.current, or v1's limit - usage), if limited. */
function cgroupAvailable(root: string): AvailableMemory | undefined {
  for (const [limit, usage] of [
    ['memory.max', 'memory.current'],
    ['memory/memory.limit_in_bytes', 'memory/memory.usage_in_bytes'],
  ] as const) {
    const max = readNumberFile(`${root}/${limit}`);
    // v1 reports "no limit" as a huge number (about 2^63).
    if (max === undefined || max >= 2 ** 60) continue;
    const used = readNumberFile(`${root}/${usage}`) ?? 0;
    return { bytes: Math.max(0, max - used), source: `the cgroup limit in ${root}/${limit}` };
  }
  return undefined;
}

/**
 * The memory available now: PREFDYN_MEMORY_LIMIT when set (for tests, or to keep a margin), else the
 * smaller of MemAvailable (/proc/meminfo) and the cgroup's remaining allowance; undefined when unknown.
 */
export function availableMemory(
  env: NodeJS.ProcessEnv = process.env,
  files: { meminfo: string; cgroup: string } = { meminfo: '/proc/meminfo', cgroup: '/sys/fs/cgroup' },
): AvailableMemory | undefined {
  const set = env[MEMORY_LIMIT_ENV];
  if (set !== undefined && set !== '') {
    const bytes = parseByteCount(set);
    if (bytes === undefined)
      throw new UserError(`${MEMORY_LIMIT_ENV} must be a byte count such as 8G or 512M, got ${JSON.stringify(set)}`);
    return { bytes, source: MEMORY_LIMIT_ENV };
  }
  let meminfo: AvailableMemory | undefined;
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync(files.meminfo, 'utf8'));
    if (m) meminfo = { bytes: Number(m[1]) * 1024, source: `MemAvailable in ${files.meminfo}` };
  } catch {
    meminfo = undefined;
  }
  const cgroup = cgroupAvailable(files.cgroup);
  if (meminfo && cgroup) return cgroup.bytes < meminfo.bytes ? cgroup : meminfo;
  return meminfo ?? cgroup;
}
