"""Run page bugs found by new users (issue 16): a live duration, a resume that drops steps, loss terms of different scale."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

pytestmark = pytest.mark.browser

LOSS = "(name) => (document.querySelector('[data-testid=loss-plot]')?.data?.find((t) => t.name === name) ?? null)"


def _get(url: str, path: str) -> dict:
    return httpx.get(f"{url}{path}", timeout=10).json()


def _wait(predicate, what: str = "condition", timeout: float = 90.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_duration_counts_up_while_the_run_trains(live_server, page) -> None:  # type: ignore[no-untyped-def]
    """Bug 3: the duration froze at its value when the page loaded (0.2 s at step 57)."""
    body = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100000}, "name": "duration"}
    rid = httpx.post(f"{live_server.url}/api/runs", json=body).json()["id"]
    try:
        page.goto(f"{live_server.url}/#/run?id={rid}")
        page.get_by_test_id("run-status").filter(has_text="running").wait_for(timeout=60_000)
        first = page.get_by_test_id("run-duration").text_content()
        # no status message comes while a run trains: the duration must move on its own
        page.wait_for_function(
            "(t) => document.querySelector('[data-testid=run-duration]')?.textContent !== t", arg=first, timeout=15_000
        )
        rate = "() => /it\\/s/.test(document.querySelector('[data-testid=run-rate]')?.textContent)"
        page.wait_for_function(rate, timeout=60_000)  # needs two progress reports: slow on a loaded machine
        page.wait_for_function("() => /[0-9]/.test(document.querySelector('[data-testid=run-eta]')?.textContent)", timeout=60_000)
    finally:
        httpx.post(f"{live_server.url}/api/runs/{rid}/cancel")


def test_resume_from_an_earlier_checkpoint_redraws_the_dropped_steps(live_server, page) -> None:  # type: ignore[no-untyped-def]
    """Bug 10: after a resume from a checkpoint older than the last step shown, the page kept the
    dropped steps' losses (and skipped the retrained ones) until a reload."""
    n, every = 300, 50
    body = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": n, "train.checkpoint_every": every}}
    rid = httpx.post(f"{live_server.url}/api/runs", json=body).json()["id"]
    page.goto(f"{live_server.url}/#/run?id={rid}")
    for _attempt in range(3):
        # the worker dies in the middle between two checkpoints: the steps after the first are lost.
        # The page lags the worker, so a worker that was already past the next checkpoint (a loaded
        # machine) leaves nothing to drop: then resume and kill it again later.
        _wait(lambda: _get(live_server.url, f"/api/runs/{rid}")["checkpoint_step"], "a checkpoint")
        k = f"(({LOSS})('loss')?.x?.length ?? 0)"
        mid = f"() => {k} > {every} && {k} % {every} >= 10 && {k} % {every} <= 30 && {k} < {n - every}"
        page.wait_for_function(mid, timeout=60_000, polling=10)
        os.kill(_get(live_server.url, f"/api/runs/{rid}")["worker_pid"], signal.SIGKILL)
        page.get_by_role("button", name="Resume").wait_for(timeout=60_000)
        shown = page.evaluate(f"() => ({LOSS})('loss').x.length")
        ck = _get(live_server.url, f"/api/runs/{rid}")["checkpoint_step"]
        if shown > ck:  # the page holds steps that the resume will retrain
            break
        page.get_by_role("button", name="Resume").click()
        page.get_by_test_id("run-status").filter(has_text="running").wait_for(timeout=60_000)
    else:
        raise AssertionError(f"the worker always passed the next checkpoint before it was killed (page {shown}, checkpoint {ck})")
    page.get_by_role("button", name="Resume").click()
    # the steps after the checkpoint are gone from the plot at once (a worker takes seconds to start)
    page.wait_for_function(f"() => ({LOSS})('loss').x.length <= {ck}", timeout=5_000)
    page.get_by_test_id("run-status").filter(has_text="finished").wait_for(timeout=120_000)
    page.wait_for_function(f"() => ({LOSS})('loss')?.x?.length >= {n}", timeout=30_000)
    trace = page.evaluate(f"() => {{ const t = ({LOSS})('loss'); return {{x: t.x.slice(), y: t.y.slice()}}; }}")
    stored = _get(live_server.url, f"/api/runs/{rid}/metrics?keys=loss&max_points=100000")["series"]["loss"]
    assert trace["x"] == list(range(1, n + 1))
    assert trace["y"] == pytest.approx(stored["value"], rel=1e-6)  # the retrained values, not the dropped ones


def test_loss_terms_of_another_scale_get_their_own_axis(live_server, page) -> None:  # type: ignore[no-untyped-def]
    """Bug 11: the total loss (~0.1) and activation terms (~1e-7) shared one log axis, and the
    grad_norm axis title overlapped its ticks; also the linear/log toggle and smoothing."""
    body = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 30, "loss.activation_l2": 1e-6}}
    rid = httpx.post(f"{live_server.url}/api/runs", json=body).json()["id"]
    _wait(lambda: _get(live_server.url, f"/api/runs/{rid}")["status"] == "finished", "the run to finish")
    page.goto(f"{live_server.url}/#/run?id={rid}")
    page.wait_for_function(f"() => ({LOSS})('loss/activation_l2') !== null", timeout=30_000)
    axes = page.evaluate(f"() => [({LOSS})('loss').yaxis ?? 'y', ({LOSS})('loss/activation_l2').yaxis ?? 'y']")
    assert axes == ["y", "y2"], axes
    layout = page.evaluate("() => document.querySelector('[data-testid=loss-plot]').layout")
    assert layout["yaxis2"]["type"] == "log" and layout["yaxis2"]["side"] == "right"
    other = page.evaluate("() => document.querySelector('[data-testid=lr-plot]').layout")
    assert other["yaxis2"].get("automargin") is True and other["yaxis"].get("automargin") is True
    page.get_by_test_id("loss-scale").select_option("linear")
    page.wait_for_function("() => document.querySelector('[data-testid=loss-plot]').layout.yaxis.type === 'linear'")
    page.get_by_test_id("loss-smoothing").fill("0.9")
    page.get_by_test_id("loss-smoothing").dispatch_event("input")
    smooth = page.evaluate(f"() => ({LOSS})('loss (smoothed)')")
    assert smooth is not None and len(smooth["y"]) == 30
    page.screenshot(path="/tmp/e2e_run_loss_axes.png", full_page=True)
