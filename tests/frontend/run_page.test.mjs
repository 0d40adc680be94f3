import assert from "node:assert/strict";
import { test } from "node:test";
import { iterationRate, lossAxes, runTiming, smooth, truncateSeries } from "../../frontend/scripts/logic/metrics.js";

test("terms of another scale go to the second axis", () => {
  const series = {
    loss: { step: [1, 2, 3], value: [0.2, 0.1, 0.05] },
    "loss/position": { step: [1, 2, 3], value: [0.19, 0.09, 0.04] },
    "loss/activation_l2": { step: [1, 2, 3], value: [1e-7, 2e-7, 3e-7] },
  };
  assert.deepEqual(lossAxes(series, Object.keys(series)), { loss: "y", "loss/position": "y", "loss/activation_l2": "y2" });
  assert.deepEqual(lossAxes({ loss: { step: [], value: [] } }, ["loss"]), { loss: "y" });
});

test("smoothing is a debiased moving average", () => {
  assert.deepEqual(smooth([1, 2, 3], 0), [1, 2, 3]);
  const s = smooth([2, 2, 2, 2], 0.9);
  s.forEach((v) => assert.ok(Math.abs(v - 2) < 1e-12)); // a constant stays constant (no start-up bias)
  const t = smooth([0, 10], 0.5);
  assert.ok(Math.abs(t[1] - 10 * 0.5 / 0.75) < 1e-12);
});

test("live timing counts up while running and estimates the rest", () => {
  const run = { status: "running", duration: 10, step: 50, n_iterations: 150 };
  assert.deepEqual(runTiming(run, 5, 10), { seconds: 15, rate: 10, eta: 10 });
  assert.deepEqual(runTiming({ ...run, status: "finished" }, 5, 10), { seconds: 10, rate: 10, eta: null });
  assert.equal(runTiming({ ...run, duration: null }, 5, null).seconds, null);
  assert.equal(iterationRate([[0, 0], [1, 10], [2, 20]]), 10);
  assert.equal(iterationRate([[0, 5]]), null);
  assert.equal(iterationRate([[0, 0], [100, 50], [101, 60]], 20), 10); // the last 20 s only
});

test("a resume truncates the series after its checkpoint", () => {
  const s = { loss: { step: [1, 2, 3, 4], value: [4, 3, 2, 1] } };
  assert.deepEqual(truncateSeries(s, 2), { loss: { step: [1, 2], value: [4, 3] } });
  assert.deepEqual(truncateSeries(s, 9).loss.step, [1, 2, 3, 4]);
});
