import assert from "node:assert/strict";
import { test } from "node:test";
import { ema, lttb, stride } from "../../frontend/scripts/logic/downsample.js";

test("lttb keeps ends and size", () => {
  const xs = Array.from({ length: 1000 }, (_, i) => i);
  const ys = xs.map((x) => Math.sin(x / 50));
  const d = lttb(xs, ys, 100);
  assert.equal(d.x.length, 100);
  assert.equal(d.x[0], 0);
  assert.equal(d.x[99], 999);
  for (let i = 1; i < d.x.length; i++) assert.ok(d.x[i] > d.x[i - 1]);
});

test("lttb keeps a spike", () => {
  const xs = Array.from({ length: 500 }, (_, i) => i);
  const ys = xs.map((x) => (x === 250 ? 100 : 0));
  const d = lttb(xs, ys, 20);
  assert.ok(d.y.includes(100));
});

test("lttb returns a copy when short", () => {
  const d = lttb([1, 2], [3, 4], 10);
  assert.deepEqual(d, { x: [1, 2], y: [3, 4] });
});

test("stride", () => {
  assert.deepEqual(stride([0, 1, 2, 3, 4, 5, 6, 7, 8], 3), [0, 4, 8]);
  assert.deepEqual(stride([1, 2], 5), [1, 2]);
});

test("ema", () => {
  assert.deepEqual(ema([1, 1, 1], 0.5), [1, 1, 1]);
  assert.deepEqual(ema([0, 2], 0.5), [0, 1]);
  assert.deepEqual(ema([null, 4], 0.5), [null, 4]);
});
