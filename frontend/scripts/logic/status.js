// A run's status: the closed set the API's RunStatus enum defines (tested against /openapi.json)
// and the groups the pages act on. Pure, no DOM.

/** Every status a run can have, in the API's order (RunStatus in /openapi.json). */
export const STATUSES = Object.freeze(["queued", "running", "finished", "failed", "cancelled", "interrupted"]);

/** Waiting or training: the run can be cancelled, not deleted or resumed. */
export const ACTIVE = new Set(["queued", "running"]);

/** The status no longer changes by itself. */
export const TERMINAL = new Set(["finished", "failed", "cancelled", "interrupted"]);

/** Ends a run can be resumed after (from its last checkpoint). */
export const RESUMABLE = new Set(["failed", "cancelled", "interrupted"]);

/** True while a run waits or trains. */
export function isActive(status) {
  return ACTIVE.has(status);
}

/** True once a run's status can no longer change by itself. */
export function isTerminal(status) {
  return TERMINAL.has(status);
}

/** True when a run with this status and checkpoint step can be resumed. */
export function canResume(status, checkpointStep) {
  return RESUMABLE.has(status) && checkpointStep !== null && checkpointStep !== undefined;
}

/** "2nd in the training queue" for a queued run with a position (REST ``queue_position``); null otherwise. */
export function queueText(run) {
  if (run?.status !== "queued" || !Number.isInteger(run.queue_position)) return null;
  const n = run.queue_position;
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] ?? "th");
  const lane = run.queue_lane === "quick" ? "quick queue" : "training queue";
  return n === 1 ? `next in the ${lane}` : `${n}${suffix} in the ${lane}`;
}

/**
 * What a stopped run (cancelled or interrupted) tells its user: where a resume continues from, or
 * why there is nothing to resume (the server's reason). Null for other statuses.
 */
export function stopNote(run) {
  if (run?.status !== "cancelled" && run?.status !== "interrupted") return null;
  const what = run.status === "cancelled" ? "Cancelled" : "Interrupted";
  if (canResume(run.status, run.checkpoint_step)) {
    return `${what} at step ${run.step}. Resume continues from its checkpoint at step ${run.checkpoint_step}${run.checkpoint_step === run.step ? " (nothing is lost)" : ""}.`;
  }
  return `${what} at step ${run.step ?? 0}: ${run.error ?? "there is no checkpoint to resume from"}.`;
}
