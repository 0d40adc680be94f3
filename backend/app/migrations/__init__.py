"""The database schema's Alembic migrations, configured from code (no ``alembic.ini``).

:func:`upgrade` brings a database to the head revision at the server's start: a new database gets
every revision; one made before Alembic (the studio's tables, no ``alembic_version``) is first
brought to revision ``0001`` by :mod:`.legacy`, stamped, then upgraded like any other. The revisions
live in ``versions/`` inside this package, so an installed package finds them.

A new revision, for developers: ``python -m backend.app.migrations revision -m "what" --autogenerate``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from backend.app.migrations import legacy

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
BASELINE = "0001"
"""The revision whose schema :mod:`.baseline` freezes: where databases from before Alembic start."""


def config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration on this package's scripts, run on ``connection`` (or on ``url``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"no Alembic revisions in {HERE / 'versions'}")
    return revision


def current(engine: Engine) -> str | None:
    """The database's revision (None before Alembic or for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the head), adopting a database made before Alembic.

    On SQLite, foreign keys are off while revisions run: a batch migration copies a table, and
    dropping the original would otherwise cascade to the rows that reference it.
    """
    adopted = legacy.is_pre_alembic(engine)
    if adopted:
        legacy.adopt(engine)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        try:
            cfg = config(conn)
            if adopted:
                command.stamp(cfg, BASELINE)
            command.upgrade(cfg, revision)
            conn.commit()
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys = ON")
    log.info("database at revision %s", current(engine))
