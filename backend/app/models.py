"""Database rows (SQLAlchemy 2 ``Mapped`` style). Spec columns hold the core specs' JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, DateTime, Dialect, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from backend.app.core.db import Base
from backend.app.status import RunKind, RunStatus

E = TypeVar("E", bound=StrEnum)


class StrEnumColumn(TypeDecorator[E], Generic[E]):
    """A ``StrEnum`` stored as its plain value in a ``VARCHAR(16)``; read back as the member.

    Writing a value outside the enum raises ``ValueError`` before it reaches the database.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__(length=16)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(self.enum(value).value)

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


def utcnow() -> datetime:
    """Timezone-aware now (stored as naive UTC by SQLite)."""
    return datetime.now(UTC)


class SavedSpec(Base):
    """A named effector or task spec saved by a user (``kind`` is ``effector`` or ``task``)."""

    __tablename__ = "saved_specs"
    __table_args__ = (Index("ix_saved_specs_kind", "kind"), {"sqlite_autoincrement": True})  # ids never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Experiment(Base):
    """An experiment: conditions x seeds of one base run (its :class:`ExperimentSpec` in ``spec``).

    Its networks are ordinary training runs (``Run.experiment_id``); ``status`` is derived from
    theirs (:func:`backend.app.experiment_state.derive_status`) and stored for listing. Ids are
    never reused, like runs'.
    """

    __tablename__ = "experiments"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[RunStatus] = mapped_column(StrEnumColumn(RunStatus), default=RunStatus.QUEUED)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Run(Base):
    """A training run or a study run: its spec, status and progress (MLflow's run model).

    ``kind`` is ``training`` (``spec`` is a RunSpec) or ``study`` (``spec`` is
    ``{"study": name, "params": {...}}`` and the study's figures, table and summary are files
    under ``artifact_path``); :func:`backend.app.run_specs.spec_of` reads the two as one typed
    spec. Ids are never reused (SQLite ``AUTOINCREMENT``): a deleted run's id, websocket and
    artifact directory never name another run.
    """

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_status", "status"),
        Index("ix_runs_experiment", "experiment_id", "condition_index"),
        {"sqlite_autoincrement": True},  # ids never reused
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[RunKind] = mapped_column(StrEnumColumn(RunKind), default=RunKind.TRAINING, server_default=RunKind.TRAINING.value)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    preset: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status: Mapped[RunStatus] = mapped_column(StrEnumColumn(RunStatus), default=RunStatus.QUEUED)
    step: Mapped[int] = mapped_column(Integer, default=0)
    n_iterations: Mapped[int] = mapped_column(Integer, default=0)
    seed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    device: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # where the worker ran: "local (<host>)" or "ray <node ip> (<node id prefix>)"
    node: Mapped[str | None] = mapped_column(String(128), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_metrics: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    # mean endpoint error [m] of the latest evaluation snapshot, kept here so that run lists need not
    # read snapshots (each a few hundred kB of JSON)
    last_eval_error: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    checkpoint_path: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    checkpoint_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    artifact_path: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    resume_pending: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # when the run last entered the queue (created, resumed, requeued): queued work starts first in, first out
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    # an experiment's network: its condition and its replicate (seed = base seed + replicate_index);
    # deleting the experiment deletes its runs (the service does, not the database)
    experiment_id: Mapped[int | None] = mapped_column(ForeignKey("experiments.id"), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # rerun of this run (no FK: a parent may be deleted)
    condition_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    replicate_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Metric(Base):
    """One long-format metric row ``(run, key, step, value, time)``."""

    __tablename__ = "metrics"
    __table_args__ = (Index("ix_metrics_run_key_step", "run_id", "key", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))
    step: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    time: Mapped[float] = mapped_column(Float)


class Snapshot(Base):
    """An evaluation snapshot (hand, joints, activation, hidden, targets, time) at a step."""

    __tablename__ = "snapshots"
    __table_args__ = (Index("ix_snapshots_run_step", "run_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LogEntry(Base):
    """A log line a worker reported."""

    __tablename__ = "run_logs"
    __table_args__ = (Index("ix_run_logs_run", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    time: Mapped[float] = mapped_column(Float)
