"""End-to-end: what a first-time user stumbles on in the builder, the task designer and the API docs.

One live server for the module, no background training (these tests need no runs but the one they
launch). Each test fails on any browser console error (see conftest.py).
"""

from __future__ import annotations

import time

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


def _bad_arm210(live_server) -> dict:  # type: ignore[no-untyped-def]
    """arm210 plus a muscle with the defaults "+ Add muscle" used to give (0.058 m + 0.02 m on a 0.25 m path)."""
    spec = httpx.get(f"{live_server.url}/api/presets").json()["effectors"]["arm210"]
    short = {**spec["muscles"][-1], "name": "muscle", "optimal_length": 0.058, "tendon_slack_length": 0.02}
    short["geometry"] = {"kind": "path", "points": [{"body": 0, "x": 0.05, "y": 0.05}, {"body": 2, "x": 0.05, "y": 0.0}]}
    return {**spec, "name": "arm210 short muscle", "muscles": [*spec["muscles"], short]}


def test_added_muscle_is_sized_to_its_path_and_misfits_are_flagged(live_server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/effector?preset=arm210")
    _wait_traces(page, "length-plot", 10)
    page.get_by_test_id("add-muscle").click()
    _wait_traces(page, "length-plot", 11)
    page.get_by_test_id("save-status").filter(has_text="valid").wait_for()
    assert page.get_by_test_id("physiology-warnings").inner_text() == ""
    page.locator('input[name="name"]').fill("arm210 sized muscle")
    page.get_by_test_id("save").click()
    page.get_by_test_id("save-status").filter(has_text="saved #").wait_for()
    row = next(r for r in httpx.get(f"{live_server.url}/api/effectors").json() if r["name"] == "arm210 sized muscle")
    new = row["spec"]["muscles"][10]
    assert new["optimal_length"] + new["tendon_slack_length"] > 0.2, new
    # at zero excitation the new muscle pulls with a resting force, not 5.9e7 N, and the arm stays off its limits
    sim = httpx.post(f"{live_server.url}/api/simulate", json={"effector": row["spec"], "excitations": [[0.0] * 11] * 50}).json()
    assert max(step[10] for step in sim["force"][0]) < 0.5 * new["max_iso_force"]
    q = sim["position"][0][-1]
    lo, hi = row["spec"]["skeleton"]["pos_lower_bound"], row["spec"]["skeleton"]["pos_upper_bound"]
    assert all(lo[j] + 0.05 < q[j] < hi[j] - 0.05 for j in range(2)), q
    # shrinking its fibres to 2 cm is valid for the schema, but flagged
    page.locator('input[name="muscles.10.optimal_length"]').fill("0.02")
    box = page.get_by_test_id("physiology-warnings")
    box.filter(has_text="fibre length").wait_for()
    assert "muscle" in box.inner_text() and "reference posture" in box.inner_text()
    page.get_by_test_id("save-status").filter(has_text="warning").wait_for()
    page.screenshot(path="/tmp/e2e_builder_warnings.png", full_page=True)
    # a run trained on the sized effector learns (the old defaults gave gradient norms ~3e-7: a flat loss)
    sized, short = _grad_norms(live_server, row["spec"]), _grad_norms(live_server, _bad_arm210(live_server))
    assert min(sized) > 1e-5 and max(short) < 1e-5, (sized, short)


def _grad_norms(live_server, effector: dict) -> list[float]:  # type: ignore[no-untyped-def]
    """The gradient norms of a 3-iteration tiny_arm26 run on ``effector``, trained by the server."""
    body = {"preset": "tiny_arm26", "overrides": {"effector": effector, "train.n_iterations": 3, "train.compile": False}}
    r = httpx.post(f"{live_server.url}/api/runs", json=body, timeout=30)
    assert r.status_code == 201, r.text
    rid, deadline = r.json()["id"], time.monotonic() + 120
    while (run := httpx.get(f"{live_server.url}/api/runs/{rid}", timeout=30).json())["status"] not in ("finished", "failed"):
        assert time.monotonic() < deadline, run
        time.sleep(0.2)
    assert run["status"] == "finished", run
    return httpx.get(f"{live_server.url}/api/runs/{rid}/metrics", timeout=30).json()["series"]["grad_norm"]["value"]


def test_playground_huge_forces_fit_their_cell(live_server, page) -> None:  # type: ignore[no-untyped-def]
    spec = _bad_arm210(live_server)
    r = httpx.post(f"{live_server.url}/api/effectors", json={"name": spec["name"], "spec": spec})
    assert r.status_code == 201, r.text
    page.goto(f"{live_server.url}/#/playground?effector=saved:{r.json()['id']}")
    cell = page.get_by_test_id("force-10")
    page.wait_for_function("() => /[MGkT]N|e\\+/.test(document.querySelector('[data-testid=force-10]')?.textContent ?? '')")
    assert len(cell.inner_text()) <= 10, cell.inner_text()
    fits = page.evaluate(
        "() => { const c = document.querySelector('[data-testid=force-10]'); const row = c.closest('.slider-row');"
        " return c.getBoundingClientRect().right <= row.getBoundingClientRect().right + 0.5"
        " && c.scrollWidth <= c.clientWidth + 1; }"
    )
    assert fits
    assert "sized" in (cell.get_attribute("title") or "")
    page.screenshot(path="/tmp/e2e_playground_forces.png", full_page=True)


def test_api_docs_render_offline(live_server, page) -> None:  # type: ignore[no-untyped-def]
    """/docs needs nothing from the internet: every request off localhost is aborted."""
    outside: list[str] = []

    def block(route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        if url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", block)
    page.goto(f"{live_server.url}/docs")
    page.locator(".opblock-summary-path").first.wait_for()
    assert page.locator(".opblock").count() > 20
    assert page.get_by_text("/api/geometry", exact=True).count() >= 1
    assert outside == []
    page.screenshot(path="/tmp/e2e_docs_offline.png")
    assert httpx.get(f"{live_server.url}/redoc").status_code == 404  # no CDN-only page left behind


def test_saved_task_is_listed_at_once(live_server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/task?preset=tiny_point_mass")
    page.get_by_test_id("validation-status").filter(has_text="valid").wait_for()
    page.get_by_test_id("save-task").click()
    page.wait_for_function("() => location.hash.includes('task=saved')")
    key = page.evaluate("() => new URLSearchParams(location.hash.split('?')[1]).get('task')")
    option = page.get_by_test_id("task-select").locator(f'option[value="{key}"]')
    option.wait_for(state="attached")
    assert "random_reach" in option.inner_text()
    assert page.get_by_test_id("task-select").input_value() == key


def test_start_from_keeps_the_chosen_effector_and_names_runs_after_it(live_server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/task?preset=arm26_centre_out")
    page.get_by_test_id("validation-status").filter(has_text="valid").wait_for()
    page.get_by_test_id("effector-select").select_option("preset:arm210")
    page.wait_for_function("() => document.querySelector('input[name=name]').value === 'arm210 centre_out'")
    assert "arm26" not in page.locator('input[name="tags"]').input_value()
    page.get_by_test_id("run-preset").select_option("tiny_arm26")
    page.get_by_test_id("effector-note").filter(has_text="arm210").wait_for()
    assert page.get_by_test_id("effector-select").input_value() == "preset:arm210"
    assert "effector=preset%3Aarm210" in page.url or "effector=preset:arm210" in page.url
    page.get_by_test_id("validation-status").filter(has_text="valid").wait_for()
    page.screenshot(path="/tmp/e2e_task_keep_effector.png", full_page=True)
    page.get_by_test_id("launch").click()
    page.wait_for_url("**/#/run?id=*")
    run_id = int(page.url.split("id=")[1].split("&")[0])
    run = httpx.get(f"{live_server.url}/api/runs/{run_id}").json()
    spec = httpx.get(f"{live_server.url}/api/runs/{run_id}/spec").json()
    assert spec["effector"]["name"] == "arm210"
    assert spec["train"]["n_iterations"] == 5  # the tiny preset's training
    assert "arm26" not in run["name"] and "arm210" in run["name"], run["name"]
    assert "arm26" not in run["tags"] and "arm210" in run["tags"], run["tags"]
    httpx.post(f"{live_server.url}/api/runs/{run_id}/cancel")


def test_task_form_edits_survive_leaving_the_page(live_server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/task?preset=tiny_point_mass")
    page.get_by_test_id("validation-status").filter(has_text="valid").wait_for()
    page.locator('input[name="name"]').fill("my draft")
    page.locator('input[name="train.n_iterations"]').fill("7")
    page.locator('input[name="train.batch_size"]').fill("3")
    page.locator('#nav a[data-page="runs"]').click()
    page.wait_for_function("() => location.hash.startsWith('#/runs')")
    page.locator('#nav a[data-page="task"]').click()
    page.get_by_test_id("draft-note").wait_for()
    page.wait_for_function("() => document.querySelector('input[name=name]')?.value === 'my draft'")
    assert page.locator('input[name="train.n_iterations"]').input_value() == "7"
    assert page.locator('input[name="train.batch_size"]').input_value() == "3"
    assert page.get_by_test_id("run-preset").input_value() == "tiny_point_mass"
    page.screenshot(path="/tmp/e2e_task_draft.png", full_page=True)
    # "Start over" drops the draft
    page.get_by_test_id("discard-draft").click()
    page.wait_for_function("() => document.querySelector('input[name=name]')?.value === 'tiny_point_mass'")
    assert page.locator('input[name="train.n_iterations"]').input_value() == "20"
