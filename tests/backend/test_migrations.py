"""Alembic migrations: a new database reaches the models' schema, and a database made before Alembic
(the frozen DDL in ``fixtures/pre_alembic_schema.<dialect>.sql``, with rows) is adopted without losing one.

The PostgreSQL variants are in ``test_postgres.py`` (they need its throwaway server) and reuse the
helpers here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, Table, inspect, select, text

from backend.app import migrations
from backend.app.core.db import Base, init_db, make_engine
from backend.app.migrations import baseline
from backend.app.models import Run
from backend.app.status import RunKind, RunStatus

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WHEN = "'2024-01-01 00:00:00'"
RUN_COLUMNS = "name, kind, tags, spec, status, step, n_iterations, last_metrics, resume_pending, created_at"
ROWS = [
    f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ('one', 'training', '[\"a\"]', '{{\"name\": \"one\"}}', 'finished', 20, 20,"
    f" '{{\"loss\": 0.5}}', FALSE, {WHEN})",
    f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ('two', 'study', '[\"study\"]', '{{\"study\": \"tuning\", \"params\": {{}}}}',"
    f" 'interrupted', 0, 0, '{{}}', FALSE, {WHEN})",
    f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ('three', 'training', '[]', '{{}}', 'queued', 0, 5, '{{}}', FALSE, {WHEN})",
    "DELETE FROM runs WHERE name = 'three'",  # its id is never given again
    "INSERT INTO metrics (run_id, key, step, value, time) VALUES (1, 'loss', 1, 0.75, 10.0), (1, 'loss', 2, 0.5, 11.0)",
    f"INSERT INTO snapshots (run_id, step, data, created_at) VALUES (1, 10, '{{\"mean_endpoint_error\": 0.25}}', {WHEN}),"
    f" (1, 20, '{{\"mean_endpoint_error\": 0.125}}', {WHEN})",
    "INSERT INTO run_logs (run_id, level, message, time) VALUES (1, 'info', 'hello', 10.0), (2, 'warning', 'study', 12.0)",
    f"INSERT INTO saved_specs (kind, name, spec, created_at, updated_at) VALUES ('task', 't', '{{\"kind\": \"random_reach\"}}',"
    f" {WHEN}, {WHEN})",
]


def pre_alembic_database(engine: Engine) -> None:
    """The schema exactly as ``init_db`` created it before Alembic, with rows in every table."""
    ddl = (FIXTURES / f"pre_alembic_schema.{engine.dialect.name}.sql").read_text(encoding="utf-8")
    ddl = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    with engine.begin() as conn:
        for statement in [*(s.strip() for s in ddl.split(";") if s.strip()), *ROWS]:
            conn.execute(text(statement.replace(":", r"\:")))
    assert "alembic_version" not in inspect(engine).get_table_names()


def rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every baseline table, in id order (JSON parsed)."""
    with engine.connect() as conn:
        return {
            name: [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]
            for name, table in baseline.metadata.tables.items()
        }


def assert_at_head(engine: Engine) -> None:
    """The database is stamped at the newest revision and its schema is the models' (no autogenerate diff)."""
    assert migrations.current(engine) == migrations.head()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, Base.metadata) == []


def assert_adopted_without_loss(engine: Engine) -> None:
    """Upgrade a :func:`pre_alembic_database` and check that every row is kept (plus the old backfills)."""
    before = rows(engine)
    sessions = init_db(engine)
    assert_at_head(engine)
    after = rows(engine)
    assert after["runs"][0]["last_eval_error"] == 0.125  # the latest snapshot's, as the old start-up backfill did
    after["runs"][0]["last_eval_error"] = None
    assert after == before
    with sessions() as s:
        runs = list(s.scalars(select(Run).order_by(Run.id)))
        assert [(r.kind, r.status) for r in runs] == [
            (RunKind.TRAINING, RunStatus.FINISHED),
            (RunKind.STUDY, RunStatus.INTERRUPTED),
        ]
        assert [r.id for r in runs] == [1, 2]
        s.add(Run(name="four", spec={}, status=RunStatus.QUEUED))
        s.commit()
        assert s.scalars(select(Run.id).where(Run.name == "four")).one() == 4  # the deleted run's id 3 stays unused
    init_db(engine)  # a second start changes nothing
    assert_at_head(engine)


def test_a_new_database_upgrades_to_head_and_matches_the_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    init_db(engine)
    assert_at_head(engine)
    with sqlite3.connect(tmp_path / "new.db") as con:  # ids never reused: AUTOINCREMENT as the models ask
        for table in ("runs", "saved_specs"):
            assert "AUTOINCREMENT" in con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    engine.dispose()


def test_the_schema_check_sees_a_difference(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    init_db(engine)
    other = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(other)
    Table("extra", other, Column("id", Integer, primary_key=True))
    with engine.connect() as conn:
        assert [d[0] for d in compare_metadata(MigrationContext.configure(conn), other)] == ["add_table"]
    engine.dispose()


def test_a_database_from_before_alembic_is_adopted_without_losing_a_row(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    pre_alembic_database(engine)
    assert_adopted_without_loss(engine)
    engine.dispose()


def test_the_baseline_is_the_frozen_pre_alembic_schema():
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    for name, dialect in (("sqlite", sqlite.dialect()), ("postgresql", postgresql.dialect())):
        out = []
        for table in baseline.metadata.sorted_tables:
            out.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";\n")
            indexes = sorted(table.indexes, key=lambda i: str(i.name))
            out += [str(CreateIndex(i).compile(dialect=dialect)).strip() + ";\n" for i in indexes]
        frozen = (FIXTURES / f"pre_alembic_schema.{name}.sql").read_text(encoding="utf-8").split("\n", 2)[2]
        assert [line.rstrip() for line in "\n".join(out).splitlines()] == frozen.splitlines()


@pytest.mark.parametrize("drop", [["kind", "artifact_path"], ["last_eval_error"]])
def test_an_older_database_gains_the_columns_it_lacks(tmp_path, drop):
    engine = make_engine(f"sqlite:///{tmp_path / 'older.db'}")
    pre_alembic_database(engine)
    with engine.begin() as conn:  # what a database made before these columns looks like
        for column in drop:
            conn.execute(text(f"ALTER TABLE runs DROP COLUMN {column}"))
    init_db(engine)
    assert_at_head(engine)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT name, kind, artifact_path, last_eval_error FROM runs ORDER BY id")).all()
    kind = "training" if "kind" in drop else "study"  # the column's server default for the rows it finds
    assert got == [("one", "training", None, 0.125), ("two", kind, None, None)]
    engine.dispose()


def test_revision_0002_adds_experiments_to_a_0001_database_keeping_every_row(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'r1.db'}")
    migrations.upgrade(engine, "0001")
    with engine.begin() as conn:
        for statement in ROWS:
            conn.execute(text(statement.replace(":", r"\:")))
    before = rows(engine)
    sessions = init_db(engine)
    assert_at_head(engine)
    assert rows(engine) == before
    with engine.connect() as conn:
        got = conn.execute(text("SELECT name, notes, experiment_id, condition_index, replicate_index FROM runs")).all()
    assert got == [("one", None, None, None, None), ("two", None, None, None, None)]
    with sessions() as s:
        s.add(Run(name="four", spec={}, status=RunStatus.QUEUED))
        s.commit()
        assert s.scalars(select(Run.id).where(Run.name == "four")).one() == 4  # AUTOINCREMENT survived the upgrade
    engine.dispose()
