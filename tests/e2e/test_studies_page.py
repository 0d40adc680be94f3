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
    page.locator(f".study-history a[href*='run={run_id}']").first.wait_for()  # the history loads on its own
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


def test_training_study_progress_follows_the_stream(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    """A running training study shows its step of the total, loss and phase as they stream; its table fits its card."""
    params = {"iterations": 300, "adapt_iterations": 50, "adapt_every": 25, "batch_size": 4, "hidden_size": 8}
    r = httpx.post(f"{live_server.url}/api/studies/centre_out_curl_field/runs", json={"params": params})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    page.goto(f"{live_server.url}/#/studies?study=centre_out_curl_field&run={run_id}")
    progress = page.get_by_test_id("study-progress")
    progress.filter(has_text=re.compile(r"baseline · step \d+ of 350 · loss \d")).wait_for(timeout=90_000)
    width, text = page.evaluate(
        "() => [parseFloat(document.querySelector('[data-testid=study-run] .progress > span').style.width),"
        " document.querySelector('[data-testid=study-progress]').textContent]"
    )
    step = int(re.search(r"step (\d+) of", text).group(1))
    assert width == pytest.approx(100 * step / 350, abs=0.6)
    page.wait_for_function(
        "(n) => { const m = /step (\\d+) of/.exec(document.querySelector('[data-testid=study-progress]').textContent);"
        " return m && Number(m[1]) > n; }",
        arg=step,
        timeout=60_000,
    )
    shot("studies_training_progress")
    page.get_by_test_id("study-cancel").click()
    page.get_by_test_id("study-status").filter(has_text="cancelled").wait_for(timeout=60_000)


def test_wide_study_table_stays_inside_its_card(live_server, page) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(f"{live_server.url}/api/studies/moment_arms/runs", json={"params": {"n_points": 11}})
    run_id = r.json()["id"]
    page.set_viewport_size({"width": 900, "height": 900})
    page.goto(f"{live_server.url}/#/studies?study=moment_arms&run={run_id}")
    page.wait_for_function(FIGURES_DRAWN, arg=2, timeout=90_000)
    box = page.evaluate(
        "() => { const w = document.querySelector('[data-testid=study-table-wrap]'); const card = w.closest('.panel');"
        " const a = w.getBoundingClientRect(), c = card.getBoundingClientRect();"
        " return {right: a.right, card: c.right, overflow: getComputedStyle(w).overflowX}; }"
    )
    assert box["right"] <= box["card"], box
    assert box["overflow"] == "auto"
    # Numeric columns line up on the right, text columns on the left.
    assert page.locator("[data-testid=study-table] th.num").count() >= 4
    assert page.locator("[data-testid=study-table] th").first.get_attribute("class") is None


def test_training_study_result_shows_intervals_and_direct_tests(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    """A multi-seed study's claims table: mean [95% interval], n seeds, the test and its p, verdicts."""
    quick = httpx.get(f"{live_server.url}/api/studies/posture_perturbations").json()["quick"]
    assert quick["seeds"] == 2
    params = {
        **quick,
        "iterations": 3,
        "hidden_size": 8,
        "batch_size": 4,
        "duration": 0.4,
        "test_onsets": [0.1],
        "test_magnitudes": [1.0, 4.0],
        "load_duration": 0.2,
        "min_r2": 0.0,
    }
    r = httpx.post(f"{live_server.url}/api/studies/posture_perturbations/runs", json={"params": params})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    page.goto(f"{live_server.url}/#/studies?study=posture_perturbations&run={run_id}")
    claims = page.get_by_test_id("study-claims")
    claims.wait_for(timeout=180_000)
    rows = claims.locator("tbody tr")
    assert rows.count() == len(httpx.get(f"{live_server.url}/api/runs/{run_id}/result").json()["summary"]["claims"])
    text = claims.inner_text()
    assert re.search(r"\d+(\.\d+)? cm \[[−\d.]+, [−\d.]+\]", text), text  # a mean with its interval
    assert "axial Rayleigh per seed, Fisher-combined" in text and "Rayleigh per seed, Fisher-combined" in text
    assert re.search(r"p (=|<) \d", text)
    first = rows.first.locator("td")
    assert first.nth(2).inner_text() == "2"  # n: the two seeds
    assert "claims" not in page.get_by_test_id("study-summary").inner_text()  # not flattened into the key numbers
    shot("studies_claims")
