"""Draw docs/figures/multi_area_lesion.png from the ``premotor_lesion`` study (run here, or read from a results folder).

    nice .venv/bin/python scripts/make_multi_area_figure.py --results out/premotor_lesion [--params '{"seeds": 5}']

With ``--results DIR`` holding ``summary.json``, ``table.json`` and ``figures.json`` (the study's
``StudyResult.write``), nothing is trained; otherwise the study runs with ``--params`` and writes DIR.
The figure: each seed's endpoint error intact vs lesioned (paired lines), the motor area's RMS
activity over the trial (mean of the seeds) and seed 0's hand paths.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from motornet_core.studies import run_study  # noqa: E402


def _load(results: Path, params: dict) -> tuple[dict, list, dict]:
    if not (results / "summary.json").is_file():
        run_study("premotor_lesion", params, out_dir=results)
    summary = json.loads((results / "summary.json").read_text())
    table = json.loads((results / "table.json").read_text())
    figures = json.loads((results / "figures.json").read_text())
    return summary, table, figures


def draw(summary: dict, table: list, figures: dict, out: Path) -> None:
    """The three-panel PNG (about 9 x 3 inches at 110 dpi)."""
    s = summary["summary"]
    fig, ax = plt.subplots(1, 3, figsize=(9.6, 3.1), dpi=110)
    seeds = sorted({r["seed"] for r in table})
    for k, seed in enumerate(seeds):
        rows = {r["condition"]: r["endpoint_error_cm"] for r in table if r["seed"] == seed}
        y = [rows["intact"], rows["lesioned"]]
        ax[0].plot([0, 1], y, "o-", color="0.4", lw=1, ms=3, label="one seed" if k == 0 else None)
    ee = s["endpoint_error_cm"]
    for x, c in enumerate(("intact", "lesioned")):
        m = ee[c]["mean"]
        ax[0].errorbar(x, m, yerr=[[m - ee[c]["low"]], [ee[c]["high"] - m]], fmt="s", color="C3", capsize=4)
    d = ee["lesioned_minus_intact"]
    ax[0].set_xticks([0, 1], ["intact", "premotor\nlesioned"])
    ax[0].set_xlim(-0.4, 1.4)
    ax[0].set_ylabel("endpoint error [cm]")
    title = f"Δ = {d['difference']:.2f} cm [{d['low']:.2f}, {d['high']:.2f}]"
    ax[0].set_title(f"{title}\npaired t = {d['t']:.1f}, p = {d['p']:.2g}, n = {d['n']}", fontsize=8)
    traces = figures["motor_activity"]["data"]
    for tr, c in zip([t for t in traces if t.get("showlegend")], ("C0", "C1"), strict=False):
        ax[1].plot(tr["x"], tr["y"], color=c, label=tr["name"].split(" (")[0])
    start = summary["params"].get("lesion_start", 0.0)
    ax[1].axvline(start, color="0.5", ls=":", lw=1)
    ax[1].set_xlabel("time [s]")
    ax[1].set_ylabel("motor-area RMS activity")
    ax[1].legend(fontsize=7, frameon=False)
    ax[1].set_title(f"motor area (lesion from {start:g} s)", fontsize=8)
    lines = [t for t in figures["paths"]["data"] if t.get("mode") == "lines"]
    for tr in sorted(lines, key=lambda t: t["name"] == "intact"):  # intact on top of the lesioned paths
        intact = tr["name"] == "intact"
        style = {"color": "C0", "lw": 1.6} if intact else {"color": "C1", "lw": 1, "ls": "--"}
        ax[2].plot(tr["x"], tr["y"], **style, label=tr["name"] if tr.get("showlegend") else None)
    for tr in figures["paths"]["data"]:
        if tr["name"] == "targets":
            ax[2].plot(tr["x"], tr["y"], "o", mfc="none", color="k", ms=6)
    ax[2].set_aspect("equal", adjustable="datalim")
    ax[2].set_xlabel("x [cm]")
    ax[2].set_ylabel("y [cm]")
    ax[2].legend(fontsize=7, frameon=False)
    ax[2].set_title("hand paths, seed 0", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "out" / "premotor_lesion")
    parser.add_argument("--params", default="{}", help="study parameters (JSON) when the study has to run")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures" / "multi_area_lesion.png")
    args = parser.parse_args()
    draw(*_load(args.results, json.loads(args.params)), args.out)
    print(args.out)  # noqa: T201 (the command's output)


if __name__ == "__main__":
    main()
