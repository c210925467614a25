// The analysis report's types: the JSON `prefdyn analyze --json` writes (architecture.md contract 5), shared by
// analyze (which builds it), warnings (which read its rows) and everything that reads a report.

export interface AnalysisWarning {
  kind: string;
  groups?: string[];
  message: string;
}

/** One group's row of the analysis JSON (contract 5); snake_case as in the JSON. */
export interface GroupAnalysis {
  group: string;
  n_pos: number;
  n_neg: number;
  delta: number;
  /** sqrt(max(0, delta^2 - tr(S+)/n+ - tr(S-)/n-)): the square root of the unbiased estimate of Delta^2 (theory.md s.7). */
  delta_unbiased: number;
  delta_ci: [number, number] | null;
  concentration: number;
  trace: number;
  delta_over_sqrt_concentration: number;
  fisher: number;
  tail_alpha: number | null;
  tail_K: number | null;
  in_mix: boolean;
  mix_weight: number;
  shared_update: number;
  margin_velocity: number;
  predicted_rank: number;
  rank_ci: [number, number] | null;
  one_step_accuracy: number;
  one_step_accuracy_bound: number;
}

export interface AnalysisReport {
  version: 1;
  source: { rows: number; d: number; embeddings?: string };
  /** embedding_position: where g(x) was taken (question, newline, response; model/embed.ts), null when the embeddings file does not say. */
  settings: { mix: string[]; bootstrap: number; seed: number; embedding_position: string | null };
  methods: Record<string, string>;
  /** Sorted by predicted rank (fastest first). */
  groups: GroupAnalysis[];
  priority: { groups: string[]; gap: number[][] };
  /** Gram matrices of d_b = mu+ - mu- and c_b = mean s g, so predictions can be redone for another mix. */
  gram: { groups: string[]; dd: number[][]; cc: number[][] };
  order: { groups: string[]; too_close: { a: string; b: string; agreement: number }[] };
  skipped: { group: string; n_pos: number; n_neg: number }[];
  warnings: AnalysisWarning[];
}
