"""Helpers of the backend tests (a uniquely named module: ``conftest`` names clash across test folders)."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.status import TERMINAL_STATUSES

TERMINAL = {str(s) for s in TERMINAL_STATUSES}


def make_settings(data_dir: Path, **overrides) -> Settings:
    """Settings for a test app: temp data dir, two workers, fast metric flushes."""
    values = {"data_dir": data_dir, "max_workers": 2, "metric_flush_interval": 0.1, **overrides}
    return Settings(**values)


def wait_for(client: TestClient, run_id: int, statuses: set[str] | str = TERMINAL, timeout: float = 60.0) -> dict:
    """Poll ``GET /api/runs/{id}`` until its status is in ``statuses``; returns the run."""
    wanted = {statuses} if isinstance(statuses, str) else set(statuses)
    deadline = time.monotonic() + timeout
    while True:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] in wanted:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run['status']} after {timeout} s (wanted {wanted}): {run}")
        time.sleep(0.05)
