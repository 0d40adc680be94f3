"""The queue cap under concurrent requests, against a live server: 40 creates at once leave at most
``max_queued_runs`` queued (each either queued or answered 429), and a resume respects the cap too."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import start_live_server

pytestmark = pytest.mark.slow

CAP = 5
LONG = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000, "train.checkpoint_every": 5}}
ENV = {"MOTORNET_STUDIO_MAX_WORKERS": "1", "MOTORNET_STUDIO_MAX_QUEUED_RUNS": str(CAP)}


def _queued(server) -> list[dict]:
    return httpx.get(f"{server.url}/api/runs?status=queued", timeout=30).json()


def _wait(server, rid: int, done, what: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = httpx.get(f"{server.url}/api/runs/{rid}", timeout=30).json()
        if done(run):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {rid}: timed out waiting for {what}: {run}")


def test_concurrent_creates_and_resumes_never_exceed_the_queue_cap(tmp_path):
    with start_live_server(tmp_path / "studio", env=ENV) as server:
        first = httpx.post(f"{server.url}/api/runs", json=LONG, timeout=30).json()["id"]
        _wait(server, first, lambda r: r["status"] == "running" and (r["checkpoint_step"] or 0) > 0, "a checkpoint")

        with httpx.Client(timeout=60) as client, ThreadPoolExecutor(40) as pool:
            codes = list(pool.map(lambda _: client.post(f"{server.url}/api/runs", json=LONG).status_code, range(40)))
        assert set(codes) <= {201, 429}, codes
        assert codes.count(201) == CAP, codes  # the only worker is busy: nothing left the queue meanwhile
        assert len(_queued(server)) == CAP

        # the first run is cancelled (a queued one takes its worker), one more create fills the queue again
        assert httpx.post(f"{server.url}/api/runs/{first}/cancel", timeout=30).status_code == 200
        _wait(server, first, lambda r: r["status"] == "cancelled", "the cancel")
        deadline = time.monotonic() + 60
        while len(_queued(server)) == CAP:
            assert time.monotonic() < deadline, "no queued run started"
            time.sleep(0.1)
        assert httpx.post(f"{server.url}/api/runs", json=LONG, timeout=30).status_code == 201
        r = httpx.post(f"{server.url}/api/runs/{first}/resume", timeout=30)
        assert r.status_code == 429 and "queue is full" in r.json()["detail"], r.text
        assert _wait(server, first, lambda r: True, "")["status"] == "cancelled"
        assert len(_queued(server)) == CAP
