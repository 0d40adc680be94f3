import assert from "node:assert/strict";
import { test } from "node:test";
import { formatHash, parseHash, parseList, updateHash } from "../../frontend/scripts/logic/urlstate.js";

test("parse and format round trip", () => {
  const h = formatHash("run", { id: "7", snap: 3, empty: "", none: null });
  assert.equal(h, "#/run?id=7&snap=3");
  assert.deepEqual(parseHash(h), { page: "run", params: { id: "7", snap: "3" } });
});

test("unknown or empty pages fall back to home", () => {
  assert.equal(parseHash("").page, "home");
  assert.equal(parseHash("#/nope?x=1").page, "home");
  assert.equal(parseHash("#effector").page, "effector");
});

test("values with special characters survive", () => {
  const h = formatHash("effector", { preset: "arm 26&x=1" });
  assert.equal(parseHash(h).params.preset, "arm 26&x=1");
});

test("updateHash replaces and removes keys, lists joined", () => {
  const h = updateHash("#/runs?compare=1,2&status=running", { compare: ["1", "2", "5"], status: null });
  assert.deepEqual(parseHash(h), { page: "runs", params: { compare: "1,2,5" } });
});

test("parseList drops empties", () => {
  assert.deepEqual(parseList("1,, 2 ,3,"), ["1", "2", "3"]);
  assert.deepEqual(parseList(undefined), []);
});

test("experiment pages live below #/experiments/", () => {
  assert.deepEqual(parseHash("#/experiments"), { page: "experiments", params: {} });
  assert.deepEqual(parseHash("#/experiments/new?preset=tiny_point_mass"), { page: "experiment-new", params: { preset: "tiny_point_mass" } });
  assert.deepEqual(parseHash("#/experiments/12?metric=loss"), { page: "experiment", params: { metric: "loss", id: "12" } });
  assert.deepEqual(parseHash("#/runs/5"), { page: "run", params: { id: "5" } });
  assert.equal(parseHash("#/experiments/abc").page, "home");
  assert.equal(parseHash("#/experiment").page, "home");
  assert.equal(formatHash("experiment", { id: "12", metric: "loss" }), "#/experiments/12?metric=loss");
  assert.equal(formatHash("experiment-new", { seeds: 2 }), "#/experiments/new?seeds=2");
  assert.equal(updateHash("#/experiments/12?metric=loss", { scale: "log" }), "#/experiments/12?metric=loss&scale=log");
  assert.equal(updateHash("#/experiments/new?seeds=2", { seeds: 3 }), "#/experiments/new?seeds=3");
});
