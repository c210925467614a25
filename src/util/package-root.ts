// Where prefdyn's own files are (bundled data, models, the native build), whatever the working folder.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: this file runs as dist/src/util/package-root.js after tsc. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A path inside the package. */
export function packagePath(...parts: string[]): string {
  return path.join(packageRoot, ...parts);
}
