// Benchmark of `prefdyn analyze` at persona scale: B groups x ROWS rows at d dims (default 135 x 1000 x
// 4096 = 2.2 GB of float32), synthetic and seeded, written as an embeddings file (contract 3). Times
// prefdyn (pass 1 + pass 2, no bootstrap; then with --bootstrap) and numpy doing the same
// delta/trace/top-eigenvalue work in the same run, checks they agree, and prints the ratio and peak RSS.
// Usage: node bench/analysis.mjs [--groups 135] [--rows 1000] [--d 4096] [--bootstrap 200] [--dir DIR]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    groups: { type: 'string', default: '135' },
    rows: { type: 'string', default: '1000' },
    d: { type: 'string', default: '4096' },
    bootstrap: { type: 'string', default: '200' },
    dir: { type: 'string' },
  },
});
const B = Number(values.groups);
const ROWS = Number(values.rows);
const D = Number(values.d);
const dir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'prefdyn-bench-analysis-'));
const name = path.join(dir, 'emb');

// xorshift32 noise: sum of two uniforms (triangular, sd ~0.41) scaled per group; fast enough for 0.5G values.
function writeData() {
  let s = 12345;
  const uniform = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const n = B * ROWS;
  let header = JSON.stringify({ embeddings: { dtype: 'F32', shape: [n, D], data_offsets: [0, n * D * 4] } });
  header += ' '.repeat((8 - (Buffer.byteLength(header) % 8)) % 8);
  const fd = fs.openSync(`${name}.safetensors`, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  fs.writeSync(fd, len);
  fs.writeSync(fd, header);
  const rows = [];
  const block = new Float32Array(ROWS * D);
  for (let b = 0; b < B; b++) {
    const gap = 0.05 + (b / B) * 0.5;
    const scale = 1 + (b % 7) / 7;
    for (let i = 0; i < ROWS; i++) {
      const label = i % 2 === 0 ? 1 : -1;
      for (let k = 0; k < D; k++)
        block[i * D + k] =
          scale * (uniform() + uniform() - 1) + (k === b ? 3 : 0) + (label === 1 && k === (b * 7) % D ? gap : 0);
      rows.push(JSON.stringify({ id: `${b}-${i}`, group: `behaviour-${b}`, label }));
    }
    fs.writeSync(fd, new Uint8Array(block.buffer));
  }
  fs.closeSync(fd);
  fs.writeFileSync(`${name}.rows.jsonl`, rows.join('\n') + '\n');
}

function timed(cmd, args, env = {}) {
  const t = process.hrtime.bigint();
  const res = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, ...env },
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr}`);
  const [rssKb, user, sys] = res.stderr.trim().split('\n').pop().split(' ').map(Number);
  // CPU seconds as well as wall seconds: on a shared machine the wall clock includes waiting for a core.
  return { seconds, cpu: user + sys, rssMb: rssKb / 1024, stdout: res.stdout };
}

let t = process.hrtime.bigint();
writeData();
console.log(
  `data: ${B} groups x ${ROWS} rows x d=${D} (${((B * ROWS * D * 4) / 1e9).toFixed(2)} GB) written in ${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(1)} s`,
);
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const json = path.join(dir, 'a.json');
const ours = timed(process.execPath, [cli, 'analyze', '--embeddings', name, '--bootstrap', '0', '--json', json]);
const np = timed('python3', [path.join(root, 'bench', 'analysis_numpy.py'), name]);
const withBoot =
  Number(values.bootstrap) > 0
    ? timed(process.execPath, [
        cli,
        'analyze',
        '--embeddings',
        name,
        '--bootstrap',
        values.bootstrap,
        '--json',
        path.join(dir, 'b.json'),
      ])
    : null;

const a = JSON.parse(fs.readFileSync(json, 'utf8'));
const ref = JSON.parse(np.stdout).groups;
let worst = 0;
for (const g of a.groups) {
  for (const key of ['delta', 'concentration', 'trace'])
    worst = Math.max(worst, Math.abs(g[key] - ref[g.group][key]) / Math.abs(ref[g.group][key]));
}
console.log(
  `kernels: ${process.env.PREFDYN_KERNELS ?? 'auto'}; OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? ''}; ${os.cpus().length} cores`,
);
console.log(
  `prefdyn analyze (no bootstrap): ${ours.seconds.toFixed(2)} s wall, ${ours.cpu.toFixed(2)} s CPU, peak RSS ${ours.rssMb.toFixed(0)} MB`,
);
console.log(
  `numpy (delta, trace, top eigenvalue via eigvalsh of the [n,n] Gram): ${np.seconds.toFixed(2)} s wall, ${np.cpu.toFixed(2)} s CPU, peak RSS ${np.rssMb.toFixed(0)} MB`,
);
console.log(
  `ratio prefdyn / numpy: wall ${(ours.seconds / np.seconds).toFixed(2)}, CPU ${(ours.cpu / np.cpu).toFixed(2)}; max relative difference of delta/concentration/trace: ${worst.toExponential(2)}`,
);
if (withBoot)
  console.log(
    `prefdyn analyze --bootstrap ${values.bootstrap}: ${withBoot.seconds.toFixed(2)} s wall, ${withBoot.cpu.toFixed(2)} s CPU, peak RSS ${withBoot.rssMb.toFixed(0)} MB`,
  );
if (!values.dir) fs.rmSync(dir, { recursive: true, force: true });
