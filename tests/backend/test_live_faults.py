"""A real server stopped by SIGTERM and killed by SIGKILL in the middle of two runs.

Each time: the workers go away with the server, the runs come back ``interrupted`` with a
message, every metric row stored before the stop is still there, the checkpoints load with
``weights_only=True`` at the step the database names, the database passes ``integrity_check``,
and a resumed run trains on.
"""

from __future__ import annotations

import os
import sqlite3
import time

import pytest
import torch
from backend_helpers import api_get as _get
from backend_helpers import api_post as _post

pytestmark = pytest.mark.slow

LONG = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000, "train.checkpoint_every": 5}}


def _checkpointed(server, rid: int, past: int = 0, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _get(server, f"/api/runs/{rid}")
        if run["status"] == "running" and (run["checkpoint_step"] or 0) > past and run["step"] > past:
            return run
        assert run["status"] in ("queued", "running"), run
        time.sleep(0.2)
    raise AssertionError(f"run {rid} made no checkpoint past step {past}: {run}")


def _gone(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{pid}/stat") as f:  # a zombie child of the dead server counts as gone
            if f.read().split(") ")[-1].startswith("Z"):
                return True
        time.sleep(0.2)
    return False


def _stored(server) -> dict[int, list[int]]:
    """Metric steps per run, read straight from the database file."""
    with sqlite3.connect(server.data_dir / "studio.db") as conn:
        rows = conn.execute("SELECT run_id, step FROM metrics WHERE key = 'loss' ORDER BY run_id, step").fetchall()
    out: dict[int, list[int]] = {}
    for rid, step in rows:
        out.setdefault(rid, []).append(step)
    return out


def _check_after_restart(server, before: dict[int, list[int]], ids: list[int]) -> None:
    with sqlite3.connect(server.data_dir / "studio.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for rid in ids:
        run = _get(server, f"/api/runs/{rid}")
        assert run["status"] == "interrupted" and "resume" in run["error"], run
        steps = _get(server, f"/api/runs/{rid}/metrics?keys=loss&max_points=100000")["series"]["loss"]["step"]
        assert set(before.get(rid, [])) <= set(steps), f"run {rid} lost stored metrics"
        assert steps == list(range(1, len(steps) + 1))
        payload = torch.load(server.data_dir / "runs" / str(rid) / "checkpoint.pt", weights_only=True)
        assert payload["step"] == run["checkpoint_step"] > 0
        assert run["spec"]["train"]["n_iterations"] == 100_000


def test_server_sigterm_and_sigkill_mid_run(live_server):
    server = live_server
    a, b = (_post(server, "/api/runs", LONG)["id"] for _ in range(2))
    pids = [_checkpointed(server, rid)["worker_pid"] for rid in (a, b)]

    server.stop()  # SIGTERM
    assert all(_gone(pid) for pid in pids), "a worker outlived the server"
    before = _stored(server)
    server.start()
    _check_after_restart(server, before, [a, b])

    resumed = _post(server, f"/api/runs/{a}/resume")
    assert resumed["status"] in ("queued", "running")
    past = resumed["step"]
    pid = _checkpointed(server, a, past=past)["worker_pid"]
    proc, server.process = server.process, None
    proc.kill()  # SIGKILL: no shutdown handler runs
    proc.wait(10)
    assert _gone(pid), "the worker outlived a SIGKILLed server"
    before = _stored(server)
    server.start()
    _check_after_restart(server, before, [a, b])
    assert _get(server, f"/api/runs/{a}")["checkpoint_step"] > past

    _post(server, f"/api/runs/{a}/resume")
    _checkpointed(server, a, past=_get(server, f"/api/runs/{a}")["step"])
    _post(server, f"/api/runs/{a}/cancel")
