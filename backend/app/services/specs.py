"""Spec kinds, validation, JSON schemas, presets and saved effector/task specs."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.app.core.errors import NotFound
from backend.app.models import SavedSpec, utcnow
from backend.app.schemas import ErrorItem, ValidateOut
from motornet_core import EffectorSpec, SpecError, presets
from motornet_core.specs import RunSpec, TaskSpec, spec_error_from_validation
from motornet_core.training.dynamics import DynamicsParams

SPEC_TYPES: dict[str, Any] = {
    "effector": EffectorSpec,
    "task": TaskSpec,
    "run": RunSpec,
    "policy": RunSpec.model_fields["policy"].annotation,
    "loss": RunSpec.model_fields["loss"].annotation,
    "train": RunSpec.model_fields["train"].annotation,
    "dynamics": DynamicsParams,
}


@cache
def _adapter(kind: str) -> TypeAdapter[Any]:
    return TypeAdapter(SPEC_TYPES[kind])


def parse_spec(kind: str, data: Any) -> Any:
    """Validate ``data`` as a spec of ``kind``.

    Raises:
        SpecError: every problem with its dotted path.
    """
    try:
        return _adapter(kind).validate_python(data)
    except ValidationError as exc:
        raise spec_error_from_validation(exc, data) from None


def dump(spec: Any) -> dict[str, Any]:
    """A spec as a JSON-ready dict."""
    return spec.model_dump(mode="json")


def validate(kind: str, data: Any) -> ValidateOut:
    """Every error of ``data`` with its path (never raises for invalid input)."""
    try:
        spec = parse_spec(kind, data)
    except SpecError as exc:
        return ValidateOut(valid=False, errors=[ErrorItem.model_validate(e) for e in exc.errors])
    return ValidateOut(valid=True, spec=dump(spec))


@cache
def json_schema(kind: str) -> dict[str, Any]:
    """``model_json_schema()`` of a spec kind (forms are built from it)."""
    return _adapter(kind).json_schema()


def _materialise(value: Any) -> Any:
    return value() if callable(value) else value


def all_presets() -> dict[str, dict[str, Any]]:
    """Effector, task, run and study presets, each by name."""
    from motornet_core import run_presets

    out: dict[str, dict[str, Any]] = {
        "effectors": {name: _materialise(make) for name, make in presets.EFFECTOR_PRESETS.items()},
        "tasks": {name: _materialise(make) for name, make in run_presets.TASK_PRESETS.items()},
        "runs": {name: _materialise(make) for name, make in run_presets.RUN_PRESETS.items()},
        "studies": _studies(),
    }
    return out


@cache
def _studies() -> dict[str, Any]:
    """The core's study catalogue by name (title, description, expected_seconds, trains, defaults, schema)."""
    try:
        from motornet_core.studies import catalogue
    except ImportError:  # a core without studies
        return {}
    return {entry["name"]: entry for entry in catalogue()}


# -- saved specs ------------------------------------------------------------------------------------------------
def list_saved(session: Session, kind: str) -> list[SavedSpec]:
    """Saved specs of one kind, oldest first."""
    return list(session.scalars(select(SavedSpec).where(SavedSpec.kind == kind).order_by(SavedSpec.id)))


def get_saved(session: Session, kind: str, spec_id: int) -> SavedSpec:
    """One saved spec.

    Raises:
        NotFound: no such id of this kind.
    """
    row = session.get(SavedSpec, spec_id)
    if row is None or row.kind != kind:
        raise NotFound(f"{kind} {spec_id} not found")
    return row


def create_saved(session: Session, kind: str, name: str, spec: Any) -> SavedSpec:
    """Store a validated spec under a name."""
    row = SavedSpec(kind=kind, name=name, spec=dump(spec))
    session.add(row)
    session.commit()
    return row


def update_saved(session: Session, kind: str, spec_id: int, name: str, spec: Any) -> SavedSpec:
    """Replace a saved spec's name and spec."""
    row = get_saved(session, kind, spec_id)
    row.name, row.spec, row.updated_at = name, dump(spec), utcnow()
    session.commit()
    return row


def delete_saved(session: Session, kind: str, spec_id: int) -> None:
    """Remove a saved spec."""
    session.delete(get_saved(session, kind, spec_id))
    session.commit()
