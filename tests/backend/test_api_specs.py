"""CRUD of saved effector and task specs, errors with paths, 404s, and the SQLite file itself."""

from __future__ import annotations

import sqlite3

import pytest

from motornet_core import presets


@pytest.fixture
def task_spec(client) -> dict:
    return next(iter(client.get("/api/presets").json()["tasks"].values()))


def test_effector_crud(client):
    spec = presets.point_mass_24().model_dump(mode="json")
    r = client.post("/api/effectors", json={"name": "pm", "spec": spec})
    assert r.status_code == 201
    item = r.json()
    assert item["name"] == "pm" and item["spec"]["skeleton"]["kind"] == "point_mass"
    assert [e["id"] for e in client.get("/api/effectors").json()] == [item["id"]]
    spec["dt"] = 0.005
    r = client.put(f"/api/effectors/{item['id']}", json={"name": "pm2", "spec": spec})
    assert r.status_code == 200 and r.json()["spec"]["dt"] == 0.005
    assert client.get(f"/api/effectors/{item['id']}").json()["name"] == "pm2"
    assert client.delete(f"/api/effectors/{item['id']}").status_code == 204
    assert client.get(f"/api/effectors/{item['id']}").status_code == 404
    assert client.delete(f"/api/effectors/{item['id']}").status_code == 404


def test_invalid_effector_is_422_with_the_path(client):
    spec = presets.arm26().model_dump(mode="json")
    spec["muscles"][1]["tau_activation"] = -5
    r = client.post("/api/effectors", json={"name": "bad", "spec": spec})
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == ["spec.muscles.1.tau_activation"]  # the path sent, no union tag


def test_task_crud_and_kinds_do_not_mix(client, task_spec):
    r = client.post("/api/tasks", json={"name": "t", "spec": task_spec})
    assert r.status_code == 201
    tid = r.json()["id"]
    assert client.get(f"/api/tasks/{tid}").json()["spec"]["kind"] == task_spec["kind"]
    assert client.get(f"/api/effectors/{tid}").status_code == 404
    assert client.put(f"/api/tasks/{tid}", json={"name": "t", "spec": {**task_spec, "duration": -1}}).status_code == 422
    assert client.get("/api/tasks/999").status_code == 404


def test_sqlite_runs_in_wal_mode(client, tmp_path):
    client.post("/api/effectors", json={"name": "pm", "spec": presets.point_mass_24().model_dump(mode="json")})
    with sqlite3.connect(tmp_path / "data" / "studio.db") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT count(*) FROM saved_specs").fetchone()[0] == 1


def test_any_sqlalchemy_url(make_client, tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    c = make_client(database_url=url)
    assert c.post("/api/tasks", json={"name": "t", "spec": {"kind": "random_reach"}}).status_code == 201
    assert (tmp_path / "elsewhere.db").exists()
