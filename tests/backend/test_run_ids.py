"""Run and saved-spec ids are never reused, viewers of a deleted run are told and let go, and each
status reaches the viewers once."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import fake_jobs
import pytest
from backend_helpers import wait_for
from sqlalchemy import create_engine
from sqlalchemy.schema import CreateIndex, CreateTable
from starlette.websockets import WebSocketDisconnect

from backend.app.core.db import init_db, make_engine
from backend.app.migrations import baseline
from backend.app.migrations.legacy import use_autoincrement
from backend.app.models import Run
from motornet_core import presets

LONG = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000}}
SHORT = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 5}}


def _running(client, rid: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{rid}").json()
        if run["status"] == "running" and run["step"] > 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"run {rid} never got going: {run}")


def test_deleted_ids_are_not_given_again(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job)
    first = c.post("/api/runs", json=SHORT).json()["id"]
    wait_for(c, first)
    assert c.delete(f"/api/runs/{first}").status_code == 204
    second = c.post("/api/runs", json=SHORT).json()["id"]
    assert second > first
    spec = presets.point_mass_24().model_dump(mode="json")
    eid = c.post("/api/effectors", json={"name": "a", "spec": spec}).json()["id"]
    assert c.delete(f"/api/effectors/{eid}").status_code == 204
    assert c.post("/api/effectors", json={"name": "b", "spec": spec}).json()["id"] > eid
    tid = c.post("/api/tasks", json={"name": "t", "spec": {"kind": "random_reach"}}).json()["id"]
    assert tid > eid  # one id sequence for both kinds of saved specs
    wait_for(c, second)


def test_viewers_of_a_deleted_run_get_a_last_message_and_are_closed(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    _running(c, rid)
    with pytest.raises(WebSocketDisconnect) as info, c.websocket_connect(f"/ws/runs/{rid}") as ws:
        assert ws.receive_json()["status"] == "running"
        assert c.delete(f"/api/runs/{rid}").status_code == 204
        nxt = c.post("/api/runs", json=LONG).json()["id"]  # never the old id: no stranger's messages
        assert nxt != rid
        seen = []
        while True:
            seen.append(ws.receive_json())
    assert info.value.code == 4410 and "deleted" in info.value.reason
    assert seen[-1] == {"type": "status", "run_id": rid, "seq": seen[-1]["seq"], "status": "deleted"}
    assert all(m.get("run_id") == rid for m in seen)
    c.delete(f"/api/runs/{nxt}")


def test_running_is_sent_once(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    statuses = []
    with c.websocket_connect(f"/ws/runs/{rid}") as ws:
        while len([m for m in statuses if m["type"] == "status"]) < 1 or statuses[-1]["type"] != "metric":
            statuses.append(ws.receive_json())
        for _ in range(5):
            statuses.append(ws.receive_json())  # a few metrics more: a late duplicate would be among them
        c.post(f"/api/runs/{rid}/cancel")
        while statuses[-1].get("status") != "cancelled":
            statuses.append(ws.receive_json())
    sequence = [m["status"] for m in statuses if m["type"] == "status"]
    assert sequence in (["queued", "running", "cancelled"], ["running", "cancelled"]), sequence
    running = next(m for m in statuses if m.get("status") == "running")
    assert running["worker_pid"] and running["device"] == "cpu"


# -- databases made before AUTOINCREMENT ---------------------------------------------------------------
def _old_database(path: Path) -> None:
    """The schema as earlier versions created it (no AUTOINCREMENT, no Alembic), with runs and their metrics."""
    dialect = create_engine("sqlite://").dialect
    with sqlite3.connect(path) as con:
        for table in baseline.metadata.sorted_tables:
            con.execute(str(CreateTable(table).compile(dialect=dialect)).replace(" AUTOINCREMENT", ""))
            for index in table.indexes:
                con.execute(str(CreateIndex(index).compile(dialect=dialect)))
        when = "'2024-01-01 00:00:00'"
        row = f"'training', '[]', '{{}}', 'finished', 0, 0, '{{}}', 0, {when}"
        cols = "kind, tags, spec, status, step, n_iterations, last_metrics, resume_pending, created_at"
        con.execute(f"INSERT INTO runs (id, name, {cols}) VALUES (1, 'one', {row}), (2, 'two', {row}), (3, 'three', {row})")
        con.execute("INSERT INTO metrics (run_id, key, step, value, time) VALUES (1, 'loss', 1, 0.5, 0), (2, 'loss', 1, 0.25, 0)")
        spec = '{"kind": "random_reach"}'
        saved = "id, kind, name, spec, created_at, updated_at"
        con.execute(f"INSERT INTO saved_specs ({saved}) VALUES (4, 'task', 't', '{spec}', {when}, {when})")
    with sqlite3.connect(path) as con:
        assert "AUTOINCREMENT" not in con.execute("SELECT sql FROM sqlite_master WHERE name = 'runs'").fetchone()[0]


def test_an_older_database_is_rebuilt_with_autoincrement_and_keeps_everything(tmp_path):
    path = tmp_path / "studio.db"
    _old_database(path)
    engine = make_engine(f"sqlite:///{path}")
    sessions = init_db(engine)
    assert use_autoincrement(engine) == []  # once is enough
    with sqlite3.connect(path) as con:
        for table in ("runs", "saved_specs"):
            assert "AUTOINCREMENT" in con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"ix_runs_status", "ix_saved_specs_kind"} <= indexes
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    with sessions() as s:
        assert [r.name for r in s.query(Run).order_by(Run.id)] == ["one", "two", "three"]
        s.delete(s.get(Run, 3))
        s.delete(s.get(Run, 2))  # its metric rows go with it (the foreign key still points at runs)
        s.commit()
        s.add(Run(name="four", spec={}, status="queued"))
        s.commit()
        assert [r.id for r in s.query(Run).order_by(Run.id)] == [1, 4]
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT run_id FROM metrics").fetchall() == [(1,)]
    engine.dispose()


def test_an_older_database_serves_after_the_upgrade(make_client, tmp_path):
    data = tmp_path / "old"
    data.mkdir()
    _old_database(data / "studio.db")
    c = make_client(job_target=fake_jobs.sleepy_job, data_dir=data)
    assert [r["id"] for r in c.get("/api/runs?sort=created").json()] == [1, 2, 3]
    assert c.get("/api/runs/1/metrics").json()["series"]["loss"]["value"] == [0.5]
    assert c.delete("/api/runs/3").status_code == 204
    rid = c.post("/api/runs", json=SHORT).json()["id"]
    assert rid == 4
    wait_for(c, rid)
    assert c.get("/api/tasks").json()[0]["id"] == 4
