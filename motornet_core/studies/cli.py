"""``motornet-studio study``: run a study and write its figures, table and summary to a folder.

    motornet-studio study --list
    motornet-studio study NAME --out DIR [--quick] [--set key=value ...] [--quiet]

Writes ``DIR/figures.json``, ``DIR/table.csv``, ``DIR/table.json``, ``DIR/summary.json`` and
``DIR/figures.html`` (the figures, drawn by the plotly.js of the installed plotly package) and prints
the summary as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from motornet_core.errors import MotornetError, SpecError
from motornet_core.studies import STUDIES, quick_params, run_study, study_params
from motornet_core.studies.html import write_html
from motornet_core.training.sinks import NullSink

log = logging.getLogger(__name__)


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``["iterations=3000", "effectors=[\\"arm26\\"]"]`` -> a dict; values parse as JSON when they can."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SpecError([{"loc": "--set", "msg": "expected KEY=VALUE", "input": item}])
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


class ProgressSink(NullSink):
    """Logs a line every ``every`` iterations and every phase message."""

    def __init__(self, every: int = 25) -> None:
        self.every = every

    def on_metric(self, step: int, values: dict[str, float]) -> None:
        """Log the loss now and then."""
        if step % self.every == 0:
            log.info("step %d: loss %.4f", step, values["loss"])

    def on_log(self, level: str, message: str) -> None:
        """Forward to logging."""
        log.log(logging.getLevelName(level.upper()), message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``motornet-studio study``."""
    p = argparse.ArgumentParser(prog="motornet-studio study", description="Run one of the paper's experiments.")
    p.add_argument("name", nargs="?", help=f"one of {', '.join(STUDIES)}")
    p.add_argument("--list", action="store_true", help="list the studies and their parameters")
    p.add_argument("--out", help="output folder")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--quick", action="store_true", help="quick mode: 2 seeds, few iterations (a pipeline check, not a result)")
    return p


def _list() -> str:
    lines = []
    for s in STUDIES.values():
        lines.append(f"{s.name}  (~{s.expected_seconds:g} s on 2 CPU cores)\n  {s.title}")
        if s.quick:
            lines.append(f"    --quick: {json.dumps(s.quick)}")
        for key, value in s.params().model_dump(mode="json").items():
            lines.append(f"    {key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 on success, 1 when the study failed or was cancelled, 2 for bad arguments."""
    args = build_parser().parse_args(argv)
    if args.list:
        sys.stdout.write(_list())
        return 0
    if not args.name or not args.out:
        sys.stderr.write("usage: motornet-studio study NAME --out DIR [--set KEY=VALUE ...]  (or --list)\n")
        return 2
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(message)s")
    try:
        sets = parse_sets(args.sets)
        params = study_params(args.name, quick_params(args.name, sets) if args.quick else sets)
    except SpecError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    out = Path(args.out)
    try:
        result = run_study(args.name, params, sink=ProgressSink(), out_dir=out)
    except MotornetError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    write_html(out / "figures.html", result.name, result.figures, title=STUDIES[args.name].title)
    sys.stdout.write(json.dumps({"study": result.name, "seconds": round(result.seconds, 2), "summary": result.summary}) + "\n")
    return 1 if result.cancelled else 0


if __name__ == "__main__":
    sys.exit(main())
