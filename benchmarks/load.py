"""Load on a live studio: websocket viewers and REST traffic during a training run, on loopback.

Starts ``motornet-studio serve`` on 127.0.0.1 (temporary data dir, one worker), launches a
training run, measures its throughput alone, then attaches ``--viewers`` websocket viewers of the
running job plus ``--rps`` REST requests per second for ``--seconds``, then measures the
throughput alone again. Prints the request count, errors, p50/p99 latency, messages received per
viewer, and the training throughput (iterations/s, from the worker's metric timestamps) with and
without the load. Every phase is bounded in time::

    nice -n 10 .venv/bin/python benchmarks/load.py --viewers 50 --rps 200 --seconds 30

The server, the trainer and this client share the machine's cores: on a small machine the
client's own CPU use is part of the measured slowdown. Viewers decode their first message (the
run's status) and count the rest without decoding them: 50 clients parsing every ~270 KB snapshot
in this one Python process would otherwise measure the client, not the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

REPO = Path(__file__).resolve().parents[1]
RUN = {"preset": "tutorial_point_mass", "name": "load", "overrides": {"train.n_iterations": 100_000, "train.eval_every": 20}}


@dataclass
class LoadResult:
    """What the load phase saw."""

    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    viewer_messages: list[int] = field(default_factory=list)
    viewer_errors: int = 0
    unsent: int = 0
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in ms (0 when nothing was measured)."""
        if not self.latencies:
            return 0.0
        data = sorted(self.latencies)
        return 1000 * data[min(len(data) - 1, int(q / 100 * len(data)))]


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _viewer(ws_url: str, run_id: int, stop: asyncio.Event, result: LoadResult, i: int) -> None:
    count = 0
    try:
        async with connect(f"{ws_url}/ws/runs/{run_id}", open_timeout=15, max_size=2**24, compression=None) as ws:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    frame = await asyncio.wait_for(ws.recv(), timeout=0.5)
                    if count == 0:
                        assert json.loads(frame)["type"] == "status"  # later frames are counted, not decoded
                    count += 1
    except Exception as exc:
        result.viewer_errors += 1
        result.error_samples.append(f"viewer {i}: {type(exc).__name__}: {exc}")
    result.viewer_messages.append(count)


def _record(result: LoadResult, path: str, latency: float, ok: bool, detail: str) -> None:
    result.latencies.append(latency)
    result.requests += 1
    if not ok:
        result.errors += 1
        if len(result.error_samples) < 10:
            result.error_samples.append(f"GET {path}: {detail}")


async def _http_get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str) -> tuple[int, bytes]:
    """One keep-alive HTTP/1.1 GET on an open connection: (status, body)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode())
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _rest_worker(url: str, jobs: asyncio.Queue, result: LoadResult) -> None:
    """Send the scheduled requests of ``jobs`` ((scheduled time, path); None ends) on one connection.

    Latency counts from the scheduled time, so time spent waiting for a free connection counts too.
    A raw keep-alive connection keeps the client's own CPU cost small: on a 2-core machine the
    client shares the cores with the server and the training worker.
    """
    host = url.split("://", 1)[1]
    name, port = host.rsplit(":", 1)
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while (job := await jobs.get()) is not None:
        scheduled, path = job
        try:
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection(name, int(port)), timeout=10)
            status, body = await asyncio.wait_for(_http_get(*conn, host, path), timeout=10)
            _record(result, path, time.perf_counter() - scheduled, status == 200, f"{status} {body[:120]!r}")
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError) as exc:
            _record(result, path, time.perf_counter() - scheduled, False, f"{type(exc).__name__}: {exc}")
            if conn is not None:
                conn[1].close()
            conn = None
    if conn is not None:
        conn[1].close()


async def apply_load(
    url: str, ws_url: str, run_id: int, viewers: int, rps: float, seconds: float, connections: int = 16
) -> LoadResult:
    """``viewers`` websocket viewers of the run plus ``rps`` GET requests per second for ``seconds``
    (open loop: sent on schedule over ``connections`` keep-alive connections)."""
    result = LoadResult()
    stop = asyncio.Event()
    paths = ["/api/health", f"/api/runs/{run_id}", "/api/runs", f"/api/runs/{run_id}/metrics?max_points=200"]
    watchers = [asyncio.create_task(_viewer(ws_url, run_id, stop, result, i)) for i in range(viewers)]
    jobs: asyncio.Queue = asyncio.Queue()
    workers = [asyncio.create_task(_rest_worker(url, jobs, result)) for _ in range(connections)]
    t0 = time.perf_counter()
    n = int(rps * seconds)
    for i in range(n):
        scheduled = t0 + i / rps
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif -delay > 2.0:  # this client fell behind its own schedule: stop, say so
            result.unsent = n - i
            break
        jobs.put_nowait((scheduled, paths[i % len(paths)]))
    sent = n - result.unsent
    _say(f"{sent} requests sent, {jobs.qsize()} waiting for a connection")
    for _ in workers:
        jobs.put_nowait(None)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*workers), timeout=15)
    result.seconds = time.perf_counter() - t0
    if sent > result.requests:  # still unanswered 15 s after the end: errors too
        result.errors += sent - result.requests
        result.error_samples.append(f"{sent - result.requests} requests unanswered 15 s after the load phase")
    _say("requests done; closing the viewers")
    stop.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*watchers), timeout=15)
    return result


def throughput(url: str, run_id: int, start: float, end: float) -> float:
    """Iterations/s of the run between two wall-clock times, from its metric rows' timestamps."""
    series = httpx.get(f"{url}/api/runs/{run_id}/metrics?keys=loss&max_points=100000", timeout=30).json()["series"]["loss"]
    times = [t for t in series["time"] if start <= t <= end]
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


def wait_until_training(url: str, run_id: int, timeout: float = 120.0) -> None:
    """Block until the run reports steps (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = httpx.get(f"{url}/api/runs/{run_id}", timeout=10).json()
        if run["status"] == "running" and run["step"] >= 3:
            return
        if run["status"] not in ("queued", "running"):
            raise RuntimeError(f"run ended: {run['status']} {run['error']}")
        time.sleep(0.2)
    raise RuntimeError("the run did not start training in time")


@contextlib.contextmanager
def studio(data_dir: Path):
    """A ``motornet-studio serve`` subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--data-dir", str(data_dir), "--workers", "1", "--log-level", "warning"]
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((data_dir / "server.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def report(result: LoadResult, alone: float, loaded: float, viewers: int) -> list[str]:
    """Printable figures."""
    msgs = result.viewer_messages or [0]
    drop = 100 * (1 - loaded / alone) if alone else float("nan")
    return [
        f"REST: {result.requests} requests in {result.seconds:.1f} s ({result.requests / max(result.seconds, 1e-9):.0f}/s), "
        f"errors {result.errors}, not sent (client behind schedule) {result.unsent}, "
        f"latency p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} ms",
        f"websockets: {viewers} viewers, errors {result.viewer_errors}, messages per viewer "
        f"min {min(msgs)} / median {statistics.median(msgs):.0f} / max {max(msgs)}",
        f"training: {alone:.2f} it/s alone, {loaded:.2f} it/s under load (drop {drop:.0f}%)",
        *[f"  error: {e}" for e in result.error_samples[:10]],
    ]


def _say(text: str) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {text}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """Run the whole measurement; exit status 1 on any request or viewer error."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--viewers", type=int, default=50)
    p.add_argument("--rps", type=float, default=200.0)
    p.add_argument("--seconds", type=float, default=30.0, help="length of the load phase")
    p.add_argument("--baseline", type=float, default=15.0, help="length of each quiet phase (before and after)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, studio(Path(tmp)) as url:
        ws_url = url.replace("http://", "ws://")
        run_id = httpx.post(f"{url}/api/runs", json=RUN, timeout=30).json()["id"]
        wait_until_training(url, run_id)
        _say(f"run {run_id} training; {args.baseline:g} s alone")
        t0 = time.time()
        time.sleep(args.baseline)
        t1 = time.time()
        _say(f"load: {args.viewers} viewers, {args.rps:g} requests/s for {args.seconds:g} s")
        result = asyncio.run(apply_load(url, ws_url, run_id, args.viewers, args.rps, args.seconds))
        t2 = time.time()
        _say(f"load over after {t2 - t1:.1f} s; {args.baseline:g} s alone again")
        time.sleep(args.baseline)
        t3 = time.time()
        time.sleep(1.0)  # one metric flush
        before, loaded, after = throughput(url, run_id, t0, t1), throughput(url, run_id, t1, t2), throughput(url, run_id, t2, t3)
        httpx.post(f"{url}/api/runs/{run_id}/cancel", timeout=10)
    alone = (before + after) / 2
    lines = [
        f"training alone: {before:.2f} it/s before, {after:.2f} it/s after the load",
        *report(result, alone, loaded, args.viewers),
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 1 if result.errors or result.viewer_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
