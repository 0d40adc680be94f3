"""Runs: creation from a spec or a preset, queries, metrics and snapshots."""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, object_session

from backend.app import queueing
from backend.app.core.config import Settings
from backend.app.core.errors import Conflict, NotFound, as_rules, safe_text, spec_error
from backend.app.models import LogEntry, Metric, Run, Snapshot, utcnow
from backend.app.run_specs import StudyRunSpec, TrainingRunSpec, spec_of, study_name
from backend.app.schemas import (
    LogOut,
    MetricSeries,
    MetricsOut,
    RunCreate,
    RunOut,
    RunPatch,
    RunSummary,
    SnapshotInfo,
    SnapshotOut,
)
from backend.app.services import memory
from backend.app.status import RunKind, RunStatus
from backend.app.streaming.messages import progress_of
from backend.app.workers.manager import RunConflict, WorkerManager
from motornet_core import SpecError
from motornet_core.specs import RunSpec

log = logging.getLogger(__name__)

SORTS: dict[str, ColumnElement[Any]] = {
    "created": Run.id.asc(),
    "-created": Run.id.desc(),
    "name": Run.name.asc(),
    "-name": Run.name.desc(),
    "status": Run.status.asc(),
    "-status": Run.status.desc(),
}


def resolve_spec(req: RunCreate, settings: Settings) -> RunSpec:
    """The run's spec from the request: a full spec, or a preset with dotted overrides, within limits.

    Raises:
        SpecError: an unknown preset, a bad override or a limit exceeded (with its path).
    """
    if req.spec is not None:
        spec = req.spec
        if req.overrides:
            spec = _with_updates(spec, req.overrides)
    else:
        from motornet_core.run_presets import RUN_PRESETS, run_preset

        if req.preset not in RUN_PRESETS:
            raise spec_error("preset", f"unknown run preset; choose one of {sorted(RUN_PRESETS)}", req.preset)
        spec = _with_updates(run_preset(req.preset), req.overrides)
    if req.name is not None or req.tags is not None:
        spec = _with_updates(spec, {k: v for k, v in (("name", req.name), ("tags", req.tags)) if v is not None})
    if spec.train.n_iterations > settings.max_iterations:
        raise spec_error("train.n_iterations", f"this server allows at most {settings.max_iterations}", spec.train.n_iterations)
    if spec.train.batch_size > settings.max_batch_size:
        raise spec_error("train.batch_size", f"this server allows at most {settings.max_batch_size}", spec.train.batch_size)
    return spec


def _with_updates(spec: RunSpec, overrides: dict[str, Any]) -> RunSpec:
    try:
        return spec.with_updates(overrides) if overrides else spec
    except SpecError as exc:
        raise as_rules(exc.errors) from None


def ensure_queue_room(session: Session, settings: Settings, n: int = 1) -> None:
    """Refuse ``n`` new runs while the queue cannot take them (``settings.max_queued_runs``); hold
    :data:`backend.app.queueing.ADMISSION` from this check until the new runs are committed.

    Raises:
        Overloaded: the queue is full (answered 429).
    """
    queueing.ensure_room(session, settings, n)


def create_run(session: Session, req: RunCreate, settings: Settings) -> Run:
    """Insert a queued run.

    Raises:
        SpecError: a bad spec or a server limit exceeded; Overloaded: the queue is full.
    """
    spec = resolve_spec(req, settings)
    memory.check_run_memory(spec, settings)
    if req.parent_id is not None and session.get(Run, req.parent_id) is None:
        raise spec_error("parent_id", f"no run {req.parent_id} to rerun", req.parent_id)
    with queueing.ADMISSION:  # count and insert as one step: concurrent creates cannot overshoot the cap
        ensure_queue_room(session, settings)
        run = _new_run(spec, req)
        session.add(run)
        session.commit()
    return run


def _new_run(spec: RunSpec, req: RunCreate) -> Run:
    return Run(
        parent_id=req.parent_id,
        **TrainingRunSpec(spec=spec).columns(),
        name=spec.name,
        tags=list(spec.tags),
        preset=req.preset,
        status=RunStatus.QUEUED,
        n_iterations=spec.train.n_iterations,
        seed=spec.train.seed,
        device=spec.train.device,
        queued_at=utcnow(),
    )


def get_run(session: Session, run_id: int) -> Run:
    """One run.

    Raises:
        NotFound: no such run.
    """
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    return run


def list_runs(
    session: Session,
    status: str | None,
    tag: str | None,
    name: str | None,
    sort: str,
    kind: str = "training",
    experiment: int | None = None,
) -> list[Run]:
    """Runs filtered by kind (``training``, ``study`` or ``all``), status, tag, name substring and the
    experiment they belong to."""
    if sort not in SORTS:
        raise spec_error("sort", f"choose one of {sorted(SORTS)}", sort)
    kinds = [*(k.value for k in RunKind), "all"]
    if kind not in kinds:
        raise spec_error("kind", f"choose one of {kinds}", kind)
    query = select(Run) if kind == "all" else select(Run).where(Run.kind == kind)
    if status:
        wanted = [x for x in status.split(",") if x]
        unknown = sorted(set(wanted) - set(RunStatus))
        if unknown:
            raise spec_error("status", f"unknown status; choose from {[s.value for s in RunStatus]}", unknown)
        query = query.where(Run.status.in_(wanted))
    if name:
        query = query.where(Run.name.contains(name))
    if experiment is not None:
        query = query.where(Run.experiment_id == experiment)
    runs = list(session.scalars(query.order_by(SORTS[sort])))
    if tag:
        runs = [r for r in runs if tag in (r.tags or [])]
    return runs


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: None) -> None: ...
def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def queue_positions(session: Session | None) -> dict[int, int]:
    """Queued run id -> its position in its lane (1: starts next); see :mod:`backend.app.queueing`."""
    return {} if session is None else queueing.positions(queueing.queued_runs(session))


def summary(run: Run, manager: WorkerManager, positions: dict[int, int] | None = None) -> dict[str, Any]:
    """Fields shared by the list and detail views (``positions``: :func:`queue_positions`, read here
    when not given)."""
    if positions is None and run.status == RunStatus.QUEUED:
        positions = queue_positions(object_session(run))
    queued = run.status == RunStatus.QUEUED
    started, finished = _aware(run.started_at), _aware(run.finished_at)
    duration = None
    if started is not None:
        end = finished or (datetime.now(UTC) if run.status == RunStatus.RUNNING else None)
        duration = None if end is None else max(0.0, (end - started).total_seconds())
    return {
        "id": run.id,
        "name": _text(run.name),
        "kind": run.kind,
        "study": _text(study_name(run)),
        "tags": [safe_text(str(t)) for t in run.tags or []],
        "status": run.status,
        "progress": progress_of(run),
        "step": run.step,
        "n_iterations": run.n_iterations,
        "seed": run.seed,
        "device": run.device,
        "node": run.node,
        "preset": run.preset,
        "created_at": _aware(run.created_at),
        "started_at": started,
        "finished_at": finished,
        "duration": duration,
        "error": _text(run.error),
        "last_metrics": {safe_text(str(k)): v for k, v in (run.last_metrics or {}).items()},
        "last_eval_error": _text(run.last_eval_error),
        "checkpoint_step": run.checkpoint_step,
        "queued_at": _aware(run.queued_at) if queued else None,
        "queue_position": (positions or {}).get(run.id) if queued else None,
        "queue_lane": queueing.lane_of(run),
        "worker_pid": manager.worker_pid(run.id),
        "notes": run.notes,
        "experiment_id": run.experiment_id,
        "parent_id": run.parent_id,
        "condition_index": run.condition_index,
        "replicate_index": run.replicate_index,
    }


def _text(value: Any) -> str | None:
    """A stored string fit to serve (lone surrogates escaped), None kept."""
    return None if value is None else safe_text(str(value))


def to_summary(run: Run, manager: WorkerManager, positions: dict[int, int] | None = None) -> RunSummary:
    """List view of a run."""
    return RunSummary(**summary(run, manager, positions))


def summaries(runs: list[Run], manager: WorkerManager) -> list[RunSummary]:
    """List views of ``runs``; a row that cannot be served is left out with a logged reason (one bad
    row never takes the whole list down)."""
    out = []
    positions = queue_positions(object_session(runs[0])) if any(r.status == RunStatus.QUEUED for r in runs) else {}
    for run in runs:
        try:
            out.append(to_summary(run, manager, positions))
        except Exception as exc:  # a row stored by an older version or edited by hand
            reason = f"{type(exc).__name__}: {safe_text(str(exc))}"
            log.warning("run %s left out of the runs list: its stored row cannot be served (%s)", run.id, reason)
    return out


def to_out(run: Run, manager: WorkerManager) -> RunOut:
    """Detail view of a run (with its spec; a study run: its parameters).

    A stored spec that no longer validates is served as ``spec: null`` with the reason in ``error``.
    """
    fields = summary(run, manager)
    try:
        served = spec_of(run).served()
    except SpecError as exc:
        log.warning("run %s: its stored spec cannot be served: %s", run.id, safe_text(str(exc)))
        served = {"spec": None, "params": None}
        fields["error"] = safe_text(f"the stored spec cannot be served: {exc}")
    return RunOut(**fields, **served, result=run.result)


def run_spec(run: Run) -> RunSpec:
    """A training run's RunSpec.

    Raises:
        Conflict: a study run (it has parameters, not a RunSpec).
    """
    typed = spec_of(run)
    if isinstance(typed, StudyRunSpec):
        raise Conflict(f"run {run.id} is a study run ({typed.study}); its parameters are in GET /api/runs/{run.id}")
    return typed.spec


def _guard(action, run_id: int) -> None:
    try:
        action(run_id)
    except RunConflict as exc:
        raise Conflict(str(exc)) from None


def cancel_run(session: Session, manager: WorkerManager, run_id: int) -> None:
    """Cancel a queued or running run."""
    get_run(session, run_id)
    _guard(manager.cancel, run_id)


def resume_run(session: Session, manager: WorkerManager, run_id: int) -> None:
    """Continue an interrupted, failed or cancelled run from its checkpoint."""
    get_run(session, run_id)
    _guard(manager.resume, run_id)


def delete_run(session: Session, manager: WorkerManager, run_id: int) -> None:
    """Remove a run, its rows and its files (stopping its worker first; 409 for a network that trains
    in one group job with others of its experiment)."""
    get_run(session, run_id)
    _guard(manager.delete, run_id)


def update_run(session: Session, run: Run, req: RunPatch) -> Run:
    """Set the run's notes and/or tags."""
    if req.notes is not None:
        run.notes = req.notes
    if req.tags is not None:
        run.tags = list(req.tags)
    session.commit()
    return run


def metrics(session: Session, run_id: int, keys: list[str] | None, max_points: int) -> MetricsOut:
    """Each key's series, downsampled to at most ``max_points`` by even stride (the last point always kept)."""
    get_run(session, run_id)
    if not keys:
        keys = list(session.scalars(select(Metric.key).where(Metric.run_id == run_id).distinct().order_by(Metric.key)))
    series = {}
    for key in keys:
        rows = session.execute(
            select(Metric.step, Metric.value, Metric.time).where(Metric.run_id == run_id, Metric.key == key).order_by(Metric.step)
        ).all()
        total = len(rows)
        picked = rows
        if total > max_points:
            stride = total / max_points
            picked = [rows[int(i * stride)] for i in range(max_points - 1)] + [rows[-1]]
        series[key] = MetricSeries(
            step=[r[0] for r in picked], value=[r[1] for r in picked], time=[r[2] for r in picked], total=total
        )
    return MetricsOut(run_id=run_id, series=series)


def metrics_csv(session: Session, run_id: int) -> str:
    """Every stored metric row as CSV text: one line per step, columns ``step`` then the keys (sorted).

    A key not recorded at a step leaves its cell empty. Raises NotFound for no such run.
    """
    get_run(session, run_id)
    rows = session.execute(
        select(Metric.step, Metric.key, Metric.value).where(Metric.run_id == run_id).order_by(Metric.step)
    ).all()
    keys = sorted({r[1] for r in rows})
    by_step: dict[int, dict[str, float]] = {}
    for step, key, value in rows:
        by_step.setdefault(step, {})[key] = value
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", *keys])
    for step in sorted(by_step):
        values = by_step[step]
        writer.writerow([step, *(repr(values[k]) if k in values else "" for k in keys)])
    return out.getvalue()


def snapshots(session: Session, run_id: int) -> list[SnapshotInfo]:
    """Every snapshot's index and step, in step order."""
    get_run(session, run_id)
    rows = session.execute(
        select(Snapshot.step, Snapshot.created_at).where(Snapshot.run_id == run_id).order_by(Snapshot.step, Snapshot.id)
    ).all()
    return [SnapshotInfo(index=i, step=r[0], created_at=_aware(r[1])) for i, r in enumerate(rows)]


def snapshot(session: Session, run_id: int, index: int) -> SnapshotOut:
    """The ``index``-th snapshot in step order (negative counts from the latest).

    Raises:
        NotFound: no such run or index.
    """
    get_run(session, run_id)
    count = session.scalar(select(func.count()).select_from(Snapshot).where(Snapshot.run_id == run_id)) or 0
    pos = index + count if index < 0 else index
    if not 0 <= pos < count:
        raise NotFound(f"run {run_id} has no snapshot {index} ({count} stored)")
    row = session.scalars(
        select(Snapshot).where(Snapshot.run_id == run_id).order_by(Snapshot.step, Snapshot.id).offset(pos).limit(1)
    ).one()
    return SnapshotOut(index=pos, step=row.step, created_at=_aware(row.created_at), data=row.data)


def logs(session: Session, run_id: int, limit: int) -> list[LogOut]:
    """The run's latest log lines, oldest first."""
    get_run(session, run_id)
    rows = session.scalars(select(LogEntry).where(LogEntry.run_id == run_id).order_by(LogEntry.id.desc()).limit(limit))
    return [LogOut(level=r.level, message=r.message, time=r.time) for r in reversed(list(rows))]


def checkpoint_file(session: Session, run_id: int) -> Path:
    """The run's latest checkpoint file.

    Raises:
        NotFound: no such run (404).
        Conflict: the run exists but has saved no checkpoint yet (409).
    """
    return checkpoint_of(get_run(session, run_id))


def checkpoint_of(run: Run) -> Path:
    """``run``'s latest checkpoint file (Conflict, 409, before it has saved one)."""
    if not run.checkpoint_path or not Path(run.checkpoint_path).is_file():
        raise Conflict(f"run {run.id} has no checkpoint yet: try again once it has saved one")
    return Path(run.checkpoint_path)
