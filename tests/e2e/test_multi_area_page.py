"""Multi-area policies and interventions in the browser.

Design a two-area policy in the task designer and see its diagram; compare a lesion on the run page.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest

pytestmark = pytest.mark.browser


def _edges(page) -> list[str]:  # type: ignore[no-untyped-def]
    edges = "[...document.querySelectorAll('[data-testid=area-diagram] [data-edge]')]"
    return page.evaluate(f"() => {edges}.map((e) => e.dataset.edge)")


def test_design_a_two_area_policy_and_see_its_diagram(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/#/task?preset=tiny_arm26")
    page.locator('select[name="policy.kind"]').wait_for()
    assert page.get_by_test_id("area-diagram").is_hidden()  # a single GRU: no areas to draw
    page.locator('select[name="policy.kind"]').select_option("multi_area")
    policy = page.locator('[data-section="policy"]')
    policy.get_by_role("button", name="Add area").click()
    policy.get_by_role("button", name="Add area").click()
    page.locator('input[name="policy.areas.0.name"]').fill("premotor")
    page.locator('input[name="policy.areas.0.size"]').fill("12")
    for group in ("task", "vision", "proprioception"):
        page.locator(f'[data-path="policy.areas.0.inputs"] input[value="{group}"]').check()
    page.locator('input[name="policy.areas.1.name"]').fill("motor")
    page.locator('input[name="policy.areas.1.size"]').fill("8")
    page.locator('[data-path="policy.areas.1.inputs"] input[value="proprioception"]').check()
    page.locator('input[name="policy.areas.1.to_muscles"]').check()
    policy.get_by_role("button", name="Add connection").click()
    page.locator('input[name="policy.connections.0.source"]').fill("premotor")
    page.locator('input[name="policy.connections.0.target"]').fill("motor")
    page.locator('input[name="policy.connections.0.delay"]').fill("0.02")
    diagram = page.get_by_test_id("area-diagram")
    diagram.locator('[data-area="premotor"]').wait_for()
    diagram.locator('[data-area="motor"]', has_text="gru · 8").wait_for()
    diagram.locator("text", has_text="+20 ms").wait_for()
    edges = _edges(page)
    assert "premotor->motor" in edges and "motor->muscles" in edges and "proprioception->motor" in edges
    assert "premotor->muscles" not in edges and "vision->motor" not in edges
    assert page.get_by_test_id("area-summary").text_content().startswith("2 areas, 20 units")
    row = page.locator('[data-testid=area-matrix] tr[data-row="motor"] td').all_text_contents()
    assert row == ["", "", "•", "", "20 ms", "↺", "•"]
    page.get_by_test_id("validation-status").filter(has_text="valid").wait_for()
    # a bad size and a delay off the time grid: the server names the paths, the form shows them there
    page.locator('input[name="policy.areas.1.size"]').fill("0")
    page.locator('[data-error-for="policy.areas.1.size"]').filter(has_text=re.compile("greater than or equal to 1")).wait_for()
    page.locator('input[name="policy.areas.1.size"]').fill("8")
    page.locator('input[name="policy.connections.0.delay"]').fill("0.015")
    page.locator('[data-error-for="policy.connections.0.delay"]').filter(has_text="multiple of dt").wait_for()
    page.locator('input[name="policy.connections.0.delay"]').fill("0.02")
    page.get_by_test_id("validation-status").filter(has_text="valid").wait_for()
    # a training-time intervention on an area the policy does not have, then on one it has
    page.locator('[data-section="interventions"]').get_by_role("button", name="Add intervention").click()
    page.locator('input[name="interventions.0.area"]').fill("spinal")
    page.locator('[data-error-for="interventions.0.area"]').filter(has_text="not an area").wait_for()
    page.locator('input[name="interventions.0.area"]').fill("premotor")
    page.locator('input[name="interventions.0.start"]').fill("0.05")
    page.get_by_test_id("validation-status").filter(has_text="valid").wait_for()
    shot("multi_area_designer")
    page.get_by_test_id("launch").click()
    page.wait_for_function("() => location.hash.startsWith('#/run')")
    rid = int(re.search(r"id=(\d+)", page.evaluate("() => location.hash")).group(1))
    spec = httpx.get(f"{live_server.url}/api/runs/{rid}/spec").json()
    assert [a["name"] for a in spec["policy"]["areas"]] == ["premotor", "motor"]
    assert spec["policy"]["connections"][0]["delay"] == 0.02
    lesion = {"kind": "silence", "target": "area", "area": "premotor", "units": [], "muscles": [], "value": 0.0}
    assert spec["interventions"] == [{**lesion, "start": 0.05, "end": None}]
    httpx.post(f"{live_server.url}/api/runs/{rid}/cancel")


def test_run_page_compares_a_premotor_lesion(live_server, page, console, shot) -> None:  # type: ignore[no-untyped-def]
    body = {"preset": "tiny_two_area", "overrides": {"train.n_iterations": 3, "train.eval_every": 3}, "name": "two areas"}
    rid = httpx.post(f"{live_server.url}/api/runs", json=body).json()["id"]
    deadline = time.monotonic() + 120
    while httpx.get(f"{live_server.url}/api/runs/{rid}").json()["status"] != "finished":
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.3)
    page.goto(f"{live_server.url}/#/run?id={rid}")
    panel = page.get_by_test_id("intervention-panel")
    panel.wait_for()
    assert page.get_by_test_id("intervention-area").locator("option").all_text_contents() == ["premotor (6)", "motor (4)"]
    # no empty plot frames before the first comparison (they left 600 px of blank card)
    for plot in ("intervention-paths", "intervention-activity", "intervention-muscles"):
        assert not page.get_by_test_id(plot).is_visible(), plot
    page.get_by_test_id("intervention-target").select_option("area")
    page.get_by_test_id("intervention-area").select_option("premotor")
    page.get_by_test_id("intervention-run").click()
    page.get_by_test_id("intervention-done").wait_for()
    summary = page.get_by_test_id("intervention-summary")
    cells = summary.locator('tr[data-group="premotor"] td').all_text_contents()
    assert float(cells[0]) > 0 and float(cells[1]) == 0  # intact RMS > 0, silenced: exactly 0
    names = page.evaluate("() => document.querySelector('[data-testid=intervention-activity]').data.map((t) => t.name)")
    assert names == ["premotor intact", "premotor intervened", "motor intact", "motor intervened"]
    silenced = page.evaluate("() => document.querySelector('[data-testid=intervention-activity]').data[1].y")
    assert silenced and all(v == 0 for v in silenced)
    paths = "document.querySelector('[data-testid=intervention-paths]').data"
    n_paths = page.evaluate(f"() => {paths}.filter((t) => t.mode === 'lines').length")
    assert n_paths == 2 * 8  # the evaluation batch in both conditions
    page.wait_for_function("() => document.querySelector('[data-testid=intervention-muscles]')?.data?.length === 12")
    plots = ("intervention-paths", "intervention-activity", "intervention-muscles")
    assert all(page.get_by_test_id(p).is_visible() for p in plots)
    shot("run_page_intervention")
    # a muscle index the effector does not have: the server's 422 names the path, shown in the panel
    console.allow.append(re.compile("status of 422"))
    page.get_by_test_id("intervention-target").select_option("muscles")
    page.get_by_test_id("intervention-indices").fill("0, 7")
    page.get_by_test_id("intervention-run").click()
    page.get_by_test_id("intervention-error").filter(has_text="interventions.0.muscles.1").wait_for()
