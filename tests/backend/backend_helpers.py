"""Helpers of the backend tests (a uniquely named module: ``conftest`` names clash across test folders)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi.testclient import TestClient
from websockets.asyncio.client import connect

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


def api_get(server: Any, path: str) -> Any:
    """``GET`` ``path`` of a live server (``server.url``); raises on an error status; the JSON body."""
    r = httpx.get(f"{server.url}{path}", timeout=30)
    r.raise_for_status()
    return r.json()


def api_post(server: Any, path: str, body: dict | None = None) -> dict:
    """``POST`` ``body`` to ``path`` of a live server; asserts 200 or 201; the JSON body."""
    r = httpx.post(f"{server.url}{path}", json=body, timeout=30)
    assert r.status_code in (200, 201), r.text
    return r.json()


async def follow_socket(url: str, until: set[str], timeout: float) -> list[dict]:
    """Collect a run socket's messages until a status in ``until`` arrives (the messages, that one last)."""
    messages: list[dict] = []
    async with connect(url, open_timeout=10) as ws:
        async with asyncio.timeout(timeout):
            async for raw in ws:
                msg = json.loads(raw)
                messages.append(msg)
                if msg["type"] == "status" and msg["status"] in until:
                    return messages
    raise AssertionError(f"socket closed before {until}: {messages[-3:]}")


async def cancel_latency(server: Any, rid: int, timeout: float) -> float:
    """Seconds from ``POST /api/runs/{rid}/cancel`` to the ``cancelled`` status on the run's socket
    (opened first; the run must be running); fails after ``timeout`` s without it."""
    async with connect(f"{server.ws_url}/ws/runs/{rid}", open_timeout=10) as ws:
        first = json.loads(await ws.recv())
        assert first["type"] == "status" and first["status"] == "running", first
        t0 = time.monotonic()
        await asyncio.to_thread(api_post, server, f"/api/runs/{rid}/cancel")
        async with asyncio.timeout(timeout):
            async for raw in ws:
                msg = json.loads(raw)
                if msg["type"] == "status" and msg["status"] == "cancelled":
                    return time.monotonic() - t0
    raise AssertionError("no cancelled status")


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
