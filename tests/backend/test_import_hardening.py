"""Checkpoint import against forged files: strings, numbers and model sizes are checked before
anything is built or stored, and one stored row that cannot be served never takes a listing down."""

from __future__ import annotations

import io
import json
import sqlite3
import time

import pytest
import torch
from fastapi.testclient import TestClient

from motornet_core.run_presets import run_preset
from motornet_core.training import Trainer


@pytest.fixture(scope="module")
def payload(tmp_path_factory) -> dict:
    """A genuine 2-of-4-iterations checkpoint, loaded (forge copies of it)."""
    trainer = Trainer(run_preset("tiny_point_mass").with_updates({"train.n_iterations": 4}))
    for _ in range(2):
        trainer.train_step()
    path = tmp_path_factory.mktemp("ckpt") / "c.pt"
    trainer.save_checkpoint(path)
    return torch.load(path, weights_only=True)


def _forge(payload: dict, spec: dict | None = None, **fields) -> bytes:
    forged = {**payload, **fields}
    if spec is not None:
        forged["spec"] = json.dumps(spec)
    buf = io.BytesIO()
    torch.save(forged, buf)
    return buf.getvalue()


def _spec(payload: dict) -> dict:
    return json.loads(payload["spec"])


def _upload(c: TestClient, data: bytes):
    return c.post("/api/runs/import", content=data, headers={"content-type": "application/octet-stream"})


def _loc(r) -> str:
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]["loc"]


def test_a_lone_surrogate_in_a_tag_is_422_and_nothing_is_stored(make_client, payload):
    c = make_client()
    r = _upload(c, _forge(payload, {**_spec(payload), "tags": ["ok", "\udfff"]}))
    assert _loc(r) == "checkpoint.spec.tags.1"
    assert "surrogate" in r.json()["message"]
    assert c.get("/api/runs").json() == []


def test_a_stored_row_that_cannot_be_served_does_not_take_the_list_down(make_client, payload):
    c = make_client()
    good = _upload(c, _forge(payload)).json()["id"]
    bad = _upload(c, _forge(payload)).json()["id"]
    db = c.app.state.settings.data_dir / "studio.db"
    with sqlite3.connect(db) as con:  # a row written before strings were checked
        spec = _spec(payload) | {"tags": ["\udfff"]}
        con.execute("UPDATE runs SET tags = ?, spec = ? WHERE id = ?", ('["\\udfff"]', json.dumps(spec), bad))
    for query in ("", "?status=interrupted", "?tag=imported", "?kind=all", "?sort=name"):
        r = c.get(f"/api/runs{query}")
        assert r.status_code == 200, (query, r.text)
        assert good in [x["id"] for x in r.json()]
    r = c.get(f"/api/runs/{bad}")
    assert r.status_code == 200, r.text
    assert r.json()["spec"] is None and "cannot be served" in r.json()["error"]
    assert c.get(f"/api/runs/{good}").status_code == 200
    assert c.delete(f"/api/runs/{bad}").status_code == 204


@pytest.mark.parametrize(
    ("step", "history"),
    [
        (1e30, None),
        (2**63, None),
        (2.0, None),
        (True, None),
        (-5, []),
        (1_500_000, None),
        (5, [0.1] * 5),
    ],
)
def test_forged_steps_are_422_naming_the_step(make_client, payload, step, history):
    c = make_client()
    r = _upload(c, _forge(payload, step=step, history=history if history is not None else payload["history"]))
    assert _loc(r) == "checkpoint.step"
    assert c.get("/api/runs").json() == []


@pytest.mark.parametrize(
    ("history", "loc"),
    [
        ([0.5], "checkpoint.history"),
        ([0.5, 0.4, 0.3], "checkpoint.history"),
        ([0.5, float("nan")], "checkpoint.history.1"),
        ([float("inf"), 0.5], "checkpoint.history.0"),
        ([0.5, "x"], "checkpoint.history.1"),
        ("nope", "checkpoint.history"),
    ],
)
def test_forged_histories_are_422_naming_the_field(make_client, payload, history, loc):
    c = make_client()
    assert _loc(_upload(c, _forge(payload, history=history))) == loc


def test_a_huge_forged_policy_is_refused_without_building_it(make_client, payload):
    c = make_client()
    spec = _spec(payload)
    spec["policy"] = {**spec["policy"], "kind": "lstm", "hidden_size": 2048, "n_layers": 8}
    start = time.monotonic()
    r = _upload(c, _forge(payload, spec))
    assert _loc(r) == "checkpoint.policy"
    assert time.monotonic() - start < 5.0
    assert c.get("/api/runs").json() == []


def test_forged_weights_and_optimizer_state_are_422(make_client, payload):
    c = make_client()
    policy = dict(payload["policy"])
    name = next(iter(policy))
    assert _loc(_upload(c, _forge(payload, policy={**policy, name: torch.zeros(3, 3, 3)}))) == f"checkpoint.policy.{name}"
    assert _loc(_upload(c, _forge(payload, policy={**policy, "extra.weight": torch.zeros(1)}))) == "checkpoint.policy"
    assert _loc(_upload(c, _forge(payload, policy={**policy, name: torch.full_like(policy[name], float("nan"))}))) == (
        f"checkpoint.policy.{name}"
    )
    assert _loc(_upload(c, _forge(payload, optimizer={"state": {}, "param_groups": "x"}))) == "checkpoint.optimizer"
    assert _loc(_upload(c, _forge(payload, generator=torch.zeros(3)))) == "checkpoint.generator"


def test_import_errors_show_no_server_paths_or_colour_codes(make_client, payload):
    c = make_client()
    data_dir = str(c.app.state.settings.data_dir)
    for data in (_forge(payload, format="other/1"), b"PK\x03\x04 truncated zip", _forge(payload)[:2000]):
        r = _upload(c, data)
        assert r.status_code == 422, r.text
        assert data_dir not in r.text and "/tmp" not in r.text and ".import-" not in r.text, r.text
        assert "\x1b[" not in r.text and "\\u001b" not in r.text, r.text


def test_a_genuine_checkpoint_still_imports(make_client, payload):
    c = make_client()
    r = _upload(c, _forge(payload))
    assert r.status_code == 201, r.text
    assert r.json()["step"] == 2 and r.json()["status"] == "interrupted"
