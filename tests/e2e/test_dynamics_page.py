"""Dynamics analyses and training protocols on the run page, in Chromium against a live server.

Train a tiny run, run the dynamics analysis from the run page's form and see its plots (per area for
a two-area policy); train a tiny curl-field protocol and see its learning curve with the blocks marked.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest

pytestmark = pytest.mark.browser


def _finished(url: str, body: dict) -> int:
    r = httpx.post(f"{url}/api/runs", json=body)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    deadline = time.monotonic() + 120
    while (run := httpx.get(f"{url}/api/runs/{rid}").json())["status"] != "finished":
        assert time.monotonic() < deadline and run["status"] in {"queued", "running"}, run
        time.sleep(0.2)
    return rid


def _traces(page, testid: str) -> list[dict]:  # type: ignore[no-untyped-def]
    js = (
        "(id) => document.querySelector(`[data-testid=${id}]`).data"
        ".map((t) => ({name: t.name, n: (t.x || []).length, mode: t.mode, symbol: t.marker && t.marker.symbol}))"
    )
    return page.evaluate(js, testid)


def test_run_the_dynamics_analysis_of_a_two_area_run(live_server, page, console, shot) -> None:  # type: ignore[no-untyped-def]
    console.allow.append(re.compile(r"status of 422"))  # the bad value below, answered as it should be
    body = {"preset": "tiny_two_area", "overrides": {"train.n_iterations": 3, "train.eval_every": 3}, "name": "dynamics"}
    rid = _finished(live_server.url, body)
    page.goto(f"{live_server.url}/#/run?id={rid}")
    section = page.locator('[data-section="dynamics"]')
    form = page.get_by_test_id("dynamics-form")
    form.locator('input[name="n_initial"]').wait_for()
    assert form.locator('input[name="n_initial"]').input_value() == "32"  # the schema's default
    assert "fixed-point searches" in (form.locator('[data-field="n_initial"]').get_attribute("title") or "")
    assert section.get_by_test_id("dynamics-trajectories").is_hidden()  # no empty frames before a run

    # a bad value: the server's 422 names the field and the form shows it there
    form.locator('input[name="n_components"]').fill("1")
    page.get_by_test_id("dynamics-run").click()
    page.locator('[data-error-for="n_components"]').filter(has_text="greater than or equal to 2").wait_for()

    form.locator('input[name="n_components"]').fill("3")
    form.locator('input[name="n_initial"]').fill("6")
    form.locator('input[name="n_iterations"]').fill("200")
    page.get_by_test_id("dynamics-run").click()
    page.get_by_test_id("dynamics-done").wait_for()
    assert page.get_by_test_id("dynamics-error").count() == 0
    summary = page.get_by_test_id("dynamics-summary").text_content()
    assert "from 6 searches" in summary

    # the numbers drawn are the server's: ask it for the same analysis
    ref = httpx.post(
        f"{live_server.url}/api/runs/{rid}/dynamics", json={"n_initial": 6, "n_iterations": 200, "n_components": 3}, timeout=120
    ).json()
    n_fp = len(ref["fixed_points"]["q"])
    assert summary.startswith(f"{n_fp} fixed or slow point")
    traj = _traces(page, "dynamics-trajectories")
    lines = [t for t in traj if t["mode"] == "lines"]
    assert len(lines) == len(ref["targets"]) and all(t["n"] == len(ref["time"]) for t in lines)
    drawn_fp = sum(t["n"] for t in traj if (t["symbol"] or "").startswith("star"))
    assert drawn_fp == n_fp
    eig = _traces(page, "dynamics-eigenvalues")
    assert eig[0]["name"] == "|λ| = 1" and sum(t["n"] for t in eig[1:]) == n_fp * 10  # 10 state units
    assert len(_traces(page, "dynamics-tangling")) == len(ref["targets"])

    # per area: premotor's own PCs
    group = page.get_by_test_id("dynamics-group")
    assert group.locator("option").all_text_contents() == ["whole network", "premotor (units 0-5)", "motor (units 6-9)"]
    group.select_option(label="motor (units 6-9)")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=dynamics-trajectories]').layout.title.text.startsWith('motor')"
    )
    first = page.evaluate("() => document.querySelector('[data-testid=dynamics-trajectories]').data[0].x")
    motor = next(a for a in ref["areas"] if a["name"] == "motor")
    assert first == pytest.approx([p[0] for p in motor["trajectories"][0]])
    section.scroll_into_view_if_needed()
    shot("dynamics_panel")


def test_a_protocol_launched_from_the_designer_shows_its_learning_curve(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    presets = httpx.get(f"{live_server.url}/api/presets").json()["runs"]
    assert "curl_adaptation_protocol" in presets
    # the task designer loads the preset (its protocol included), validates it and launches it
    page.goto(f"{live_server.url}/#/task?preset=tiny_curl_protocol")
    page.get_by_test_id("validation-status").filter(has_text="valid").wait_for()
    page.get_by_test_id("launch").click()
    page.wait_for_function("() => location.hash.startsWith('#/run')")
    rid = int(re.search(r"id=(\d+)", page.evaluate("() => location.hash")).group(1))
    spec = httpx.get(f"{live_server.url}/api/runs/{rid}/spec").json()
    assert spec["train"]["protocol"] == presets["tiny_curl_protocol"]["train"]["protocol"]
    page.get_by_test_id("run-status").filter(has_text="finished").wait_for(timeout=120_000)
    section = page.locator('[data-section="protocol"]')
    blocks = "baseline (iterations 1-3) → curl (iterations 4-6) → washout (iterations 7-9)"
    section.get_by_test_id("protocol-blocks").filter(has_text=blocks).wait_for()
    curve = "document.querySelector('[data-testid=protocol-curve]')"
    page.wait_for_function(f"() => ({curve}.data || []).length > 0 && Math.max(...{curve}.data[0].x) === 9")
    marks = "{shapes: l.shapes.map((s) => s.x0), notes: l.annotations.map((a) => a.text)}"
    lay = page.evaluate(f"() => {{ const l = {curve}.layout; return {marks}; }}")
    assert lay == {"shapes": [3.5, 6.5], "notes": ["baseline", "curl", "washout"]}
    series = httpx.get(f"{live_server.url}/api/runs/{rid}/metrics").json()["series"]
    dev = series["protocol/lateral_deviation"]
    drawn = page.evaluate(f"() => {curve}.data[0]")
    assert drawn["x"] == dev["step"] and drawn["y"] == pytest.approx([v * 100 for v in dev["value"]])  # [cm]
    section.scroll_into_view_if_needed()
    shot("protocol_curve")
