// The paired t-test over seeds (src/analysis/t-test.ts) against the closed forms of Student's t with 1
// and 2 degrees of freedom.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedTTest, regularizedIncompleteBeta, studentTCdf, studentTQuantile } from '../src/analysis/t-test.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("Student's t CDF: df 1 is Cauchy, df 2 is 1/2 + t / (2 sqrt(2 + t^2))", () => {
  for (const t of [-30, -2.5, -0.3, 0, 0.7, 1, 4.1, 50]) {
    close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI);
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)));
  }
  // I_x(1, 1) = x and I_x(a, 1) = x^a.
  close(regularizedIncompleteBeta(0.3, 1, 1), 0.3);
  close(regularizedIncompleteBeta(0.6, 2.5, 1), 0.6 ** 2.5);
});

test('t quantile: df 2 has q(p) = a sqrt(2 / (1 - a^2)), a = 2p - 1; large df tends to the normal 1.959964', () => {
  close(studentTQuantile(0.975, 2), 0.95 * Math.sqrt(2 / (1 - 0.95 ** 2)), 1e-9);
  close(studentTQuantile(0.975, 1), Math.tan(Math.PI * 0.475), 1e-9);
  close(studentTQuantile(0.975, 1e6), 1.959964, 1e-5);
});

test('paired t-test of [1, 2, 3]: t = 2 sqrt(3), df 2, p = 1/2 - t / (2 sqrt(2 + t^2)), interval 2 +- q / sqrt(3)', () => {
  const r = pairedTTest([1, 2, 3]);
  const t = 2 * Math.sqrt(3);
  close(r.p_value, 0.5 - t / (2 * Math.sqrt(2 + t * t)));
  const q = 0.95 * Math.sqrt(2 / (1 - 0.95 ** 2));
  close(r.interval![0], 2 - q / Math.sqrt(3), 1e-9);
  close(r.interval![1], 2 + q / Math.sqrt(3), 1e-9);
  assert.equal(r.method, 'one-sided paired t-test (3 seeds, 2 df)');
  assert.ok(pairedTTest([-1, -2, -3]).p_value > 0.95, 'the other direction');
  for (const [d, why] of [
    [[1], 'undefined: fewer than 2 seeds'],
    [[2, 2], 'undefined: the differences do not vary'],
    // Equal differences whose mean does not round exactly: a 1e-17 spread must not give p = 0.
    [[0.1, 0.1, 0.1], 'undefined: the differences do not vary'],
    [[1, -Infinity], 'undefined: a value is not finite'],
  ] as const) {
    const u = pairedTTest(d);
    assert.ok(Number.isNaN(u.p_value));
    assert.equal(u.interval, null);
    assert.equal(u.method, why);
  }
});
