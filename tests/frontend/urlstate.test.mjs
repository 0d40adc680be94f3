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
