import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { leafPaths, searchLeaves } from "../../frontend/scripts/logic/leafpaths.js";
import { formModel } from "../../frontend/scripts/logic/schema.js";

const runSchema = JSON.parse(readFileSync(new URL("./fixtures/run_schema.json", import.meta.url)));
const model = formModel(runSchema);

test("a run spec's leaves include train, policy and indexed array fields", () => {
  const value = {
    task: { kind: "random_reach", perturbations: [{ kind: "curl_field", gain: 5 }] },
    effector: { muscles: [{ kind: "relu", name: "m0", max_iso_force: 500 }] },
  };
  const leaves = leafPaths(model, value);
  const paths = leaves.map((e) => e.path);
  for (const p of ["train.lr", "train.seed", "policy.hidden_size", "task.perturbations", "task.perturbations.0.gain", "effector.muscles.0.max_iso_force"]) assert.ok(paths.includes(p), p);
  assert.ok(!paths.includes("task.kind"), "discriminators are left out");
  assert.ok(!paths.some((p) => p.startsWith("task.perturbations.1")));
  assert.equal(new Set(paths).size, paths.length, "no duplicates");
  const lr = leaves.find((e) => e.path === "train.lr");
  assert.equal(lr.type, "number");
});

test("a union without a value gives every variant's fields once", () => {
  const paths = leafPaths(model, {}).map((e) => e.path);
  assert.ok(paths.includes("train.lr"));
  assert.ok(!paths.some((p) => p.startsWith("task.perturbations.0")));
  assert.equal(new Set(paths).size, paths.length);
});

test("leaves carry the current value", () => {
  const leaves = leafPaths(model, { train: { lr: 0.003 } });
  assert.equal(leaves.find((e) => e.path === "train.lr").value, 0.003);
});

test("searchLeaves matches words and ranks prefixes first", () => {
  const leaves = [{ path: "policy.hidden_size" }, { path: "train.lr" }, { path: "train.lr_min" }, { path: "loss.hidden" }];
  assert.deepEqual(searchLeaves(leaves, "train lr").map((e) => e.path), ["train.lr", "train.lr_min"]);
  assert.deepEqual(searchLeaves(leaves, "hidden").map((e) => e.path), ["policy.hidden_size", "loss.hidden"]);
  assert.deepEqual(searchLeaves(leaves, "lr").map((e) => e.path), ["train.lr", "train.lr_min"]);
  assert.equal(searchLeaves(leaves, "").length, 4);
});
