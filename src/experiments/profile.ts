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
  /** Experiment (c)'s alignment: LoRA DPO (r 8, alpha 32, dropout 0.05 on q_proj, v_proj: the paper's). */
  align: { steps: number; lr: number; microBatch: number; effectiveBatch: number; evalEvery: number };
  /** Experiment (a)'s LoRA runs of one behaviour each: alignment's settings but this effective batch. */
  loraAlone: { effectiveBatch: number };
  /** Experiment (c)'s two flipped runs; last-layer runs use the lr of (a), LoRA runs align.lr. */
  flip: { mode: Extract<TrainMode, 'last-layer' | 'lora'>; steps: number };
  /** Bootstrap replicates of the analysis and of the correlations. */
  bootstrap: number;
}

const QUICK: Profile = {
  name: 'quick',
  pairsPerBehaviour: null,
  beta: 0.01,
  lastLayer: { steps: 100, batchSize: 128, evalEvery: 10, lrScale: 1 },
  align: { steps: 20, lr: 1e-2, microBatch: 8, effectiveBatch: 128, evalEvery: 5 },
  // Ten LoRA runs at 128 pairs a step would take npm start past 5 minutes on 2 cores.
  loraAlone: { effectiveBatch: 32 },
  flip: { mode: 'last-layer', steps: 100 },
  bootstrap: 200,
};

const FULL: Profile = {
  ...QUICK,
  name: 'full',
  align: { ...QUICK.align, steps: 100, lr: 3e-3, evalEvery: 10 },
  loraAlone: { effectiveBatch: 128 },
  flip: { mode: 'lora', steps: 50 },
  bootstrap: 1000,
};

export interface ProfileOverrides {
  /** Every step count (last-layer, alignment, flip runs): for smoke tests. */
  steps?: number;
  pairsPerBehaviour?: number;
}

export function profileFor(name: ProfileName, o: ProfileOverrides = {}): Profile {
  const base = name === 'quick' ? QUICK : FULL;
  const p: Profile = structuredClone(base);
  if (o.pairsPerBehaviour !== undefined) p.pairsPerBehaviour = o.pairsPerBehaviour;
  if (o.steps !== undefined) {
    p.lastLayer.steps = o.steps;
    p.align.steps = o.steps;
    p.flip.steps = o.steps;
    p.lastLayer.evalEvery = Math.min(p.lastLayer.evalEvery, o.steps);
    p.align.evalEvery = Math.min(p.align.evalEvery, o.steps);
  }
  return p;
}

/** Training pairs of one behaviour of n pairs after the paper's 90/10 split. */
export const trainPairsOf = (n: number): number => n - testSize(n, DEFAULT_TEST_FRACTION);

/**
 * The profile with its batches capped at `trainPairs` (the smallest single-behaviour training split),
 * since a batch is drawn from one split. Micro-batches stay as they are; accumulation shrinks.
 */
export function fitBatches(p: Profile, trainPairs: number): Profile {
  if (trainPairs < 1) throw new Error(`a behaviour has no training pairs; give each at least 2 pairs`);
  const microBatch = Math.min(p.align.microBatch, trainPairs);
  const effectiveBatch =
    microBatch * Math.max(1, Math.floor(Math.min(p.align.effectiveBatch, trainPairs) / microBatch));
  return {
    ...p,
    lastLayer: { ...p.lastLayer, batchSize: Math.min(p.lastLayer.batchSize, trainPairs) },
    align: { ...p.align, microBatch, effectiveBatch },
    loraAlone: { effectiveBatch: Math.min(effectiveBatch, p.loraAlone.effectiveBatch) },
  };
}
