"""An experiment's state as the API and its websocket serve it, derived from its runs' rows.

Shared by the experiments service (REST) and the manager's :class:`~backend.app.workers.experiment_watch.ExperimentWatcher`
(websocket messages, the stored ``experiments.status``), so both say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.app.models import Experiment, Run
from backend.app.schemas import ConditionOut, ExperimentOut
from backend.app.status import RunStatus
from motornet_core.experiments import ExperimentSpec, conditions

_ENDS = (RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED)
_LABELS: dict[int, list[tuple[str, dict[str, Any]]]] = {}  # experiment id -> its conditions' labels and values


def derive_status(statuses: Iterable[RunStatus]) -> RunStatus:
    """An experiment's (or a condition's) status from its runs'.

    ``running`` while any run trains, or while runs wait beside others that already ended;
    ``queued`` while every run waits; then the first of failed, cancelled, interrupted that any run
    has; ``finished`` when every run finished.
    """
    seen = set(statuses)
    if not seen:
        return RunStatus.QUEUED
    if RunStatus.RUNNING in seen:
        return RunStatus.RUNNING
    if RunStatus.QUEUED in seen:
        return RunStatus.QUEUED if seen == {RunStatus.QUEUED} else RunStatus.RUNNING
    return next((s for s in _ENDS if s in seen), RunStatus.FINISHED)


def condition_labels(exp: Experiment) -> list[tuple[str, dict[str, Any]]]:
    """Each condition's label and swept values (computed once per experiment: the spec never changes)."""
    labels = _LABELS.get(exp.id)
    if labels is None:
        labels = [(c.label, c.values) for c in conditions(ExperimentSpec.parse(exp.spec))]
        _LABELS[exp.id] = labels
    return labels


def experiment_runs(session: Session, experiment_id: int) -> list[Run]:
    """The experiment's runs by condition, then replicate."""
    query = select(Run).where(Run.experiment_id == experiment_id)
    return list(session.scalars(query.order_by(Run.condition_index, Run.replicate_index, Run.id)))


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def experiment_view(session: Session, exp: Experiment, steps: Mapping[int, int] | None = None) -> ExperimentOut:
    """The experiment as served: status, progress and conditions derived from its runs.

    Args:
        steps: run id -> step, the manager's in-memory progress of active runs (newer than the rows).
    """
    steps = steps or {}
    runs = experiment_runs(session, exp.id)
    spec = ExperimentSpec.parse(exp.spec)
    by_condition: dict[int, list[Run]] = {}
    for run in runs:
        by_condition.setdefault(run.condition_index or 0, []).append(run)

    def step_of(run: Run) -> int:
        if run.status == RunStatus.FINISHED:
            return run.n_iterations
        return min(max(run.step or 0, steps.get(run.id, 0)), run.n_iterations or 0)

    out = []
    for index, (label, values) in enumerate(condition_labels(exp)):
        members = by_condition.get(index, [])
        out.append(
            ConditionOut(
                index=index,
                label=label,
                values=values,
                status=derive_status(r.status for r in members),
                run_ids=[r.id for r in members],
                step=min((step_of(r) for r in members), default=0),
            )
        )
    total = sum(r.n_iterations or 0 for r in runs)
    return ExperimentOut(
        id=exp.id,
        name=exp.name,
        status=derive_status(r.status for r in runs),
        created_at=_aware(exp.created_at),
        updated_at=_aware(exp.updated_at),
        notes=exp.notes or "",
        spec=spec,
        seeds=spec.seeds,
        n_conditions=len(out),
        n_networks=len(out) * spec.seeds,
        progress=max(0.0, min(1.0, sum(step_of(r) for r in runs) / total)) if total else 0.0,
        conditions=out,
    )


def forget(experiment_id: int) -> None:
    """Drop a deleted experiment's cached labels."""
    _LABELS.pop(experiment_id, None)
