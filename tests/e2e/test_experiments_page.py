"""End-to-end: design a 3-condition x 4-seed experiment in the browser, watch it train, read its figures.

Fails on any browser console error (see conftest.py); screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.browser

TRACES = (
    "(testid) => { const el = document.querySelector(`[data-testid=${testid}]`);"
    " return el && el.data ? el.data.map((t) => ({type: t.type, role: t.meta && t.meta.role,"
    " n: (t.y || []).length, fill: t.fill || null})) : null; }"
)
BANDS_DRAWN = (
    "(n) => { const el = document.querySelector('[data-testid=curves-plot]');"
    " if (!el || !el.data || !el.querySelector('.main-svg')) return false;"
    " const bands = el.data.filter((t) => t.meta && t.meta.role === 'band' && t.fill === 'tonexty'"
    " && t.y.some((y) => y !== null));"
    " return bands.length === n; }"
)
TABLE_FILLED = (
    "(n) => { const rows = [...document.querySelectorAll('[data-testid=final-table] tbody tr')];"
    " return rows.length === n && rows.every((r) => r.querySelector('td[data-col=n]').textContent === '4'"
    " && /^\\[.+, .+\\]$/.test(r.querySelector('td[data-col=ci]').textContent)); }"
)


def pick_field(page, row, query: str, path: str) -> None:  # type: ignore[no-untyped-def]
    """Type `query` in a designer row's field search and click the option `path`."""
    box = row.get_by_test_id("path-input")
    box.click()
    box.fill(query)
    row.locator(f".path-options li[data-path='{path}']").click()
    assert box.input_value() == path


def test_design_launch_and_read_an_experiment(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/experiments")
    page.get_by_role("heading", name="Experiments", exact=True).wait_for()
    assert page.locator("#nav a.active").inner_text() == "Experiments"
    page.get_by_test_id("new-experiment").click()
    page.get_by_role("heading", name="New experiment").wait_for()
    assert page.get_by_test_id("experiment-preset").input_value() == "tiny_point_mass"

    sweep = page.locator("[data-testid=sweep-rows] .sweep-row").first
    pick_field(page, sweep, "lr", "train.lr")
    sweep.get_by_test_id("values-input").fill("0.001, 0.003, 0.01")
    page.get_by_test_id("add-set").click()
    fixed = page.locator("[data-testid=set-rows] .sweep-row").first
    pick_field(page, fixed, "n_iter", "train.n_iterations")
    fixed.get_by_test_id("values-input").fill("10")
    page.get_by_test_id("experiment-seeds").fill("4")
    page.get_by_test_id("experiment-name").fill("lr sweep")
    page.get_by_test_id("estimated-time").wait_for()
    assert page.get_by_test_id("networks-count").inner_text() == "3 conditions × 4 seeds = 12 networks"
    assert "10 iterations each" in page.get_by_test_id("experiment-estimate").inner_text()
    shot("experiment_designer")

    # The URL keeps the design: reopening it shows the same rows.
    design_url = page.url
    assert "sweep=" in design_url and "set=" in design_url
    page.goto(f"{live_server.url}/#/home")
    page.goto(design_url)
    page.get_by_test_id("estimated-time").wait_for()
    assert page.locator("[data-testid=sweep-rows] [data-testid=path-input]").first.input_value() == "train.lr"
    assert page.locator("[data-testid=sweep-rows] [data-testid=values-input]").first.input_value() == "0.001, 0.003, 0.01"

    page.get_by_test_id("launch-experiment").click()
    page.wait_for_function("() => /^#\\/experiments\\/\\d+/.test(location.hash)")
    exp_id = int(re.search(r"#/experiments/(\d+)", page.url).group(1))
    exp = httpx.get(f"{live_server.url}/api/experiments/{exp_id}").json()
    assert (exp["n_conditions"], exp["seeds"], exp["n_networks"]) == (3, 4, 12)

    status = page.get_by_test_id("experiment-status")
    status.filter(has_text="finished").wait_for(timeout=240_000)
    assert page.get_by_test_id("experiment-progress").inner_text() == "100%"
    page.wait_for_function(BANDS_DRAWN, arg=3, timeout=30_000)
    page.wait_for_function(TABLE_FILLED, arg=3, timeout=30_000)
    curves = page.evaluate(TRACES, "curves-plot")
    assert [t["role"] for t in curves].count("mean") == 3
    ref, *others = page.locator("[data-testid=final-table] tbody tr").all()
    assert "reference" in ref.inner_text()
    for row in others:
        assert re.match(r"^\[.+, .+\]$", row.locator("td[data-col=diff-ci]").inner_text())
        assert re.match(r"^(< 0\.001|\d\.\d{3})$", row.locator("td[data-col=p]").inner_text())

    page.wait_for_function("() => document.querySelector('[data-testid=parcoords-plot]')?.data?.[0]?.type === 'parcoords'")
    par = page.evaluate(
        "() => document.querySelector('[data-testid=parcoords-plot]').data[0].dimensions.map((d) => [d.label, d.values.length])"
    )
    assert par[0] == ["train.lr", 12]
    assert ["loss", 12] in par
    strip = page.evaluate(TRACES, "strip-plot")
    assert [t["n"] for t in strip if t["role"] == "seeds"] == [4, 4, 4]
    assert [t["role"] for t in strip].count("mean-ci") == 3
    shot("experiment_page")

    # Log scale and the metric stay in the URL.
    page.get_by_test_id("log-toggle").check()
    page.wait_for_function("() => /[?&]scale=log/.test(location.hash)")
    page.wait_for_function("() => document.querySelector('[data-testid=curves-plot]')._fullLayout.yaxis.type === 'log'")
    page.reload()
    page.wait_for_function(BANDS_DRAWN, arg=3, timeout=30_000)
    assert page.get_by_test_id("log-toggle").is_checked()

    # The spec diff of two networks of different conditions names train.lr.
    page.locator("[data-testid=spec-diff] tr[data-path='train.lr']").wait_for()
    runs = [r for c in exp["conditions"] for r in c["run_ids"]]
    page.get_by_test_id("diff-a").select_option(str(runs[0]))
    page.get_by_test_id("diff-b").select_option(str(runs[1]))
    page.locator("[data-testid=spec-diff] tr[data-path='train.seed']").wait_for()
    assert page.locator("[data-testid=spec-diff] tr[data-path='train.lr']").count() == 0
    assert re.search(rf"[?&]a={runs[0]}", page.url) and re.search(rf"[?&]b={runs[1]}", page.url)

    # Notes on the experiment and on a run are saved on the server.
    page.get_by_test_id("experiment-notes-input").fill("lr matters")
    page.get_by_test_id("experiment-notes-save").click()
    page.get_by_test_id("experiment-notes-state").filter(has_text="saved").wait_for()
    assert httpx.get(f"{live_server.url}/api/experiments/{exp_id}").json()["notes"] == "lr matters"
    notes = page.locator(f"[data-testid=networks-table] tr[data-run='{runs[0]}'] [data-testid=run-notes]")
    with page.expect_response(lambda r: r.request.method == "PATCH" and r.url.endswith(f"/api/runs/{runs[0]}")) as patched:
        notes.fill("seed 0 of the reference")
        notes.press("Tab")
    assert patched.value.ok

    # Every network links to its run page.
    page.locator(f"[data-testid=networks-table] tr[data-run='{runs[0]}'] [data-testid=network-link]").click()
    page.wait_for_function(f"() => /^#\\/run\\?(.*&)?id={runs[0]}(&|$)/.test(location.hash)")
    page.get_by_test_id("run-status").filter(has_text="finished").wait_for()
    shot("experiment_run_page")

    page.goto(f"{live_server.url}/#/experiments")
    row = page.locator(f"[data-testid=experiments-table] tr[data-experiment='{exp_id}']")
    row.wait_for()
    assert "finished" in row.inner_text() and "12 networks" in row.inner_text()
    shot("experiments_list")


def test_bad_values_are_shown_at_their_row(live_server, page, console) -> None:  # type: ignore[no-untyped-def]
    console.allow.append(re.compile(r"Failed to load resource.*422"))
    page.goto(f"{live_server.url}/#/experiments/new?preset=tiny_point_mass")
    sweep = page.locator("[data-testid=sweep-rows] .sweep-row").first
    pick_field(page, sweep, "hidden", "policy.hidden_size")
    sweep.get_by_test_id("values-input").fill("8, -4")
    error = page.locator("[data-error-for='sweep.0']")
    error.filter(has_text=re.compile(r"\S")).wait_for()
    sweep.get_by_test_id("values-input").fill("8, 16")
    page.get_by_test_id("estimated-time").wait_for()
    assert error.inner_text() == ""
    assert page.get_by_test_id("networks-count").inner_text() == "2 conditions × 2 seeds = 4 networks"
