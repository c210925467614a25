// Every command, loaded lazily so `prefdyn --help` starts fast. One line per command; keep sorted.
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  load: () => Promise<{ command: Command }>;
}

export const commands: CommandEntry[] = [
];
