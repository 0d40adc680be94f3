import assert from "node:assert/strict";
import { test } from "node:test";
import {
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
