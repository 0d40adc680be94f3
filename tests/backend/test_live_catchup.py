"""Catching up with a live run (docs/server.md, "Catching up"): REST, then the socket with ``after_step``.

Against a real ``motornet-studio serve`` process: a viewer that joins mid-run, and a viewer so slow
that the hub drops its oldest messages, both end with every metric step 1..N exactly once.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.conftest import start_live_server

pytestmark = pytest.mark.slow

N = 400
RUN = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": N, "train.eval_every": 2, "train.checkpoint_every": 100}}
# large snapshots (about 100 kB each) fill the socket buffers of a viewer that stops reading
HEAVY = {**RUN, "overrides": {**RUN["overrides"], "train.eval_batch_size": 32}}


def _get(server, path: str) -> dict:
    r = httpx.get(f"{server.url}{path}", timeout=10)
    r.raise_for_status()
    return r.json()


def _start(server, spec: dict = RUN) -> int:
    r = httpx.post(f"{server.url}/api/runs", json=spec, timeout=10)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _stored_steps(server, rid: int) -> list[int]:
    """The run's ``loss`` steps that REST returns now (not downsampled)."""
    return _get(server, f"/api/runs/{rid}/metrics?keys=loss&max_points=100000")["series"].get("loss", {"step": []})["step"]


def _wait_step(server, rid: int, above: int, timeout: float = 120) -> int:
    """Wait until the run's stored step exceeds ``above`` (or it ended); returns the step."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _get(server, f"/api/runs/{rid}")
        if run["step"] > above or run["status"] not in ("queued", "running"):
            return int(run["step"])
        time.sleep(0.05)
    raise AssertionError(f"run {rid} stayed at step {above}")


class Viewer:
    """A client following the documented protocol: REST, then the socket with ``after_step``;
    on a hole in ``seq`` it closes the socket and does the same again from what it holds."""

    def __init__(self, server, rid: int) -> None:
        self.server, self.rid = server, rid
        self.steps: list[int] = []  # every metric step received, in order (REST, then socket)
        self.gaps = 0

    def held(self) -> int:
        return self.steps[-1] if self.steps else 0

    def rest(self) -> None:
        self.steps += [s for s in _stored_steps(self.server, self.rid) if s > self.held()]

    async def follow(self, stall_until_step: int | None = None) -> bool:
        """One socket until the run ends (True) or a hole in ``seq`` (False). With
        ``stall_until_step``, read nothing until the run's stored step passed it."""
        url = f"{self.server.ws_url}/ws/runs/{self.rid}?after_step={self.held()}"
        async with connect(url, open_timeout=10, max_queue=1, max_size=2**24, ping_interval=None, close_timeout=2) as ws:
            first = json.loads(await ws.recv())
            assert first["type"] == "status" and isinstance(first["seq"], int), first
            last_seq = first["seq"]
            if stall_until_step is not None:
                await asyncio.to_thread(_wait_step, self.server, self.rid, stall_until_step)
            async with asyncio.timeout(180):
                async for raw in ws:
                    msg = json.loads(raw)
                    if msg["type"] != "status" and msg.get("seq") is not None:
                        if msg["seq"] != last_seq + 1:
                            self.gaps += 1
                            return False
                        last_seq = msg["seq"]
                    if msg["type"] == "metric":
                        self.steps.append(msg["step"])
                    if msg["type"] == "status" and msg["status"] not in ("queued", "running"):
                        return True
        raise AssertionError("the socket closed before the run ended")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"MOTORNET_STUDIO_MAX_WORKERS": "2", "MOTORNET_STUDIO_WS_QUEUE_SIZE": "10"}
    with start_live_server(tmp_path_factory.mktemp("catchup"), env=env) as live:
        yield live


def test_a_viewer_joining_mid_run_gets_every_step_once(server):
    rid = _start(server)
    viewer = Viewer(server, rid)
    _wait_step(server, rid, 20)
    viewer.rest()
    held = viewer.held()
    # rows published after the REST read and flushed before the socket subscribes: the race of issue 18.3
    _wait_step(server, rid, held + 3)
    assert asyncio.run(viewer.follow()), "the socket showed a hole in seq"
    assert viewer.steps == list(range(1, N + 1)), f"missing {sorted(set(range(1, N + 1)) - set(viewer.steps))[:10]}"
    assert _get(server, f"/api/runs/{rid}")["status"] == "finished"


def test_a_throttled_viewer_catches_up_after_the_hub_dropped_its_messages(server):
    rid = _start(server, HEAVY)
    viewer = Viewer(server, rid)
    _wait_step(server, rid, 5)
    viewer.rest()
    done = asyncio.run(viewer.follow(stall_until_step=N))  # a viewer that reads nothing until the run ended
    assert not done and viewer.gaps == 1, "the hub should have dropped this slow viewer's oldest messages"
    while not done:  # the documented catch-up, as often as it takes
        viewer.rest()
        done = asyncio.run(viewer.follow())
    assert viewer.steps == list(range(1, N + 1)), f"missing {sorted(set(range(1, N + 1)) - set(viewer.steps))[:10]}"
