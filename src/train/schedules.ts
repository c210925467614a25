// Learning-rate schedules with Hugging Face semantics (transformers.optimization):
// get_constant_schedule_with_warmup, get_linear_schedule_with_warmup, get_cosine_schedule_with_warmup
// (num_cycles = 0.5). `step` counts optimizer updates already taken, so the first update uses
// factor(0); with warm-up that is 0, exactly as in transformers.

export const SCHEDULES = ['constant', 'linear', 'cosine'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export interface ScheduleParams {
  name: ScheduleName;
  warmupSteps: number;
  totalSteps: number;
}

/** The multiplier of the base learning rate for the update that follows `step` completed updates. */
export function lrFactor(p: ScheduleParams, step: number): number {
  if (step < p.warmupSteps) return step / Math.max(1, p.warmupSteps);
  if (p.name === 'constant') return 1;
  const rest = Math.max(1, p.totalSteps - p.warmupSteps);
  if (p.name === 'linear') return Math.max(0, (p.totalSteps - step) / rest);
  const progress = (step - p.warmupSteps) / rest;
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
