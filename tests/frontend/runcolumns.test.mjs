import assert from "node:assert/strict";
import { test } from "node:test";

import { cellText, parseColumns, placementText, valueAt } from "../../frontend/scripts/logic/runcolumns.js";

test("parseColumns keeps distinct well-formed dotted paths in order", () => {
  assert.deepEqual(parseColumns("train.lr, policy.hidden_size,train.lr,,bad path,x..y,effector.muscles.0.name"), ["train.lr", "policy.hidden_size", "effector.muscles.0.name"]);
  assert.deepEqual(parseColumns(undefined), []);
  assert.deepEqual(parseColumns(""), []);
});

test("valueAt walks objects and arrays, undefined when absent", () => {
  const spec = { train: { lr: 0.003, seed: 0 }, effector: { muscles: [{ name: "a" }, { name: "b" }] }, x: null };
  assert.equal(valueAt(spec, "train.lr"), 0.003);
  assert.equal(valueAt(spec, "train.seed"), 0);
  assert.equal(valueAt(spec, "effector.muscles.1.name"), "b");
  assert.equal(valueAt(spec, "effector.muscles.5.name"), undefined);
  assert.equal(valueAt(spec, "train.nope"), undefined);
  assert.equal(valueAt(spec, "x.y"), undefined);
  assert.equal(valueAt(null, "train"), undefined);
});

test("cellText shows values unrounded and absent ones as a dash", () => {
  assert.equal(cellText(0.00031), "0.00031");
  assert.equal(cellText(0), "0");
  assert.equal(cellText(false), "false");
  assert.equal(cellText("gru"), "gru");
  assert.equal(cellText(undefined), "—");
  assert.equal(cellText(null), "—");
  assert.equal(cellText([1, 2]), "[1,2]");
});

test("placementText joins the node and the device a run trained on", () => {
  assert.equal(placementText({ node: "ray 10.0.0.7 (1a2b3c4d)", device: "cuda" }), "ray 10.0.0.7 (1a2b3c4d) · cuda");
  assert.equal(placementText({ node: "local (lab-pc)", device: null }), "local (lab-pc)");
  assert.equal(placementText({ node: null, device: null }), "—");
  assert.equal(placementText({}), "—");
});
