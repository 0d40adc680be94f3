"""The run queue: its order, its two lanes, admission under the cap, and each queued run's position.

* Order: first in, first out by ``Run.queued_at`` (when the run last entered the queue: created,
  resumed or requeued), then by id.
* Lanes: ``quick`` (study runs of studies that train nothing, e.g. muscle curves: seconds of
  biomechanics) and ``training`` (everything else). Training jobs use at most
  ``settings.max_workers`` worker processes; ``settings.quick_workers`` more slots are kept for quick
  jobs, so a quick job never waits behind training. Quick jobs may also take a free training slot.
* Admission: every path that adds queued runs (create, study, experiment, resume, requeue) counts
  and inserts under one process-wide lock (:data:`ADMISSION`), so ``settings.max_queued_runs`` holds
  under concurrent requests.
* Position: 1 for the next job of its lane to start, counting jobs (an experiment condition's
  replicates start together as one job).
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.app.core.config import Settings
from backend.app.core.errors import Overloaded
from backend.app.models import Run
from backend.app.status import RunKind, RunStatus

Lane = Literal["quick", "training"]

ADMISSION = threading.RLock()
"""Held while a request counts the queued runs and adds its own (until its transaction commits)."""

QUEUE_ORDER = (func.coalesce(Run.queued_at, Run.created_at), Run.id)


def lane_of(run: Run) -> Lane:
    """``quick`` for a study run whose study trains nothing; ``training`` otherwise."""
    if run.kind != RunKind.STUDY:
        return "training"
    from motornet_core.studies import STUDIES

    spec = run.spec if isinstance(run.spec, dict) else {}  # a damaged row is served, never a 500
    info = STUDIES.get(str(spec.get("study")))
    return "quick" if info is not None and not info.trains else "training"


def job_key(run: Run) -> tuple[Any, ...]:
    """Runs with one key start as one job (an experiment condition's replicates)."""
    if run.experiment_id is None:
        return ("run", run.id)
    return ("condition", run.experiment_id, run.condition_index)


def queued_runs(session: Session) -> list[Run]:
    """Every queued run, in the order the manager starts them (within a lane)."""
    return list(session.scalars(select(Run).where(Run.status == RunStatus.QUEUED).order_by(*QUEUE_ORDER)))


def positions(runs: list[Run]) -> dict[int, int]:
    """Run id -> 1-based position of its job within its lane, for ``runs`` in queue order."""
    out: dict[int, int] = {}
    jobs: dict[tuple[Any, ...], int] = {}
    count = {"quick": 0, "training": 0}
    for run in runs:
        key = job_key(run)
        if key not in jobs:
            lane = lane_of(run)
            count[lane] += 1
            jobs[key] = count[lane]
        out[run.id] = jobs[key]
    return out


def queued_count(session: Session) -> int:
    """How many runs wait in the queue now."""
    return session.scalar(select(func.count()).select_from(Run).where(Run.status == RunStatus.QUEUED)) or 0


def ensure_room(session: Session, settings: Settings, n: int = 1, what: str = "run") -> None:
    """Refuse ``n`` more queued runs beyond ``settings.max_queued_runs``; call it holding :data:`ADMISSION`
    and keep holding it until the new runs are committed.

    Raises:
        Overloaded: the queue cannot take them (answered 429).
    """
    queued = queued_count(session)
    if queued + n > settings.max_queued_runs:
        more = f"{n} more {what}s" if n > 1 else f"another {what}"
        raise Overloaded(
            f"the run queue is full for {more} ({queued} queued, at most {settings.max_queued_runs}); "
            "wait for runs to start or cancel some, then try again"
        )
