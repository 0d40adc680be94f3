"""Import layering: specs, presets and environments know nothing of the studies built on them."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import gymnasium
import motornet_core.run_presets
import motornet_core.envs
gymnasium.make("MotorNet/Reach-v0")  # the registered entry point resolves a task preset
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[:2] == ["motornet_core", "studies"] or m.startswith("backend"))))
"""


def test_presets_and_envs_do_not_import_the_studies() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=ROOT, timeout=240)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_lazy_import_of_the_studies_below_them() -> None:
    core = ROOT / "motornet_core"
    below = [core / "presets.py", core / "run_presets.py", *(core / "specs").glob("*.py"), *(core / "envs").glob("*.py")]
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imported_modules(path) if m.startswith("motornet_core.studies"))
        for path in below
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}
