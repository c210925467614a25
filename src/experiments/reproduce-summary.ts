// What `prefdyn reproduce` writes to summary.json, shared by the experiments (which fill it) and the
// renderers in report/ (REPORT.md, the terminal summary).
import type { EmbeddingPositionChoice } from './context.js';
import type { Finding } from './findings.js';
import type { MisalignmentResult } from './misalignment.js';
import type { PrioritisationResult } from './prioritisation.js';
import type { Profile } from './profile.js';
import type { Protocol } from './protocol.js';
import type { SummaryTest } from './protocol-tests.js';
import type { SingleBehavioursResult } from './single-behaviours.js';
import type { Provenance } from '../tensor/kernels/provenance.js';

export interface ReproduceSummary {
  version: 1;
  model: string;
  seed: number;
  /** prefdyn's version, kernels, BLAS and threads that computed every number here. */
  provenance: Provenance;
  profile: Profile;
  /** Fixed before any run: behaviours, seeds, modes, measures, predictors, decision rule. */
  protocol: Protocol;
  /** Hidden size of the model's embeddings. */
  d: number;
  /** Where every analysis here took g(x): question (the official code's) or newline (model/embed.ts). */
  embedding_position: EmbeddingPositionChoice;
  data: { source: string; pairs: { group: string; pairs: number }[] };
  single: SingleBehavioursResult;
  prioritisation: PrioritisationResult;
  misalignment: MisalignmentResult;
  findings: Finding[];
  /** Every test of the three experiments, one shape (protocol-tests.ts). */
  tests: SummaryTest[];
  caveats: string[];
}
