// Every command, loaded lazily so `prefdyn --help` starts fast. One line per command; keep sorted.
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  load: () => Promise<{ command: Command }>;
}

export const commands: CommandEntry[] = [
  { name: 'analyze', load: () => import('./analyze.js') },
  { name: 'compare', load: () => import('./compare.js') },
  { name: 'data export', load: () => import('./data-export.js') },
  { name: 'data list', load: () => import('./data-list.js') },
  { name: 'data stats', load: () => import('./data-stats.js') },
  { name: 'doctor', load: () => import('./doctor.js') },
  { name: 'embed', load: () => import('./embed.js') },
  { name: 'logprobs', load: () => import('./logprobs.js') },
  { name: 'model info', load: () => import('./model-info.js') },
  { name: 'model init', load: () => import('./model-init.js') },
  { name: 'model merge', load: () => import('./model-merge.js') },
  { name: 'pretrain', load: () => import('./pretrain.js') },
  { name: 'report', load: () => import('./report.js') },
  { name: 'reproduce', load: () => import('./reproduce.js') },
  { name: 'serve', load: () => import('./serve.js') },
  { name: 'start', load: () => import('./start.js') },
  { name: 'train', load: () => import('./train.js') },
];
