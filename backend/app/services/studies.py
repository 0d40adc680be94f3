"""Studies: the core's catalogue, study runs (queued like training runs) and their stored results."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from backend.app import queueing
from backend.app.core.config import Settings
from backend.app.core.errors import Conflict, NotFound, spec_error
from backend.app.models import Run, utcnow
from backend.app.run_specs import StudyRunSpec, spec_of
from backend.app.schemas import StudyOut, StudyResultOut, StudyRunCreate
from backend.app.services.runs import ensure_queue_room, get_run
from backend.app.status import RunStatus
from motornet_core import SpecError

RESULT_FILES = {"figures.json", "table.json", "table.csv", "summary.json"}


@cache
def _catalogue() -> dict[str, dict[str, Any]]:
    from motornet_core.studies import catalogue

    return {entry["name"]: entry for entry in catalogue()}


def list_studies() -> list[StudyOut]:
    """Every study with its schema and defaults, in catalogue order."""
    return [StudyOut(**entry) for entry in _catalogue().values()]


def get_study(name: str) -> StudyOut:
    """One study.

    Raises:
        NotFound: no study of that name.
    """
    entry = _catalogue().get(name)
    if entry is None:
        raise NotFound(f"study {name!r} not found; choose one of {sorted(_catalogue())}")
    return StudyOut(**entry)


def validate_params(name: str, params: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The study's full parameters (defaults filled in) within the server's limits.

    Raises:
        NotFound: unknown study.
        SpecError: invalid parameters, each ``loc`` as ``params.<field>``.
    """
    from motornet_core.studies import study_params

    get_study(name)
    try:
        p = study_params(name, params).model_dump(mode="json")
    except SpecError as exc:
        raise SpecError([{**e, "loc": _prefixed(e.get("loc"))} for e in exc.errors]) from None
    limits = (("iterations", settings.max_iterations), ("batch_size", settings.max_batch_size))
    for key, limit in limits:
        if isinstance(p.get(key), int) and p[key] > limit:
            raise spec_error(f"params.{key}", f"this server allows at most {limit}", p[key])
    return p


def _prefixed(loc: Any) -> str:
    loc = ".".join(map(str, loc)) if isinstance(loc, (list, tuple)) else str(loc or "")
    return f"params.{loc}" if loc else "params"


def create_study_run(session: Session, name: str, req: StudyRunCreate, settings: Settings) -> Run:
    """Insert a queued study run (the worker manager starts it like a training run)."""
    params = validate_params(name, req.params, settings)
    with queueing.ADMISSION:  # count and insert as one step (see backend.app.queueing)
        ensure_queue_room(session, settings)
        run = Run(
            **StudyRunSpec(study=name, params=params).columns(),
            name=req.name or name,
            tags=list(req.tags or ["study"]),
            preset=None,
            status=RunStatus.QUEUED,
            n_iterations=0,
            seed=params.get("seed") if isinstance(params.get("seed"), int) else None,
            device="cpu",
            queued_at=utcnow(),
        )
        session.add(run)
        session.commit()
    return run


def _study_run(session: Session, run_id: int) -> tuple[Run, StudyRunSpec]:
    run = get_run(session, run_id)
    typed = spec_of(run)
    if not isinstance(typed, StudyRunSpec):
        raise Conflict(f"run {run_id} is a training run, not a study; see GET /api/runs/{run_id}")
    return run, typed


def _artifact(run: Run, filename: str) -> Path:
    if run.status != RunStatus.FINISHED:
        raise Conflict(f"run {run.id} is {run.status}; a study's result is there once it has finished")
    path = Path(run.artifact_path or "") / filename
    if not run.artifact_path or not path.is_file():
        raise NotFound(f"run {run.id} has no stored {filename}")
    return path


def result(session: Session, run_id: int) -> StudyResultOut:
    """A finished study run's figures, table and summary, read from its artifact files.

    Raises:
        NotFound: no such run or its files are gone.
        Conflict: a training run, or a study that has not finished.
    """
    run, typed = _study_run(session, run_id)
    head = json.loads(_artifact(run, "summary.json").read_text(encoding="utf-8"))
    figures = json.loads(_artifact(run, "figures.json").read_text(encoding="utf-8"))
    table = json.loads(_artifact(run, "table.json").read_text(encoding="utf-8"))
    return StudyResultOut(
        run_id=run.id,
        study=head.get("study", typed.study),
        params=head.get("params", typed.params),
        seconds=float(head.get("seconds") or 0.0),
        figures=figures,
        table=table,
        summary=head.get("summary", {}),
    )


def result_file(session: Session, run_id: int, filename: str) -> Path:
    """One of a finished study run's files (``figures.json``, ``table.json``, ``table.csv``, ``summary.json``)."""
    if filename not in RESULT_FILES:
        raise NotFound(f"no result file {filename!r}; choose one of {sorted(RESULT_FILES)}")
    return _artifact(_study_run(session, run_id)[0], filename)
