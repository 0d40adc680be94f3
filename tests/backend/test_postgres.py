"""The studio on PostgreSQL (``database_url``), against a throwaway server started for the test.

The machine's PostgreSQL binaries (Debian's ``postgresql`` package) run a cluster in a temporary
directory on a free loopback port; as root they run as the ``postgres`` user, as PostgreSQL requires.
The app then does what it does on SQLite: creates its tables, trains a run through a real worker,
stores metrics and snapshots, CRUDs a spec, never reuses a deleted run's id, and starts again on
the same database. Its migrations bring a new database and one made before Alembic to the head
revision (the helpers of ``test_migrations.py``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_helpers import make_settings, wait_for
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from test_migrations import assert_adopted_without_loss, assert_at_head, pre_alembic_database

from backend.app.core.db import init_db, make_engine
from backend.app.main import create_app

pytestmark = pytest.mark.slow
BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not BIN:
        pytest.skip("PostgreSQL's binaries are not installed (Debian: apt-get install postgresql)")
    pytest.importorskip("psycopg")
    bin_dir = Path(BIN[-1])
    root = Path(tempfile.mkdtemp(prefix="motornet-pg-"))  # in /tmp: pytest's tmp_path is private to root
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", _free_port()
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "studio"]
    subprocess.run(_as_owner(initdb), check=True, capture_output=True)
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60"]
    subprocess.run(_as_owner([*ctl, "-o", f"-k {root} -p {port} -h 127.0.0.1", "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://studio@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_owner([*ctl, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_the_studio_runs_on_postgresql(postgres_url, tmp_path):
    settings = make_settings(tmp_path / "data", database_url=postgres_url)
    with TestClient(create_app(settings)) as client:
        rid = client.post("/api/runs", json={"preset": "tiny_point_mass"}).json()["id"]
        run = wait_for(client, rid, timeout=120)
        assert run["status"] == "finished" and run["last_eval_error"] is not None, run
        loss = client.get(f"/api/runs/{rid}/metrics?keys=loss").json()["series"]["loss"]
        assert loss["step"] == list(range(1, 21))
        assert client.get(f"/api/runs/{rid}/snapshots/-1").json()["step"] == 20
        spec = client.get("/api/presets").json()["effectors"]["arm26"]
        saved = client.post("/api/effectors", json={"name": "mine", "spec": spec})
        assert saved.status_code == 201 and client.get(f"/api/effectors/{saved.json()['id']}").json()["name"] == "mine"
        assert client.delete(f"/api/runs/{rid}").status_code == 204
        assert client.post("/api/runs", json={"preset": "tiny_point_mass"}).json()["id"] > rid  # ids never reused
    with TestClient(create_app(settings)) as client:  # a second start on the same database
        assert client.get("/api/health").json()["status"] == "ok"
        assert [r["name"] for r in client.get("/api/effectors").json()] == ["mine"]


def test_migrations_on_postgresql(postgres_url):
    admin = make_engine(postgres_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in ("fresh", "old"):
            conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    fresh = make_engine(make_url(postgres_url).set(database="fresh").render_as_string(hide_password=False))
    init_db(fresh)
    assert_at_head(fresh)
    fresh.dispose()
    old = make_engine(make_url(postgres_url).set(database="old").render_as_string(hide_password=False))
    pre_alembic_database(old)
    assert_adopted_without_loss(old)
    old.dispose()
