"""Queue order: ``runs.queued_at``, the time a run last entered the queue (created, resumed or requeued).

The worker manager starts queued work first in, first out by this time (a resumed run queues behind
what was queued before its resume); existing rows take their creation time.

Revision ID: 0003_queue_order
Revises: 0002
Create Date: 2026-12-03

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_queue_order"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable ``queued_at`` column (a plain ADD COLUMN: rows and the id counter kept) and fill it."""
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("runs")}
    if "queued_at" not in have:
        op.add_column("runs", sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE runs SET queued_at = created_at WHERE queued_at IS NULL")


def downgrade() -> None:
    """Drop ``queued_at``."""
    with op.batch_alter_table("runs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("queued_at")
