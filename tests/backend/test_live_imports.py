"""Checkpoint import against a live ``motornet-studio serve``: a spec string that is not Unicode is
refused, and a stored row that cannot be served leaves the listings up, across a restart."""

from __future__ import annotations

import io
import json
import sqlite3

import httpx
import pytest
import torch

from motornet_core.run_presets import run_preset
from motornet_core.training import Trainer
from tests.conftest import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> dict:
    trainer = Trainer(run_preset("tiny_point_mass").with_updates({"train.n_iterations": 4}))
    trainer.train_step()
    path = tmp_path_factory.mktemp("ckpt") / "c.pt"
    trainer.save_checkpoint(path)
    return torch.load(path, weights_only=True)


def _bytes(payload: dict, **fields) -> bytes:
    buf = io.BytesIO()
    torch.save({**payload, **fields}, buf)
    return buf.getvalue()


def _import(server: LiveServer, data: bytes) -> httpx.Response:
    return httpx.post(f"{server.url}/api/runs/import", content=data, headers={"content-type": "application/octet-stream"})


def test_bad_strings_are_refused_and_a_bad_row_never_takes_the_list_down(live_server: LiveServer, checkpoint):
    spec = json.loads(checkpoint["spec"])
    r = _import(live_server, _bytes(checkpoint, spec=json.dumps({**spec, "tags": ["\udfff"]})))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == "checkpoint.spec.tags.0", r.text
    good = _import(live_server, _bytes(checkpoint)).json()["id"]
    bad = _import(live_server, _bytes(checkpoint)).json()["id"]
    with sqlite3.connect(live_server.data_dir / "studio.db") as con:  # as an older version could have stored it
        con.execute(
            "UPDATE runs SET tags = ?, spec = ? WHERE id = ?", ('["\\udfff"]', json.dumps({**spec, "tags": ["\udfff"]}), bad)
        )
    for _ in range(2):
        for query in ("", "?kind=all", "?status=interrupted", "?sort=name"):
            r = httpx.get(f"{live_server.url}/api/runs{query}")
            assert r.status_code == 200 and good in [x["id"] for x in r.json()], (query, r.text)
        r = httpx.get(f"{live_server.url}/api/runs/{bad}")
        assert r.status_code == 200 and r.json()["spec"] is None, r.text
        live_server.restart()
    assert "Traceback" not in live_server.log()
