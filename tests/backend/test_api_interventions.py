"""POST /api/runs/{id}/interventions: a run's checkpoint evaluated with and without interventions, through a real worker."""

from __future__ import annotations

import pytest
from backend_helpers import make_settings, wait_for
from fastapi.testclient import TestClient

from backend.app.main import create_app

TWO_AREA = {"preset": "tiny_two_area", "overrides": {"train.n_iterations": 3, "train.eval_every": 3, "train.checkpoint_every": 3}}
LESION = [{"kind": "silence", "target": "area", "area": "premotor"}]


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    app = create_app(make_settings(tmp_path_factory.mktemp("interventions")))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def finished(app_client) -> dict:
    r = app_client.post("/api/runs", json=TWO_AREA)
    assert r.status_code == 201, r.text
    run = wait_for(app_client, r.json()["id"], timeout=90)
    assert run["status"] == "finished", run
    return run


def test_a_lesion_silences_the_area_and_leaves_the_intact_evaluation_as_the_runs_own(app_client, finished):
    rid = finished["id"]
    r = app_client.post(f"/api/runs/{rid}/interventions", json={"interventions": LESION})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [g["name"] for g in body["groups"]] == ["premotor", "motor"]
    assert body["groups"][0] == {"name": "premotor", "start": 0, "stop": 6}
    assert body["step"] == 3
    premotor = [row[:6] for trial in body["intervened"]["hidden"] for row in trial[1:]]
    assert all(v == 0 for row in premotor for v in row)
    assert any(v != 0 for trial in body["intact"]["hidden"] for row in trial[1:] for v in row[:6])
    assert body["activity"]["intervened"]["premotor"] == [0.0] * len(body["activity"]["time"])
    assert body["summary"]["activity_rms"]["premotor"]["intact"] > 0
    # the intact evaluation is the run's own last snapshot (same batch, same weights)
    last = app_client.get(f"/api/runs/{rid}/snapshots/-1").json()["data"]
    assert body["intact"]["hand"] == last["hand"]
    assert body["intervened"]["hand"] != body["intact"]["hand"]
    assert body["summary"]["endpoint_error"]["intact"] == pytest.approx(last["mean_endpoint_error"])


@pytest.mark.parametrize(
    ("interventions", "loc"),
    [
        ([{"kind": "silence", "target": "area", "area": "spinal"}], "interventions.0.area"),
        ([{"kind": "silence", "target": "units", "area": "motor", "units": [9]}], "interventions.0.units.0"),
        ([{"kind": "silence", "target": "area", "area": "motor", "start": 0.05, "end": 0.01}], "interventions.0.end"),
        ([{"kind": "zap", "target": "area", "area": "motor"}], "interventions.0.kind"),
        ([{"kind": "scale", "target": "muscles", "muscles": [6]}], "interventions.0.muscles.0"),
        ([], "interventions"),
    ],
)
def test_bad_interventions_are_422_naming_the_path(app_client, finished, interventions, loc):
    r = app_client.post(f"/api/runs/{finished['id']}/interventions", json={"interventions": interventions})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc


def test_unknown_run_is_404(app_client):
    assert app_client.post("/api/runs/999/interventions", json={"interventions": LESION}).status_code == 404
