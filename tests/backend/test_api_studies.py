"""Studies over REST through real spawned workers: catalogue, launch, result, errors, cancel, streaming."""

from __future__ import annotations

import time

import pytest
from backend_helpers import make_settings, wait_for
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from backend.app.core.db import init_db, make_engine, session_scope
from backend.app.main import create_app
from backend.app.models import Run

FAST = {"moment_arms": {"n_points": 21}, "muscle_curves": {"n_points": 41, "models": ["rigid_hill", "thelen"]}}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    app = create_app(make_settings(tmp_path_factory.mktemp("studies"), max_iterations=5000, max_batch_size=64))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def finished(app_client) -> dict[str, dict]:
    """Both fast studies launched together (two workers), each waited for."""
    ids = {}
    for name, params in FAST.items():
        r = app_client.post(f"/api/studies/{name}/runs", json={"params": params})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["kind"] == "study" and body["study"] == name and body["status"] == "queued"
        assert body["spec"] is None and body["params"]["n_points"] == params["n_points"]
        ids[name] = body["id"]
    return {name: wait_for(app_client, rid, timeout=90) for name, rid in ids.items()}


def test_catalogue_matches_presets(app_client):
    studies = app_client.get("/api/studies").json()
    presets = app_client.get("/api/presets").json()["studies"]
    assert [s["name"] for s in studies] == list(presets)
    assert {"moment_arms", "muscle_curves", "centre_out_curl_field"} <= set(presets)
    for s in studies:
        assert s == presets[s["name"]]
        assert s["title"] and s["description"] and s["expected_seconds"] > 0
        assert set(s["defaults"]) <= set(s["schema"]["properties"])
    one = app_client.get("/api/studies/moment_arms").json()
    assert one == presets["moment_arms"]
    missing = app_client.get("/api/studies/nope")
    assert missing.status_code == 404 and "moment_arms" in missing.json()["detail"]


def test_fast_studies_finish_with_stored_results(app_client, finished):
    for name, run in finished.items():
        assert run["status"] == "finished", run
        assert run["progress"] == 1.0 and run["error"] is None and run["duration"] > 0
        assert run["result"]["study"] == name and run["result"]["summary"]
        res = app_client.get(f"/api/runs/{run['id']}/result")
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["study"] == name and body["run_id"] == run["id"] and body["seconds"] > 0
        assert body["params"]["n_points"] == FAST[name]["n_points"]
        assert body["figures"], "no figures"
        for fig in body["figures"].values():
            assert fig["data"] and isinstance(fig["layout"], dict)
        assert body["table"] and all(set(row) == set(body["table"][0]) for row in body["table"])
        assert body["summary"] == run["result"]["summary"]
        csv = app_client.get(f"/api/runs/{run['id']}/result/table.csv")
        assert csv.status_code == 200 and csv.text.count("\n") == len(body["table"]) + 1
        assert app_client.get(f"/api/runs/{run['id']}/result/secrets.txt").status_code == 404
    arms = app_client.get(f"/api/runs/{finished['moment_arms']['id']}/result").json()
    assert {"arm26", "arm210"} <= set(arms["figures"])
    curves = app_client.get(f"/api/runs/{finished['muscle_curves']['id']}/result").json()
    assert [row["model"] for row in curves["table"]] == ["rigid_hill", "thelen"]


def test_study_runs_are_listed_apart_and_have_no_spec(app_client, finished):
    ids = {r["id"] for r in finished.values()}
    assert not ids & {r["id"] for r in app_client.get("/api/runs").json()}
    listed = app_client.get("/api/runs", params={"kind": "study"}).json()
    assert ids <= {r["id"] for r in listed} and all(r["kind"] == "study" for r in listed)
    assert ids <= {r["id"] for r in app_client.get("/api/runs", params={"kind": "all"}).json()}
    assert app_client.get("/api/runs", params={"kind": "bogus"}).status_code == 422
    rid = finished["moment_arms"]["id"]
    assert app_client.get(f"/api/runs/{rid}/spec").status_code == 409
    assert app_client.post(f"/api/runs/{rid}/resume").status_code == 409
    assert app_client.post(f"/api/runs/{rid}/cancel").status_code == 409
    logs = [entry["message"] for entry in app_client.get(f"/api/runs/{rid}/logs").json()]
    assert any("moment_arms finished" in m for m in logs)


@pytest.mark.parametrize(
    ("name", "params", "loc"),
    [
        ("moment_arms", {"n_points": 2}, "params.n_points"),
        ("moment_arms", {"effectors": ["arm99"]}, "params.effectors.0"),
        ("muscle_curves", {"no_such_field": 1}, "params.no_such_field"),
        ("centre_out_curl_field", {"iterations": 6000}, "params.iterations"),  # above this server's limit
        ("centre_out_curl_field", {"batch_size": 128}, "params.batch_size"),
    ],
)
def test_bad_params_are_422_naming_the_field(app_client, name, params, loc):
    r = app_client.post(f"/api/studies/{name}/runs", json={"params": params})
    assert r.status_code == 422, r.text
    assert loc in [e["loc"] for e in r.json()["detail"]], r.json()


def test_unknown_study_and_runs(app_client):
    r = app_client.post("/api/studies/nope/runs", json={"params": {}})
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    assert app_client.post("/api/studies/moment_arms/runs", json={"parms": {}}).status_code == 422
    assert app_client.get("/api/runs/99999/result").status_code == 404


def test_training_study_streams_and_cancels_within_2s(app_client):
    params = {"iterations": 5000, "batch_size": 8, "hidden_size": 8, "duration": 0.3, "adapt_iterations": 10, "adapt_every": 5}
    r = app_client.post("/api/studies/centre_out_curl_field/runs", json={"params": params, "name": "to cancel"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["name"] == "to cancel"
    assert app_client.get(f"/api/runs/{rid}/result").status_code == 409  # not finished yet
    with app_client.websocket_connect(f"/ws/runs/{rid}") as ws:
        first = ws.receive_json()
        assert first["type"] == "status" and first["run_id"] == rid
        seen: set[str] = set()
        deadline = time.monotonic() + 90
        while "metric" not in seen and time.monotonic() < deadline:
            msg = ws.receive_json()
            seen.add(msg["type"])
        assert "metric" in seen and "log" in seen, seen
        t0 = time.monotonic()
        assert app_client.post(f"/api/runs/{rid}/cancel").status_code == 200
        run = wait_for(app_client, rid, timeout=10)
        elapsed = time.monotonic() - t0
    assert run["status"] == "cancelled" and elapsed < 2.5, (run["status"], elapsed)
    assert run["step"] > 0
    assert app_client.get(f"/api/runs/{rid}/result").status_code == 409
    assert app_client.delete(f"/api/runs/{rid}").status_code == 204


def test_result_of_a_training_run_is_409(app_client):
    r = app_client.post("/api/runs", json={"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 1}})
    rid = r.json()["id"]
    res = app_client.get(f"/api/runs/{rid}/result")
    assert res.status_code == 409 and "training run" in res.json()["detail"]
    assert app_client.delete(f"/api/runs/{rid}").status_code == 204


def test_old_database_gains_the_new_columns(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    sessions = init_db(engine)
    with session_scope(sessions) as s:
        s.add(Run(name="old", spec={}))
    with engine.begin() as conn:  # what a database made before study runs (and before Alembic) looks like
        conn.execute(text("ALTER TABLE runs DROP COLUMN kind"))
        conn.execute(text("ALTER TABLE runs DROP COLUMN artifact_path"))
        conn.execute(text("DROP TABLE alembic_version"))
    init_db(engine)
    assert {"kind", "artifact_path"} <= {c["name"] for c in inspect(engine).get_columns("runs")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT kind, artifact_path FROM runs")).one() == ("training", None)
    engine.dispose()
