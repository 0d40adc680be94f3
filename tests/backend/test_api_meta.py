"""Health, presets, schemas, validation, static files, limits and the access token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.main import main
from motornet_core import EffectorSpec, presets
from motornet_core.specs import RunSpec


def test_health(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["max_workers"] == 2
    assert body["active_runs"] == 0
    assert body["ws_dropped_messages"] == 0


def test_presets_are_valid_specs(client):
    body = client.get("/api/presets").json()
    assert set(body) == {"effectors", "tasks", "runs", "studies"}
    assert set(presets.EFFECTOR_PRESETS) <= set(body["effectors"])
    for spec in body["effectors"].values():
        EffectorSpec.parse(spec)
    for spec in body["runs"].values():
        RunSpec.parse(spec)
    assert body["tasks"]
    for name, study in body["studies"].items():
        assert study["name"] == name and "schema" in study and "defaults" in study


@pytest.mark.parametrize("kind", ["effector", "task", "run", "policy", "loss", "train"])
def test_schema_of_each_kind(client, kind):
    schema = client.get(f"/api/schema/{kind}").json()
    assert "properties" in schema or "oneOf" in schema or "anyOf" in schema


def test_unknown_schema_kind_is_422(client):
    assert client.get("/api/schema/banana").status_code == 422


def test_validate_reports_every_error_with_its_path(client):
    spec = presets.arm26().model_dump(mode="json")
    assert client.post("/api/validate/effector", json=spec).json()["valid"] is True
    spec["dt"] = -1
    spec["muscles"][2]["max_iso_force"] = "lots"
    r = client.post("/api/validate/effector", json=spec)
    assert r.status_code == 200
    body = r.json()
    assert body["valid"] is False
    assert sorted(e["loc"] for e in body["errors"]) == ["dt", "muscles.2.max_iso_force"]  # no union tags


def test_validate_run_cross_field_error(client):
    spec = client.get("/api/presets").json()["runs"]["tiny_arm26"]
    spec["task"]["vision_delay"] = 0.033
    body = client.post("/api/validate/run", json=spec).json()
    assert body["valid"] is False
    assert body["errors"][0]["loc"] == "task.vision_delay"


def test_openapi_and_docs(client):
    page = client.get("/docs")
    assert page.status_code == 200
    # Swagger UI comes from the server itself (works offline), never from a CDN
    assert "https://" not in page.text and "/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client.get(f"/vendor/swagger-ui/{asset}").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/runs" in paths and "/api/simulate" in paths


def test_frontend_and_plotly_are_served(client):
    r = client.get("/vendor/plotly.min.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]
    assert len(r.content) > 1_000_000
    assert client.get("/").status_code == 200


def test_body_limit(make_client):
    c = make_client(max_body_bytes=2048)
    r = c.post("/api/validate/effector", content=b"[" + b"1," * 5000 + b"1]", headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_access_token(make_client):
    c: TestClient = make_client(access_token="s3cret-token-0123456789")
    assert c.get("/api/health").status_code == 401
    assert c.get("/api/health", headers={"Authorization": "Bearer s3cret-token-0123456789"}).status_code == 200
    assert c.get("/api/health", headers={"X-Access-Token": "wrong"}).status_code == 401
    assert c.get("/api/health?token=s3cret-token-0123456789").status_code == 200
    page = c.get("/?token=s3cret-token-0123456789")
    assert "motornet_token" in page.headers.get("set-cookie", "")
    assert c.get("/api/health").status_code == 200  # the cookie now carries the token


def test_public_bind_needs_a_token(tmp_path, capsys):
    with pytest.raises(ValueError, match="access token"):
        Settings(host="0.0.0.0", data_dir=tmp_path).check_exposure()
    Settings(host="0.0.0.0", access_token="x" * 16, data_dir=tmp_path).check_exposure()
    for weak in ("   ", "x" * 15, " " + "x" * 16):
        with pytest.raises(ValueError, match="access token"):
            Settings(host="0.0.0.0", access_token=weak, data_dir=tmp_path)
    assert Settings(access_token="", data_dir=tmp_path).access_token is None
    Settings(host="::1", data_dir=tmp_path).check_exposure()
    assert main(["--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path)]) == 2
    assert "access token" in capsys.readouterr().err


def test_database_url_defaults_to_sqlite_in_data_dir(tmp_path):
    s = Settings(data_dir=tmp_path)
    assert s.resolved_database_url == f"sqlite:///{(tmp_path / 'studio.db').resolve()}"
    assert Settings(data_dir=tmp_path, database_url="postgresql://u@h/db").resolved_database_url.startswith("postgresql")
