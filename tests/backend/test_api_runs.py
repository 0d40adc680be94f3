"""Runs through the real Trainer in spawned workers: creation, queries, artifacts, conflicts."""

from __future__ import annotations

import io

import pytest
import torch
from backend_helpers import make_settings, wait_for
from fastapi.testclient import TestClient

from backend.app.main import create_app
from backend.app.models import Run

TINY = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 6, "train.eval_every": 3, "train.checkpoint_every": 3}}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    app = create_app(make_settings(tmp_path_factory.mktemp("runs")))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def finished(app_client) -> dict:
    r = app_client.post("/api/runs", json={**TINY, "name": "first", "tags": ["smoke", "tiny"]})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "queued"
    run = wait_for(app_client, r.json()["id"], timeout=90)
    assert run["status"] == "finished", run
    return run


def test_finished_run_fields(finished):
    assert finished["step"] == 6 and finished["progress"] == 1.0
    assert finished["name"] == "first" and finished["tags"] == ["smoke", "tiny"]
    assert finished["spec"]["train"]["n_iterations"] == 6
    assert finished["seed"] == finished["spec"]["train"]["seed"]
    assert finished["device"] == "cpu"
    assert finished["duration"] > 0 and finished["started_at"] and finished["finished_at"]
    assert {"loss", "lr", "grad_norm"} <= set(finished["last_metrics"])
    assert finished["checkpoint_step"] == 6 and finished["worker_pid"] is None


def test_metrics_are_long_format_and_downsampled(app_client, finished):
    rid = finished["id"]
    body = app_client.get(f"/api/runs/{rid}/metrics").json()
    assert "loss" in body["series"] and body["series"]["loss"]["step"] == [1, 2, 3, 4, 5, 6]
    small = app_client.get(f"/api/runs/{rid}/metrics", params={"keys": "loss,lr", "max_points": 3}).json()
    assert set(small["series"]) == {"loss", "lr"}
    assert small["series"]["loss"]["step"][-1] == 6 and len(small["series"]["loss"]["step"]) == 3
    assert small["series"]["loss"]["total"] == 6


def test_snapshots(app_client, finished):
    rid = finished["id"]
    listing = app_client.get(f"/api/runs/{rid}/snapshots").json()
    assert [s["step"] for s in listing] == [3, 6]
    last = app_client.get(f"/api/runs/{rid}/snapshots/-1").json()
    assert last["step"] == 6 and "hand" in last["data"]
    assert app_client.get(f"/api/runs/{rid}/snapshots/0").json()["step"] == 3
    assert app_client.get(f"/api/runs/{rid}/snapshots/5").status_code == 404


def test_checkpoint_spec_and_logs(app_client, finished):
    rid = finished["id"]
    r = app_client.get(f"/api/runs/{rid}/checkpoint")
    assert r.status_code == 200
    payload = torch.load(io.BytesIO(r.content), weights_only=True)
    assert payload["step"] == 6
    assert app_client.get(f"/api/runs/{rid}/spec").json() == finished["spec"]
    assert any("training" in line["message"] for line in app_client.get(f"/api/runs/{rid}/logs").json())


def test_policy_simulation_and_playground(app_client, finished):
    rid = finished["id"]
    r = app_client.post("/api/simulate", json={"run_id": rid, "targets": [[0.1, 0.0], [0.0, 0.1]]})
    assert r.status_code == 200, r.text
    assert len(r.json()["snapshot"]["targets"]) == 2
    with app_client.websocket_connect("/ws/sim") as ws:
        ws.send_json({"type": "init", "run_id": rid})
        ready = ws.receive_json()
        assert ready["type"] == "ready" and ready["mode"] == "policy"
        for _ in range(3):
            ws.send_json({"type": "target", "xy": [0.1, 0.1]})
            state = ws.receive_json()
        assert state["type"] == "state" and state["t"] == pytest.approx(3 * ready["dt"])
        assert len(state["activation"]) == 4 and state["target"] == pytest.approx([0.1, 0.1])


def test_run_socket_starts_with_status(app_client, finished):
    with app_client.websocket_connect(f"/ws/runs/{finished['id']}") as ws:
        first = ws.receive_json()
    assert first["type"] == "status" and first["status"] == "finished" and first["progress"] == 1.0
    with app_client.websocket_connect("/ws/runs/9999") as ws:
        assert ws.receive_json()["type"] == "error"


def test_list_filters(app_client, finished):
    assert finished["id"] in [r["id"] for r in app_client.get("/api/runs", params={"status": "finished"}).json()]
    assert app_client.get("/api/runs", params={"status": "failed"}).json() == []
    assert [r["id"] for r in app_client.get("/api/runs", params={"tag": "smoke"}).json()] == [finished["id"]]
    assert app_client.get("/api/runs", params={"name": "irs"}).json()[0]["id"] == finished["id"]
    assert app_client.get("/api/runs", params={"sort": "-name"}).status_code == 200
    assert app_client.get("/api/runs", params={"sort": "weird"}).status_code == 422
    assert app_client.get("/api/runs", params={"status": "running,done"}).json()["detail"][0]["loc"] == "status"


def test_conflicts_and_not_found(app_client, finished):
    rid = finished["id"]
    assert app_client.post(f"/api/runs/{rid}/cancel").status_code == 409
    assert app_client.post(f"/api/runs/{rid}/resume").status_code == 409
    for path in ("", "/metrics", "/snapshots", "/checkpoint", "/spec", "/logs"):
        assert app_client.get(f"/api/runs/9999{path}").status_code == 404, path
    assert app_client.post("/api/runs/9999/cancel").status_code == 404
    assert app_client.delete("/api/runs/9999").status_code == 404


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"preset": "nope"}, "preset"),
        ({"preset": "tiny_point_mass", "overrides": {"train.lr": -1}}, "train.lr"),
        ({"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 10**6}}, "train.n_iterations"),
        ({}, ""),
    ],
)
def test_bad_run_requests_are_422(app_client, body, loc):
    r = app_client.post("/api/runs", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc


def test_full_spec_run_then_delete(app_client, finished):
    spec = {**finished["spec"], "name": "from-spec"}
    spec["train"] = {**spec["train"], "n_iterations": 2}
    bad = {**spec, "effector": {**spec["effector"], "dt": 0}}
    r = app_client.post("/api/runs", json={"spec": bad})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == "spec.effector.dt"
    rid = app_client.post("/api/runs", json={"spec": spec}).json()["id"]
    assert app_client.post(f"/api/runs/{rid}/cancel").status_code in (200, 409)
    wait_for(app_client, rid, timeout=60)
    assert app_client.delete(f"/api/runs/{rid}").status_code == 204
    assert app_client.get(f"/api/runs/{rid}").status_code == 404


def test_unusable_checkpoint_is_409(app_client, finished, tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    with app_client.app.state.sessions() as s:  # a finished run whose checkpoint file got damaged
        run = Run(name="broken", spec=finished["spec"], status="finished", checkpoint_path=str(bad), checkpoint_step=1)
        s.add(run)
        s.commit()
        rid = run.id
    r = app_client.post("/api/simulate", json={"run_id": rid, "targets": [[0.1, 0.0]]})
    assert r.status_code == 409, r.text
    with app_client.websocket_connect("/ws/sim") as ws:
        ws.send_json({"type": "init", "run_id": rid})
        assert "cannot be used" in ws.receive_json()["message"]


def test_a_run_without_a_checkpoint_yet_is_409_not_404(app_client, finished):
    """The run exists; only its state forbids the download (Schemathesis ST302 found the 404)."""
    with app_client.app.state.sessions() as s:
        run = Run(name="no-checkpoint", spec=finished["spec"], status="running")
        s.add(run)
        s.commit()
        rid = run.id
    r = app_client.get(f"/api/runs/{rid}/checkpoint")
    assert r.status_code == 409 and "no checkpoint yet" in r.json()["detail"], r.text
    r = app_client.post("/api/simulate", json={"run_id": rid, "targets": [[0.1, 0.0]]})
    assert r.status_code == 409 and "no checkpoint yet" in r.json()["detail"], r.text
    with app_client.websocket_connect("/ws/sim") as ws:
        ws.send_json({"type": "init", "run_id": rid})
        assert "no checkpoint yet" in ws.receive_json()["message"]
    responses = app_client.get("/openapi.json").json()["paths"]["/api/runs/{run_id}/checkpoint"]["get"]["responses"]
    assert "409" in responses
