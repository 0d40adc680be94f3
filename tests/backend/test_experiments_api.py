"""Experiments end to end against a real ``motornet-studio serve``: conditions x seeds as group jobs,
replicates equal to single runs, aggregates equal to the core's from the runs' rows, the experiment
socket, cancel, a restart mid-experiment, 422s that name the path, delete."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from motornet_core.experiments.records import ConditionRecord, SeedRecord, aggregate_experiment, final_values
from motornet_core.training.records import dumps
from tests.conftest import start_live_server

pytestmark = pytest.mark.slow

ITERS = {"train.n_iterations": 6, "train.eval_every": 3, "train.checkpoint_every": 3}
GRID = {"train.lr": [0.001, 0.003, 0.01]}
KEYS = ["loss", "mean_endpoint_error"]
SEARCH = {"params": {"train.lr": {"kind": "uniform", "low": 0.001, "high": 0.01}}}


def _get(server, path: str):
    r = httpx.get(f"{server.url}{path}", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _post(server, path: str, body: dict | None = None, expect: int = 200):
    r = httpx.post(f"{server.url}{path}", json=body, timeout=30)
    assert r.status_code == expect, r.text
    return r.json()


def _wait_experiment(server, eid: int, statuses: set[str], timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exp = _get(server, f"/api/experiments/{eid}")
        if exp["status"] in statuses:
            return exp
        time.sleep(0.25)
    raise AssertionError(f"experiment {eid} never reached {statuses}: {exp}")


def _wait_run(server, rid: int, status: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _get(server, f"/api/runs/{rid}")
        if run["status"] == status:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {rid} never got {status}: {run}")


def _series(server, rid: int) -> dict[str, tuple[list[int], list[float]]]:
    metrics = _get(server, f"/api/runs/{rid}/metrics?max_points=100000")["series"]
    return {k: (v["step"], v["value"]) for k, v in metrics.items()}


@pytest.fixture(scope="module")
def finished(live_server):
    """A 3 conditions x 2 seeds experiment followed over its socket until it finished."""
    body = {"preset": "tiny_point_mass", "overrides": ITERS, "grid": GRID, "seeds": 2, "name": "lr sweep", "notes": "n"}
    estimate = _post(live_server, "/api/experiments/estimate", body)
    assert (estimate["n_conditions"], estimate["seeds"], estimate["n_networks"], estimate["iterations"]) == (3, 2, 6, 18)
    assert estimate["estimated_seconds"] > 0
    created = _post(live_server, "/api/experiments", body, expect=201)
    assert (created["n_conditions"], created["n_networks"], created["seeds"], created["notes"]) == (3, 6, 2, "n")
    messages, stamps = [], []
    with connect(f"{live_server.ws_url}/ws/experiments/{created['id']}", open_timeout=30) as ws:
        while True:
            msg = json.loads(ws.recv(timeout=240))
            messages.append(msg)
            stamps.append(time.monotonic())
            if msg["status"] not in ("queued", "running"):
                break
    return created, messages, stamps


def test_conditions_train_as_groups_of_ordinary_runs_with_consecutive_seeds(live_server, finished):
    created, messages, stamps = finished
    exp = _get(live_server, f"/api/experiments/{created['id']}")
    assert exp["status"] == "finished" and exp["progress"] == 1.0
    assert [c["label"] for c in exp["conditions"]] == ["train.lr=0.001", "train.lr=0.003", "train.lr=0.01"]
    base_seed = exp["spec"]["base"]["train"]["seed"]
    for cond in exp["conditions"]:
        assert cond["status"] == "finished" and cond["step"] == 6 and len(cond["run_ids"]) == 2
        runs = [_get(live_server, f"/api/runs/{rid}") for rid in cond["run_ids"]]
        assert [r["seed"] for r in runs] == [base_seed, base_seed + 1]
        assert [r["replicate_index"] for r in runs] == [0, 1]
        for r in runs:
            assert r["kind"] == "training" and r["status"] == "finished" and r["experiment_id"] == exp["id"]
            assert r["spec"]["train"]["replicates"] == 1 and r["spec"]["train"]["lr"] == cond["values"]["train.lr"]
            assert r["checkpoint_step"] == 6
            assert _series(live_server, r["id"])["loss"][0] == [1, 2, 3, 4, 5, 6]  # every step once
    assert any(e["id"] == exp["id"] for e in _get(live_server, "/api/experiments"))
    # the socket: the state first, updates at most 4 a second, the end last
    assert messages[0]["type"] == "experiment" and messages[0]["id"] == exp["id"]
    assert all(m["type"] == "experiment" for m in messages) and messages[-1]["status"] == "finished"
    assert messages[-1]["progress"] == 1.0 and len(messages) >= 2
    span = stamps[-1] - stamps[0]
    assert len(messages) <= 4 * span + 3


def test_a_replicate_trains_like_a_single_run_with_its_seed(live_server, finished):
    created, _, _ = finished
    cond = _get(live_server, f"/api/experiments/{created['id']}")["conditions"][1]
    singles = []
    for rid in cond["run_ids"]:
        spec = _get(live_server, f"/api/runs/{rid}/spec")
        singles.append(_post(live_server, "/api/runs", {"spec": spec}, expect=201)["id"])
    for rid, single in zip(cond["run_ids"], singles, strict=True):
        _wait_run(live_server, single, "finished")
        steps, ours = _series(live_server, rid)["loss"]
        single_steps, theirs = _series(live_server, single)["loss"]
        assert steps == single_steps
        assert ours == pytest.approx(theirs, rel=1e-4, abs=1e-6)


def test_aggregates_are_the_core_function_of_the_runs_rows(live_server, finished):
    created, _, _ = finished
    eid = created["id"]
    exp = _get(live_server, f"/api/experiments/{eid}")
    served = _get(live_server, f"/api/experiments/{eid}/aggregates?keys=loss,mean_endpoint_error&max_points=200")
    records = []
    for cond in exp["conditions"]:
        seeds = []
        for rid in cond["run_ids"]:
            series = _series(live_server, rid)
            infos = _get(live_server, f"/api/runs/{rid}/snapshots")
            snaps = [_get(live_server, f"/api/runs/{rid}/snapshots/{i['index']}") for i in infos]
            final = final_values(series, snaps[-1]["data"])
            errors = ([s["step"] for s in snaps], [s["data"]["mean_endpoint_error"] for s in snaps])
            picked = {"loss": series["loss"], "mean_endpoint_error": errors}
            seeds.append(SeedRecord(_get(live_server, f"/api/runs/{rid}")["seed"], picked, final, run_id=rid))
        records.append(ConditionRecord(cond["index"], cond["label"], cond["values"], seeds))
    assert served == json.loads(dumps(aggregate_experiment(records, keys=KEYS, max_points=200)))
    assert served["conditions"][1]["vs_reference"]["loss"]  # Welch's comparison against condition 0
    listed = _get(live_server, f"/api/runs?experiment={eid}&sort=created")
    assert sorted(r["id"] for r in listed) == sorted(r for c in exp["conditions"] for r in c["run_ids"])
    assert _get(live_server, "/api/runs?experiment=999999") == []
    for cond in served["conditions"]:  # each network's own final values, for plots of every seed
        assert [r["run_id"] for r in cond["runs"]] == cond["run_ids"]
        for r in cond["runs"]:
            assert r["final"]["loss"] == _series(live_server, r["run_id"])["loss"][1][-1]


def test_notes_and_names_are_edited_with_patch(live_server, finished):
    created, _, _ = finished
    eid = created["id"]
    r = httpx.patch(f"{live_server.url}/api/experiments/{eid}", json={"notes": "lr matters", "name": "renamed"})
    assert r.status_code == 200 and (r.json()["notes"], r.json()["name"]) == ("lr matters", "renamed")
    rid = created["conditions"][0]["run_ids"][0]
    r = httpx.patch(f"{live_server.url}/api/runs/{rid}", json={"notes": "seed 0", "tags": ["keep"]})
    assert r.status_code == 200 and (r.json()["notes"], r.json()["tags"]) == ("seed 0", ["keep"])
    assert httpx.patch(f"{live_server.url}/api/runs/{rid}", json={"tags": "x"}).status_code == 422
    assert httpx.patch(f"{live_server.url}/api/experiments/999999", json={"notes": ""}).status_code == 404


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"preset": "tiny_point_mass", "grid": {"train.lrx": [1]}}, "grid.train.lrx"),
        ({"preset": "tiny_point_mass", "grid": {"train.lr": [-1.0]}}, "grid.train.lr"),
        ({"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 0}}, "overrides.train.n_iterations"),
        ({"preset": "nope"}, "preset"),
        ({"preset": "tiny_point_mass", "seeds": 0}, "seeds"),
        ({"preset": "tiny_point_mass", "grid": {"train.lr": [0.001, 0.002]}, "seeds": 64}, "seeds"),
        ({"preset": "tiny_point_mass", "grid": {"train.n_iterations": [10, 200_000]}}, "grid.train.n_iterations"),
        (
            {"preset": "tiny_point_mass", "search": {"params": {"train.lr": {"kind": "uniform", "low": 0.001, "high": 0.01}}}},
            "search",
        ),
    ],
)
def test_bad_requests_are_422_naming_the_path_into_the_body(live_server, body, loc):
    for path in ("/api/experiments", "/api/experiments/estimate"):
        r = httpx.post(f"{live_server.url}{path}", json=body, timeout=30)
        assert r.status_code == 422, r.text
        assert loc in [e["loc"] for e in r.json()["detail"]], r.text


def test_a_bad_full_spec_is_422_under_spec(live_server):
    base = _get(live_server, "/api/presets")["runs"]["tiny_point_mass"]
    for extra, loc in (
        ({"grid": {"train.lrx": [1]}}, "spec.grid.train.lrx"),
        ({"grid": {"train.lr": []}}, "spec.grid.train.lr"),
        ({"search": {"params": {"train.lr": {"kind": "choice", "values": [0.001]}}}}, "spec.search"),
    ):
        r = httpx.post(f"{live_server.url}/api/experiments", json={"spec": {"base": base, **extra}}, timeout=30)
        assert r.status_code == 422, r.text
        assert loc in [e["loc"] for e in r.json()["detail"]], r.text
    r = httpx.post(f"{live_server.url}/api/experiments", json={"spec": {"base": base, "seeds": 1}}, timeout=30)
    assert r.status_code == 201, r.text  # the full form works (one condition, 'base')
    assert r.json()["conditions"][0]["label"] == "base"
    httpx.delete(f"{live_server.url}/api/experiments/{r.json()['id']}", timeout=30)
    assert httpx.get(f"{live_server.url}/api/experiments/999999").status_code == 404


def test_cancel_stops_every_group_within_the_cancel_promise(live_server):
    body = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000}, "grid": {"train.lr": [0.001, 0.002]}}
    exp = _post(live_server, "/api/experiments", {**body, "seeds": 2}, expect=201)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        exp = _get(live_server, f"/api/experiments/{exp['id']}")
        if all(c["status"] == "running" and c["step"] >= 1 for c in exp["conditions"]):
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"the groups never got going: {exp}")
    member = exp["conditions"][0]["run_ids"][0]
    assert httpx.delete(f"{live_server.url}/api/runs/{member}").status_code == 409  # it trains with its group
    t0 = time.monotonic()
    _post(live_server, f"/api/experiments/{exp['id']}/cancel")
    done = _wait_experiment(live_server, exp["id"], {"cancelled", "failed", "finished", "interrupted"}, timeout=10)
    assert time.monotonic() - t0 < 4.0  # the cancel grace (1.5 s) and a kill 2 s later at the latest
    assert done["status"] == "cancelled"
    for cond in done["conditions"]:
        for rid in cond["run_ids"]:
            run = _get(live_server, f"/api/runs/{rid}")
            assert run["status"] == "cancelled" and run["worker_pid"] is None
    # delete removes the experiment, its runs and their files
    run_dirs = [live_server.data_dir / "runs" / str(rid) for c in done["conditions"] for rid in c["run_ids"]]
    assert httpx.delete(f"{live_server.url}/api/experiments/{exp['id']}", timeout=30).status_code == 204
    assert httpx.get(f"{live_server.url}/api/experiments/{exp['id']}").status_code == 404
    for c in done["conditions"]:
        for rid in c["run_ids"]:
            assert httpx.get(f"{live_server.url}/api/runs/{rid}").status_code == 404
    assert not any(Path(d).exists() for d in run_dirs)


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_a_server_restart_mid_experiment_resumes_it_to_the_end(tmp_path, how):
    n = 60
    overrides = {"train.n_iterations": n, "train.checkpoint_every": 10, "train.eval_every": 30}
    body = {"preset": "tiny_point_mass", "overrides": overrides, "grid": {"train.lr": [0.001, 0.002]}, "seeds": 2}
    with start_live_server(tmp_path / "studio", env={"MOTORNET_STUDIO_MAX_WORKERS": "2"}) as server:
        exp = _post(server, "/api/experiments", body, expect=201)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            exp = _get(server, f"/api/experiments/{exp['id']}")
            if any(c["step"] >= 15 for c in exp["conditions"]):
                break
            time.sleep(0.1)
        assert exp["status"] == "running" and exp["progress"] < 1.0, exp
        # conditions past their first checkpoint (step 10) must resume from it; the others may not have started
        checkpointed = {c["index"] for c in exp["conditions"] if c["step"] >= 15}
        if how == "sigkill":  # no graceful shutdown: the runs stay 'running' in the database
            assert server.process is not None
            server.process.kill()
            server.process.wait(10)
            server.process = None
            server.start()
        else:
            server.restart()
        done = _wait_experiment(server, exp["id"], {"finished", "failed", "cancelled"})
        assert done["status"] == "finished", done
        for cond in done["conditions"]:
            for rid in cond["run_ids"]:
                run = _get(server, f"/api/runs/{rid}")
                assert run["status"] == "finished" and run["step"] == n
                steps, _ = _series(server, rid)["loss"]
                assert steps == list(range(1, n + 1))  # every step once
                if cond["index"] in checkpointed:
                    logs = " ".join(line["message"] for line in _get(server, f"/api/runs/{rid}/logs"))
                    assert "resumed from" in logs, (rid, logs)


def test_a_cancelled_experiment_resumes_through_rest_to_the_end(live_server):
    """POST /api/experiments/{id}/resume queues every cancelled network again from its checkpoint; the
    experiment then finishes with every step of every network once, and a second resume is a 409."""
    n = 400
    overrides = {"train.n_iterations": n, "train.checkpoint_every": 10, "train.eval_every": 200}
    body = {"preset": "tiny_point_mass", "overrides": overrides, "grid": {"train.lr": [0.001]}, "seeds": 2}
    exp = _post(live_server, "/api/experiments", body, expect=201)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        exp = _get(live_server, f"/api/experiments/{exp['id']}")
        if exp["conditions"][0]["status"] == "running" and exp["conditions"][0]["step"] >= 12:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the group never got past its first checkpoint: {exp}")
    _post(live_server, f"/api/experiments/{exp['id']}/cancel")
    cancelled = _wait_experiment(live_server, exp["id"], {"cancelled"}, timeout=30)
    run_ids = cancelled["conditions"][0]["run_ids"]
    stopped = [_get(live_server, f"/api/runs/{rid}") for rid in run_ids]
    assert all(r["status"] == "cancelled" and 10 <= (r["checkpoint_step"] or 0) < n for r in stopped), stopped
    _post(live_server, f"/api/experiments/{exp['id']}/resume")
    done = _wait_experiment(live_server, exp["id"], {"finished", "failed", "cancelled"}, timeout=240)
    assert done["status"] == "finished", done
    for rid in run_ids:
        run = _get(live_server, f"/api/runs/{rid}")
        assert run["status"] == "finished" and run["step"] == n, run
        steps, _ = _series(live_server, rid)["loss"]
        assert steps == list(range(1, n + 1)), (rid, steps[:5], len(steps))
    r = httpx.post(f"{live_server.url}/api/experiments/{exp['id']}/resume", timeout=30)
    assert r.status_code == 409, r.text
