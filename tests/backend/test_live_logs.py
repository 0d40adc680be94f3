"""What a live ``motornet-studio serve --log-level debug`` writes to its log: never the access
token (header or query), one clean line (no traceback) for an oversized chunked upload; and a
websocket message nested too deeply for the parser answered with a clear error."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from backend_helpers import run_async
from websockets.asyncio.client import connect

from tests.conftest import LiveServer, start_live_server

pytestmark = pytest.mark.slow

TOKEN = "debug-token-0123456789abcdef"
MAX_UPLOAD = 100_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    env = {"MOTORNET_STUDIO_ACCESS_TOKEN": TOKEN, "MOTORNET_STUDIO_MAX_CHECKPOINT_BYTES": str(MAX_UPLOAD)}
    with start_live_server(tmp_path_factory.mktemp("debuglog"), env=env, args=("--log-level", "debug")) as live:
        yield live


async def _exchange(url: str, headers: dict[str, str], message: str) -> dict:
    async with connect(url, additional_headers=headers, max_size=2**22) as ws:
        await ws.send(message)
        return json.loads(await asyncio.wait_for(ws.recv(), 30))


def test_the_token_never_reaches_a_debug_log(server: LiveServer):
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{server.url}/api/health", headers=bearer).status_code == 200
    assert httpx.get(f"{server.url}/api/health?token={TOKEN}").status_code == 200
    reset = json.dumps({"type": "reset"})
    run_async(_exchange(f"{server.ws_url}/ws/sim", bearer, reset))
    run_async(_exchange(f"{server.ws_url}/ws/sim?token={TOKEN}", {}, reset))
    log = server.log()
    assert "authorization" in log.lower() or "/ws/sim" in log  # debug logging is on
    assert TOKEN not in log, [line for line in log.splitlines() if TOKEN in line][:5]
    assert "--- Logging error ---" not in log, log[-3000:]


def test_an_oversized_chunked_upload_logs_one_clean_line(server: LiveServer):
    before = len(server.log())

    def chunks():
        for _ in range(50):
            yield b"\0" * 10_000

    headers = {**server.auth_headers, "content-type": "application/octet-stream"}
    r = httpx.post(f"{server.url}/api/runs/import", content=chunks(), headers=headers, timeout=30)
    assert r.status_code == 413, r.text
    assert httpx.get(f"{server.url}/api/health", headers=server.auth_headers).status_code == 200
    log = server.log()[before:]
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-3000:]
    assert any("413" in line or "larger than" in line for line in log.splitlines()), log[-3000:]


def test_a_deeply_nested_websocket_message_is_a_clear_error(server: LiveServer):
    deep = "[" * 30_000 + "]" * 30_000
    reply = run_async(_exchange(f"{server.ws_url}/ws/sim", server.auth_headers, deep))
    assert reply["type"] == "error" and "nested" in reply["message"], reply
    assert "RecursionError" not in reply["message"] and "internal error" not in reply["message"]
