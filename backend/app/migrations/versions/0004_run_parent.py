"""Runs record the run they were rerun from: a nullable ``runs.parent_id``.

Revision ID: 0004
Revises: 0003_queue_order
Create Date: 2026-12-03

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003_queue_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``runs.parent_id`` (rows kept; a plain ADD COLUMN keeps SQLite's AUTOINCREMENT counter).

    No foreign key: deleting a parent leaves its reruns, which keep the id (never given to another run).
    """
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("runs")}
    if "parent_id" not in have:
        op.add_column("runs", sa.Column("parent_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop ``runs.parent_id``."""
    with op.batch_alter_table("runs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("parent_id")
