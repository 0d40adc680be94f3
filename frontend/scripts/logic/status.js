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
