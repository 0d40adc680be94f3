"""Access to the reference recordings in ../shared/reference (beside the repository)."""

from __future__ import annotations

import json
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "reference"


def reference_files() -> list[Path]:
    """Every shared scenario file (not the gradient check)."""
    return sorted(REFERENCE_DIR.glob("*__*.json"))


def load(name: str) -> dict:
    """A reference file by stem."""
    return json.loads((REFERENCE_DIR / f"{name}.json").read_text())
