import { test } from 'node:test';
import assert from 'node:assert/strict';
import { objectiveLoss, marginLogit, OBJECTIVES, type ObjectiveName } from '../src/train/objectives.js';

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('dpo at h = 0 is ln 2 with slope -1/2 (step 0 of every run); with label smoothing (and robust) still exactly ln 2', () => {
  const r = objectiveLoss('dpo', 0, { beta: 0.1, labelSmoothing: 0 });
  assert.equal(r.loss, Math.LN2);
  assert.equal(r.slope, -0.5);
  for (const eps of [0.1, 0.3, 0.45]) {
    for (const name of ['dpo', 'robust'] as const) {
      const s = objectiveLoss(name, 0, { beta: 0.1, labelSmoothing: eps });
      assert.equal(s.loss, Math.LN2, `${name} eps ${eps}`);
      assert.equal(s.slope, -0.5 + eps, `${name} eps ${eps}`);
    }
  }
});

test('closed forms of each objective', () => {
  const beta = 0.2;
  const h = 0.7;
  const s = (x: number) => 1 / (1 + Math.exp(-x));
  close(objectiveLoss('dpo', h, { beta, labelSmoothing: 0 }).loss, -Math.log(s(h)), 1e-12, 'dpo');
  close(
    objectiveLoss('dpo', h, { beta, labelSmoothing: 0.1 }).loss,
    -0.9 * Math.log(s(h)) - 0.1 * Math.log(s(-h)),
    1e-12,
    'cdpo',
  );
  // robust is conservative DPO: -(1-eps) log s(h) - eps log s(-h), not TRL's (Chowdhury et al.) estimator.
  close(
    objectiveLoss('robust', h, { beta, labelSmoothing: 0.1 }).loss,
    -0.9 * Math.log(s(h)) - 0.1 * Math.log(s(-h)),
    1e-12,
    'robust',
  );
  close(
    objectiveLoss('robust', -h, { beta, labelSmoothing: 0.25 }).loss,
    -0.75 * Math.log(s(-h)) - 0.25 * Math.log(s(h)),
    1e-12,
    'robust at -h',
  );
  // Its minimum is where s(h) = 1 - eps (slope 0), at h = log((1-eps)/eps): a flip-rate-aware target margin.
  assert.ok(Math.abs(objectiveLoss('robust', Math.log(0.9 / 0.1), { beta, labelSmoothing: 0.1 }).slope) < 1e-15);
  assert.equal(objectiveLoss('hinge', h, { beta, labelSmoothing: 0 }).loss, 1 - h);
  assert.equal(objectiveLoss('hinge', 1.5, { beta, labelSmoothing: 0 }).loss, 0);
  // IPO squares the unscaled logit z = h / beta minus 1/(2 beta) (TRL).
  close(objectiveLoss('ipo', h, { beta, labelSmoothing: 0 }).loss, (h / beta - 1 / (2 * beta)) ** 2, 1e-12, 'ipo');
});

test('slopes equal central finite differences for every objective', () => {
  const params = { beta: 0.3, labelSmoothing: 0.15 };
  for (const name of OBJECTIVES as readonly ObjectiveName[]) {
    const p = name === 'ipo' || name === 'hinge' ? { ...params, labelSmoothing: 0 } : params;
    for (const h of [-3.1, -0.4, 0.25, 2.2, 40]) {
      const e = 1e-5;
      const fd = (objectiveLoss(name, h + e, p).loss - objectiveLoss(name, h - e, p).loss) / (2 * e);
      close(objectiveLoss(name, h, p).slope, fd, 1e-6, `${name} at h=${h}`);
    }
  }
});

test('dpo is stable far from zero', () => {
  const r = objectiveLoss('dpo', -800, { beta: 0.1, labelSmoothing: 0 });
  assert.equal(r.loss, 800);
  assert.equal(r.slope, -1);
  assert.equal(objectiveLoss('dpo', 800, { beta: 0.1, labelSmoothing: 0 }).loss, 0);
});

test('margin logit is beta times the difference of log-ratios', () => {
  close(marginLogit(0.5, -1, -3, -2, -2.5), 0.5 * (-1 + 2 - (-3 + 2.5)), 1e-15, 'h');
});
