import assert from "node:assert/strict";
import { test } from "node:test";
import { stride } from "../../frontend/scripts/logic/downsample.js";

test("stride", () => {
  assert.deepEqual(stride([0, 1, 2, 3, 4, 5, 6, 7, 8], 3), [0, 4, 8]);
  assert.deepEqual(stride([1, 2], 5), [1, 2]);
});
