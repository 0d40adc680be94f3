"""The access token against a real ``motornet-studio serve`` (uvicorn): what a client sees without it,
what the server's log keeps of it, and which tokens the server refuses to start with."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from backend_helpers import run_async
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TOKEN = "live-token-0123456789abcdef"
MAX_WS = 4096


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    log = open(data_dir / "server.log", "ab")  # noqa: SIM115  (owned by the child)
    cmd = [sys.executable, "-m", "backend.cli", "serve", "--data-dir", str(data_dir), *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MOTORNET_STUDIO_MAX_WS_MESSAGE_BYTES": str(MAX_WS)}
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    return proc


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A live server on a loopback port with the token set and info-level (access) logging."""
    data = tmp_path_factory.mktemp("secured")
    port = _free_port()
    proc = _serve(data, "--host", "127.0.0.1", "--port", str(port), "--token", TOKEN, "--log-level", "info")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, (data / "server.log").read_text()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/health", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2).status_code == 200:
                break
        assert time.monotonic() < deadline, (data / "server.log").read_text()
        time.sleep(0.2)
    try:
        yield {"url": url, "ws": f"ws://127.0.0.1:{port}", "log": data / "server.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def _closed_with(url: str) -> tuple[int, str, list[str]]:
    """Connect, read until the server closes; the close code, reason and the messages before it."""
    got: list[str] = []
    async with connect(url, open_timeout=10) as ws:
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(10):
                async for raw in ws:
                    got.append(str(raw))
        return ws.close_code, ws.close_reason, got


@pytest.mark.parametrize("path", ["/ws/sim", "/ws/runs/1"])
def test_socket_without_the_token_is_closed_with_4401_not_refused_with_403(server, path):
    for url in (f"{server['ws']}{path}", f"{server['ws']}{path}?token=wrong-token-0123456789"):
        try:
            code, reason, _ = run_async(_closed_with(url))
        except InvalidStatus as exc:  # the handshake itself refused (HTTP 403): what the audit saw
            raise AssertionError(f"handshake refused with HTTP {exc.response.status_code}") from None
        assert (code, reason) == (4401, "access token required")


def test_socket_with_the_token_works_and_oversize_messages_close_1009(server):
    async def scenario() -> tuple[str, list[str], int | None]:
        async with connect(f"{server['ws']}/ws/sim?token={TOKEN}", open_timeout=10) as ws:
            await ws.send('{"type": "reset"}')
            first = str(await ws.recv())
            await ws.send("x" * (MAX_WS + 1))
            after: list[str] = []
            with contextlib.suppress(ConnectionClosed):
                async with asyncio.timeout(10):
                    async for raw in ws:
                        after.append(str(raw))
            return first, after, ws.close_code

    first, after, code = run_async(scenario())
    assert '"type":"error"' in first.replace(" ", "") and "init" in first  # in: the socket answers
    assert code == 1009
    assert after == []  # uvicorn refuses the frame itself: no error message first (as docs/server.md says)


def test_the_token_in_the_query_string_never_reaches_the_log(server):
    assert httpx.get(f"{server['url']}/api/health?token={TOKEN}", timeout=10).status_code == 200
    assert httpx.get(f"{server['url']}/api/runs?sort=created&token={TOKEN}&x=1", timeout=10).status_code == 200
    assert httpx.get(f"{server['url']}/?%74oken={TOKEN}", timeout=10).status_code == 200
    run_async(_closed_with(f"{server['ws']}/ws/runs/999?token={TOKEN}"))
    deadline = time.monotonic() + 10
    while "/ws/runs/999" not in server["log"].read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = server["log"].read_text()
    assert '"GET /api/health?token=[redacted] HTTP/1.1" 200' in log, log[-2000:]
    assert "/api/runs?sort=created&token=[redacted]&x=1" in log
    assert "/ws/runs/999?token=[redacted]" in log
    assert TOKEN not in log


@pytest.mark.parametrize("token", ["   ", "short", "fifteen-chars-x", " padded-token-0123456789 "])
def test_weak_tokens_are_refused_at_start(tmp_path, token):
    proc = _serve(tmp_path / "weak", "--host", "0.0.0.0", "--port", "0", "--token", token)
    assert proc.wait(60) == 2
    out = (tmp_path / "weak" / "server.log").read_text()
    assert "access_token" in out and ("16" in out or "whitespace" in out), out
