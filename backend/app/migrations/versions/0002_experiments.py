"""Experiments: an ``experiments`` table, and on ``runs`` the experiment, condition and replicate of a
network plus free-text ``notes``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``experiments`` (ids never reused) and add the nullable columns to ``runs`` (rows kept)."""
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    # plain ADD COLUMN (no batch copy of ``runs``): SQLite keeps the table's AUTOINCREMENT counter,
    # so the ids of deleted runs stay unused
    op.add_column("runs", sa.Column("notes", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a column's foreign key inline only
        op.execute("ALTER TABLE runs ADD COLUMN experiment_id INTEGER REFERENCES experiments (id)")
    else:
        op.add_column("runs", sa.Column("experiment_id", sa.Integer(), sa.ForeignKey("experiments.id"), nullable=True))
    op.add_column("runs", sa.Column("condition_index", sa.Integer(), nullable=True))
    op.add_column("runs", sa.Column("replicate_index", sa.Integer(), nullable=True))
    op.create_index("ix_runs_experiment", "runs", ["experiment_id", "condition_index"])


def downgrade() -> None:
    """Drop the run columns and the ``experiments`` table."""
    op.drop_index("ix_runs_experiment", "runs")
    with op.batch_alter_table("runs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for column in ("replicate_index", "condition_index", "experiment_id", "notes"):
            batch.drop_column(column)
    op.drop_table("experiments")
