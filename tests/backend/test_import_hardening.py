"""Checkpoint import against forged files: strings, numbers and model sizes are checked before
anything is built or stored, and one stored row that cannot be served never takes a listing down."""

from __future__ import annotations

import io
import json
import sqlite3

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
