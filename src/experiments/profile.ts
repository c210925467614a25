// The settings of a reproduction: the paper's protocol (theory.md s.6) where a tiny CPU model can
// follow it, scaled where it cannot (each deviation is named in the report's caveats).
import { testSize, DEFAULT_TEST_FRACTION } from '../data/split.js';
import type { TrainMode } from '../train/config.js';

export type ProfileName = 'quick' | 'full';

export interface Profile {
  name: ProfileName;
  /** Pairs drawn per behaviour (seeded); null: all of them (1,000 for each of the paper's five). */
  pairsPerBehaviour: number | null;
  beta: number;
  /** Last-layer DPO, experiments (a) and (b): plain SGD, batch sampled each step (theory.md s.6). */
  lastLayer: { steps: number; batchSize: number; evalEvery: number; lrScale: number };
  /** Every LoRA run (r 8, alpha 32, dropout 0.05 on q_proj, v_proj: the paper's adapter). */
  lora: { microBatch: number; evalEvery: number };
  /** Experiment (a)'s LoRA runs of one behaviour each. */
  loraAlone: { steps: number; lr: number; effectiveBatch: number };
  /**
   * Experiment (c)'s alignment: `epochs` passes over the behaviour's training pairs at `effectiveBatch`
   * pairs a step (the paper: one epoch of 128) at the paper's lr times each of `multiples` in turn, until
   * the LoRA run's final held-out policy accuracy on the behaviour is at least `movedGain` above its step-0
   * value (the model moved); else the last multiple, reported as such.
   */
  align: { paperLr: number; multiples: number[]; epochs: number; effectiveBatch: number; movedGain: number };
  /**
   * Experiment (c)'s flipped runs; last-layer runs use the lr and batch of (a), LoRA runs the alignment's lr
   * and `effectiveBatch` pairs a step.
   */
  flip: { mode: Extract<TrainMode, 'last-layer' | 'lora'>; steps: number; effectiveBatch: number };
  /** Bootstrap replicates of the analysis and of the correlations. */
  bootstrap: number;
}

const QUICK: Profile = {
  name: 'quick',
  pairsPerBehaviour: null,
  beta: 0.01,
  lastLayer: { steps: 100, batchSize: 128, evalEvery: 10, lrScale: 1 },
  lora: { microBatch: 8, evalEvery: 5 },
  // Ten LoRA runs of more pairs would take npm start past 5 minutes on 2 cores.
  loraAlone: { steps: 20, lr: 1e-2, effectiveBatch: 32 },
  // From 1,000 x the paper's lr, so that npm start stays short; the full profile tries 1 x and up.
  align: { paperLr: 1e-5, multiples: [1000, 10000], epochs: 1, effectiveBatch: 128, movedGain: 0.2 },
  flip: { mode: 'last-layer', steps: 100, effectiveBatch: 32 },
  bootstrap: 200,
};

// About one epoch for each LoRA run of (a) (30 x 32 pairs of 900), so that 30 behaviours x 3 seeds x 2
// modes run in about half an hour on one core with prefdyn-tiny.
const FULL: Profile = {
  ...QUICK,
  name: 'full',
  lora: { ...QUICK.lora, evalEvery: 3 },
  loraAlone: { steps: 30, lr: 1e-2, effectiveBatch: 32 },
  align: { ...QUICK.align, multiples: [1, 10, 100, 1000, 10000] },
  flip: { mode: 'lora', steps: 30, effectiveBatch: 32 },
  bootstrap: 1000,
};

export interface ProfileOverrides {
  /** Every step count (last-layer, LoRA and flip runs; alignment keeps its epochs): for smoke tests. */
  steps?: number;
  pairsPerBehaviour?: number;
}

export function profileFor(name: ProfileName, o: ProfileOverrides = {}): Profile {
  const base = name === 'quick' ? QUICK : FULL;
  const p: Profile = structuredClone(base);
  if (o.pairsPerBehaviour !== undefined) p.pairsPerBehaviour = o.pairsPerBehaviour;
  if (o.steps !== undefined) {
    p.lastLayer.steps = o.steps;
    p.loraAlone.steps = o.steps;
    p.flip.steps = o.steps;
    p.lastLayer.evalEvery = Math.min(p.lastLayer.evalEvery, o.steps);
    p.lora.evalEvery = Math.min(p.lora.evalEvery, o.steps);
  }
  return p;
}

/** Training pairs of one behaviour of n pairs after the paper's 90/10 split. */
export const trainPairsOf = (n: number): number => n - testSize(n, DEFAULT_TEST_FRACTION);

/**
 * The profile with its batches capped at `trainPairs` (the smallest single-behaviour training split),
 * since a batch is drawn from one split: each effective batch becomes the largest multiple of the
 * micro-batch within it (the micro-batch itself capped).
 */
export function fitBatches(p: Profile, trainPairs: number): Profile {
  if (trainPairs < 1) throw new Error(`a behaviour has no training pairs; give each at least 2 pairs`);
  const microBatch = Math.min(p.lora.microBatch, trainPairs);
  const fit = (effectiveBatch: number): number =>
    microBatch * Math.max(1, Math.floor(Math.min(effectiveBatch, trainPairs) / microBatch));
  return {
    ...p,
    lastLayer: { ...p.lastLayer, batchSize: Math.min(p.lastLayer.batchSize, trainPairs) },
    lora: { ...p.lora, microBatch },
    loraAlone: { ...p.loraAlone, effectiveBatch: fit(p.loraAlone.effectiveBatch) },
    align: { ...p.align, effectiveBatch: fit(p.align.effectiveBatch) },
    flip: { ...p.flip, effectiveBatch: fit(p.flip.effectiveBatch) },
  };
}
