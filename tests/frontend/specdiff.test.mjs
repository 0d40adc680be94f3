import assert from "node:assert/strict";
import { test } from "node:test";

import { comparePaths, flatten, sameValue, showLeaf, specDiff } from "../../frontend/scripts/logic/specdiff.js";

test("flatten gives dotted leaves, arrays by index, empty containers as leaves", () => {
  assert.deepEqual(flatten({ a: { b: [1, 2] }, c: [], d: {}, e: null, f: "x" }), { "a.b.0": 1, "a.b.1": 2, c: [], d: {}, e: null, f: "x" });
  assert.deepEqual(flatten(3), { "": 3 });
});

test("sameValue ignores key order and compares NaN to NaN", () => {
  assert.ok(sameValue({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }));
  assert.ok(!sameValue([1, 2], [1, 2, 3]));
  assert.ok(!sameValue({ a: 1 }, { a: 1, b: undefined }));
  assert.ok(sameValue(NaN, NaN));
  assert.ok(!sameValue(0, "0"));
});

test("specDiff lists only differing leaves, sorted numerically, with absent sides", () => {
  const a = { train: { lr: 0.001, seed: 0 }, name: "x [lr=0.001]", task: { perturbations: [] }, muscles: [{ f: 1 }, { f: 2 }] };
  const b = { train: { lr: 0.01, seed: 1 }, name: "x [lr=0.01]", task: { perturbations: [{ kind: "curl_field", gain: 5 }] }, muscles: [{ f: 1 }, { f: 3 }] };
  const d = specDiff(a, b);
  assert.deepEqual(
    d.map((e) => e.path),
    ["muscles.1.f", "name", "task.perturbations", "task.perturbations.0.gain", "task.perturbations.0.kind", "train.lr", "train.seed"]
  );
  assert.deepEqual(d.find((e) => e.path === "train.lr"), { path: "train.lr", a: 0.001, b: 0.01 });
  assert.deepEqual(d.find((e) => e.path === "task.perturbations"), { path: "task.perturbations", a: [], b: undefined });
  assert.equal(d.find((e) => e.path === "task.perturbations.0.gain").a, undefined);
  assert.deepEqual(specDiff(a, b, { ignore: ["name", "task"] }).map((e) => e.path), ["muscles.1.f", "train.lr", "train.seed"]);
  assert.deepEqual(specDiff(a, structuredClone(a)), []);
});

test("comparePaths sorts numeric segments as numbers", () => {
  assert.deepEqual(["a.10", "a.2", "a", "b", "a.2.x"].sort(comparePaths), ["a", "a.2", "a.2.x", "a.10", "b"]);
});

test("showLeaf", () => {
  assert.equal(showLeaf(undefined), "—");
  assert.equal(showLeaf("gru"), "gru");
  assert.equal(showLeaf([1, 2]), "[1,2]");
  assert.equal(showLeaf(null), "null");
});
