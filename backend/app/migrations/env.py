"""Alembic's environment: migrations run on the connection that :func:`backend.app.migrations.upgrade`
passes in ``config.attributes["connection"]``, or on ``sqlalchemy.url`` (``python -m backend.app.migrations``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from backend.app import models  # noqa: F401  (registers the tables)
from backend.app.core.db import Base, make_engine


def _run(connection: Connection) -> None:
    # batch mode: SQLite changes a table's columns by copying it into a new one
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()
