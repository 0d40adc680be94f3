import assert from "node:assert/strict";
import { test } from "node:test";
import { formatForce } from "../../frontend/scripts/logic/format.js";

test("forces fit a narrow cell whatever their size", () => {
  assert.equal(formatForce(0), "0 N");
  assert.equal(formatForce(837.6), "838 N");
  assert.equal(formatForce(-12), "-12 N");
  assert.equal(formatForce(12345), "12.3 kN");
  assert.equal(formatForce(5.9e7), "59 MN");
  assert.equal(formatForce(3.2e9), "3.2 GN");
  assert.equal(formatForce(28993284105830400), "2.9e+16 N");
  assert.equal(formatForce(NaN), "–");
  assert.equal(formatForce(Infinity), "–");
  for (const f of [1, 999, 9999, 1e5, 123456789, 1e11, 1e30, -1e30]) assert.ok(formatForce(f).length <= 10, formatForce(f));
});
