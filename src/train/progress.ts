// Progress on stderr: a redrawn bar (steps, loss, ETA) on a terminal, plain lines otherwise
// (about 20 per run, plus the last), so logs of background runs stay readable.
import type { Progress } from './trainer.js';

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
