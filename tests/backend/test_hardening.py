"""Hardening: bad input and limits, faults (queue full, database locked, NaN) and access control.

Every test is bounded in time; the live-server faults (SIGTERM/SIGKILL of the server) are in
``test_live_faults.py`` and the load test in ``test_load.py``.
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
from pathlib import Path

import fake_jobs
import hardening_jobs
import pytest
import torch
from backend_helpers import lock_database, wait_for
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from backend.app.core.config import Settings
from backend.app.main import create_app
from motornet_core.run_presets import run_preset
from motornet_core.training import Trainer

LONG = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000}}


def _running(client: TestClient, rid: int, min_step: int = 1, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{rid}").json()
        if run["status"] == "running" and run["step"] >= min_step:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {rid} never got going: {run}")


def _message_of(r) -> str:
    body = r.json()
    detail = body.get("message") or body.get("detail")
    assert detail, body
    return json.dumps(detail)


# -- bad input and limits -------------------------------------------------------------------------------


def test_deeply_nested_json_is_422_before_parsing(make_client):
    c = make_client(max_json_depth=16)
    for path in ("/api/runs", "/api/simulate", "/api/validate/effector", "/api/effectors"):
        r = c.post(path, content=b"[" * 100_000 + b"]" * 100_000, headers={"content-type": "application/json"})
        assert r.status_code == 422 and "nested" in _message_of(r), (path, r.text[:200])
    # a legitimately nested body still passes
    assert c.post("/api/runs", json={"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 3}}).status_code == 201


def test_oversized_body_and_run_limits(make_client):
    c = make_client(max_body_bytes=4096, max_iterations=50, max_batch_size=8)
    r = c.post("/api/runs", content=b'{"name": "' + b"x" * 10_000 + b'"}', headers={"content-type": "application/json"})
    assert r.status_code == 413 and "4096" in _message_of(r)
    for key, value in (("train.n_iterations", 51), ("train.batch_size", 9)):
        r = c.post("/api/runs", json={"preset": "tiny_point_mass", "overrides": {key: value}})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == key and "at most" in r.json()["message"]


def test_full_queue_is_429_and_the_running_run_goes_on(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job, max_workers=1, max_queued_runs=2)
    first = c.post("/api/runs", json=LONG).json()["id"]
    _running(c, first)
    queued = [c.post("/api/runs", json=LONG).json()["id"] for _ in range(2)]
    r = c.post("/api/runs", json=LONG)
    assert r.status_code == 429 and "queue is full" in r.json()["detail"] and r.headers["retry-after"]
    step = c.get(f"/api/runs/{first}").json()["step"]
    c.post(f"/api/runs/{queued[0]}/cancel")
    assert c.post("/api/runs", json=LONG).status_code == 201  # room again
    _running(c, first, min_step=step + 5)  # never disturbed
    for rid in c.get("/api/runs?status=running,queued").json():
        c.post(f"/api/runs/{rid['id']}/cancel")
    wait_for(c, first, "cancelled", timeout=5)


def test_nan_metrics_fail_the_run_clearly_and_are_not_stored(make_client):
    c = make_client(job_target=hardening_jobs.nan_job)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    texts = []
    with c.websocket_connect(f"/ws/runs/{rid}") as ws:
        for _ in range(100):
            texts.append(ws.receive_text())
            msg = json.loads(texts[-1])
            if msg["type"] == "status" and msg["status"] in ("failed", "finished"):
                break
    assert not any("NaN" in t or "Infinity" in t for t in texts)  # every message is strict JSON
    run = wait_for(c, rid, "failed", timeout=10)
    assert run["error"] == "training diverged at step 6: loss is nan"
    series = c.get(f"/api/runs/{rid}/metrics").json()["series"]
    assert series["loss"]["step"] == [1, 2, 3, 4, 5] and series["lr"]["step"] == [6] and "grad_norm" not in series
    assert c.get("/api/health").json()["status"] == "ok"


# -- a database locked by another process -------------------------------------------------------------


def test_locked_database_answers_503_or_waits_and_loses_nothing(make_client, tmp_path):
    data = tmp_path / "locked"
    c = make_client(job_target=fake_jobs.sleepy_job, data_dir=data, max_workers=1)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    _running(c, rid, min_step=5)
    db = data / "studio.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    locker = lock_database(db, 7)
    try:
        t0 = time.monotonic()
        statuses = []
        while time.monotonic() - t0 < 6.5:
            statuses.append(c.get(f"/api/runs/{rid}").status_code)  # readers are not blocked in WAL mode
            r = c.post("/api/runs", json=LONG)  # writers wait (busy timeout), then 503
            statuses.append(r.status_code)
            if r.status_code == 503:
                assert "database" in r.json()["detail"] and r.headers["retry-after"]
        assert 500 not in statuses and set(statuses) <= {200, 201, 503}, statuses
        assert 503 in statuses
    finally:
        locker.wait(20)
    step = c.get(f"/api/runs/{rid}").json()["step"]
    deadline = time.monotonic() + 15
    while c.get(f"/api/runs/{rid}").json()["step"] <= step + 10:  # the manager recovers and goes on recording
        assert time.monotonic() < deadline, "the run stopped being recorded after the lock"
        time.sleep(0.1)
    c.post(f"/api/runs/{rid}/cancel")
    run = wait_for(c, rid, "cancelled", timeout=5)
    steps = c.get(f"/api/runs/{rid}/metrics?keys=loss&max_points=100000").json()["series"]["loss"]["step"]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= run["step"] - 1  # no gap: nothing lost
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- access ----------------------------------------------------------------------------------------------


def test_public_bind_without_token_does_not_build(tmp_path):
    with pytest.raises(ValueError, match="access token"):
        create_app(Settings(host="0.0.0.0", data_dir=tmp_path))


def test_token_guards_rest_and_both_websockets(make_client):
    c = make_client(host="0.0.0.0", access_token="s3cret-token-0123456789", job_target=fake_jobs.sleepy_job)
    assert c.get("/api/runs").status_code == 401 and c.get("/openapi.json").status_code == 401
    assert c.post("/api/runs", json=LONG).status_code == 401
    for path in ("/ws/runs/1", "/ws/sim"):
        with pytest.raises(WebSocketDisconnect) as info, c.websocket_connect(path) as ws:
            ws.receive_json()
        assert info.value.code == 4401
    with c.websocket_connect("/ws/sim?token=s3cret-token-0123456789") as ws:
        ws.send_json({"type": "reset"})
        assert ws.receive_json()["type"] == "error"  # in: the socket answers


def test_cors_closed_by_default_and_open_to_configured_origins(make_client, tmp_path):
    closed = make_client()
    for method in ("get", "options"):
        r = getattr(closed, method)(
            "/api/health", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in r.headers
    opened = make_client(data_dir=tmp_path / "cors", cors_origins=["http://lab.example"])
    assert opened.get("/api/health", headers={"Origin": "http://lab.example"}).headers["access-control-allow-origin"] == (
        "http://lab.example"
    )
    assert "access-control-allow-origin" not in opened.get("/api/health", headers={"Origin": "http://evil.example"}).headers


TRAVERSALS = [
    "/api/runs/..%2F..%2Fstudio.db",
    "/api/runs/1/result/..%2F..%2Fstudio.db",
    "/api/runs/1/result/%2e%2e%2f%2e%2e%2fstudio.db",
    "/api/runs/1/result/....//....//studio.db",
    "/api/runs/1/checkpoint/..%2F..%2Fstudio.db",
    "/api/studies/..%2F..%2Fetc%2Fpasswd",
    "/api/schema/..%2F..%2Fpyproject.toml",
    "/..%2F..%2Fpyproject.toml",
    "/%2e%2e/%2e%2e/pyproject.toml",
    "/vendor/..%2F..%2Fpyproject.toml",
    "/static/../../pyproject.toml",
]


def test_paths_cannot_escape_the_data_directory(make_client, tmp_path):
    c = make_client(job_target=fake_jobs.sleepy_job)
    rid = c.post("/api/runs", json={"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 3}}).json()["id"]
    wait_for(c, rid, timeout=30)
    for path in TRAVERSALS:
        r = c.get(path.replace("/1/", f"/{rid}/"))
        assert r.status_code in (400, 404, 405, 409, 422), (path, r.status_code)
        assert b"SQLite format" not in r.content and b"[project]" not in r.content and b"root:" not in r.content


# -- checkpoint import ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> bytes:
    trainer = Trainer(run_preset("tiny_point_mass").with_updates({"train.n_iterations": 4}))
    for _ in range(2):
        trainer.train_step()
    path = tmp_path_factory.mktemp("ckpt") / "c.pt"
    trainer.save_checkpoint(path)
    return path.read_bytes()


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _upload(c: TestClient, data: bytes, **params):
    return c.post("/api/runs/import", content=data, params=params, headers={"content-type": "application/octet-stream"})


def test_import_rebuilds_a_resumable_run(make_client, checkpoint):
    c = make_client(job_target=fake_jobs.sleepy_job)
    r = _upload(c, checkpoint, name="imported one")
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["status"] == "interrupted" and run["step"] == 2 and run["checkpoint_step"] == 2
    assert run["name"] == "imported one" and "imported" in run["tags"] and run["spec"]["train"]["n_iterations"] == 4
    assert c.get(f"/api/runs/{run['id']}/checkpoint").content == checkpoint
    assert c.get(f"/api/runs/{run['id']}/metrics").json()["series"]["loss"]["step"] == [1, 2]
    assert c.post(f"/api/runs/{run['id']}/resume").json()["status"] in ("queued", "running")


def test_import_refuses_code_junk_and_oversize(make_client, checkpoint, tmp_path):
    c = make_client(max_checkpoint_bytes=len(checkpoint) + 10, max_iterations=3)
    marker = tmp_path / "pwned"
    evil = io.BytesIO()
    torch.save({"format": "motornet_studio.checkpoint/1", "spec": _Evil(marker)}, evil)
    plain = io.BytesIO()
    torch.save({"weights": torch.zeros(3)}, plain)
    cases = [evil.getvalue(), b"", b"not a checkpoint at all", checkpoint[: len(checkpoint) // 2], plain.getvalue()]
    for data in cases:
        r = _upload(c, data)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == "checkpoint", r.text
    assert not marker.exists()  # the pickled call never ran
    r = _upload(c, checkpoint)  # loadable, but its spec is beyond this server's limit
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == "train.n_iterations"
    assert _upload(c, checkpoint + b"\0" * 1000).status_code == 413
    assert c.get("/api/runs").json() == []
    assert not [p for p in (c.app.state.settings.checkpoint_dir).rglob("*") if p.is_file()]  # no leftovers


# -- websocket limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ws/sim", "/ws/runs/1"])
def test_websocket_message_size_and_rate_limits(make_client, path):
    c = make_client(job_target=fake_jobs.sleepy_job, max_ws_message_bytes=2048, ws_messages_per_second=5)
    c.post("/api/runs", json=LONG)
    with pytest.raises(WebSocketDisconnect) as info, c.websocket_connect(path) as ws:
        ws.send_text("x" * 5000)
        for _ in range(200):
            msg = ws.receive_json()
            if msg["type"] == "error":
                assert "larger than 2048" in msg["message"]
    assert info.value.code == 1009
    with pytest.raises(WebSocketDisconnect) as info, c.websocket_connect(path) as ws:
        for _ in range(20):
            ws.send_json({"type": "reset"})
        errors = []
        for _ in range(500):
            msg = ws.receive_json()
            if msg["type"] == "error":
                errors.append(msg["message"])
    assert info.value.code == 1008 and any("messages per second" in e for e in errors)
    for run in c.get("/api/runs?status=running,queued").json():
        c.post(f"/api/runs/{run['id']}/cancel")
