// Progress of long no-grad passes (embedding, scoring) on stderr: a redrawn line on a terminal, plain
// lines at about every 10% otherwise, so a minutes-long pass over all of persona never looks hung.

/** Called after each batch with the items done so far and the total. */
export type OnProgress = (done: number, total: number) => void;

/** A reporter for `label` ("embedding", "reference log-probs", ...); silent for passes under `minTotal` items. */
export function stderrCounter(label: string, minTotal = 2000, tty = process.stderr.isTTY === true): OnProgress {
  const t0 = Date.now();
  let nextPlain = 0.1;
  return (done, total) => {
    if (total < minTotal) return;
    const frac = done / total;
    const secs = (Date.now() - t0) / 1000;
    const eta = done > 0 ? Math.round((secs * (total - done)) / done) : 0;
    const text = `${label} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (${Math.floor(frac * 100)}%, eta ${eta}s)`;
    if (tty) {
      process.stderr.write(`\r${text}  ${done === total ? '\n' : ''}`);
    } else if (frac >= nextPlain || done === total) {
      process.stderr.write(`${text}\n`);
      while (nextPlain <= frac) nextPlain += 0.1;
    }
  };
}
