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

test("queueText names a queued run's position and lane", async () => {
  const { queueText } = await import("../../frontend/scripts/logic/status.js");
  assert.equal(queueText({ status: "queued", queue_position: 1, queue_lane: "training" }), "next in the training queue");
  assert.equal(queueText({ status: "queued", queue_position: 2, queue_lane: "training" }), "2nd in the training queue");
  assert.equal(queueText({ status: "queued", queue_position: 13, queue_lane: "quick" }), "13th in the quick queue");
  assert.equal(queueText({ status: "queued", queue_position: 23 }), "23rd in the training queue");
  assert.equal(queueText({ status: "running", queue_position: null }), null);
});

test("stopNote says where a resume continues from, or why it cannot", async () => {
  const { stopNote } = await import("../../frontend/scripts/logic/status.js");
  assert.equal(stopNote({ status: "cancelled", step: 147, checkpoint_step: 147 }), "Cancelled at step 147. Resume continues from its checkpoint at step 147 (nothing is lost).");
  assert.equal(stopNote({ status: "interrupted", step: 5, checkpoint_step: 3 }), "Interrupted at step 5. Resume continues from its checkpoint at step 3.");
  assert.match(stopNote({ status: "cancelled", step: 0, checkpoint_step: null, error: "cancelled before its first iteration completed: there is no checkpoint to resume from (start it again)" }), /^Cancelled at step 0: cancelled before its first iteration completed/);
  assert.equal(stopNote({ status: "finished", step: 5, checkpoint_step: 5 }), null);
});
