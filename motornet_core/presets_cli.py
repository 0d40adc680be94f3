"""``motornet-studio presets [--json]``: list the effector, task, run and study presets.

The listing sits above the presets and the studies built on them, so that neither the specs nor
the presets import the studies.
"""

from __future__ import annotations

import argparse
import json
import sys

from motornet_core import presets
from motornet_core.run_presets import RUN_PRESETS, TASK_DESCRIPTIONS
from motornet_core.studies import STUDIES


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text and text.strip() else ""


def list_presets() -> dict[str, dict[str, str]]:
    """{"effectors": {name: description}, "tasks": {...}, "runs": {...}, "studies": {...}}."""
    effectors = {name: factory().description for name, factory in presets.EFFECTOR_PRESETS.items()}
    runs = {name: _first_line(factory.__doc__) for name, factory in RUN_PRESETS.items()}
    studies = {name: info.title for name, info in STUDIES.items()}
    return {"effectors": effectors, "tasks": dict(TASK_DESCRIPTIONS), "runs": runs, "studies": studies}


def main(argv: list[str] | None = None) -> int:
    """``motornet-studio presets [--json]``: list the effector, task, run and study presets."""
    parser = argparse.ArgumentParser(prog="motornet-studio presets", description="List the presets.")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    table = list_presets()
    if args.json:
        sys.stdout.write(json.dumps(table, indent=2) + "\n")
        return 0
    for group, items in table.items():
        sys.stdout.write(f"{group}:\n")
        for name, text in items.items():
            sys.stdout.write(f"  {name:24s} {text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
