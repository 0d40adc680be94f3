import assert from "node:assert/strict";
import { test } from "node:test";

import { formatValueList, parseValueList, splitTopLevel } from "../../frontend/scripts/logic/valuelist.js";

test("splitTopLevel splits at top-level commas only", () => {
  assert.deepEqual(splitTopLevel('1, [2, 3], {"a": 1, "b": 2}, "x, y"').items, ["1", "[2, 3]", '{"a": 1, "b": 2}', '"x, y"']);
  assert.deepEqual(splitTopLevel("a").items, ["a"]);
  assert.ok(splitTopLevel("[1, 2").error.includes("unclosed"));
  assert.ok(splitTopLevel("1]").error.includes("unbalanced"));
  assert.ok(splitTopLevel('"abc').error.includes("string"));
});

test("parseValueList parses JSON where it can, bare words as strings", () => {
  assert.deepEqual(parseValueList("0.001, 0.003,1e-2").values, [0.001, 0.003, 0.01]);
  assert.deepEqual(parseValueList("gru, rnn").values, ["gru", "rnn"]);
  assert.deepEqual(parseValueList("true, false, null").values, [true, false, null]);
  assert.deepEqual(parseValueList('[], [{"kind": "curl_field", "gain": 5}]').values, [[], [{ kind: "curl_field", gain: 5 }]]);
  assert.deepEqual(parseValueList("[0.5, 0.5]").values, [[0.5, 0.5]]);
});

test("parseValueList checks items against the field type", () => {
  assert.ok(parseValueList("0.1, abc", "number").error.includes("abc"));
  assert.ok(parseValueList("1, 2.5", "integer").error.includes("2.5"));
  assert.deepEqual(parseValueList("8, 16", "integer").values, [8, 16]);
  assert.deepEqual(parseValueList("1, two", "string").values, ["1", "two"]);
  assert.deepEqual(parseValueList('"quoted"', "string").values, ["quoted"]);
  assert.ok(parseValueList("yes", "boolean").error);
});

test("empty lists and empty items are errors", () => {
  assert.ok(parseValueList("").error);
  assert.ok(parseValueList("  ").error);
  assert.ok(parseValueList("1,,2").error.includes("value 2"));
});

test("formatValueList round trips", () => {
  const values = [0.001, "gru", "a, b", [1, 2], { k: 1 }, true];
  assert.deepEqual(parseValueList(formatValueList(values)).values, values);
});
