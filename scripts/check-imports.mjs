#!/usr/bin/env node
// The layering rule of architecture.md, checked: every import between files under src/ points down the
// layer list (a file may import its own folder or any folder below it), and no chain of imports comes
// back to where it started. Type-only imports count: a circle of types is still a circle.
// Usage: node scripts/check-imports.mjs [SRC_DIR]   (default: src/ of this repository)
// Exit 0 when clean; 1 with one line per upward import and per circle otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Top to bottom: a folder may import only itself and the folders after it. */
export const LAYERS = [
  'cli',
  'server',
  'report',
  'experiments',
  'pretrain',
  'analysis',
  'train',
  'model',
  'tensor',
  'tokenizer',
  'data',
  'util',
];

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g;

function sourceFiles(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .sort();
}

/** Relative imports of a file, resolved to .ts paths ('./x.js' -> x.ts). */
function importsOf(file) {
  const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
  const out = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    out.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
  }
  return out;
}

/** Problems found under srcDir, one message per upward import, unknown folder and circle. */
export function checkImports(srcDir) {
  const files = sourceFiles(srcDir);
  const rel = (f) => path.relative(srcDir, f).split(path.sep).join('/');
  const layerOf = (f) => rel(f).split('/')[0];
  const problems = [];
  const graph = new Map();
  for (const file of files) {
    const layer = layerOf(file);
    if (!LAYERS.includes(layer) || !rel(file).includes('/')) {
      problems.push(`${rel(file)}: not inside a layer folder (${LAYERS.join(', ')})`);
      continue;
    }
    const targets = importsOf(file).filter((t) => t.startsWith(srcDir + path.sep));
    graph.set(file, targets);
    for (const t of targets) {
      const to = layerOf(t);
      if (LAYERS.includes(to) && LAYERS.indexOf(to) < LAYERS.indexOf(layer)) {
        problems.push(`${rel(file)}: imports ${rel(t)}, which is up the layer list (${layer} is below ${to})`);
      }
    }
  }
  // Circles: depth-first search; a back edge to a file on the current path closes one.
  const state = new Map(); // file -> 'open' | 'done'
  const stack = [];
  const seen = new Set();
  const visit = (file) => {
    state.set(file, 'open');
    stack.push(file);
    for (const t of graph.get(file) ?? []) {
      if (!graph.has(t)) continue;
      if (state.get(t) === 'open') {
        const circle = stack.slice(stack.indexOf(t)).map(rel);
        const key = [...circle].sort().join(' ');
        if (!seen.has(key)) {
          seen.add(key);
          problems.push(`import circle: ${[...circle, rel(t)].join(' -> ')}`);
        }
      } else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const srcDir = path.resolve(process.argv[2] ?? path.join(root, 'src'));
  if (!fs.existsSync(srcDir)) {
    process.stderr.write(`check-imports: ${srcDir}: no such folder\n`);
    process.exit(1);
  }
  const problems = checkImports(srcDir);
  for (const p of problems) process.stderr.write(`check-imports: ${p}\n`);
  process.exit(problems.length ? 1 : 0);
}
