"""The Python client (backend/client.py) and the metrics CSV download, against a live uvicorn server."""

from __future__ import annotations

import csv
import io
import time

import httpx
import pytest

from backend.client import StudioClient, StudioError


def test_client_creates_waits_and_reads_metrics_and_csv(live_server) -> None:  # type: ignore[no-untyped-def]
    with StudioClient(live_server.url) as studio:
        overrides = {"train.n_iterations": 12}
        run = studio.create_run(preset="tiny_point_mass", overrides=overrides, name="from a script", tags=["script"])
        assert run["status"] == "queued" and run["name"] == "from a script"
        done = studio.wait(run["id"], timeout=120)
        assert done["status"] == "finished" and done["step"] == 12
        assert any(r["id"] == run["id"] for r in studio.list_runs(tag="script"))
        series = studio.metrics(run["id"])
        assert series["loss"]["step"] == list(range(1, 13))
        edited = studio.update_run(run["id"], notes="looks fine", tags=["script", "checked"])
        assert edited["notes"] == "looks fine" and edited["tags"] == ["script", "checked"]

        # the CSV holds exactly the stored rows: one line per step, the same values
        res = httpx.get(f"{live_server.url}/api/runs/{run['id']}/metrics.csv")
        assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
        assert "attachment" in res.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(res.text)))
        assert [int(r["step"]) for r in rows] == list(range(1, 13))
        assert "loss" in rows[0] and next(iter(rows[0])) == "step"
        assert [float(r["loss"]) for r in rows] == pytest.approx(series["loss"]["value"], rel=1e-12)
        assert studio.metrics_csv(run["id"]) == res.text


def test_client_cancel_resume_and_errors(live_server) -> None:  # type: ignore[no-untyped-def]
    with StudioClient(live_server.url) as studio:
        run = studio.create_run(preset="tiny_point_mass", overrides={"train.n_iterations": 100_000})
        deadline = time.monotonic() + 60
        while studio.get_run(run["id"])["step"] < 3:  # some work done, then cancel keeps it
            assert time.monotonic() < deadline, "run never trained"
            time.sleep(0.1)
        studio.cancel(run["id"])
        cancelled = studio.wait(run["id"], timeout=60)
        assert cancelled["status"] == "cancelled" and cancelled["checkpoint_step"] >= 3
        resumed = studio.resume(run["id"])
        assert resumed["status"] in {"queued", "running"}
        with pytest.raises(TimeoutError):  # 100 000 iterations do not finish in half a second
            studio.wait(run["id"], timeout=0.5, poll=0.1)
        studio.cancel(run["id"])
        studio.wait(run["id"], timeout=60)
        with pytest.raises(StudioError) as err:
            studio.create_run(preset="tiny_point_mass", overrides={"train.n_iterations": -1})
        assert err.value.status_code == 422 and "n_iterations" in str(err.value.detail)
        child = studio.create_run(preset="tiny_point_mass", overrides={"train.n_iterations": 2}, parent_id=run["id"])
        assert child["parent_id"] == run["id"] and studio.get_run(child["id"])["parent_id"] == run["id"]
        studio.wait(child["id"], timeout=60)
        with pytest.raises(StudioError) as orphan:
            studio.create_run(preset="tiny_point_mass", parent_id=999_999)
        assert orphan.value.status_code == 422 and "parent_id" in str(orphan.value.detail)
        with pytest.raises(StudioError) as missing:
            studio.get_run(999_999)
        assert missing.value.status_code == 404
    assert httpx.get(f"{live_server.url}/api/runs/999999/metrics.csv").status_code == 404
