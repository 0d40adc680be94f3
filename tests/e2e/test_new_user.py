"""End-to-end: what a first-time user stumbles on in the builder, the task designer and the API docs.

One live server for the module, no background training (these tests need no runs but the one they
launch). Each test fails on any browser console error (see conftest.py).
"""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.browser

DEG = 180 / 3.141592653589793


@pytest.fixture(scope="module", autouse=True)
def _warm(live_server) -> None:  # type: ignore[no-untyped-def]
    """First calls build the presets and schemas: make them before the browser's clock runs."""
    for path in ("/api/presets", "/api/schema/effector", "/api/schema/run"):
        httpx.get(f"{live_server.url}{path}", timeout=120).raise_for_status()


def _trace(page, testid: str, i: int, key: str = "y") -> list[float] | None:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "([id, i, k]) => { const el = document.querySelector(`[data-testid=${id}]`);"
        " return el && el.data && el.data[i] ? Array.from(el.data[i][k]) : null; }",
        [testid, i, key],
    )


def _wait_traces(page, testid: str, n: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "([id, n]) => { const el = document.querySelector(`[data-testid=${id}]`);"
        " return !!el && !!el.data && el.data.length >= n && el.data.every((t) => t.y && t.y.length > 0); }",
        arg=[testid, n],
    )


def _wait_x_max(page, testid: str, deg: float) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "([id, deg]) => { const el = document.querySelector(`[data-testid=${id}]`);"
        " return !!el && !!el.data && !!el.data[0] && Math.abs(Math.max(...el.data[0].x) - deg) < 0.5; }",
        arg=[testid, deg],
    )


def test_geometry_joint_choice_redraws_the_plots(live_server, page) -> None:  # type: ignore[no-untyped-def]
    """Choosing 'elbow' sweeps the elbow (x up to its 155 deg bound) without a reload."""
    page.goto(f"{live_server.url}/#/effector?preset=arm26")
    _wait_traces(page, "length-plot", 6)
    _wait_x_max(page, "length-plot", 135)
    page.locator('select[aria-label="joint swept"]').select_option("1")
    page.wait_for_function("() => location.hash.includes('joint=1')")
    _wait_x_max(page, "length-plot", 155)
    _wait_x_max(page, "moment-arm-plot", 155)
    page.screenshot(path="/tmp/e2e_geometry_elbow.png", full_page=True)


def test_geometry_sweeps_follow_the_posture(live_server, page) -> None:  # type: ignore[no-untyped-def]
    """With 'follow posture' ticked, a shoulder sweep of the biarticular biceps moves with the elbow slider."""
    page.goto(f"{live_server.url}/#/effector?preset=arm210")
    _wait_traces(page, "length-plot", 10)
    biceps = 6
    before = _trace(page, "length-plot", biceps)
    page.get_by_test_id("follow-posture").check()
    elbow = page.locator('input[aria-label="elbow angle"]')
    elbow.fill(elbow.get_attribute("min") or "0")
    page.wait_for_function(
        "([i, before]) => { const el = document.querySelector('[data-testid=length-plot]');"
        " const y = el && el.data && el.data[i] && Array.from(el.data[i].y);"
        " return !!y && y.some((v, k) => Math.abs(v - before[k]) > 1e-3); }",
        arg=[biceps, before],
    )
    assert "follow=1" in page.url
    page.get_by_test_id("geometry-status").filter(has_text="other joints at the posture").wait_for()
    page.screenshot(path="/tmp/e2e_geometry_follow.png", full_page=True)
