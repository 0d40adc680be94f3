"""Baseline: runs, saved_specs, metrics, run_logs and snapshots as the studio made them before Alembic.

Revision ID: 0001
Revises:
Create Date: 2026-12-03

"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from backend.app.migrations import baseline

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the five tables and their indexes (the frozen definitions of :mod:`baseline`)."""
    baseline.metadata.create_all(op.get_bind())


def downgrade() -> None:
    """Drop the five tables."""
    baseline.metadata.drop_all(op.get_bind())
