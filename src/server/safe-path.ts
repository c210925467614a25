// The one gate between a URL and the filesystem: `prefdyn serve` answers only with files under the
// folders it was given. Anything else is "not found" (404), never an error that says why:
//   - a path that does not decode, or holds NUL, a backslash, an encoded separator (%2f, %5c),
//     an empty, "." or ".." segment (before or after decoding): refused before touching the disk;
//   - a path whose real location (symlinks resolved) is not inside the real root: refused after.
import fs from 'node:fs';
import path from 'node:path';

export interface Root {
  /** The folder as given on the command line, for display. */
  given: string;
  /** Its real path (symlinks resolved), the boundary every served file must stay inside. */
  real: string;
}

/** Roots from the command line's folders; a missing one is the caller's UserError. */
export function rootOf(given: string): Root {
  return { given, real: fs.realpathSync(given) };
}

/** Decoded segments of a URL path (the part after the root's prefix), or undefined when any rule refuses it. */
export function safeSegments(rawPath: string): string[] | undefined {
  if (/%2f|%5c|\\|\0/i.test(rawPath)) return undefined;
  const raw = rawPath.split('/');
  const out: string[] = [];
  for (const seg of raw) {
    let s: string;
    try {
      s = decodeURIComponent(seg);
    } catch {
      return undefined;
    }
    if (seg === '' || s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\\') || s.includes('\0'))
      return undefined;
    out.push(s);
  }
  return out;
}

/** True when `real` is the root itself or inside it. */
export function isInside(root: Root, real: string): boolean {
  return real === root.real || real.startsWith(root.real + path.sep);
}

/**
 * The real path of `segments` under `root` when it exists and stays inside the root after every
 * symlink is resolved; undefined otherwise.
 */
export function resolveUnder(root: Root, segments: string[]): string | undefined {
  let real: string;
  try {
    real = fs.realpathSync(path.join(root.real, ...segments));
  } catch {
    return undefined;
  }
  return isInside(root, real) ? real : undefined;
}
