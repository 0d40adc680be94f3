"""Run placement: on ``runs`` the ``node`` its worker ran on (``local (<host>)`` or ``ray <ip> (<node id>)``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable ``node`` column (a plain ADD COLUMN: rows and the AUTOINCREMENT counter kept)."""
    if "node" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("runs")}:
        op.add_column("runs", sa.Column("node", sa.String(length=128), nullable=True))


def downgrade() -> None:
    """Drop ``node``."""
    with op.batch_alter_table("runs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("node")
