"""End-to-end: the browser studio against a live server (headless Chromium).

Each test fails on any browser console error (see conftest.py) and saves a screenshot of the page
it exercised to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def _warm(live_server, request) -> None:  # type: ignore[no-untyped-def]
    """First calls build the presets and schemas: make them before the browser's clock runs."""
    for path in ("/api/presets", "/api/schema/effector", "/api/schema/run"):
        httpx.get(f"{live_server.url}{path}", timeout=120).raise_for_status()
    request.getfixturevalue("background_runs")


@pytest.fixture(scope="module")
def background_runs(live_server) -> list[int]:  # type: ignore[no-untyped-def]
    """Two short runs (seeds 1 and 2) launched when the module starts, training while other tests run."""
    ids = []
    for seed in (1, 2):
        overrides = {"train.n_iterations": 10, "train.seed": seed}
        body = {"preset": "tiny_point_mass", "overrides": overrides, "name": f"cmp seed {seed}"}
        r = httpx.post(f"{live_server.url}/api/runs", json=body)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def _plot_trace(page, testid: str, trace: int, key: str = "y") -> list[float]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "([id, i, k]) => { const el = document.querySelector(`[data-testid=${id}]`);"
        " return el && el.data && el.data[i] ? Array.from(el.data[i][k]) : null; }",
        [testid, trace, key],
    )


def _wait_plot(page, testid: str, min_traces: int = 1, timeout: float = 30_000) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "([id, n]) => { const el = document.querySelector(`[data-testid=${id}]`);"
        " return !!el && !!el.data && el.data.length >= n && el.data.every((t) => t.y && t.y.length > 0 || t.z); }",
        arg=[testid, min_traces],
        timeout=timeout,
    )


SELECTED_MUSCLE_IN_VIEW = (
    "() => { const l = document.querySelector('[data-testid=muscle-list]'); const s = l && l.querySelector('li.sel');"
    " if (!s) return false; const a = l.getBoundingClientRect(), b = s.getBoundingClientRect();"
    " return b.top >= a.top - 1 && b.bottom <= a.bottom + 1; }"
)


def _wait_run(url: str, run_id: int, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = httpx.get(f"{url}/api/runs/{run_id}").json()
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


def test_start_page_and_navigation(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/")
    page.get_by_role("heading", name="Welcome to MotorNet Studio").wait_for()
    assert page.locator("#server-status").get_attribute("class") == "server-status"
    pages = [
        ("Build an effector", "Effector builder"),
        ("Design a task", "Task designer"),
        ("Runs", "Runs"),
        ("Playground", "Playground"),
    ]
    for label, heading in pages:
        page.locator("#nav a", has_text=label).click()
        page.get_by_role("heading", name=heading, exact=True).wait_for()
    page.locator("#nav a", has_text="Start").click()
    cards = page.locator(".cards a.card")
    cards.nth(4).wait_for()  # the page renders after the click returns
    assert cards.count() == 5
    shot("start")
    page.get_by_test_id("card-studies").click()
    page.get_by_role("heading", name="Studies", exact=True).wait_for()


def test_navigating_away_while_a_page_loads(live_server, page) -> None:  # type: ignore[no-untyped-def]
    """A page still mounting when the user navigates away must neither keep the URL nor the screen.

    The task designer's loads are held until the Runs link has been clicked; when they finish the
    designer writes its URL state (preset, effector). That write must not land on #/runs, and the
    Runs page must show (a CI run once kept the designer's state on #/runs and no Runs page).
    """
    held: list = []
    released = False

    def hold(route) -> None:  # type: ignore[no-untyped-def]
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route(re.compile(r".*/api/tasks($|\?)"), hold)
    page.goto(f"{live_server.url}/#/runs")
    page.get_by_role("heading", name="Runs", exact=True).wait_for()
    page.locator("#nav a", has_text="Design a task").click()
    page.get_by_role("heading", name="Task designer", exact=True).wait_for()
    deadline = time.monotonic() + 30
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the task designer did not request /api/tasks"
    page.locator("#nav a", has_text="Runs").click()
    page.wait_for_function("() => location.hash.startsWith('#/runs')")
    released = True
    for route in held:
        route.continue_()
    # routes run one after another: the Runs page mounts only once the designer's mount has ended
    page.get_by_role("heading", name="Runs", exact=True).wait_for()
    page.get_by_test_id("runs-table").wait_for()
    assert "preset=" not in page.evaluate("location.hash")
    assert page.get_by_role("heading", name="Task designer", exact=True).count() == 0
    assert page.get_by_role("heading", name="Runs", exact=True).is_visible()


def test_effector_builder_add_muscle_drag_point_save(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/effector?preset=arm210")
    page.get_by_test_id("muscle-list").locator("li").nth(9).wait_for()
    _wait_plot(page, "moment-arm-plot", 10)
    page.wait_for_function(SELECTED_MUSCLE_IN_VIEW)
    # Numbers show 6 significant digits (the spec keeps the exact value, see the saved spec below).
    upper = page.locator('input[name="skeleton.pos_upper_bound"]')
    assert upper.input_value() == "2.44346, 2.79253"
    page.get_by_test_id("muscle-list").locator("li").nth(8).click()
    page.wait_for_function(SELECTED_MUSCLE_IN_VIEW)
    page.get_by_test_id("add-muscle").click()
    page.get_by_test_id("muscle-list").locator("li").nth(10).wait_for()
    assert page.get_by_test_id("muscle-list").locator("li").count() == 11
    assert "muscle=10" in page.url
    page.wait_for_function(SELECTED_MUSCLE_IN_VIEW)
    _wait_plot(page, "moment-arm-plot", 11)
    before = _plot_trace(page, "moment-arm-plot", 10)

    # Drag the new muscle's insertion (on the forearm) across the drawing.
    page.evaluate("window.scrollTo(0, 0)")
    point = page.get_by_test_id("path-point-1")
    box = point.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(x + 6 * k, y - 5 * k)
    page.mouse.up()
    moved = page.locator('input[name="muscles.10.geometry.points.1.x"]').input_value()
    assert float(moved) != 0.05
    page.wait_for_function(
        "(before) => { const el = document.querySelector('[data-testid=moment-arm-plot]');"
        " const y = el && el.data && el.data[10] && Array.from(el.data[10].y);"
        " return !!y && y.some((v, i) => Math.abs(v - before[i]) > 1e-4); }",
        arg=before,
    )

    page.locator('input[name="muscles.10.name"]').fill("my flexor")
    page.locator('input[name="name"]').fill("arm210 plus one")
    page.get_by_test_id("save").click()
    page.wait_for_function("() => /saved #\\d+/.test(document.querySelector('[data-testid=save-status]').textContent)")
    saved = httpx.get(f"{live_server.url}/api/effectors").json()
    row = next(r for r in saved if r["name"] == "arm210 plus one")
    assert len(row["spec"]["muscles"]) == 11
    assert row["spec"]["muscles"][10]["name"] == "my flexor"
    assert row["spec"]["muscles"][10]["geometry"]["points"][1]["x"] == pytest.approx(float(moved))
    preset = httpx.get(f"{live_server.url}/api/presets").json()["effectors"]["arm210"]
    assert row["spec"]["skeleton"]["pos_upper_bound"] == preset["skeleton"]["pos_upper_bound"]  # not the rounded display
    assert f"id={row['id']}" in page.url
    assert page.get_by_test_id("preset-select").locator("option:checked").inner_text() == "— saved: arm210 plus one —"
    shot("effector_builder")
    # Reopened from its link: "Start from" names the saved effector, not a preset it is not.
    page.goto(f"{live_server.url}/#/home")
    page.goto(f"{live_server.url}/#/effector?id={row['id']}")
    page.get_by_test_id("save-status").filter(has_text=f"saved #{row['id']}").wait_for()
    assert page.get_by_test_id("preset-select").locator("option:checked").inner_text() == "— saved: arm210 plus one —"
    saved_choice = page.locator('select[aria-label="open a saved effector"] option:checked')
    assert saved_choice.inner_text() == f"arm210 plus one (#{row['id']})"
    page.get_by_test_id("preset-select").select_option("arm26")
    page.wait_for_function("() => document.querySelector('input[name=name]').value === 'arm26'")
    assert page.get_by_test_id("preset-select").locator("option[data-origin]").count() == 0


def test_validation_errors_show_next_to_fields(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/effector?preset=arm26")
    _wait_plot(page, "length-plot", 6)
    page.locator('input[name="skeleton.L1"]').fill("-0.3")
    err = page.locator('[data-error-for="skeleton.L1"]')
    err.filter(has_text="greater than or equal to 0.0001").wait_for()
    assert page.locator('input[name="skeleton.L1"]').get_attribute("aria-invalid") == "true"
    page.locator('input[name="muscles.0.optimal_length"]').fill("0")
    page.locator('[data-error-for="muscles.0.optimal_length"]').filter(has_text="greater than or equal to 0.0001").wait_for()
    page.get_by_test_id("save-status").filter(has_text="2 errors").wait_for()
    shot("effector_validation")
    page.locator('input[name="skeleton.L1"]').fill("0.3")
    page.locator('input[name="muscles.0.optimal_length"]').fill("0.13")
    page.get_by_test_id("save-status").filter(has_text="valid").wait_for()
    assert err.text_content() == ""


def test_design_task_and_watch_run_live(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/task?preset=tiny_point_mass")
    page.locator('select[name="task.kind"]').select_option("centre_out")
    page.locator('input[name="task.n_targets"]').fill("4")
    page.locator('input[name="task.radius"]').fill("0.3")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=task-preview] circle[r=\"6\"]').length === 4")
    # The preview zooms to the targets (an inset shows the whole workspace) and has a scale bar.
    page.get_by_test_id("task-preview-inset").wait_for()
    assert re.fullmatch(r"\d+ (cm|m|mm)", page.get_by_test_id("scale-bar").text_content())
    page.locator('input[name="task.radius"]').fill("0.1")
    page.get_by_test_id("preview-label").filter(has_text="at 0.1 m").wait_for()
    xs = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=task-preview] circle[r=\"6\"]')]"
        ".map((c) => Number(c.getAttribute('cx')))"
    )
    assert max(xs) - min(xs) > 100, xs  # 20 cm across: not a blob, the targets spread over the preview
    assert page.get_by_test_id("scale-bar").text_content().endswith(" cm")
    page.locator('input[name="task.radius"]').fill("0.3")
    # A delay that is not a whole number of time steps is refused next to its field.
    page.locator('input[name="task.vision_delay"]').fill("0.015")
    page.locator('[data-error-for="task.vision_delay"]').filter(has_text="multiple of dt").wait_for()
    page.locator('input[name="task.vision_delay"]').fill("0.02")
    page.get_by_test_id("validation-status").filter(has_text="valid").wait_for()
    page.locator('input[name="name"]').fill("e2e centre out")
    # long enough (~10 s here) that the page sees it train, not only its finished curve
    page.locator('input[name="train.n_iterations"]').fill("60")
    page.locator('input[name="train.eval_every"]').fill("15")
    page.locator('input[name="train.batch_size"]').fill("4")
    page.get_by_test_id("validation-status").filter(has_text="valid").wait_for()
    shot("task_designer")
    page.get_by_test_id("save-task").click()
    page.wait_for_function("() => location.hash.includes('task=saved')")
    assert any(t["spec"]["kind"] == "centre_out" for t in httpx.get(f"{live_server.url}/api/tasks").json())

    page.get_by_test_id("launch").click()
    page.wait_for_url("**/#/run?id=*")
    run_id = int(page.url.split("id=")[1].split("&")[0])
    # Live: the loss curve grows and snapshots arrive while the run trains.
    _wait_plot(page, "loss-plot", 1, timeout=90_000)
    first = len(_plot_trace(page, "loss-plot", 0) or [])
    page.wait_for_function(
        "(n) => { const el = document.querySelector('[data-testid=loss-plot]'); return el.data[0].y.length > n; }",
        arg=first,
        timeout=90_000,
    )
    page.get_by_test_id("snapshot-label").filter(has_text="iteration").wait_for(timeout=90_000)
    frames = int(page.get_by_test_id("run-arm").get_attribute("data-frames") or 0)
    page.wait_for_function("(n) => Number(document.querySelector('[data-testid=run-arm]').dataset.frames) > n + 3", arg=frames)
    page.get_by_test_id("run-status").filter(has_text="finished").wait_for(timeout=120_000)
    run = httpx.get(f"{live_server.url}/api/runs/{run_id}").json()
    assert run["status"] == "finished", run
    assert len(_plot_trace(page, "loss-plot", 0)) == 60
    # A loss term equal to the total is listed in the legend only; the right axis has its own ticks.
    traces = page.evaluate("() => document.querySelector('[data-testid=loss-plot]').data.map((t) => [t.name, t.visible])")
    assert traces[0] == ["loss", True]
    assert all(v == "legendonly" for name, v in traces if name.endswith("(= loss)"))
    assert page.evaluate("() => document.querySelector('[data-testid=lr-plot]').layout.yaxis2.tickmode") == "auto"
    _wait_plot(page, "hand-paths", 2)
    _wait_plot(page, "pca", 4)
    _wait_plot(page, "activations", 4)
    # Earlier snapshots can be scrubbed; the choice goes into the URL.
    page.get_by_test_id("snapshot-slider").fill("0")
    page.get_by_test_id("snapshot-label").filter(has_text="1 of").wait_for()
    assert "snap=0" in page.url
    shot("run_view")


def test_compare_two_runs(live_server, page, shot, background_runs) -> None:  # type: ignore[no-untyped-def]
    ids = background_runs
    for i in ids:
        assert _wait_run(live_server.url, i)["status"] == "finished"
    page.goto(f"{live_server.url}/#/runs")
    for i in ids:
        page.locator(f'tr[data-run-id="{i}"] input[type=checkbox]').check()
    _wait_plot(page, "compare-loss", 2)
    _wait_plot(page, "compare-error", 2)
    assert f"compare={ids[0]}%2C{ids[1]}" in page.url or f"compare={ids[0]},{ids[1]}" in page.url
    assert page.locator(f'tr[data-run-id="{ids[0]}"] .badge').text_content() == "finished"
    # The latest evaluation's endpoint error is a column of the table (the run summary's last_eval_error).
    runs = {r["id"]: r for r in httpx.get(f"{live_server.url}/api/runs").json()}
    for i in ids:
        assert runs[i]["last_eval_error"] is not None
        cell = page.locator(f'tr[data-run-id="{i}"] [data-testid=run-eval-error]').text_content()
        assert cell.endswith(" cm") and float(cell.split()[0]) == pytest.approx(runs[i]["last_eval_error"] * 100, rel=5e-3), cell
    # Legends sit under the plots, clear of the titles.
    for testid in ("compare-loss", "compare-error"):
        assert page.evaluate(f"() => document.querySelector('[data-testid={testid}]').layout.legend.y") < 0
    shot("runs_compare")


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_launch_from_runs_page(live_server, page, compiled) -> None:  # type: ignore[no-untyped-def]
    """Quick launch, with or without the "always compile" box: the run trains to the end in a worker,
    and its spec has train.compile true as ticked, else the default "auto"."""
    name = f"quick {'compiled' if compiled else 'eager'}"
    page.goto(f"{live_server.url}/#/runs")
    page.get_by_test_id("launch-preset").select_option("tiny_point_mass")
    page.get_by_test_id("launch-iterations").fill("4")
    page.get_by_test_id("launch-name").fill(name)
    page.get_by_test_id("launch-compiled").set_checked(compiled)
    page.get_by_test_id("launch-run").click()
    row = page.locator("tr", has_text=name)
    row.wait_for()
    row.locator(".badge", has_text="finished").wait_for(timeout=240_000 if compiled else 90_000)
    run = next(r for r in httpx.get(f"{live_server.url}/api/runs").json() if r["name"] == name)
    spec = httpx.get(f"{live_server.url}/api/runs/{run['id']}/spec").json()
    assert spec["train"]["compile"] == (True if compiled else "auto") and spec["train"]["n_iterations"] == 4
    # where it ran: the worker's node and device, from the REST fields
    placement = row.get_by_test_id("run-placement")
    placement.filter(has_text="cpu").wait_for()
    assert placement.inner_text() == f"{run['node']} · cpu" and run["node"].startswith("local (")


def test_playground_slider_moves_the_arm(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/playground?effector=preset:arm26")
    slider = page.get_by_test_id("slider-2")
    slider.wait_for()
    page.get_by_test_id("readout").filter(has_text="fingertip").wait_for()
    start = page.get_by_test_id("readout").text_content().split("fingertip")[1]
    frames0 = int(page.get_by_test_id("playground-canvas").get_attribute("data-frames") or 0)
    t0 = time.monotonic()
    slider.focus()
    page.keyboard.press("End")
    assert slider.input_value() == "1"
    page.wait_for_function(
        "(s) => document.querySelector('[data-testid=readout]').textContent.split('fingertip')[1] !== s", arg=start
    )
    time.sleep(1.0)
    frames1 = int(page.get_by_test_id("playground-canvas").get_attribute("data-frames") or 0)
    fps = (frames1 - frames0) / (time.monotonic() - t0)
    assert fps >= 30, f"playground animates at {fps:.0f} frames/s"
    assert re.fullmatch(r"\d+ (cm|m)", page.get_by_test_id("playground-canvas").get_attribute("data-scale") or "")
    shot("playground")


def test_playground_policy_reaches_clicked_target(live_server, page, shot, background_runs) -> None:  # type: ignore[no-untyped-def]
    run_id = background_runs[0]
    assert _wait_run(live_server.url, run_id)["status"] == "finished"
    page.goto(f"{live_server.url}/#/playground?run={run_id}")
    page.get_by_test_id("readout").filter(has_text="fingertip").wait_for()
    assert page.get_by_test_id("slider-0").count() == 0
    start = page.get_by_test_id("readout").text_content()
    canvas = page.get_by_test_id("playground-canvas")
    box = canvas.bounding_box()
    assert box is not None
    canvas.click(position={"x": box["width"] * 0.7, "y": box["height"] * 0.3})
    page.wait_for_function("(s) => document.querySelector('[data-testid=readout]').textContent !== s", arg=start)
    shot("playground_policy")


def test_import_duplicate_export_effector(live_server, page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    presets = httpx.get(f"{live_server.url}/api/presets").json()["effectors"]
    spec = dict(presets["point_mass_24"], name="imported mass")
    path = tmp_path / "mass.json"
    path.write_text(json.dumps(spec))
    page.goto(f"{live_server.url}/#/effector?preset=arm26")
    _wait_plot(page, "length-plot", 6)
    page.get_by_test_id("import-file").set_input_files(str(path))
    page.locator('button[data-skeleton="point_mass"].on').wait_for()
    assert page.locator('input[name="name"]').input_value() == "imported mass"
    _wait_plot(page, "length-plot", 4)
    page.get_by_role("button", name="Duplicate").click()
    assert page.locator('input[name="name"]').input_value() == "imported mass copy"
    with page.expect_download() as dl:
        page.get_by_role("button", name="Export JSON").click()
    exported = json.loads(Path(dl.value.path()).read_text())
    assert exported["name"] == "imported mass copy"
    assert [m["name"] for m in exported["muscles"]] == [m["name"] for m in spec["muscles"]]
    # Switching the skeleton keeps the muscles and fits their paths to the new bodies.
    page.locator('button[data-skeleton="three_link_arm"]').click()
    page.locator('input[name="skeleton.links.2.length"]').wait_for()
    page.get_by_test_id("save-status").filter(has_text="valid").wait_for()


def test_cancel_resume_delete_run(live_server, page) -> None:  # type: ignore[no-untyped-def]
    body = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100000}, "name": "long one"}
    run_id = httpx.post(f"{live_server.url}/api/runs", json=body).json()["id"]
    page.goto(f"{live_server.url}/#/run?id={run_id}")
    page.get_by_test_id("run-status").filter(has_text="running").wait_for(timeout=60_000)
    deadline = time.monotonic() + 90
    while httpx.get(f"{live_server.url}/api/runs/{run_id}").json()["checkpoint_step"] is None:
        assert time.monotonic() < deadline, "no checkpoint within 90 s"
        time.sleep(0.5)
    page.get_by_test_id("cancel").click()
    page.get_by_test_id("run-status").filter(has_text="cancelled").wait_for(timeout=60_000)
    page.get_by_role("button", name="Resume").click()
    page.get_by_test_id("run-status").filter(has_text=re.compile("queued|running")).wait_for()
    page.get_by_test_id("cancel").click()
    page.get_by_test_id("run-status").filter(has_text="cancelled").wait_for(timeout=60_000)
    page.goto(f"{live_server.url}/#/runs")
    row = page.locator(f'tr[data-run-id="{run_id}"]')
    row.wait_for()
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Delete").click()
    row.wait_for(state="detached")
    assert httpx.get(f"{live_server.url}/api/runs/{run_id}").status_code == 404


def test_server_down_banner_and_recovery(live_server, page, console) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/runs")
    page.get_by_test_id("runs-table").wait_for()
    console.allow.append(re.compile(r"ERR_CONNECTION_REFUSED|Failed to load resource|WebSocket"))
    live_server.stop()
    page.get_by_role("button", name="Refresh").click()
    banner = page.locator("#banner")
    banner.filter(has_text="Cannot reach").wait_for()
    # Retry now while the server is still down: the banner stays (clicking it after the restart raced
    # the automatic retry, which may already have hidden it)
    page.get_by_role("button", name="Retry now").click()
    banner.filter(has_text="Cannot reach").wait_for()
    live_server.start()
    banner.wait_for(state="hidden", timeout=45_000)  # the automatic retry finds the server again
    page.get_by_test_id("runs-table").wait_for()
