"""Shared fixtures: a live ``motornet-studio serve`` process for end-to-end and browser tests.

Use ``live_server`` (one server per test module, its own temporary data directory)::

    def test_something(live_server):
        httpx.get(f"{live_server.url}/api/health")            # REST
        websockets.connect(f"{live_server.ws_url}/ws/runs/1")  # sockets
        live_server.restart()                                  # same port, same data dir
        live_server.stop()                                     # SIGTERM, then SIGKILL after 20 s

or start your own with :func:`start_live_server` (a context manager) when a test needs a fresh
data directory, different settings (``env={"MOTORNET_STUDIO_MAX_WORKERS": "3"}``) or extra CLI
arguments. The server's output goes to ``<data_dir>/server.log`` (printed when it fails to start).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90.0

# The suite's many open-ended runs (100 000 iterations, cancelled after a few) would each compile
# under train.compile "auto": here "auto" stays eager (workers and live servers inherit this), and the
# studio's idle warm-up is off. Tests of the "auto" decision and the warm-up switch them back on.
os.environ.setdefault("MOTORNET_CORE_AUTO_COMPILE", "0")
os.environ.setdefault("MOTORNET_STUDIO_WARMUP", "0")
# the suite's many servers start their workers cold; tests/backend/test_warm_worker.py turns it on
os.environ.setdefault("MOTORNET_STUDIO_WARM_WORKER", "0")


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real ``motornet-studio serve`` subprocess on a loopback port.

    Attributes:
        url: ``http://127.0.0.1:PORT``.
        ws_url: ``ws://127.0.0.1:PORT``.
        data_dir: the server's data directory (database, checkpoints, ``server.log``).
        port: the TCP port (kept across :meth:`restart`).
        process: the running :class:`subprocess.Popen`, or None when stopped.
    """

    def __init__(self, data_dir: Path, port: int | None = None, env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.args = tuple(args)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir / "server.log"

    def start(self) -> LiveServer:
        """Start the server and wait until ``/api/health`` answers (90 s at most)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--data-dir", str(self.data_dir), "--log-level", "warning", *self.args]
        log = open(self.log_path, "ab")  # noqa: SIM115  (owned by the child until stop)
        self.process = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/health", headers=self.auth_headers, timeout=2.0).status_code == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer /api/health within {START_TIMEOUT} s:\n{self.log()}")

    @property
    def auth_headers(self) -> dict[str, str]:
        """``Authorization: Bearer`` with the server's access token, when ``env`` sets one."""
        token = self.env.get("MOTORNET_STUDIO_ACCESS_TOKEN")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def stop(self, timeout: float = 20.0) -> None:
        """Stop gracefully (SIGTERM: running runs become ``interrupted``), SIGKILL after ``timeout``."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def restart(self) -> LiveServer:
        """Stop and start again on the same port with the same data directory."""
        self.stop()
        return self.start()

    def log(self) -> str:
        """The server's output so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextlib.contextmanager
def start_live_server(data_dir: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> Iterator[LiveServer]:
    """Run a :class:`LiveServer` for the duration of a ``with`` block."""
    server = LiveServer(data_dir, env=env, args=args).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live studio server for this test module (2 training workers, temporary data dir).

    Yields a :class:`LiveServer` with ``.url``, ``.ws_url``, ``.data_dir``, ``.restart()`` and
    ``.stop()``; it is stopped when the module's tests are done.
    """
    with start_live_server(tmp_path_factory.mktemp("studio"), env={"MOTORNET_STUDIO_MAX_WORKERS": "2"}) as server:
        yield server
