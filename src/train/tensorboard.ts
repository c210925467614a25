// `train --report-to tensorboard`: the metric lines of a run also as TensorBoard scalars, one events
// folder per group under RUN/tensorboard/ (so TensorBoard lists the groups as runs and overlays them).
// Tags follow Hugging Face's Trainer: "train/<key>" for train lines, "eval/<key>" for test lines.
import path from 'node:path';
import { EventFileWriter } from '../util/tensorboard-events.js';
import { TENSORBOARD_DIR, type MetricsLine } from './run-folder.js';

/**
 * A group's folder name: letters, digits, '_' and '-' kept, every other byte as %XX (so the map is
 * one-to-one and no group name can be "..", contain a separator or collide with another).
 */
export function groupFolderName(group: string): string {
  return [...Buffer.from(group, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9_-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

export class TensorboardWriter {
  private readonly writers = new Map<string, EventFileWriter>();

  constructor(readonly runDir: string) {}

  /** One event per line (step x split x group) with every numeric key except step, epoch and n. */
  write(lines: MetricsLine[]): void {
    for (const line of lines) {
      let w = this.writers.get(line.group);
      if (!w) {
        w = new EventFileWriter(path.join(this.runDir, TENSORBOARD_DIR, groupFolderName(line.group)));
        this.writers.set(line.group, w);
      }
      const prefix = line.split === 'train' ? 'train' : 'eval';
      const scalars: [string, number][] = [];
      for (const [key, value] of Object.entries(line)) {
        if (typeof value === 'number' && key !== 'step' && key !== 'epoch' && key !== 'n')
          scalars.push([`${prefix}/${key}`, value]);
      }
      w.scalars(line.step, scalars);
    }
  }

  close(): void {
    for (const w of this.writers.values()) w.close();
  }
}
