"""Stopping a run whose iterations outlast the stop window keeps every completed iteration (a live server).

The server gives a cancelled worker ``cancel_grace`` and a shutdown ``shutdown_grace`` seconds; here both are
a fraction of one iteration (a tiny network on a large batch: ~0.45 s an iteration on an idle 2-core VM,
more under load; ~0.1 GB), so the
worker is terminated mid-iteration. Its checkpoint of the last completed iteration, written as soon as it
was asked to stop, must be there: the run offers Resume, and the resume continues from that step.
"""

from __future__ import annotations

import time

import httpx
import pytest
import torch

from tests.conftest import start_live_server

pytestmark = pytest.mark.slow

SLOW = {
    "preset": "tiny_point_mass",
    "overrides": {
        "train.n_iterations": 200,
        "train.batch_size": 1024,
        "task.duration": 2.0,
        "train.checkpoint_every": 1000,
        "train.eval_every": 1000,
    },
}
ENV = {"MOTORNET_STUDIO_MAX_WORKERS": "2", "MOTORNET_STUDIO_CANCEL_GRACE": "0.2", "MOTORNET_STUDIO_SHUTDOWN_GRACE": "0.3"}


def _get(server, rid: int) -> dict:
    r = httpx.get(f"{server.url}/api/runs/{rid}", timeout=30)
    r.raise_for_status()
    return r.json()


def _post(server, path: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=body, timeout=30)


def _wait(server, rid: int, done, what: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _get(server, rid)
        if done(run):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {rid}: timed out waiting for {what}: {run}")


def _check_resumable(server, rid: int, at_least: int) -> None:
    run = _get(server, rid)
    assert run["checkpoint_step"] is not None and run["checkpoint_step"] >= at_least, run
    assert run["checkpoint_step"] == run["step"], run  # nothing completed is dropped by a resume
    payload = torch.load(server.data_dir / "runs" / str(rid) / "checkpoint.pt", weights_only=True)
    assert payload["step"] == run["checkpoint_step"]
    r = _post(server, f"/api/runs/{rid}/resume")
    assert r.status_code == 200, r.text
    assert r.json()["step"] == run["checkpoint_step"]
    _wait(server, rid, lambda x: x["status"] == "running", "the resumed run to start")
    assert _post(server, f"/api/runs/{rid}/cancel").status_code == 200
    _wait(server, rid, lambda x: x["status"] == "cancelled", "the second cancel")


def test_cancel_and_shutdown_mid_iteration_keep_the_last_completed_iteration(tmp_path):
    with start_live_server(tmp_path / "studio", env=ENV) as server:
        cancelled, stopped = (_post(server, "/api/runs", SLOW).json()["id"] for _ in range(2))  # two workers
        seen = {rid: _wait(server, rid, lambda x: x["step"] >= 1, "the first iteration")["step"] for rid in (cancelled, stopped)}
        assert _post(server, f"/api/runs/{cancelled}/cancel").status_code == 200
        run = _wait(server, cancelled, lambda x: x["status"] == "cancelled", "the cancel")
        assert run["error"] is None, run
        _check_resumable(server, cancelled, seen[cancelled])

        seen[stopped] = _get(server, stopped)["step"]
        server.stop()  # SIGTERM: the workers get 0.3 s, a fraction of an iteration
        server.start()
        run = _get(server, stopped)
        assert run["status"] == "interrupted" and "resume it from its last checkpoint" in run["error"], run
        _check_resumable(server, stopped, seen[stopped])
