// What `prefdyn serve` lists: run folders (a metrics.jsonl, architecture.md contract 4) and experiment
// folders (`prefdyn reproduce`: a REPORT.md) under its roots, found by walking a few levels down.
import { METRICS_FILE } from '../train/run-folder.js';
import fs from 'node:fs';
import path from 'node:path';
import { isInside, type Root } from './safe-path.js';

export interface Entry {
  /** "<root index>/<path under the root>" ("<root index>" for the root itself): the id in URLs. */
  id: string;
  kind: 'run' | 'experiment';
  /** Path under the root, "/"-separated ("" for the root itself). */
  rel: string;
  root: number;
  /** Real path of the folder. */
  dir: string;
  /** Files in the folder worth a link (report.html, REPORT.md, summary.json), by name. */
  files: string[];
}

/** Folders a walk never enters: checkpoints and TensorBoard logs are big and hold no runs. */
const SKIP = new Set(['checkpoints', 'tensorboard', 'node_modules', 'figures']);
const MAX_DEPTH = 4;
const LINKED_FILES = ['report.html', 'REPORT.md', 'summary.json', 'config.json'];

export function discover(roots: Root[]): Entry[] {
  const out: Entry[] = [];
  const seen = new Set<string>();
  roots.forEach((root, r) => {
    const walk = (dir: string, rel: string[], depth: number) => {
      if (seen.has(dir)) return;
      seen.add(dir);
      let names: string[];
      try {
        names = fs.readdirSync(dir).sort();
      } catch {
        return;
      }
      const files = LINKED_FILES.filter((f) => names.includes(f));
      const kind = names.includes(METRICS_FILE) ? 'run' : names.includes('REPORT.md') ? 'experiment' : undefined;
      if (kind) {
        out.push({ id: [String(r), ...rel].join('/'), kind, rel: rel.join('/'), root: r, dir, files });
      }
      if (depth >= MAX_DEPTH) return;
      for (const name of names) {
        if (name.startsWith('.') || SKIP.has(name)) continue;
        let real: string;
        try {
          real = fs.realpathSync(path.join(dir, name));
          if (!fs.statSync(real).isDirectory()) continue;
        } catch {
          continue;
        }
        if (isInside(root, real)) walk(real, [...rel, name], depth + 1);
      }
    };
    walk(root.real, [], 0);
  });
  return out;
}
