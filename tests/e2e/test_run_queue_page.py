"""Issue 16: the run page and the runs list show a queued run's position; a cancelled run's page shows
Resume and where it continues from (bug 9: no Resume and no reason)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

LONG = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000, "train.checkpoint_every": 100_000}}


def _run(url: str, rid: int) -> dict:
    return httpx.get(f"{url}/api/runs/{rid}", timeout=10).json()


def _wait(predicate, what: str, timeout: float = 90.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_queue_position_and_resume_after_cancel_are_shown(live_server, page) -> None:  # type: ignore[no-untyped-def]
    url = live_server.url
    busy = [httpx.post(f"{url}/api/runs", json={**LONG, "name": f"busy {i}"}).json()["id"] for i in range(2)]
    waiting = httpx.post(f"{url}/api/runs", json={**LONG, "name": "waiting"}).json()["id"]
    try:
        for rid in busy:  # the server's two workers
            _wait(lambda rid=rid: _run(url, rid)["status"] == "running", f"run {rid} started")
        assert _run(url, waiting)["queue_position"] == 1
        page.goto(f"{url}/#/run?id={waiting}")
        page.get_by_test_id("run-queue").filter(has_text="next in the training queue").wait_for()
        page.goto(f"{url}/#/runs")
        row = page.locator(f"tr[data-run-id='{waiting}'] [data-testid=run-queue]")
        row.filter(has_text="next in the training queue").wait_for()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "runs_queue_position.png"), full_page=True)

        # cancelled before any periodic checkpoint (every 100 000 iterations): its last iteration is kept
        _wait(lambda: _run(url, busy[0])["step"] >= 3, "a few iterations")
        page.goto(f"{url}/#/run?id={busy[0]}")
        page.get_by_test_id("cancel").click()
        note = page.get_by_test_id("run-stop-note")
        note.filter(has_text="Resume continues from its checkpoint").wait_for()
        run = _run(url, busy[0])
        assert run["status"] == "cancelled" and run["checkpoint_step"] == run["step"] >= 3, run
        assert f"Cancelled at step {run['step']}" in note.text_content() and "nothing is lost" in note.text_content()
        page.get_by_role("button", name="Resume").wait_for()
        page.screenshot(path=str(SCREENSHOTS / "run_cancelled_resume.png"), full_page=True)
    finally:
        for rid in [*busy, waiting]:
            httpx.post(f"{url}/api/runs/{rid}/cancel")
