"""Issue 16, runs: notes and tags edited on the run page, metrics CSV and figure PNG downloads,
checkpoint import from the runs page (with the server's refusal shown)."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.browser


def _finished_run(url: str, n: int = 15, name: str = "tools") -> dict:
    body = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": n}, "name": name}
    rid = httpx.post(f"{url}/api/runs", json=body).json()["id"]
    deadline = time.monotonic() + 120
    while (run := httpx.get(f"{url}/api/runs/{rid}").json())["status"] != "finished":
        assert time.monotonic() < deadline and run["status"] in {"queued", "running"}, run
        time.sleep(0.2)
    return run


def test_notes_tags_csv_and_png_on_the_run_page(live_server, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = _finished_run(live_server.url)
    rid = run["id"]
    page.goto(f"{live_server.url}/#/run?id={rid}")
    page.get_by_test_id("run-status").filter(has_text="finished").wait_for()

    # notes and tags: saved on the server, shown again after a reload
    page.get_by_test_id("run-notes-input").fill("lr too high? compare with #2")
    page.get_by_test_id("run-notes-save").click()
    page.get_by_test_id("run-notes-state").filter(has_text="saved").wait_for()
    page.get_by_test_id("run-tags-input").fill("baseline,  arm , baseline")
    page.get_by_test_id("run-tags-save").click()
    page.get_by_test_id("run-tags-state").filter(has_text="saved").wait_for()
    stored = httpx.get(f"{live_server.url}/api/runs/{rid}").json()
    assert stored["notes"] == "lr too high? compare with #2" and stored["tags"] == ["baseline", "arm"]
    page.reload()
    page.get_by_test_id("run-status").filter(has_text="finished").wait_for()
    assert page.get_by_test_id("run-notes-input").input_value() == "lr too high? compare with #2"
    assert page.get_by_test_id("run-tags-input").input_value() == "baseline, arm"

    # the metrics CSV: one line per iteration, the stored values
    with page.expect_download() as dl:
        page.get_by_test_id("download-csv").click()
    path = tmp_path / "m.csv"
    dl.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [int(r["step"]) for r in rows] == list(range(1, 16))
    loss = httpx.get(f"{live_server.url}/api/runs/{rid}/metrics?keys=loss").json()["series"]["loss"]["value"]
    assert [float(r["loss"]) for r in rows] == pytest.approx(loss, rel=1e-12)

    # a PNG of the loss figure from Plotly's mode bar (vendored Plotly, no network)
    page.get_by_test_id("loss-plot").hover()
    with page.expect_download() as png:
        page.get_by_test_id("loss-plot").locator(".modebar-btn[data-title^='Download plot as a PNG']").click()
    out = tmp_path / "loss.png"
    png.value.save_as(out)
    assert png.value.suggested_filename.endswith(".png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    page.screenshot(path="/tmp/run_tools_run_page.png", full_page=True)


def test_checkpoint_import_from_the_runs_page(live_server, page, console, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    console.allow.append(re.compile(r"Failed to load resource.*422"))
    run = _finished_run(live_server.url, name="to import")
    ckpt = tmp_path / "exported-arm.pt"
    ckpt.write_bytes(httpx.get(f"{live_server.url}/api/runs/{run['id']}/checkpoint").content)
    bad = tmp_path / "notes.pt"
    bad.write_bytes(b"this is not a checkpoint")
    page.goto(f"{live_server.url}/#/runs")
    page.get_by_test_id("runs-table").wait_for()

    # a file the server refuses: its reason is shown, nothing is added
    before = len(httpx.get(f"{live_server.url}/api/runs").json())
    page.get_by_test_id("import-file").set_input_files(str(bad))
    err = page.get_by_test_id("import-error")
    err.filter(has_text="Could not import notes.pt").wait_for()
    assert "checkpoint" in err.text_content()
    assert len(httpx.get(f"{live_server.url}/api/runs").json()) == before

    # a real checkpoint becomes a run named after the file, listed in the table
    page.get_by_test_id("import-file").set_input_files(str(ckpt))
    page.locator("[data-testid=runs-table] tr", has_text="exported-arm").wait_for()
    assert err.is_hidden()
    imported = [r for r in httpx.get(f"{live_server.url}/api/runs").json() if r["name"] == "exported-arm"]
    assert len(imported) == 1 and imported[0]["status"] == "finished" and imported[0]["step"] == 15
    page.screenshot(path="/tmp/run_tools_runs_page.png", full_page=True)


def test_parameter_columns_and_the_compare_spec_diff(live_server, page) -> None:  # type: ignore[no-untyped-def]
    url = live_server.url
    a = _finished_run(url, n=3, name="lr small")
    body = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 3, "train.lr": 0.003}, "name": "lr big"}
    b = httpx.post(f"{url}/api/runs", json=body).json()
    page.goto(f"{url}/#/runs?cols=train.lr,policy.hidden_size")
    cell = "(id, col) => document.querySelector(`tr[data-run-id='${id}'] td[data-col='${col}']`)?.textContent"
    page.wait_for_function(f"() => ({cell})({b['id']}, 'train.lr') === '0.003'")
    assert page.evaluate(f"() => ({cell})({a['id']}, 'train.lr')") == "0.001"
    assert page.evaluate(f"() => ({cell})({a['id']}, 'policy.hidden_size')") == "8"

    # add a column by path, remove one: the URL keeps the choice, a reload shows it again
    page.get_by_test_id("column-path").fill("train.batch_size")
    page.get_by_test_id("column-add").click()
    page.wait_for_function(f"() => ({cell})({a['id']}, 'train.batch_size') !== undefined")
    page.get_by_role("button", name="remove column policy.hidden_size").click()
    page.wait_for_function("() => !document.querySelector('th[data-col=\"policy.hidden_size\"]')")
    assert "cols=train.lr%2Ctrain.batch_size" in page.url or "cols=train.lr,train.batch_size" in page.url, page.url
    batch = str(httpx.get(f"{url}/api/runs/{a['id']}/spec").json()["train"]["batch_size"])
    page.reload()
    page.wait_for_function(f"(v) => ({cell})({a['id']}, 'train.batch_size') === v", arg=batch)
    assert page.locator("th[data-col='policy.hidden_size']").count() == 0

    # compare the two: the spec diff names the changed fields with both values
    page.get_by_label(f"compare run {a['id']}").check()
    page.get_by_label(f"compare run {b['id']}").check()
    diff = page.get_by_test_id("compare-spec-diff")
    diff.locator("tr[data-path='train.lr']").wait_for()
    row = diff.locator("tr[data-path='train.lr'] td").all_text_contents()
    assert row[1:] == ["0.001", "0.003"] or row[1:] == ["0.003", "0.001"], row
    assert diff.locator("tr[data-path='name']").count() == 1
    assert diff.locator("tr[data-path='policy.hidden_size']").count() == 0
    page.screenshot(path="/tmp/run_tools_columns.png", full_page=True)


def test_rerun_with_changes_from_the_run_page(live_server, page, console) -> None:  # type: ignore[no-untyped-def]
    console.allow.append(re.compile(r"Failed to load resource.*422"))
    url = live_server.url
    parent = _finished_run(url, n=4, name="first try")
    page.goto(f"{url}/#/run?id={parent['id']}")
    page.get_by_test_id("run-status").filter(has_text="finished").wait_for()
    page.get_by_test_id("rerun-open").click()
    area = page.get_by_test_id("rerun-spec")
    spec = json.loads(area.input_value())
    assert spec["train"]["n_iterations"] == 4 and spec["name"] == "first try (rerun)"

    # a bad value: the server's 422 names the field, nothing is launched
    spec["train"]["lr"] = -1
    area.fill(json.dumps(spec))
    page.get_by_test_id("rerun-launch").click()
    page.get_by_test_id("rerun-error").filter(has_text="train.lr").wait_for()
    count = len(httpx.get(f"{url}/api/runs").json())

    # the changed spec launches a new run that records its parent, and its page links back
    spec["train"]["lr"] = 0.002
    area.fill(json.dumps(spec))
    page.get_by_test_id("rerun-launch").click()
    page.wait_for_url(re.compile(rf"#/run\?id=(?!{parent['id']}\b)\d+"))
    page.get_by_test_id("run-parent").filter(has_text=f"Rerun of #{parent['id']}").wait_for()
    runs = httpx.get(f"{url}/api/runs").json()
    assert len(runs) == count + 1
    child = httpx.get(f"{url}/api/runs/{max(r['id'] for r in runs)}").json()
    assert child["parent_id"] == parent["id"] and child["spec"]["train"]["lr"] == 0.002
    assert child["name"] == "first try (rerun)"
    page.screenshot(path="/tmp/run_tools_rerun.png", full_page=True)
