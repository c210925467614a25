// `prefdyn data list`: the bundled sources and the persona behaviours with their sizes.
import type { Command } from './command.js';
import { formatCount, formatTable } from './data-table.js';
import { bundledSources } from '../data/catalog.js';

export const command: Command = {
  name: 'data list',
  summary: 'the bundled data sources and the 135 persona behaviours',
  help: `Usage: prefdyn data list [--json]

Lists the bundled data sources (usable wherever a command takes <source>) and every persona behaviour
with its number of pairs. Besides these, <source> can be a path to your own .jsonl or .json file.

Options:
  --json   print the list as JSON

Example:
  prefdyn data list`,
  options: { json: { type: 'boolean' } },
  async run({ values }) {
    const catalog = bundledSources();
    if (values.json) {
      process.stdout.write(JSON.stringify(catalog, null, 2) + '\n');
      return;
    }
    const lines = ['Bundled sources:', ''];
    lines.push(
      formatTable(
        ['source', 'rows', 'groups', 'licence', 'description'],
        catalog.sources.map((s) => [s.name, formatCount(s.rows), formatCount(s.groups), s.license, s.description]),
        'lrrll',
      ),
    );
    lines.push('', 'A path to a .jsonl or .json file with prompt, chosen, rejected (and optional group) also works.');
    lines.push('', `Persona behaviours (select with persona:<behaviour>[,<behaviour>...]):`, '');
    lines.push(
      formatTable(
        ['behaviour', 'pairs'],
        catalog.persona_behaviours.map((b) => [b.name, formatCount(b.pairs)]),
        'lr',
      ),
    );
    process.stdout.write(lines.join('\n') + '\n');
  },
};
