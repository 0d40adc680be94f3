"""A checkpoint written but not yet recorded when the server stopped: the file's step wins.

A worker writes its checkpoint file, then reports it; a server killed in between has an older
``checkpoint_step`` (and maybe fewer metric rows) than the file a resume continues from. At
start-up (and at resume) the run's record follows the file, and the loss rows it lacks up to the
file's step come from the checkpoint's loss history, so the loss series has no gap after a resume.
"""

from __future__ import annotations

import sqlite3

import pytest
import torch
from backend_helpers import make_settings, wait_for
from fastapi.testclient import TestClient

from backend.app.main import create_app

RUN = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 12, "train.checkpoint_every": 4}}


def test_a_checkpoint_the_database_missed_is_taken_from_the_file(tmp_path):
    settings = make_settings(tmp_path / "data")
    with TestClient(create_app(settings)) as client:
        rid = client.post("/api/runs", json=RUN).json()["id"]
        run = wait_for(client, rid, timeout=90)
        assert run["status"] == "finished" and run["checkpoint_step"] == 12
    path = settings.data_dir / "runs" / str(rid) / "checkpoint.pt"
    payload = torch.load(path, weights_only=True)
    payload["step"], payload["history"] = 10, payload["history"][:10]  # the file at step 10 ...
    torch.save(payload, path)
    with sqlite3.connect(settings.data_dir / "studio.db") as db:  # ... the database saw step 8 and 7 losses
        db.execute("UPDATE runs SET status = 'running', checkpoint_step = 8, step = 7 WHERE id = ?", (rid,))
        db.execute("DELETE FROM metrics WHERE run_id = ? AND step > 7", (rid,))
    with TestClient(create_app(settings)) as client:
        run = client.get(f"/api/runs/{rid}").json()
        assert run["status"] == "interrupted" and run["checkpoint_step"] == 10
        loss = client.get(f"/api/runs/{rid}/metrics?keys=loss&max_points=1000").json()["series"]["loss"]
        assert loss["step"] == list(range(1, 11)) and loss["value"][7:] == [float(v) for v in payload["history"][7:10]]
        assert client.post(f"/api/runs/{rid}/resume").status_code == 200
        run = wait_for(client, rid, timeout=90)
        assert run["status"] == "finished" and run["step"] == 12
        steps = client.get(f"/api/runs/{rid}/metrics?keys=loss&max_points=1000").json()["series"]["loss"]["step"]
        assert steps == list(range(1, 13))


def test_last_eval_error_is_the_latest_snapshots_also_in_older_databases(tmp_path):
    settings = make_settings(tmp_path / "data")
    overrides = {"train.n_iterations": 9, "train.eval_every": 3, "train.checkpoint_every": 3}
    run = {"preset": "tiny_point_mass", "overrides": overrides}
    with TestClient(create_app(settings)) as client:
        rid = client.post("/api/runs", json=run).json()["id"]
        assert wait_for(client, rid, timeout=90)["status"] == "finished"
        latest = client.get(f"/api/runs/{rid}/snapshots/-1").json()["data"]["mean_endpoint_error"]
        assert client.get(f"/api/runs/{rid}").json()["last_eval_error"] == pytest.approx(latest)
        assert client.get("/api/runs").json()[0]["last_eval_error"] == pytest.approx(latest)
    with sqlite3.connect(settings.data_dir / "studio.db") as db:  # as a database from before the column (and Alembic)
        db.execute("UPDATE runs SET last_eval_error = NULL")
        db.execute("DROP TABLE alembic_version")
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/api/runs/{rid}").json()["last_eval_error"] == pytest.approx(latest)
