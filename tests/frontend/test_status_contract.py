"""The frontend's run statuses are the API's: ``logic/status.js`` against ``RunStatus`` in ``/openapi.json``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from backend.app.core.config import Settings
from backend.app.main import create_app
from backend.app.status import ACTIVE_STATUSES, RESUMABLE_STATUSES, TERMINAL_STATUSES

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "frontend" / "scripts"
PRINT = """
import { ACTIVE, RESUMABLE, STATUSES, TERMINAL } from "./frontend/scripts/logic/status.js";
console.log(JSON.stringify({ STATUSES, ACTIVE: [...ACTIVE], TERMINAL: [...TERMINAL], RESUMABLE: [...RESUMABLE] }));
"""
# `status === "x"`, `.status !== "x"`: a status the code tests for by name
COMPARED = re.compile(r"status\s*[!=]==?\s*\"(\w+)\"")


@pytest.fixture(scope="module")
def api_statuses(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("data")))
    schema = app.openapi()
    app.state.engine.dispose()
    enum = schema["components"]["schemas"]["RunStatus"]["enum"]
    run_summary = schema["components"]["schemas"]["RunSummary"]["properties"]["status"]
    assert run_summary == {"$ref": "#/components/schemas/RunStatus"}
    return list(enum)


@pytest.fixture(scope="module")
def frontend_groups() -> dict[str, list[str]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the frontend tests need Node >= 20")
    proc = subprocess.run(
        [node, "--input-type=module", "-e", PRINT], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(proc.stdout)


def test_the_frontend_list_is_the_openapi_enum(api_statuses, frontend_groups):
    assert frontend_groups["STATUSES"] == api_statuses


def test_the_frontend_groups_are_the_backends(frontend_groups):
    assert set(frontend_groups["ACTIVE"]) == set(ACTIVE_STATUSES)
    assert set(frontend_groups["TERMINAL"]) == set(TERMINAL_STATUSES)
    assert set(frontend_groups["RESUMABLE"]) == set(RESUMABLE_STATUSES)


def test_every_status_the_frontend_compares_with_is_in_the_enum(api_statuses):
    used = {m for path in SCRIPTS.rglob("*.js") for m in COMPARED.findall(path.read_text(encoding="utf-8"))}
    assert used, "no status comparisons found: the pattern no longer matches the frontend's code"
    assert used <= set(api_statuses), sorted(used - set(api_statuses))
