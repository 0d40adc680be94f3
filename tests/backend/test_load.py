"""A short version of ``benchmarks/load.py``: viewers and REST traffic during a run, no errors.

Asserts correctness under load only (no timing): every request answered 200, every viewer kept
its socket and received messages, and the run trains on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import load
from backend_helpers import run_async

pytestmark = pytest.mark.slow

RUN = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000, "train.eval_every": 5}}


def test_viewers_and_requests_during_a_run_get_no_errors(live_server):
    url, ws_url = live_server.url, live_server.ws_url
    run_id = httpx.post(f"{url}/api/runs", json=RUN, timeout=30).json()["id"]
    load.wait_until_training(url, run_id, timeout=90)
    step = httpx.get(f"{url}/api/runs/{run_id}", timeout=10).json()["step"]
    result = run_async(load.apply_load(url, ws_url, run_id, viewers=8, rps=40, seconds=4))
    print("\n".join(load.report(result, 1.0, 1.0, 8)[:2]))  # REST and websocket lines (no timing here)
    assert result.requests == 160 and result.errors == 0, result.error_samples
    assert result.viewer_errors == 0 and len(result.viewer_messages) == 8, result.error_samples
    assert min(result.viewer_messages) >= 2  # the first status and live messages
    run = httpx.get(f"{url}/api/runs/{run_id}", timeout=10).json()
    assert run["status"] == "running" and run["step"] > step
    httpx.post(f"{url}/api/runs/{run_id}/cancel", timeout=10)
