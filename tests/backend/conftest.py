"""Fixtures of the API tests: started apps on temporary SQLite files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backend_helpers import make_settings
from fastapi.testclient import TestClient

from backend.app.main import create_app


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Factory of started TestClients; ``make_client(job_target=..., data_dir=..., **settings)``; closed at teardown."""
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
