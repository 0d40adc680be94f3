"""End-to-end: the playground's teaching tools in headless Chromium against a live server.

Load toggles, the hand-path trail, the reachable workspace, stand-in muscle lines, single steps,
explanations that fit the effector and a shared link that locks and hides controls. Screenshots
go to test-artifacts/screenshots/ (and /tmp/playground_*.png).
"""

from __future__ import annotations

import re
import time

import httpx
import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def _warm(live_server) -> None:  # type: ignore[no-untyped-def]
    httpx.get(f"{live_server.url}/api/presets", timeout=120).raise_for_status()


MOVED_15_CM = (
    "() => { const t = document.querySelector('[data-testid=readout]').textContent;"
    " const m = /fingertip \\(([-\\d.e]+), ([-\\d.e]+)\\)/.exec(t);"
    " return m && Math.hypot(Number(m[1]), Number(m[2])) > 0.15; }"
)


def _intro_matches(page, pattern: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "(p) => new RegExp(p).test(document.querySelector('[data-testid=explain-intro]').textContent)", arg=pattern
    )


def _readout(page) -> dict:  # type: ignore[no-untyped-def]
    text = page.get_by_test_id("readout").text_content() or ""
    m = re.search(r"step (\d+) · t = ([-\d.e]+) s · fingertip \(([-\d.e]+), ([-\d.e]+)\) m", text)
    assert m, text
    force = re.search(r"force on the hand \(([-\d.e]+), ([-\d.e]+)\) N", text)
    return {
        "step": int(m.group(1)),
        "t": float(m.group(2)),
        "xy": (float(m.group(3)), float(m.group(4))),
        "force": (float(force.group(1)), float(force.group(2))) if force else None,
    }


def _open(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.get_by_test_id("readout").filter(has_text="fingertip").wait_for()


def _wait_step(page, at_least: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "(n) => Number(document.querySelector('[data-testid=playground-canvas]').dataset.step) >= n", arg=at_least, timeout=30_000
    )


def _set_number(page, testid: str, value: float) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id(testid).fill(str(value))
    page.get_by_test_id(testid).dispatch_event("change")


def test_curl_field_bends_the_path_and_the_trail_follows(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    _open(page, f"{live_server.url}/#/playground?effector=preset:point_mass_24")
    canvas = page.get_by_test_id("playground-canvas")
    assert int(canvas.get_attribute("data-workspace") or 0) > 0  # the shaded box of the mass's bounds
    page.get_by_test_id("curl-toggle").check()
    _set_number(page, "curl-gain", 20)
    page.get_by_test_id("reset-button").click()
    page.wait_for_function("() => /step [0-4] ·/.test(document.querySelector('[data-testid=readout]').textContent)")
    slider = page.get_by_test_id("slider-0")  # UpperRight: pulls towards (2, 2)
    slider.focus()
    page.keyboard.press("ArrowRight")  # 0.01: 5 N
    assert slider.input_value() == "0.01"
    page.wait_for_function(MOVED_15_CM)
    r = _readout(page)
    # clockwise: F = k [ydot, -xdot] turns a motion up-right to the right, below the diagonal
    assert r["xy"][0] - r["xy"][1] > 0.05, r
    assert r["force"] is not None and abs(r["force"][0]) + abs(r["force"][1]) > 0.5, r
    page.wait_for_function("() => Number(document.querySelector('[data-testid=playground-canvas]').dataset.trail) > 10")
    time.sleep(0.3)
    shot("playground_curl")
    page.screenshot(path="/tmp/playground_curl.png", full_page=True)
    page.get_by_test_id("trail-toggle").uncheck()
    page.wait_for_function("() => document.querySelector('[data-testid=playground-canvas]').dataset.trail === '0'")
    page.get_by_test_id("workspace-toggle").uncheck()
    page.wait_for_function("() => document.querySelector('[data-testid=playground-canvas]').dataset.workspace === '0'")
    # the same push without the field: straight along the diagonal
    page.get_by_test_id("curl-toggle").uncheck()
    page.get_by_test_id("relax-button").click()
    page.get_by_test_id("reset-button").click()
    page.wait_for_function("() => /step [0-4] ·/.test(document.querySelector('[data-testid=readout]').textContent)")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(MOVED_15_CM)
    r = _readout(page)
    assert abs(r["xy"][0] - r["xy"][1]) < 0.005 and r["force"] is None, r


def test_single_step_load_workspace_and_stand_in_lines_on_arm26(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    _open(page, f"{live_server.url}/#/playground?effector=preset:arm26&paused=1")
    canvas = page.get_by_test_id("playground-canvas")
    assert page.get_by_test_id("pause-button").text_content().startswith("Run")
    time.sleep(0.3)
    start = _readout(page)
    assert start["step"] == 0 and start["t"] == 0.0  # paused: the clock does not run
    page.get_by_test_id("step-button").click()
    _wait_step(page, 1)
    one = _readout(page)
    page.get_by_test_id("step-button").click()
    _wait_step(page, 2)
    two = _readout(page)
    assert (one["step"], two["step"]) == (1, 2)
    assert one["t"] == pytest.approx(0.01) and two["t"] == pytest.approx(0.02)
    time.sleep(0.3)
    assert _readout(page)["step"] == 2  # still paused: nothing more ran
    # polynomial geometry: six dashed stand-in lines, and the text says what they are
    assert canvas.get_attribute("data-paths") == "6"
    assert "stand-ins" in (page.get_by_test_id("explain-lines").text_content() or "")
    assert int(canvas.get_attribute("data-workspace") or 0) == 256
    page.screenshot(path="/tmp/playground_arm26_paused.png", full_page=True)
    # a 5 N load to the right on the relaxed arm pushes the hand right
    page.get_by_test_id("load-toggle").check()
    _set_number(page, "load-magnitude", 5)
    _set_number(page, "load-angle", 0)
    page.get_by_test_id("step-button").click()
    _wait_step(page, 3)
    assert _readout(page)["force"] == pytest.approx((5.0, 0.0))
    page.get_by_test_id("pause-button").click()
    _wait_step(page, 40)
    moved = _readout(page)
    assert moved["xy"][0] - two["xy"][0] > 0.03, (two, moved)
    time.sleep(0.3)
    shot("playground_arm26_load")
    page.screenshot(path="/tmp/playground_arm26_load.png", full_page=True)


def test_explanations_fit_the_chosen_effector(live_server, page) -> None:  # type: ignore[no-untyped-def]
    _open(page, f"{live_server.url}/#/playground?effector=preset:point_mass_24")
    intro = page.get_by_test_id("explain-intro")
    assert "point mass of 1 kg" in (intro.text_content() or "")
    roles = page.get_by_test_id("explain-muscles").text_content() or ""
    assert "UpperRight: pulls the mass towards the upper right" in roles
    assert "LowerLeft: pulls the mass towards the lower left" in roles
    assert "shoulder" not in (page.get_by_test_id("explain").text_content() or "")
    page.get_by_test_id("playground-source").select_option("preset:arm210")
    _intro_matches(page, "shoulder and elbow")
    roles = page.get_by_test_id("explain-muscles").text_content() or ""
    assert "biceps: flexes the shoulder and flexes the elbow (a two-joint muscle)" in roles
    assert "anconeus: extends the elbow" in roles and "UpperRight" not in roles
    assert "attachment points" in (page.get_by_test_id("explain-lines").text_content() or "")
    assert page.get_by_test_id("playground-canvas").get_attribute("data-paths") == "10"
    page.get_by_test_id("playground-source").select_option("preset:arm3_winter")
    _intro_matches(page, "shoulder, elbow and wrist")
    assert "wrist flexor: flexes the wrist" in (page.get_by_test_id("explain-muscles").text_content() or "")
    page.screenshot(path="/tmp/playground_arm3.png", full_page=True)


def test_shared_link_sets_values_locks_and_hides_controls(live_server, page, browser, console, shot) -> None:  # type: ignore[no-untyped-def]
    _open(page, f"{live_server.url}/#/playground?effector=preset:arm26")
    page.get_by_test_id("curl-toggle").check()
    _set_number(page, "curl-gain", 15)
    page.get_by_test_id("curl-dir").select_option("ccw")
    slider = page.get_by_test_id("slider-2")
    slider.focus()
    for _ in range(30):
        page.keyboard.press("ArrowRight")
    page.get_by_test_id("share-button").click()
    dialog = page.get_by_test_id("share-dialog")
    dialog.wait_for()
    page.get_by_test_id("share-lock-curl").check()
    page.get_by_test_id("share-lock-muscles").check()
    page.get_by_test_id("share-hide-source").check()
    page.get_by_test_id("share-hide-share").check()
    link = page.get_by_test_id("share-link").input_value()
    assert link.startswith(live_server.url) and "#/playground?" in link
    parts = ("effector=preset%3Aarm26", "curl=15", "curl_dir=ccw", "lock=muscles%2Ccurl", "hide=source%2Cshare")
    for part in (*parts, "ex=0%2C0%2C0.3%2C0"):
        assert part in link, (part, link)
    page.screenshot(path="/tmp/playground_share_dialog.png")
    page.get_by_test_id("share-close").click()

    student = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    student.on("console", console.on_console)
    student.on("pageerror", console.on_pageerror)
    # the teacher's link, paused (as a handout may be): the test steps the clock itself, so the arm
    # is still moving when the readout is read (at its joint limit the field has nothing to push)
    _open(student, f"{link}&paused=1")
    assert student.get_by_test_id("curl-toggle").is_checked() and student.get_by_test_id("curl-toggle").is_disabled()
    assert student.get_by_test_id("curl-gain").input_value() == "15" and student.get_by_test_id("curl-gain").is_disabled()
    assert student.get_by_test_id("curl-dir").input_value() == "ccw" and student.get_by_test_id("curl-dir").is_disabled()
    assert student.get_by_test_id("slider-2").input_value() == "0.3" and student.get_by_test_id("slider-2").is_disabled()
    assert not student.get_by_test_id("playground-source").is_visible()
    assert not student.get_by_test_id("share-button").is_visible()
    assert student.get_by_test_id("load-toggle").is_enabled() and student.get_by_test_id("step-button").is_enabled()
    # the explanation and the hints point at no control the link hides
    explain = student.get_by_test_id("explain").text_content() or ""
    assert "Drive menu" not in explain and "null" not in explain and "undefined" not in explain
    # the shared excitation drives the arm under the shared field (the hand moves, the field pushes)
    for k in range(1, 16):
        student.get_by_test_id("step-button").click()
        _wait_step(student, k)
    assert "force on the hand" in (student.get_by_test_id("readout").text_content() or "")
    student.get_by_test_id("pause-button").click()  # run on for the picture
    time.sleep(0.3)
    student.screenshot(path="/tmp/playground_student.png", full_page=True)
    box = student.get_by_test_id("playground-canvas").bounding_box()
    assert box is not None
    student.get_by_test_id("playground-canvas").click(position={"x": box["width"] * 0.7, "y": box["height"] * 0.4})
    student.locator("#toast").filter(has_text="trained run").wait_for()
    assert "Drive menu" not in (student.locator("#toast").text_content() or "")
    student.context.close()


def test_policy_under_a_curl_field_single_steps_to_a_target(live_server, page) -> None:  # type: ignore[no-untyped-def]
    body = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 5}, "name": "playground policy"}
    r = httpx.post(f"{live_server.url}/api/runs", json=body)
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    deadline = time.monotonic() + 120
    while httpx.get(f"{live_server.url}/api/runs/{run_id}").json()["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    _open(page, f"{live_server.url}/#/playground?run={run_id}&curl=40&paused=1")
    assert "trained run" in (page.get_by_test_id("explain").text_content() or "")
    canvas = page.get_by_test_id("playground-canvas")
    box = canvas.bounding_box()
    assert box is not None
    canvas.click(position={"x": box["width"] * 0.7, "y": box["height"] * 0.4})
    page.get_by_test_id("step-button").click()
    _wait_step(page, 1)
    assert _readout(page)["step"] == 1
    page.get_by_test_id("pause-button").click()
    page.wait_for_function("() => /force on the hand/.test(document.querySelector('[data-testid=readout]').textContent)")
    assert _readout(page)["step"] > 1
