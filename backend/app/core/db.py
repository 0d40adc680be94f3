"""Engine and sessions: SQLite (WAL mode) by default, any SQLAlchemy URL by configuration."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, MetaData, Table, create_engine, event, inspect, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.schema import CreateIndex, CreateTable

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    """Declarative base of every table."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite connections get WAL journaling and foreign keys."""
    if url.startswith("sqlite"):
        # a pool as large as the request thread pool's concurrency: a connection beyond the pool is
        # opened (with its PRAGMAs) and closed again for every request, which showed under load
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, pool_size=40, max_overflow=20, pool_timeout=30
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine) -> sessionmaker[Session]:
    """Create missing tables, bring older databases up to date and return a session factory."""
    from backend.app import models  # noqa: F401  (registers the tables)

    Base.metadata.create_all(engine)
    add_missing_columns(engine)
    use_autoincrement(engine)
    return sessionmaker(engine, expire_on_commit=False)


def add_missing_columns(engine: Engine) -> list[str]:
    """Add columns that the models gained since a database was created (``ALTER TABLE ... ADD COLUMN``).

    Only nullable columns or columns with a server default are added; returns ``table.column`` of each.
    """
    existing = inspect(engine)
    added = []
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            have = {c["name"] for c in existing.get_columns(table.name)}
            for col in table.columns:
                if col.name in have or not (col.nullable or col.server_default is not None):
                    continue
                ddl = f"ALTER TABLE {table.name} ADD COLUMN {col.name} {col.type.compile(engine.dialect)}"
                if col.server_default is not None:
                    ddl += f" DEFAULT '{col.server_default.arg}' NOT NULL"
                conn.execute(text(ddl))
                added.append(f"{table.name}.{col.name}")
    return added


def use_autoincrement(engine: Engine) -> list[str]:
    """Rebuild the SQLite tables whose model asks for ``AUTOINCREMENT`` (ids never reused) but that an
    older version created without it; returns the names of the tables rebuilt.

    SQLite cannot add ``AUTOINCREMENT`` to a table, so each such table is copied into a new one,
    rows and ids kept, in one transaction with foreign keys off (SQLite's documented way to change
    a table's definition): the rows that reference it stay valid. Ids deleted before the upgrade
    above the highest id left were not recorded anywhere and may be given once more; none after.
    Other databases (PostgreSQL, ...) draw ids from sequences, which never reuse them.
    """
    if engine.dialect.name != "sqlite":
        return []
    wanted = [t for t in Base.metadata.sorted_tables if t.dialect_options["sqlite"].get("autoincrement")]
    rebuilt: list[str] = []
    raw = engine.raw_connection()
    try:
        con = raw.driver_connection
        for table in wanted:
            row = con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table.name,)).fetchone()
            if row is not None and "AUTOINCREMENT" not in row[0].upper():
                _rebuild(con, engine, table)
                rebuilt.append(table.name)
                log.info("table %s rebuilt with AUTOINCREMENT: its ids are never reused", table.name)
    finally:
        raw.close()
    return rebuilt


def _rebuild(con: Any, engine: Engine, table: Table) -> None:
    """Copy ``table`` into a new table with the model's definition (sqlite3 connection ``con``)."""
    new = f"{table.name}__rebuilt"
    have = {r[1] for r in con.execute(f'PRAGMA table_info("{table.name}")')}
    columns = ", ".join(f'"{c.name}"' for c in table.columns if c.name in have)
    isolation, con.isolation_level = con.isolation_level, None  # explicit transaction below
    con.execute("PRAGMA foreign_keys = OFF")  # no effect inside a transaction, hence before BEGIN
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute(f'DROP TABLE IF EXISTS "{new}"')
        con.execute(str(CreateTable(table.to_metadata(MetaData(), name=new)).compile(dialect=engine.dialect)))
        con.execute(f'INSERT INTO "{new}" ({columns}) SELECT {columns} FROM "{table.name}"')
        con.execute(f'DROP TABLE "{table.name}"')
        con.execute(f'ALTER TABLE "{new}" RENAME TO "{table.name}"')
        for index in table.indexes:
            con.execute(str(CreateIndex(index).compile(dialect=engine.dialect)))
        broken = con.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"rebuilding {table.name} would break {len(broken)} foreign keys")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("PRAGMA foreign_keys = ON")
        con.isolation_level = isolation


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
