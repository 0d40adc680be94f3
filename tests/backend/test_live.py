"""End to end against a real ``motornet-studio serve`` process: REST, websockets, cancel, SIGKILL, restart."""

from __future__ import annotations

import os
import signal
import time

import pytest
from backend_helpers import api_get as _get
from backend_helpers import api_post as _post
from backend_helpers import cancel_latency, run_async
from backend_helpers import follow_socket as _follow

pytestmark = pytest.mark.slow

TINY = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 30, "train.eval_every": 10}}
LONG = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000, "train.checkpoint_every": 5}}


def _wait_running(server, rid: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _get(server, f"/api/runs/{rid}")
        if run["status"] == "running" and run["worker_pid"] and run["step"] >= 1:
            return run
        assert run["status"] in ("queued", "running"), run
        time.sleep(0.1)
    raise AssertionError(f"run {rid} did not start: {run}")


def test_live_server_end_to_end(live_server):
    server = live_server
    assert _get(server, "/api/health")["status"] == "ok"

    # a short run, followed live
    tiny_id = _post(server, "/api/runs", TINY)["id"]
    messages = run_async(_follow(f"{server.ws_url}/ws/runs/{tiny_id}", {"finished", "failed"}, timeout=90))
    assert messages[0]["type"] == "status"
    assert messages[-1]["status"] == "finished", messages[-1]
    metrics = [m for m in messages if m["type"] == "metric"]
    snapshots = [m for m in messages if m["type"] == "snapshot"]
    assert metrics and "loss" in metrics[-1]["values"] and metrics[-1]["step"] == 30
    assert snapshots and "hand" in snapshots[-1]["data"]

    # two long runs at once: one cancelled, one killed
    cancel_id = _post(server, "/api/runs", LONG)["id"]
    kill_id = _post(server, "/api/runs", LONG)["id"]
    _wait_running(server, cancel_id)
    victim = _wait_running(server, kill_id)
    assert run_async(cancel_latency(server, cancel_id, timeout=5)) < 2.0
    os.kill(victim["worker_pid"], signal.SIGKILL)
    failed = run_async(_follow(f"{server.ws_url}/ws/runs/{kill_id}", {"failed"}, timeout=10))[-1]
    assert "SIGKILL" in failed["error"]
    assert _get(server, "/api/health")["active_runs"] == 0

    # everything survives a restart
    before = {r["id"]: r for r in _get(server, "/api/runs")}
    series = {rid: _get(server, f"/api/runs/{rid}/metrics?max_points=100000")["series"] for rid in before}
    assert {r["status"] for r in before.values()} == {"finished", "cancelled", "failed"}
    server.restart()
    after = {r["id"]: r for r in _get(server, "/api/runs")}
    assert after.keys() == before.keys()
    for rid, run in before.items():
        assert (after[rid]["status"], after[rid]["step"], after[rid]["error"]) == (run["status"], run["step"], run["error"])
        assert _get(server, f"/api/runs/{rid}/metrics?max_points=100000")["series"] == series[rid]
    assert len(series[cancel_id]["loss"]["step"]) >= 1
    assert [s["step"] for s in _get(server, f"/api/runs/{tiny_id}/snapshots")] == [10, 20, 30]

    # a cancelled run resumes from its checkpoint
    resumed = _post(server, f"/api/runs/{cancel_id}/resume")
    assert resumed["status"] in ("queued", "running")
    _post(server, f"/api/runs/{cancel_id}/cancel")
