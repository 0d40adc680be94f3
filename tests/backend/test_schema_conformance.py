"""What Schemathesis's checks found against a live server (issue 18): the OpenAPI document must say
what the server accepts, and the server must refuse what the document does not allow.

Each case here was a failure of ``st run --checks all`` (ST101, ST201, ST202) before its fix.
"""

from __future__ import annotations

import pytest

MAX_ID = 2**63 - 1


@pytest.mark.parametrize("value", [str(2**70), "-196912566727556193266861531463680", "0", str(MAX_ID + 1)])
def test_an_experiment_filter_outside_the_id_range_is_422_not_500(client, value):
    r = client.get("/api/runs", params={"experiment": value})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == "experiment"


def test_the_experiment_filter_is_documented_as_a_row_id(client):
    params = {p["name"]: p["schema"] for p in client.get("/openapi.json").json()["paths"]["/api/runs"]["get"]["parameters"]}
    branch = next(s for s in params["experiment"]["anyOf"] if s.get("type") == "integer")
    assert branch["minimum"] == 1 and branch["maximum"] == MAX_ID


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/api/tasks", {"name": "t", "spec": {"kind": "random_reach", "effort_weight": False}}, "spec.effort_weight"),
        (
            "/api/tasks",
            {"name": "t", "spec": {"kind": "random_reach", "action_frame_stacking": True}},
            "spec.action_frame_stacking",
        ),
        (
            "/api/tasks",
            {"name": "t", "spec": {"kind": "random_reach", "perturbations": [{"kind": "force_field", "force": [True, 0]}]}},
            "spec.perturbations.0.force.0",
        ),
        ("/api/experiments/estimate", {"preset": "tiny_point_mass", "seeds": True}, "seeds"),
        ("/api/studies/premotor_lesion/runs", {"params": {"quick": 0}}, "params.quick"),  # 0 is no boolean
        ("/api/tasks", {"name": "t", "spec": {"kind": "tracking", "obs_noise": [False]}}, "spec.obs_noise.0"),  # float | list
        ("/api/tasks", {"name": "t", "spec": {"kind": "random_reach", "duration": "1.5"}}, "spec.duration"),  # nor "1.5" a number
    ],
)
def test_a_scalar_of_another_json_kind_is_refused(client, path, body, loc):
    """JSON Schema's ``number`` excludes true/false and "1.5", ``boolean`` excludes 0 and 1 (pydantic's
    lax mode took them all)."""
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]] == [loc], r.json()


def test_booleans_stay_welcome_where_a_field_is_boolean(client):
    spec = client.get("/api/presets").json()["effectors"]["point_mass_24"]
    spec["motornet_compat"] = False
    assert client.post("/api/effectors", json={"name": "e", "spec": spec}).status_code == 201


def test_every_validation_error_says_whether_the_schema_states_it(client):
    """``type``: pydantic's error type where the document states the rule (a bound, a type, a field
    not allowed), ``rule`` where it cannot (a rule between fields, or the server's limits)."""
    r = client.post("/api/tasks", json={"name": "t", "spec": {"kind": "tracking", "freq_min": 2.0, "freq_max": 1.0}})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "rule", r.json()
    r = client.post("/api/tasks", json={"name": "t", "spec": {"kind": "random_reach", "duration": -1}})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "greater_than", r.json()
    item = client.get("/openapi.json").json()["components"]["schemas"]["ValidationError"]
    assert "type" in item["properties"]


def test_each_study_documents_its_own_parameters(client):
    """A body the document allows for a study is one the study accepts (no free-form ``params``)."""
    doc = client.get("/openapi.json").json()
    studies = [s["name"] for s in client.get("/api/studies").json()]
    for name in studies:
        op = doc["paths"][f"/api/studies/{name}/runs"]["post"]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        params = doc["components"]["schemas"][ref]["properties"]["params"]
        target = doc["components"]["schemas"][params["$ref"].rsplit("/", 1)[-1]] if "$ref" in params else params
        assert target.get("additionalProperties") is False, (name, target)
    assert "/api/studies/{name}/runs" not in doc["paths"]
    assert client.post("/api/studies/no_such_study/runs", json={}).status_code == 404
    r = client.post(f"/api/studies/{studies[0]}/runs", json={"params": {"\u00f9": {}}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == "params.\u00f9", r.json()


@pytest.mark.parametrize("velocity", [[[], [0.0, 0.0]], [[]], [[0.0, 0.0], []]])
def test_rows_with_an_empty_first_row_are_rows(client, velocity):
    """``[[], [0, 0]]`` is a list of rows as the document says (it was read as one vector: 422
    "velocity.0: Input should be a valid number"); what is wrong with it is the rows' length."""
    effector = client.get("/api/presets").json()["effectors"]["point_mass_24"]
    body = {"effector": effector, "excitations": [[0.0] * 4] * 3, "velocity": velocity}
    r = client.post("/api/simulate", json=body)
    assert r.status_code == 422, r.text
    assert all(e["type"] == "rule" for e in r.json()["detail"]), r.json()


@pytest.mark.parametrize("path", ["/api/runs", "/api/experiments/estimate"])
def test_an_override_the_preset_does_not_have_is_a_rule(client, path):
    """``overrides`` is free-form in the document (dotted paths into the preset's spec), so a path the
    preset has no field for breaks a rule of the preset, not of the schema (Schemathesis ST202)."""
    r = client.post(path, json={"preset": "tiny_point_mass", "overrides": {"train.lr": "fast"}})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] and all(e["type"] == "rule" for e in r.json()["detail"]), r.json()
