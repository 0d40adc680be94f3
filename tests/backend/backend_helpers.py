"""Helpers of the backend tests (a uniquely named module: ``conftest`` names clash across test folders)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.status import TERMINAL_STATUSES

TERMINAL = {str(s) for s in TERMINAL_STATUSES}
T = TypeVar("T")


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


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` on a thread of its own: works whatever loop the calling thread has (Playwright's
    sync API keeps an event loop running on the main thread once a browser test has run in the process)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


_LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
conn.close()
"""


def lock_database(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding an exclusive lock on the SQLite file ``db`` for ``seconds``; returns once it holds it."""
    locker = subprocess.Popen([sys.executable, "-c", _LOCKER, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
    return locker
