import assert from "node:assert/strict";
import { test } from "node:test";
import {
  duplicateTerms,
  lateralDeviation,
  lerpPoints,
  lossKeys,
  mean,
  metricFromMessage,
  orderKeys,
  progressText,
  transpose,
} from "../../frontend/scripts/logic/metrics.js";

test("key ordering", () => {
  assert.deepEqual(orderKeys(["lr", "loss/position", "loss", "grad_norm"]), ["loss", "loss/position", "grad_norm", "lr"]);
  assert.deepEqual(lossKeys(["lr", "loss/b", "loss/a", "loss"]), ["loss", "loss/a", "loss/b"]);
});

test("metric messages", () => {
  assert.deepEqual(metricFromMessage({ type: "metric", step: 3, values: { loss: 1 } }), { step: 3, values: { loss: 1 } });
  assert.deepEqual(metricFromMessage({ step: 4, key: "lr", value: 0.1 }), { step: 4, values: { lr: 0.1 } });
});

test("lateral deviation of a straight and a curved path", () => {
  const straight = [[0, 0], [0.5, 0], [1, 0]];
  const curved = [[0, 0], [0.5, 0.2], [1, 0]];
  assert.deepEqual(lateralDeviation([straight, curved], [[1, 0], [1, 0]]), [0, 0.2]);
  assert.deepEqual(lateralDeviation([[[1, 1], [1, 1]]], [[1, 1]]), [0]);
});

test("helpers", () => {
  assert.equal(mean([1, 2, 3]), 2);
  assert.ok(Number.isNaN(mean([])));
  assert.deepEqual(transpose([[1, 2], [3, 4], [5, 6]]), [[1, 3, 5], [2, 4, 6]]);
  assert.equal(progressText(5, 20), "5 / 20 (25%)");
  assert.deepEqual(lerpPoints([[0, 0]], [[2, 4]], 0.5), [[1, 2]]);
  assert.deepEqual(lerpPoints(null, [[2, 4]], 0.5), [[2, 4]]);
});

test("duplicateTerms finds a loss term that is the total", () => {
  const series = {
    loss: { step: [1, 2, 3], value: [0.5, 0.4, 0.3] },
    "loss/position": { step: [1, 2, 3], value: [0.5, 0.4, 0.3] },
    "loss/activation_l2": { step: [1, 2, 3], value: [1e-7, 1e-7, 1e-7] },
    grad_norm: { step: [1, 2, 3], value: [0.5, 0.4, 0.3] },
  };
  assert.deepEqual(duplicateTerms(series), ["loss/position"]);
  series["loss/position"].value = [0.3, 0.3, 0.2];
  assert.deepEqual(duplicateTerms(series), []);
  assert.deepEqual(duplicateTerms({ "loss/position": { step: [1], value: [1] } }), []);
});
