"""POST /api/runs/{id}/dynamics and training protocols over REST, through real workers and SQLite."""

from __future__ import annotations

import math

import pytest
from backend_helpers import make_settings, wait_for
from fastapi.testclient import TestClient

from backend.app.main import create_app

TINY = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 3, "train.eval_every": 3, "train.checkpoint_every": 3}}
TWO_AREA = {"preset": "tiny_two_area", "overrides": {"train.n_iterations": 3, "train.eval_every": 3, "train.checkpoint_every": 3}}
QUICK = {"n_initial": 4, "n_iterations": 50}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    app = create_app(make_settings(tmp_path_factory.mktemp("dynamics")))
    with TestClient(app) as c:
        yield c


def _finished(client: TestClient, body: dict) -> dict:
    r = client.post("/api/runs", json=body)
    assert r.status_code == 201, r.text
    run = wait_for(client, r.json()["id"], timeout=120)
    assert run["status"] == "finished", run
    return run


@pytest.fixture(scope="module")
def gru_run(app_client) -> dict:
    return _finished(app_client, TINY)


def test_dynamics_of_a_gru_run_have_the_analysis_shapes(app_client, gru_run):
    r = app_client.post(f"/api/runs/{gru_run['id']}/dynamics", json={**QUICK, "n_components": 2})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["run_id"] == gru_run["id"] and d["step"] == 3
    assert d["params"]["n_initial"] == 4 and d["params"]["n_components"] == 2
    c, t = len(d["targets"]), len(d["time"])
    assert c == 4  # tiny_point_mass's evaluation batch
    assert len(d["trajectories"]) == c and len(d["trajectories"][0]) == t and len(d["trajectories"][0][0]) == 2
    assert len(d["tangling"]) == c and all(q >= 0 for row in d["tangling"] for q in row)
    assert [a["name"] for a in d["areas"]] == ["network"] and d["areas"][0]["stop"] == 8
    fp = d["fixed_points"]
    assert fp["n_candidates"] == 4
    k = len(fp["q"])
    assert len(fp["stable"]) == len(fp["pc"]) == len(fp["eigenvalues_real"]) == k
    for re, im, stable in zip(fp["eigenvalues_real"], fp["eigenvalues_imag"], fp["stable"], strict=True):
        assert len(re) == 8 and stable == (max(math.hypot(a, b) for a, b in zip(re, im, strict=True)) < 1)


def test_defaults_apply_to_an_empty_body(app_client, gru_run):
    r = app_client.post(f"/api/runs/{gru_run['id']}/dynamics", json={"n_iterations": 10})
    assert r.status_code == 200, r.text
    assert r.json()["params"]["n_initial"] == 32  # DynamicsParams' default


def test_a_multi_area_run_is_analysed_per_area(app_client):
    run = _finished(app_client, TWO_AREA)
    d = app_client.post(f"/api/runs/{run['id']}/dynamics", json=QUICK).json()
    assert [(a["name"], a["start"], a["stop"]) for a in d["areas"]] == [("premotor", 0, 6), ("motor", 6, 10)]
    assert all(len(a["fixed_points_pc"]) == len(d["fixed_points"]["q"]) for a in d["areas"])


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"n_initial": 0}, "n_initial"),
        ({"n_iterations": 10**6}, "n_iterations"),
        ({"lr": -1}, "lr"),
        ({"n_components": 1}, "n_components"),
        ({"input_time": "soon"}, "input_time"),
        ({"banana": 1}, "banana"),
        ({"condition": 4, "n_iterations": 5}, "condition"),  # the evaluation batch holds 4 trials
    ],
)
def test_bad_params_are_422_naming_the_path(app_client, gru_run, body, loc):
    r = app_client.post(f"/api/runs/{gru_run['id']}/dynamics", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc


def test_a_policy_it_cannot_analyse_is_422_naming_the_policy(app_client):
    run = _finished(app_client, {**TINY, "overrides": {**TINY["overrides"], "policy.kind": "lstm"}})
    r = app_client.post(f"/api/runs/{run['id']}/dynamics", json=QUICK)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == "policy.kind"


def test_unknown_run_is_404_and_a_run_without_checkpoint_409(app_client):
    assert app_client.post("/api/runs/999/dynamics", json=QUICK).status_code == 404
    long = {**TINY, "overrides": {"train.n_iterations": 100_000, "train.checkpoint_every": 100_000}}
    rid = app_client.post("/api/runs", json=long).json()["id"]
    try:
        r = app_client.post(f"/api/runs/{rid}/dynamics", json=QUICK)
        assert r.status_code == 409, r.text
        assert "no checkpoint" in r.json()["detail"]
    finally:
        app_client.post(f"/api/runs/{rid}/cancel")
        wait_for(app_client, rid, timeout=60)


def test_dynamics_params_schema_is_served_for_the_form(app_client):
    schema = app_client.get("/api/schema/dynamics").json()
    assert schema["properties"]["n_initial"]["maximum"] == 256
    assert "fixed-point searches" in schema["properties"]["n_initial"]["description"]


# -- training protocols over REST --------------------------------------------------------------------------


def test_a_protocol_runs_readouts_reach_its_metric_series(app_client):
    presets = app_client.get("/api/presets").json()["runs"]
    blocks = presets["curl_adaptation_protocol"]["train"]["protocol"]["blocks"]
    assert [b["name"] for b in blocks] == ["baseline", "curl", "washout"]
    run = _finished(app_client, {"spec": presets["tiny_curl_protocol"]})
    series = app_client.get(f"/api/runs/{run['id']}/metrics").json()["series"]
    assert series["protocol/block"]["step"] == list(range(1, 10))
    assert series["protocol/block"]["value"] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert series["protocol/field_fraction"]["value"][3:6] != [0, 0, 0]
    assert len(series["protocol/lateral_deviation"]["step"]) >= 1
    # a protocol run's dynamics: the network after its last block
    d = app_client.post(f"/api/runs/{run['id']}/dynamics", json=QUICK)
    assert d.status_code == 200, d.text


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (lambda p: p["blocks"][1].update(name="baseline"), "spec.train.protocol.blocks.1.name"),
        (lambda p: p["blocks"][1]["perturbations"][0].update(gain="x"), "spec.train.protocol.blocks.1.perturbations.0.gain"),
        (lambda p: p.update(catch_prob=0.8, channel_prob=0.5), "spec.train.protocol.channel_prob"),
        (lambda p: p["blocks"][0].update(n_iterations=0), "spec.train.protocol.blocks.0.n_iterations"),
    ],
)
def test_bad_protocols_are_422_naming_the_path(app_client, change, loc):
    spec = app_client.get("/api/presets").json()["runs"]["tiny_curl_protocol"]
    change(spec["train"]["protocol"])
    r = app_client.post("/api/runs", json={"spec": spec})
    assert r.status_code == 422, r.text
    assert loc in [e["loc"] for e in r.json()["detail"]], r.json()


def test_a_protocol_whose_blocks_disagree_with_n_iterations_is_422(app_client):
    spec = app_client.get("/api/presets").json()["runs"]["tiny_curl_protocol"]
    spec["train"]["n_iterations"] = 10
    r = app_client.post("/api/runs", json={"spec": spec})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == "spec.train.n_iterations"


def test_a_second_analysis_while_one_runs_is_429_with_retry_after(app_client, gru_run):
    from backend.app.services import dynamics

    assert dynamics._slots.acquire(blocking=False)  # the one analysis the server allows at a time
    try:
        r = app_client.post(f"/api/runs/{gru_run['id']}/dynamics", json=QUICK)
        assert r.status_code == 429 and r.headers["retry-after"]
    finally:
        dynamics._slots.release()
    assert app_client.post(f"/api/runs/{gru_run['id']}/dynamics", json=QUICK).status_code == 200
