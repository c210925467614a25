// Progress on stderr: a redrawn line on a terminal, plain lines otherwise, so a minutes-long pass never
// looks hung and logs of background runs stay readable. stderrCounter: long no-grad passes (embedding,
// scoring), a line at about every 10%; stderrProgress: training steps with loss and ETA, about 20 lines.

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

/** What the trainer reports to: each step's loss, messages between steps, and the end. */
export interface Progress {
  step(done: number, total: number, loss: number): void;
  message(text: string): void;
  end(): void;
}

/** Training progress from `startStep` (a resumed run's ETA counts only the steps it ran). */
export function stderrProgress(startStep: number): Progress {
  const tty = process.stderr.isTTY === true;
  const t0 = Date.now();
  let drawn = false;
  const eta = (done: number, total: number) => {
    const per = (Date.now() - t0) / Math.max(1, done - startStep);
    const s = Math.round((per * (total - done)) / 1000);
    return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
  };
  return {
    step(done, total, loss) {
      if (tty) {
        const width = 30;
        const fill = Math.round((width * done) / total);
        process.stderr.write(
          `\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} loss ${loss.toFixed(4)} eta ${eta(done, total)}  `,
        );
        drawn = true;
      } else if (done === total || done % Math.max(1, Math.round(total / 20)) === 0) {
        process.stderr.write(`step ${done}/${total} loss ${loss.toFixed(4)} eta ${eta(done, total)}\n`);
      }
    },
    message(text) {
      if (drawn) process.stderr.write('\n');
      drawn = false;
      process.stderr.write(`${text}\n`);
    },
    end() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}
