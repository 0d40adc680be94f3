"""Write docs/studies.md: every study's key numbers, duration and an HTML page of its figures.

    nice .venv/bin/python scripts/make_studies_doc.py [--only NAME ...] [--results DIR] [--docs docs]

For each study it reuses ``DIR/NAME/{summary,table,figures}.json`` when present (the output of
``motornet-studio study NAME --out DIR/NAME``), else runs the study with its default parameters.
It writes ``docs/studies/NAME/{figures.json,table.csv,summary.json,figures.html}`` and
``docs/studies.md``; studies neither found nor run are listed as not yet run.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from motornet_core.studies import STUDIES, StudyResult, run_study  # noqa: E402
from motornet_core.studies.cli import ProgressSink  # noqa: E402
from motornet_core.studies.html import write_html  # noqa: E402

log = logging.getLogger("make_studies_doc")

NOTES = {
    "muscle_curves": (
        "Every Hill-type model peaks at the optimal length (1.0) with F_max and its force rises monotonically with "
        "velocity (shortening below 1, lengthening above); relu muscles are force = activation x F_max, flat in both. "
        "The models differ most in the passive curve (thelen and mujoco stiffer than rigid/compliant Hill) and in how "
        "fast force falls with shortening."
    ),
    "moment_arms": (
        "Flexors have negative moment arms (dL/dq < 0), extensors positive; the biarticular biceps and long triceps "
        "act on both joints. arm26's polynomial geometry keeps shoulder moment arms constant; arm210's path points "
        "give angle-dependent moment arms."
    ),
    "centre_out_curl_field": (
        "The clockwise field pushes every reach to the right (negative deviation, all 8 targets), 25 iterations in the "
        "field bring the deviation back to the null-field level, and removing the field deflects every reach to the "
        "left (positive after-effect), as in the paper. With the small default training the baseline reaches are "
        "still imprecise (endpoint errors of a few cm) and the after-effects overshoot; `--set iterations=3000` gives "
        "cleaner paths."
    ),
    "posture_perturbations": (
        "After 1000 iterations the hand moves about 0.8 cm per newton of load (3.2 cm at 4 N), along the load "
        "(mean angle 14 deg; loads at 90 and 270 deg, along the forearm's weaker axis, move it most), slightly less "
        "for the later onset; every muscle co-contracts and the increase is tuned to the load direction (pectoralis "
        "most for 0 deg, lateral triceps for 225 deg). After only 300 iterations (below) the network barely resists: "
        "~15 cm at 4 N."
    ),
    "pmd_point_mass_vs_arm": (
        "After 1000 iterations per network (both reach within 2 mm) the arm's preferred directions are bimodal "
        "(axial Rayleigh p = 0.002, axis near 8/188 deg) and the point mass's are not (axial p = 0.13), the paper's "
        "contrast. After only 300 iterations (below) arm26 still misses by ~5 cm and neither distribution departs "
        "from uniformity: the bimodality comes with learning the arm's anisotropic mechanics."
    ),
}

COMMANDS = {name: f"motornet-studio study {name} --out out/{name}" for name in STUDIES}


def load_result(folder: Path, name: str) -> StudyResult | None:
    """A finished study's result from the files :meth:`StudyResult.write` left in ``folder``."""
    if not (folder / "summary.json").exists():
        return None
    head = json.loads((folder / "summary.json").read_text())
    if head.get("cancelled"):
        return None
    return StudyResult(
        name=name,
        params=head["params"],
        figures=json.loads((folder / "figures.json").read_text()),
        table=json.loads((folder / "table.json").read_text()),
        summary=head["summary"],
        seconds=float(head["seconds"]),
    )


def fmt(value: Any) -> str:
    """A table cell: 3 significant digits for floats."""
    if isinstance(value, float):
        return f"{value:.3g}"
    if value is None:
        return "-"
    return str(value)


def markdown_table(rows: list[dict[str, Any]], max_rows: int = 24) -> str:
    """Rows as a markdown table (the first ``max_rows``)."""
    if not rows:
        return "(no rows)\n"
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r.get(k)) for k in keys) + " |" for r in rows[:max_rows]]
    if len(rows) > max_rows:
        lines.append(f"\n({len(rows) - max_rows} more rows in the CSV)")
    return "\n".join(lines) + "\n"


def summary_lines(summary: dict[str, Any], prefix: str = "") -> list[str]:
    """Nested summary as bullet points."""
    out = []
    for key, value in summary.items():
        if isinstance(value, dict):
            out += summary_lines(value, f"{prefix}{key}.")
        elif isinstance(value, list) and len(value) > 12:
            out.append(f"- `{prefix}{key}`: {json.dumps(value[:12])[:-1]}, ...] ({len(value)} values)")
        else:
            out.append(f"- `{prefix}{key}`: {fmt(value) if not isinstance(value, list) else json.dumps(value)}")
    return out


def section(name: str, result: StudyResult | None) -> str:
    """The markdown section of one study."""
    info = STUDIES[name]
    text = [f"## {info.title} (`{name}`)\n", info.description + "\n", f"Command: `{COMMANDS[name]}`\n"]
    if result is None:
        text.append(f"Not run for this document yet (expected ~{info.expected_seconds:g} s).\n")
        return "\n".join(text)
    changed = {k: v for k, v in result.params.items() if info.params().model_dump(mode="json").get(k) != v}
    text.append(
        f"Duration on this machine: **{result.seconds:.1f} s**"
        + (f" with {json.dumps(changed)}" if changed else " (defaults)")
        + ".\n"
    )
    text.append(f"Figures: [studies/{name}/figures.html](studies/{name}/figures.html) (JSON: `studies/{name}/figures.json`).\n")
    if name in NOTES:
        text.append(f"Reading it: {NOTES[name]}\n")
    text.append("Key numbers:\n")
    text.append("\n".join(summary_lines(result.summary)) + "\n")
    text.append(f"Table (`studies/{name}/table.csv`):\n")
    text.append(markdown_table(result.table))
    return "\n".join(text)


def extra_section(name: str, result: StudyResult, folder: Path) -> str:
    """A sub-section for another run of ``name`` with other parameters, its files in ``folder``."""
    result.write(folder)
    write_html(folder / "figures.html", name, result.figures, title=f"{STUDIES[name].title} ({folder.name})")
    defaults = STUDIES[name].params().model_dump(mode="json")
    changed = {k: v for k, v in result.params.items() if defaults.get(k) != v}
    rel = f"studies/{folder.name}"
    text = [
        f"### The same study with {json.dumps(changed)}\n",
        f"Command: `{COMMANDS[name]} " + " ".join(f"--set {k}={json.dumps(v)}" for k, v in changed.items()) + "`\n",
        f"Duration on this machine: **{result.seconds:.1f} s**. Figures: [{rel}/figures.html]({rel}/figures.html).\n",
        "Key numbers:\n",
        "\n".join(summary_lines(result.summary)) + "\n",
        markdown_table(result.table),
    ]
    return "\n".join(text)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", default=None, help="studies to run when no results exist (default: all)")
    p.add_argument("--results", type=Path, default=None, help="folder of earlier `study --out` results to reuse")
    p.add_argument("--docs", type=Path, default=ROOT / "docs")
    p.add_argument("--no-run", action="store_true", help="only reuse results, run nothing")
    p.add_argument("--extra", action="append", default=[], metavar="NAME=DIR", help="also show this run of NAME (other settings)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    sections = []
    for name in STUDIES:
        result = load_result(args.results / name, name) if args.results else None
        folder = args.docs / "studies" / name
        if result is None and not args.no_run and (args.only is None or name in args.only):
            result = run_study(name, sink=ProgressSink())
        if result is None:
            result = load_result(folder, name)  # keep what an earlier run of this script wrote
        if result is not None:
            result.write(folder)
            write_html(folder / "figures.html", name, result.figures, title=STUDIES[name].title, notes=STUDIES[name].description)
        sections.append(section(name, result))
        for i, item in enumerate(x for x in args.extra if x.split("=", 1)[0] == name):
            extra = load_result(Path(item.split("=", 1)[1]), name)
            if extra is not None:
                sections.append(extra_section(name, extra, args.docs / "studies" / f"{name}_extra{i + 1}"))
    head = [
        "# Studies: the paper's experiments\n",
        "Ready-made reproductions of the experiments of Codol et al. (2024), *MotorNet* (eLife). Each study trains",
        "what it needs, runs its analysis and writes plotly figures (JSON, and an HTML page drawn by the plotly.js",
        "of the installed `plotly` package), a table (CSV) and headline numbers (`summary.json`).\n",
        "From Python: `motornet_core.studies.run_study(name, params, sink, should_stop, out_dir)`; from the shell:",
        "`motornet-studio study NAME --out DIR [--set key=value ...]` (`motornet-studio study --list` shows every",
        "parameter). Training studies use small defaults that finish in minutes on a CPU; larger settings are one",
        "override away (`--set iterations=3000 --set hidden_size=64`).\n",
        f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads available, 2 cores shared with other",
        "work while these were run, so the durations are pessimistic. This page is written by",
        "`scripts/make_studies_doc.py`.\n",
        "Sign conventions: lateral deviation is positive to the left of the movement; moment arms are dL/dq, negative",
        "for a flexor; angles in degrees counter-clockwise from +x.\n",
    ]
    (args.docs / "studies.md").write_text("\n".join(head) + "\n" + "\n".join(sections), encoding="utf-8")
    log.info("wrote %s", args.docs / "studies.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
