// Live updates for `prefdyn serve`: the server watches each run's metrics.jsonl that a page asks about
// (a stat every WATCH_INTERVAL_MS: works on every filesystem, where inotify-based fs.watch misses
// writes on network and container mounts) and pushes one server-sent event per change to every page
// watching it. One stat per file whatever the number of pages; the page then fetches the figures once.
// The first stat is taken when the first page subscribes, before it is told it is subscribed, so no
// line written after that goes unnoticed.
import { METRICS_FILE } from '../train/run-folder.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Entry } from './discover.js';

export const WATCH_INTERVAL_MS = 200;

type Listener = (runId: string) => void;

/** size:mtime of a file, or "missing": what a change is measured against, and the figures' cache key. */
export function stampOf(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

interface Watch {
  set: Set<Listener>;
  timer: NodeJS.Timeout;
}

export class MetricsWatcher {
  private readonly watches = new Map<string, Watch>();

  /** Calls `listener(run.id)` each time the run's metrics.jsonl changes; returns the unsubscribe function. */
  watch(run: Entry, listener: Listener): () => void {
    let w = this.watches.get(run.id);
    if (!w) {
      const file = path.join(run.dir, METRICS_FILE);
      const set = new Set<Listener>();
      let last = stampOf(file);
      const timer = setInterval(() => {
        const now = stampOf(file);
        if (now === last) return;
        last = now;
        for (const l of set) l(run.id);
      }, WATCH_INTERVAL_MS);
      timer.unref();
      w = { set, timer };
      this.watches.set(run.id, w);
    }
    const entry = w;
    entry.set.add(listener);
    return () => {
      entry.set.delete(listener);
      if (entry.set.size === 0) {
        clearInterval(entry.timer);
        this.watches.delete(run.id);
      }
    };
  }

  close(): void {
    for (const { timer } of this.watches.values()) clearInterval(timer);
    this.watches.clear();
  }
}
