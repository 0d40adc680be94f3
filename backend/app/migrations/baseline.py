"""The schema of revision ``0001``: the tables as the studio created them before it used Alembic.

Frozen: later schema changes are new revisions, never edits here. Revision ``0001`` creates these
tables, and :mod:`backend.app.migrations.legacy` brings a database made before Alembic to them.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("kind", String(16), nullable=False, server_default="training"),
    Column("tags", JSON, nullable=False),
    Column("spec", JSON, nullable=False),
    Column("preset", String(128), nullable=True),
    Column("status", String(16), nullable=False),
    Column("step", Integer, nullable=False),
    Column("n_iterations", Integer, nullable=False),
    Column("seed", Integer, nullable=True),
    Column("device", String(32), nullable=True),
    Column("error", Text, nullable=True),
    Column("last_metrics", JSON, nullable=False),
    Column("last_eval_error", Float, nullable=True),
    Column("result", JSON, nullable=True),
    Column("checkpoint_path", String(1024), nullable=True),
    Column("checkpoint_step", Integer, nullable=True),
    Column("artifact_path", String(1024), nullable=True),
    Column("resume_pending", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("ix_runs_status", "status"),
    sqlite_autoincrement=True,
)

saved_specs = Table(
    "saved_specs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(128), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_saved_specs_kind", "kind"),
    sqlite_autoincrement=True,
)

metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(128), nullable=False),
    Column("step", Integer, nullable=False),
    Column("value", Float, nullable=False),
    Column("time", Float, nullable=False),
    Index("ix_metrics_run_key_step", "run_id", "key", "step"),
)

run_logs = Table(
    "run_logs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("level", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("time", Float, nullable=False),
    Index("ix_run_logs_run", "run_id"),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("step", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_snapshots_run_step", "run_id", "step"),
)
