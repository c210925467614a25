// What is bundled, with sizes counted from the files themselves (so the list cannot go stale).
import { HH_RLHF_GROUP, bundledRowCount, hhRlhfFile, personaBehaviours, personaFile } from './bundled.js';

export interface BundledSource {
  name: string;
  description: string;
  license: string;
  /** Rows in the files; for hh-rlhf a few rows are skipped when loaded (see `data stats hh-rlhf`). */
  rows: number;
  groups: number;
  attribution: string;
}

export interface Catalog {
  sources: BundledSource[];
  persona_behaviours: { name: string; pairs: number }[];
}

export function bundledSources(): Catalog {
  const behaviours = personaBehaviours().map((name) => ({ name, pairs: bundledRowCount(personaFile(name)) }));
  return {
    sources: [
      {
        name: 'persona',
        description: 'Anthropic persona statements (model-written evaluations): answer " Yes" or " No"',
        license: 'CC BY 4.0',
        rows: behaviours.reduce((s, b) => s + b.pairs, 0),
        groups: behaviours.length,
        attribution: 'data/persona/README.md',
      },
      {
        name: 'hh-rlhf',
        description: `Anthropic HH-RLHF ${HH_RLHF_GROUP} test split: dialogue pairs`,
        license: 'MIT',
        rows: bundledRowCount(hhRlhfFile),
        groups: 1,
        attribution: 'data/hh-rlhf/README.md',
      },
    ],
    persona_behaviours: behaviours,
  };
}
