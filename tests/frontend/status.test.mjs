import assert from "node:assert/strict";
import { test } from "node:test";

import { ACTIVE, RESUMABLE, STATUSES, TERMINAL, canResume, isActive, isTerminal } from "../../frontend/scripts/logic/status.js";

test("every status is either active or terminal, never both", () => {
  assert.deepEqual([...ACTIVE, ...TERMINAL].sort(), [...STATUSES].sort());
  assert.equal([...ACTIVE].filter((s) => TERMINAL.has(s)).length, 0);
  assert.ok([...RESUMABLE].every((s) => TERMINAL.has(s)));
  assert.ok(Object.isFrozen(STATUSES));
});

test("isActive, isTerminal and canResume follow the groups", () => {
  assert.ok(isActive("queued") && isActive("running") && !isActive("finished"));
  assert.ok(isTerminal("interrupted") && !isTerminal("running") && !isTerminal("deleted"));
  assert.ok(canResume("interrupted", 10));
  assert.ok(!canResume("interrupted", null) && !canResume("finished", 10) && !canResume("running", 3));
});
