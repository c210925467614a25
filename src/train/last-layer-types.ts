// The inputs of last-layer mode (last-layer.ts, and its single-token fast path last-layer-rows.ts).

/**
 * Precomputed hidden states of every scored position, and which positions (rows) and target tokens
 * make up each response (CSR layout: response j of pair i uses entries offsets[i]..offsets[i+1]).
 */
export interface ResponseFeatures {
  d: number;
  /** [R, d] hidden states. */
  hidden: Float32Array;
  chosen: { offsets: Int32Array; rows: Int32Array; targets: Int32Array };
  rejected: { offsets: Int32Array; rows: Int32Array; targets: Int32Array };
}

export interface LastLayerOptions {
  /** Initial unembedding W_U(0) [V, d], the reference of the delta norm. */
  w0: Float32Array;
  /** Current weights when resuming (default w0); both are copied, never written. */
  w?: Float32Array;
  vocabSize: number;
  features: ResponseFeatures;
  /**
   * The optimizer's weight decay. With 0, rows of W without gradient never move (SGD's momentum and
   * AdamW's moments stay 0 for them), which the single-token path uses to train the answer rows only.
   */
  weightDecay: number;
  /** Writes the trained W into a model folder (HF layout). */
  save(dir: string, w: Float32Array): Promise<void>;
  description: string;
}
