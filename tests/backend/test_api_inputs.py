"""Request bodies and ids the audit found answered with 500: each now gets a 4xx naming the field.

* NaN and infinities (JSON extensions Python's parser accepts) -> 422 with the input echoed as a string;
* ids beyond SQLite's 64-bit integers -> 422 (REST) or an error message and close 1008 (websockets);
* lone UTF-16 surrogates in strings -> 422 naming the field;
* error paths are paths into the JSON sent (no pydantic union tags);
* open-loop excitations outside [0, 1] -> 422 with the path.
"""

from __future__ import annotations

import json

import fake_jobs
import pytest
from starlette.websockets import WebSocketDisconnect

from motornet_core import presets

HUGE = 2**63  # one past SQLite's largest INTEGER
HEADERS = {"content-type": "application/json"}


def _arm() -> dict:
    return presets.arm26().model_dump(mode="json")


def _post_raw(client, path: str, text: str, method: str = "POST"):
    return client.request(method, path, content=text.encode(), headers=HEADERS)


def _only_error(r) -> dict:
    assert r.status_code == 422, r.text
    body = json.loads(r.text)  # strict JSON: no NaN tokens in the answer
    return body


def _error_at(body: dict, loc: str) -> dict:
    found = [e for e in body["detail"] if e["loc"] == loc]
    assert found, body
    assert loc in body["message"]
    return found[0]


# -- NaN and infinities ---------------------------------------------------------------------------
NON_FINITE = [
    ("/api/effectors", '{"name": "x", "spec": {"dt": NaN}}', "spec.dt", "NaN"),
    ("/api/tasks", '{"name": "x", "spec": {"kind": "random_reach", "duration": Infinity}}', "spec.duration", "Infinity"),
    ("/api/runs", '{"preset": "tiny_point_mass", "overrides": {"train.lr": NaN}}', "train.lr", "NaN"),
    ("/api/runs", '{"preset": "tiny_point_mass", "overrides": {"train.lr": -Infinity}}', "train.lr", "-Infinity"),
    ("/api/geometry", '{"effector": EFFECTOR, "grid": Infinity}', "grid", "Infinity"),
    ("/api/simulate", '{"effector": EFFECTOR, "excitations": [[0.5, 0.5, NaN, 0.5, 0.5, 0.5]]}', "excitations.0.2", "NaN"),
    ("/api/simulate", '{"effector": EFFECTOR, "excitations": [[0.5]], "position": [NaN, 1.0]}', "position.0", "NaN"),
    ("/api/simulate", '{"run_id": 1, "targets": [[Infinity, 0.0]]}', "targets.0.0", "Infinity"),
]


@pytest.mark.parametrize(("path", "text", "loc", "echo"), NON_FINITE)
def test_non_finite_numbers_are_422_naming_the_field(client, path, text, loc, echo):
    body = _only_error(_post_raw(client, path, text.replace("EFFECTOR", json.dumps(_arm()))))
    assert _error_at(body, loc)["input"] == echo


def test_non_finite_effector_spec_in_a_saved_spec_update_and_validation(client):
    rid = client.post("/api/effectors", json={"name": "pm", "spec": presets.point_mass_24().model_dump(mode="json")}).json()["id"]
    body = _only_error(_post_raw(client, f"/api/effectors/{rid}", '{"name": "x", "spec": {"dt": NaN}}', method="PUT"))
    assert _error_at(body, "spec.dt")["input"] == "NaN"
    r = _post_raw(client, "/api/validate/effector", '{"dt": NaN}')  # 200: invalid, errors listed
    assert r.status_code == 200
    errors = {e["loc"]: e for e in json.loads(r.text)["errors"]}
    assert errors["dt"]["input"] == "NaN"


def test_non_finite_numbers_on_the_playground_socket(client):
    with client.websocket_connect("/ws/sim") as ws:
        ws.send_text('{"type": "init", "effector": EFFECTOR, "position": [NaN, 1.0]}'.replace("EFFECTOR", json.dumps(_arm())))
        reply = json.loads(ws.receive_text())
    assert reply["type"] == "error" and [e["loc"] for e in reply["errors"]] == ["position.0"]
    assert reply["errors"][0]["input"] == "NaN"


# -- ids beyond 64 bits -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/runs/{id}"),
        ("DELETE", "/api/runs/{id}"),
        ("POST", "/api/runs/{id}/cancel"),
        ("POST", "/api/runs/{id}/resume"),
        ("GET", "/api/runs/{id}/metrics"),
        ("GET", "/api/runs/{id}/spec"),
        ("GET", "/api/runs/{id}/snapshots"),
        ("GET", "/api/runs/{id}/snapshots/-1"),
        ("GET", "/api/runs/{id}/logs"),
        ("GET", "/api/runs/{id}/checkpoint"),
        ("GET", "/api/runs/{id}/result"),
        ("GET", "/api/runs/{id}/result/summary.json"),
        ("GET", "/api/effectors/{id}"),
        ("PUT", "/api/effectors/{id}"),
        ("DELETE", "/api/effectors/{id}"),
        ("GET", "/api/tasks/{id}"),
        ("PUT", "/api/tasks/{id}"),
        ("DELETE", "/api/tasks/{id}"),
    ],
)
def test_ids_beyond_64_bits_are_422_not_500(client, method, path):
    body = None
    if method == "PUT":
        spec = presets.point_mass_24().model_dump(mode="json") if "effectors" in path else {"kind": "random_reach"}
        body = {"name": "x", "spec": spec}
    for bad in (HUGE, 10**30, 0, -1):
        r = client.request(method, path.format(id=bad), json=body)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["detail"][0]["loc"] in ("run_id", "item_id")
    largest = client.request(method, path.format(id=HUGE - 1), json=body)
    assert largest.status_code == 404, largest.text


def test_ids_beyond_64_bits_in_bodies_and_sockets(client):
    r = client.post("/api/simulate", json={"run_id": HUGE, "targets": [[0.0, 0.5]]})
    assert _error_at(_only_error(r), "run_id")["input"] == HUGE
    assert client.post("/api/simulate", json={"run_id": HUGE - 1, "targets": [[0.0, 0.5]]}).status_code == 404
    with client.websocket_connect("/ws/sim") as ws:
        ws.send_json({"type": "init", "run_id": HUGE})
        reply = ws.receive_json()
        assert reply["type"] == "error" and reply["errors"][0]["loc"] == "run_id"
        ws.send_json({"type": "init", "run_id": HUGE - 1})
        assert ws.receive_json() == {"type": "error", "message": f"run {HUGE - 1} not found"}
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect(f"/ws/runs/{HUGE}") as ws:
        reply = ws.receive_json()
        assert reply["type"] == "error" and reply["errors"][0]["loc"] == "run_id"
        ws.receive_json()
    assert info.value.code == 1008 and "run_id" in info.value.reason
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect(f"/ws/runs/{HUGE - 1}") as ws:
        assert ws.receive_json()["type"] == "error"
        ws.receive_json()
    assert info.value.code == 4404


# -- lone surrogates --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "text", "loc", "echo"),
    [
        ("/api/validate/run", '"\\ud800"', "", "\\ud800"),
        ("/api/effectors", '{"name": "x\\ud800", "spec": {}}', "name", "x\\ud800"),
        ("/api/runs", '{"preset": "tiny_point_mass", "name": "\\udfff run"}', "name", "\\udfff run"),
        ("/api/runs", '{"preset": "tiny_point_mass", "tags": ["ok", "\\uDC00"]}', "tags.1", "\\udc00"),
        ("/api/runs", '{"preset": "tiny_point_mass", "overrides": {"name\\ud800": 1}}', "overrides.name\\ud800", "name\\ud800"),
        ("/api/studies/moment_arms/runs", '{"params": {}, "name": "\\ud83d"}', "name", "\\ud83d"),
    ],
)
def test_lone_surrogates_are_422_naming_the_field(client, path, text, loc, echo):
    body = _only_error(_post_raw(client, path, text))
    error = _error_at(body, loc)
    assert error["input"] == echo and "surrogate" in error["msg"]


def test_surrogate_pairs_are_fine(client):
    text = json.dumps({**_arm(), "name": "PLACEHOLDER"}).replace("PLACEHOLDER", "arm \\ud83d\\ude00")
    r = _post_raw(client, "/api/validate/effector", text)
    assert r.status_code == 200 and r.json()["valid"] and r.json()["spec"]["name"] == "arm \U0001f600"


def test_lone_surrogates_on_the_playground_socket(client):
    effector = json.dumps({**_arm(), "name": "PLACEHOLDER"}).replace("PLACEHOLDER", "arm\\ud800")
    with client.websocket_connect("/ws/sim") as ws:
        ws.send_text(f'{{"type": "init", "effector": {effector}}}')
        reply = json.loads(ws.receive_text())
        assert reply["type"] == "error" and reply["errors"][0]["loc"] == "effector.name"
        ws.send_json({"type": "init", "effector": _arm()})
        assert ws.receive_json()["type"] == "ready"  # the socket stayed usable


# -- error paths are paths into the request -------------------------------------------------------------
def test_error_paths_have_no_union_tags(client):
    arm = _arm()
    arm["muscles"][2]["optimal_length"] = -1
    arm["skeleton"]["L1"] = 0
    arm["muscles"][0]["geometry"]["a0"] = "x"
    r = client.post("/api/effectors", json={"name": "x", "spec": arm})
    assert sorted(e["loc"] for e in _only_error(r)["detail"]) == [
        "spec.muscles.0.geometry.a0",
        "spec.muscles.2.optimal_length",
        "spec.skeleton.L1",
    ]
    r = client.post("/api/simulate", json={"effector": arm, "excitations": [[0.5]]})
    assert sorted(e["loc"] for e in _only_error(r)["detail"]) == [
        "effector.muscles.0.geometry.a0",
        "effector.muscles.2.optimal_length",
        "effector.skeleton.L1",
    ]
    r = client.post("/api/validate/effector", json=arm)
    assert sorted(e["loc"] for e in r.json()["errors"]) == ["muscles.0.geometry.a0", "muscles.2.optimal_length", "skeleton.L1"]
    with client.websocket_connect("/ws/sim") as ws:
        ws.send_json({"type": "init", "effector": arm})
        reply = ws.receive_json()
    assert sorted(e["loc"] for e in reply["errors"]) == [
        "effector.muscles.0.geometry.a0",
        "effector.muscles.2.optimal_length",
        "effector.skeleton.L1",
    ]
    assert reply["message"].startswith("effector.")


def test_error_paths_of_plain_unions_and_model_checks(client):
    arm = _arm()
    r = client.post("/api/simulate", json={"effector": arm, "excitations": [[0.5] * 6, [0.5, "x", 0.5, 0.5, 0.5, 0.5]]})
    assert {e["loc"] for e in _only_error(r)["detail"]} == {"excitations.1.1"}
    arm["muscles"][3]["name"] = arm["muscles"][1]["name"]
    r = client.post("/api/effectors", json={"name": "x", "spec": arm})
    assert [(e["loc"], e["input"]) for e in _only_error(r)["detail"]] == [("spec.muscles.3.name", arm["muscles"][1]["name"])]


# -- excitations in [0, 1] ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("excitations", "loc", "value"),
    [
        ([[0.5] * 6, [0.5, 1e30, 0.5, 0.5, 0.5, 0.5]], "excitations.1.1", 1e30),
        ([[-5.0, 0, 0, 0, 0, 0]], "excitations.0.0", -5.0),
        ([[[0.5] * 6, [0.5] * 5 + [1.0000001]]], "excitations.0.1.5", 1.0000001),
    ],
)
def test_excitations_outside_the_unit_interval_are_422(client, excitations, loc, value):
    r = client.post("/api/simulate", json={"effector": _arm(), "excitations": excitations})
    error = _error_at(_only_error(r), loc)
    assert error["input"] == value and ("less than or equal to 1" in error["msg"] or "greater than or equal to 0" in error["msg"])


def test_excitations_at_the_bounds_simulate(client):
    r = client.post("/api/simulate", json={"effector": _arm(), "excitations": [[0.0] * 6, [1.0] * 6]})
    assert r.status_code == 200, r.text


def test_socket_of_a_run_still_works_with_bounded_ids(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job)
    rid = c.post("/api/runs", json={"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 3}}).json()["id"]
    with c.websocket_connect(f"/ws/runs/{rid}") as ws:
        assert ws.receive_json()["run_id"] == rid
