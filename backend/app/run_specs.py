"""What a run trains or studies, typed: the ``kind`` and ``spec`` columns of a run row as one of two shapes.

A training run holds the core's :class:`RunSpec`; a study run holds a study's name and validated
parameters. :data:`AnyRunSpec` is their union discriminated on ``kind``; code that needs the
shape asks :func:`spec_of` and dispatches on the type (``isinstance`` or the shared methods)
instead of testing ``run.kind`` and reading dict keys. The columns keep their JSON as before (a
RunSpec's dump, or ``{"study": name, "params": {...}}``): no data migration; each type decodes
its own column (``from_column``), picked by the row's ``kind``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backend.app.status import RunKind
from motornet_core import SpecError
from motornet_core.specs import RunSpec

if TYPE_CHECKING:
    from backend.app.models import Run


class _RunSpecBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def columns(self) -> dict[str, Any]:
        """The row's ``kind`` and ``spec`` column values."""
        raise NotImplementedError

    def served(self) -> dict[str, Any]:
        """The ``spec`` and ``params`` fields of ``GET /api/runs/{id}``."""
        raise NotImplementedError

    def artifact_dir(self, run_dir: Path) -> Path | None:
        """Where the worker writes the run's result files (None: only its checkpoint)."""
        return None


class TrainingRunSpec(_RunSpecBase):
    """A training run: the core's RunSpec (effector, task, policy, loss, train)."""

    kind: Literal[RunKind.TRAINING] = RunKind.TRAINING
    spec: RunSpec

    @classmethod
    def from_column(cls, spec: dict[str, Any]) -> TrainingRunSpec:
        """Decode the ``spec`` column (a RunSpec's JSON); raises :class:`SpecError` naming the bad field."""
        return cls(spec=RunSpec.parse(spec))

    def columns(self) -> dict[str, Any]:
        return {"kind": self.kind, "spec": self.spec.model_dump(mode="json")}

    def served(self) -> dict[str, Any]:
        return {"spec": self.spec, "params": None}


class StudyRunSpec(_RunSpecBase):
    """A study run: a study of the core's catalogue and its validated parameters."""

    kind: Literal[RunKind.STUDY] = RunKind.STUDY
    study: str
    params: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_column(cls, spec: dict[str, Any]) -> StudyRunSpec:
        """Decode the ``spec`` column (``{"study": name, "params": {...}}``); raises :class:`SpecError`."""
        try:
            return cls.model_validate(spec)
        except ValidationError as exc:
            errors = [{"loc": ".".join(map(str, e["loc"])), "msg": e["msg"], "input": e.get("input")} for e in exc.errors()]
            raise SpecError(errors) from None

    def columns(self) -> dict[str, Any]:
        return {"kind": self.kind, "spec": {"study": self.study, "params": self.params}}

    def served(self) -> dict[str, Any]:
        return {"spec": None, "params": self.params}

    def artifact_dir(self, run_dir: Path) -> Path | None:
        return run_dir / "study"


AnyRunSpec = Annotated[TrainingRunSpec | StudyRunSpec, Field(discriminator="kind")]
"""A run's typed spec, told apart by ``kind``."""
SPEC_TYPES: dict[RunKind, type[TrainingRunSpec] | type[StudyRunSpec]] = {
    RunKind.TRAINING: TrainingRunSpec,
    RunKind.STUDY: StudyRunSpec,
}
"""The spec type of each run kind (the discriminator's values)."""


def spec_of(run: Run) -> TrainingRunSpec | StudyRunSpec:
    """The run's typed spec.

    Raises:
        SpecError: the stored spec no longer validates (locations relative to the spec).
    """
    return SPEC_TYPES[RunKind(run.kind)].from_column(run.spec or {})


def study_name(run: Run) -> str | None:
    """The study a run runs: None for a training run, or for a stored spec that no longer validates
    (the list view shows such a run rather than failing)."""
    try:
        parsed = spec_of(run)
    except SpecError:
        return None
    return parsed.study if isinstance(parsed, StudyRunSpec) else None
