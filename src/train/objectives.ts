// Preference objectives as functions of the margin logit h = beta * ((pc - rc) - (pr - rr))
// (theory.md s.1: h is the reward margin m), with TRL's DPOTrainer formulas:
//   dpo    (TRL "sigmoid"): l = -(1-eps) log s(h) - eps log s(-h)   eps = --label-smoothing, default 0
//   robust (conservative DPO, cDPO, Mitchell 2023): the same loss with eps > 0 required, default 0.1
//   hinge  (TRL "hinge"):   l = relu(1 - h)
//   ipo    (TRL "ipo"):     l = (h/beta - 1/(2 beta))^2              (TRL squares the unscaled logits)
// "robust" here is conservative DPO: DPO against preference labels assumed flipped with probability
// eps (0.1 is the common choice, and the default). TRL's loss_type "robust" (Chowdhury et al. 2024, an unbiased estimator
// that divides by 1 - 2 eps) is a different loss and is not offered.
// Each returns the loss and dl/dh, so the trainer can push the gradient into the policy's log-probs:
// dl/dpc = beta dl/dh, dl/dpr = -beta dl/dh.

export const OBJECTIVES = ['dpo', 'ipo', 'hinge', 'robust'] as const;
export type ObjectiveName = (typeof OBJECTIVES)[number];

export interface ObjectiveParams {
  beta: number;
  /** eps of conservative DPO (label smoothing); 0 for plain DPO. Must be < 0.5. */
  labelSmoothing: number;
}

export interface LossAndSlope {
  loss: number;
  /** dl/dh */
  slope: number;
}

/** log sigmoid(x), stable for large |x|. */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** The loss of one pair and its derivative in h. d/dh log s(h) = s(-h). */
export function objectiveLoss(name: ObjectiveName, h: number, p: ObjectiveParams): LossAndSlope {
  const eps = p.labelSmoothing;
  switch (name) {
    case 'dpo':
    case 'robust':
      // -(1-eps) log s(h) - eps log s(-h) = -log s(h) + eps h (log s(h) - log s(-h) = h): stable, and
      // exactly ln 2 at h = 0 for every eps.
      return { loss: -logSigmoid(h) + eps * h, slope: -sigmoid(-h) + eps };
    case 'hinge':
      return { loss: Math.max(0, 1 - h), slope: h < 1 ? -1 : 0 };
    case 'ipo': {
      const r = h / p.beta - 1 / (2 * p.beta);
      return { loss: r * r, slope: (2 * r) / p.beta };
    }
  }
}

/** The margin logit h of one pair from policy (pc, pr) and reference (rc, rr) response log-probs. */
export function marginLogit(beta: number, pc: number, pr: number, rc: number, rr: number): number {
  return beta * (pc - rc - (pr - rr));
}
