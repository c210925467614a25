"""The same per-group computation as `prefdyn analyze` pass 1 (delta, trace, top covariance eigenvalue),
in numpy, for bench/analysis.mjs. Reads the embeddings file (safetensors, memory-mapped) group by group.
Usage: python3 bench/analysis_numpy.py NAME   (NAME.safetensors + NAME.rows.jsonl)"""
import json
import struct
import sys
import time

import numpy as np


def main(name):
    start = time.perf_counter()
    with open(name + '.safetensors', 'rb') as f:
        (n_header,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n_header))
    info = header['embeddings']
    n, d = info['shape']
    x = np.memmap(name + '.safetensors', dtype='<f4', mode='r', offset=8 + n_header + info['data_offsets'][0], shape=(n, d))
    rows = [json.loads(line) for line in open(name + '.rows.jsonl')]
    groups = {}
    for i, r in enumerate(rows):
        groups.setdefault(r['group'], []).append(i)
    result = {}
    for g, idx in groups.items():
        xg = np.asarray(x[idx], dtype=np.float32)
        labels = np.array([rows[i]['label'] for i in idx])
        sides = []
        for side in (xg[labels == 1], xg[labels == -1]):
            mu = side.mean(axis=0, dtype=np.float64)
            xc = (side - mu).astype(np.float32)
            m = xc.shape[0]
            gram = xc @ xc.T  # [m, m]: the covariance's nonzero spectrum, without forming d x d
            top = float(np.linalg.eigvalsh(gram)[-1]) / (m - 1)
            trace = float(np.einsum('ij,ij->', xc, xc, dtype=np.float64)) / (m - 1)
            sides.append((mu, top, trace))
        delta = float(np.linalg.norm(sides[0][0] - sides[1][0]))
        result[g] = {'delta': delta, 'concentration': max(sides[0][1], sides[1][1]), 'trace': max(sides[0][2], sides[1][2])}
    print(json.dumps({'seconds': time.perf_counter() - start, 'groups': result}))


if __name__ == '__main__':
    main(sys.argv[1])
