"""Layering: specs, presets and environments know nothing of the studies built on them, and the
backend never writes into an environment."""

from __future__ import annotations

import ast
import json
import re
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


ENV_NAME = re.compile(r"(^|[._])(env|environment|eval_env|block_envs?)$|_env$")


def _env_writes(source: str) -> list[tuple[int, str]]:
    """(line, target) of every assignment to an attribute of something named like an environment
    (``env.goal = ...``, ``self.env.state += ...``, ``setattr(env, ...)``) in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif _is_setattr(node) and ENV_NAME.search(ast.unparse(node.args[0])):  # type: ignore[attr-defined]
            found.append((node.lineno, f"setattr({ast.unparse(node.args[0])}, ...)"))  # type: ignore[attr-defined]
        for t in targets:
            for sub in ast.walk(t):
                if isinstance(sub, ast.Attribute) and ENV_NAME.search(ast.unparse(sub.value)):
                    found.append((node.lineno, ast.unparse(sub)))
    return sorted(found)


def _is_setattr(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" and bool(node.args)


def test_the_env_write_finder_finds_what_it_should() -> None:
    src = "env.goal = 1\nself.eval_env.state += 2\nsetattr(train_env, 'x', 3)\n"
    src += "environment.a: int = 4\nnot_an_envelope.x = 5\nenv = make()\n"
    assert [line for line, _ in _env_writes(src)] == [1, 2, 3, 4]


def test_the_backend_never_writes_into_an_environment() -> None:
    """The backend talks to the core's environments through their public functions and specs, never by
    assigning to their attributes (issue 12)."""
    writes = {
        str(path.relative_to(ROOT)): hits
        for path in sorted((ROOT / "backend").rglob("*.py"))
        if (hits := _env_writes(path.read_text()))
    }
    assert writes == {}, writes
