"""Fixtures of the API tests: apps on temporary SQLite files, helpers to wait for run states."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.main import create_app

TERMINAL = {"finished", "failed", "cancelled", "interrupted"}


def make_settings(data_dir: Path, **overrides) -> Settings:
    """Settings for a test app: temp data dir, two workers, fast metric flushes."""
    values = {"data_dir": data_dir, "max_workers": 2, "metric_flush_interval": 0.1, **overrides}
    return Settings(**values)


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Factory of started TestClients; ``make_client(job_target=..., **settings)``; all closed at teardown."""
    clients: list[TestClient] = []

    def make(job_target=None, data_dir: Path | None = None, **overrides) -> TestClient:
        app = create_app(make_settings(data_dir or tmp_path / "data", **overrides), job_target=job_target)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    """An app with the real training job."""
    return make_client()


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
