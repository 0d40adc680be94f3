"""The closed sets a run's ``status`` and ``kind`` take, defined once (MLflow's run status set).

The database columns, the API schemas (an ``enum`` in ``/openapi.json``, which the frontend's
``logic/status.js`` is tested against), the worker messages and the manager all use these types.
Members are ``str`` subclasses: they compare equal to, and serialise as, their plain values.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Where a run stands: waiting, training, or one of the four ends."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


class RunKind(StrEnum):
    """What a run does: train a network (``spec`` is a RunSpec) or run a study of the core's catalogue."""

    TRAINING = "training"
    STUDY = "study"


ACTIVE_STATUSES = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
"""A run that is waiting or training (it can be cancelled, not deleted or resumed)."""
TERMINAL_STATUSES = frozenset({RunStatus.FINISHED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED})
"""A run whose status no longer changes by itself."""
WORKER_TERMINAL_STATUSES = frozenset({RunStatus.FINISHED, RunStatus.FAILED, RunStatus.CANCELLED})
"""The ends a worker reports itself (``interrupted`` is the server's verdict on a stopped run)."""
RESUMABLE_STATUSES = frozenset({RunStatus.INTERRUPTED, RunStatus.FAILED, RunStatus.CANCELLED})
"""The ends a run continues from its last checkpoint after (``POST /api/runs/{id}/resume``)."""
