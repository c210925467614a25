// Live updates for `prefdyn serve`: the server watches each run's metrics.jsonl that a page asks about
// (fs.watchFile, a stat every WATCH_INTERVAL_MS: works on every filesystem, where inotify-based
// fs.watch misses writes on network and container mounts) and pushes one server-sent event per change
// to every page watching it. One stat per file whatever the number of pages; the page then fetches
// the figures once.
import fs from 'node:fs';
import path from 'node:path';
import type { Entry } from './discover.js';

export const WATCH_INTERVAL_MS = 200;

type Listener = (runId: string) => void;

export class MetricsWatcher {
  private readonly listeners = new Map<
    string,
    { file: string; set: Set<Listener>; onStat: (cur: fs.Stats, prev: fs.Stats) => void }
  >();

  /** Calls `listener(run.id)` each time the run's metrics.jsonl changes; returns the unsubscribe function. */
  watch(run: Entry, listener: Listener): () => void {
    let w = this.listeners.get(run.id);
    if (!w) {
      const file = path.join(run.dir, 'metrics.jsonl');
      const set = new Set<Listener>();
      const onStat = (cur: fs.Stats, prev: fs.Stats) => {
        if (cur.size !== prev.size || cur.mtimeMs !== prev.mtimeMs) for (const l of set) l(run.id);
      };
      w = { file, set, onStat };
      this.listeners.set(run.id, w);
      fs.watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, onStat);
    }
    const entry = w;
    entry.set.add(listener);
    return () => {
      entry.set.delete(listener);
      if (entry.set.size === 0) {
        fs.unwatchFile(entry.file, entry.onStat);
        this.listeners.delete(run.id);
      }
    };
  }

  close(): void {
    for (const { file, onStat } of this.listeners.values()) fs.unwatchFile(file, onStat);
    this.listeners.clear();
  }
}
