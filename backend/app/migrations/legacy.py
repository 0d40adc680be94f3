"""Databases made before Alembic: brought to revision ``0001`` (:mod:`baseline`) and then stamped.

Such a database has the studio's tables but no ``alembic_version``. The studio used to upgrade it
at every start; :func:`adopt` does those steps once, against the frozen baseline (never the live
models, which later revisions change):

- create tables the database lacks;
- add the nullable or server-defaulted columns it lacks (``ALTER TABLE ... ADD COLUMN``), e.g.
  ``runs.kind`` (``training``), ``runs.artifact_path``, ``runs.last_eval_error``;
- on SQLite, rebuild ``runs`` and ``saved_specs`` with ``AUTOINCREMENT`` (ids never reused);
- fill ``runs.last_eval_error`` of training runs from their latest snapshot.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import DefaultClause, Engine, MetaData, Table, func, inspect, select, text, update
from sqlalchemy.schema import CreateIndex, CreateTable

from backend.app.migrations import baseline

log = logging.getLogger(__name__)
VERSION_TABLE = "alembic_version"


def is_pre_alembic(engine: Engine) -> bool:
    """True when the database holds studio tables but no Alembic version table."""
    tables = set(inspect(engine).get_table_names())
    return VERSION_TABLE not in tables and bool(tables & set(baseline.metadata.tables))


def adopt(engine: Engine) -> list[str]:
    """Bring a pre-Alembic database to the baseline schema without losing a row; returns what changed."""
    before = set(inspect(engine).get_table_names())
    baseline.metadata.create_all(engine)
    done = [f"created {name}" for name in baseline.metadata.tables if name not in before]
    done += [f"added {column}" for column in add_missing_columns(engine)]
    done += [f"rebuilt {name} with AUTOINCREMENT" for name in use_autoincrement(engine)]
    filled = backfill_last_eval_error(engine)
    if filled:
        done.append(f"filled last_eval_error of {filled} runs")
    log.info("database from before Alembic brought to the baseline: %s", ", ".join(done) or "nothing to change")
    return done


def add_missing_columns(engine: Engine) -> list[str]:
    """Add the baseline's nullable or server-defaulted columns that a table lacks; returns ``table.column`` of each."""
    existing = inspect(engine)
    added = []
    with engine.begin() as conn:
        for table in baseline.metadata.sorted_tables:
            have = {c["name"] for c in existing.get_columns(table.name)}
            for col in table.columns:
                default = col.server_default
                if col.name in have or not (col.nullable or default is not None):
                    continue
                ddl = f"ALTER TABLE {table.name} ADD COLUMN {col.name} {col.type.compile(engine.dialect)}"
                if isinstance(default, DefaultClause):
                    ddl += f" DEFAULT '{default.arg}' NOT NULL"
                conn.execute(text(ddl))
                added.append(f"{table.name}.{col.name}")
    return added


def use_autoincrement(engine: Engine) -> list[str]:
    """Rebuild the SQLite tables that the baseline makes ``AUTOINCREMENT`` (ids never reused) but that an
    older version created without it; returns the names of the tables rebuilt.

    SQLite cannot add ``AUTOINCREMENT`` to a table, so each such table is copied into a new one,
    rows and ids kept, in one transaction with foreign keys off (SQLite's documented way to change
    a table's definition): the rows that reference it stay valid. Ids deleted before the upgrade
    above the highest id left were not recorded anywhere and may be given once more; none after.
    Other databases (PostgreSQL, ...) draw ids from sequences, which never reuse them.
    """
    if engine.dialect.name != "sqlite":
        return []
    wanted = [t for t in baseline.metadata.sorted_tables if t.dialect_options["sqlite"].get("autoincrement")]
    rebuilt: list[str] = []
    raw = engine.raw_connection()
    try:
        con = raw.driver_connection
        if con is None:
            raise RuntimeError("no SQLite connection to rebuild tables on")
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
    """Copy ``table`` into a new table with the baseline's definition (sqlite3 connection ``con``)."""
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


def backfill_last_eval_error(engine: Engine) -> int:
    """Set a training run's missing ``last_eval_error`` to its latest snapshot's mean endpoint error [m];
    returns the number of runs filled (runs without such a snapshot keep NULL)."""
    runs, snapshots = baseline.runs, baseline.snapshots
    latest = (
        select(snapshots.c.data["mean_endpoint_error"].as_float())
        .where(snapshots.c.run_id == runs.c.id)
        .order_by(snapshots.c.step.desc(), snapshots.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    missing = (runs.c.kind == "training") & runs.c.last_eval_error.is_(None)
    count = select(func.count()).select_from(runs).where(missing)
    with engine.begin() as conn:
        before = conn.scalar(count) or 0
        if before:
            conn.execute(update(runs).where(missing).values(last_eval_error=latest))
        return before - (conn.scalar(count) or 0)
