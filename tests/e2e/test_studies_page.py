"""End-to-end: the Studies page runs a fast study and draws its stored figures (headless Chromium).

Fails on any browser console error (see conftest.py); screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.browser

FIGURES_DRAWN = (
    "(n) => { const els = [...document.querySelectorAll('[data-testid=study-figure]')];"
    " return els.length >= n && els.every((e) => e.data && e.data.length > 0 && e.querySelector('.main-svg')); }"
)


@pytest.fixture(scope="module", autouse=True)
def _warm(live_server) -> None:  # type: ignore[no-untyped-def]
    """The first catalogue call imports the studies: make it before the browser's clock runs."""
    httpx.get(f"{live_server.url}/api/studies", timeout=120).raise_for_status()


def test_run_moment_arms_and_reopen_its_link(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/studies?study=moment_arms")
    page.get_by_role("heading", name="Studies", exact=True).wait_for()
    assert page.locator("#nav a.active").inner_text() == "Studies"
    page.locator("[data-testid=study-list] li.sel[data-study=moment_arms]").wait_for()
    page.get_by_role("heading", name=re.compile("Moment arms")).wait_for()
    page.locator("input[name=n_points]").fill("21")
    page.get_by_test_id("study-run-button").click()
    page.wait_for_function("() => /[?&]run=\\d+/.test(location.hash)")
    page.wait_for_function(FIGURES_DRAWN, arg=2, timeout=90_000)
    assert page.get_by_test_id("study-status").inner_text() == "finished"
    assert page.locator("[data-testid=study-table] tbody tr").count() >= 6
    assert "arm26" in page.get_by_test_id("study-summary").inner_text()
    shot("studies_moment_arms")

    link = page.url
    run_id = int(re.search(r"run=(\d+)", link).group(1))
    assert httpx.get(f"{live_server.url}/api/runs/{run_id}/result").json()["params"]["n_points"] == 21
    page.goto(f"{live_server.url}/#/home")
    page.get_by_role("heading", name="Welcome to MotorNet Studio").wait_for()
    page.goto(link)
    page.wait_for_function(FIGURES_DRAWN, arg=2, timeout=30_000)
    assert page.locator("input[name=n_points]").input_value() == "21"
    assert page.locator(f".study-history a[href*='run={run_id}']").count() == 1


def test_bad_parameters_are_shown_at_the_field(live_server, page, console, shot) -> None:  # type: ignore[no-untyped-def]
    console.allow.append(re.compile(r"Failed to load resource.*422"))
    page.goto(f"{live_server.url}/#/studies?study=muscle_curves")
    page.get_by_role("heading", name=re.compile("Muscle models")).wait_for()
    page.locator("input[name=n_points]").fill("3")
    page.get_by_test_id("study-run-button").click()
    error = page.locator("[data-error-for=n_points]")
    error.filter(has_text=re.compile(r"\S")).wait_for()
    assert "11" in error.inner_text()
    assert not re.search(r"[?&]run=", page.url)
    shot("studies_bad_params")
