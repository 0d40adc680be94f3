"""One version: pyproject.toml reads ``motornet_core.__version__``, and the API and the CLI report it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import motornet_core
from backend.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_reads_the_version_from_motornet_core():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "motornet_core.__version__"}


def test_installed_metadata_agrees():
    try:
        installed = metadata.version("motornet-studio")
    except metadata.PackageNotFoundError:
        pytest.skip("the package is not installed")
    assert installed == motornet_core.__version__


def test_api_reports_the_version(client):
    assert client.get("/api/health").json()["version"] == motornet_core.__version__
    assert client.get("/openapi.json").json()["info"]["version"] == motornet_core.__version__


def test_cli_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"motornet-studio {motornet_core.__version__}\n"


def test_cli_version_in_a_fresh_process():
    out = subprocess.run(
        [sys.executable, "-m", "backend.cli", "--version"], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    assert out.stdout.strip() == f"motornet-studio {motornet_core.__version__}"
