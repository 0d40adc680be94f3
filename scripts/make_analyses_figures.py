"""Draw docs/figures/protocol_learning_curve.png and docs/figures/dynamics_analysis.png.

    nice .venv/bin/python scripts/make_analyses_figures.py [--seeds 3] [--results out/analyses]

Trains the ``curl_adaptation_protocol`` preset (point mass, baseline -> curl field -> washout, 10%
catch and 10% channel trials) once per seed, keeping every iteration's protocol readouts, then runs
the dynamics analyses (``DynamicsParams()`` defaults) on seed 0's final network. The numbers go to
``RESULTS/curves.json`` and ``RESULTS/dynamics.json``; with those present nothing is trained.

Learning-curve figure: the field trials' peak lateral deviation [cm] and the channel trials' peak
force [N] per iteration, the mean of the seeds (smoothed over 10 iterations) with its 95% t interval
across seeds, block boundaries marked. Dynamics figure: condition-wise trajectories in PC1-PC2 with
the fixed points (filled: stable, open: unstable), tangling Q(t), and the fixed points' eigenvalues
against the unit circle.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from motornet_core.run_presets import run_preset  # noqa: E402
from motornet_core.training import Trainer  # noqa: E402
from motornet_core.training.dynamics import DynamicsParams, analyse_dynamics  # noqa: E402
from motornet_core.training.sinks import NullSink  # noqa: E402

KEYS = ("protocol/lateral_deviation", "protocol/catch_deviation", "protocol/channel_force", "protocol/block")


class _Rows(NullSink):
    def __init__(self) -> None:
        self.rows: dict[int, dict[str, float]] = {}

    def on_metric(self, step: int, values: dict[str, float]) -> None:
        self.rows[step] = {k: v for k, v in values.items() if k in KEYS}


def train(seeds: int, results: Path) -> None:
    """Train each seed, write ``curves.json`` and seed 0's ``dynamics.json``."""
    import torch

    torch.set_num_threads(1)
    curves: list[dict[str, list[float]]] = []
    for seed in range(seeds):
        spec = run_preset("curl_adaptation_protocol").model_dump(mode="json")
        spec["train"]["seed"] = seed
        trainer = Trainer(spec)
        sink = _Rows()
        trainer.train(sink)
        steps = sorted(sink.rows)
        curves.append({k: [sink.rows[s].get(k, math.nan) for s in steps] for k in KEYS})
        if seed == 0:
            (results / "dynamics.json").write_text(json.dumps(analyse_dynamics(trainer, DynamicsParams())))
        print(f"seed {seed} trained", flush=True)  # noqa: T201 (CLI output)
    blocks = [b.model_dump(mode="json") for b in run_preset("curl_adaptation_protocol").train.protocol.blocks]  # type: ignore[union-attr]
    (results / "curves.json").write_text(json.dumps({"blocks": blocks, "seeds": curves}))


def _smooth(y: np.ndarray, w: int) -> np.ndarray:
    """Running mean over ``w`` iterations ignoring NaNs (iterations without trials of a kind), per row."""
    out = np.full_like(y, np.nan)
    for i in range(y.shape[1]):
        win = y[:, max(0, i - w + 1) : i + 1]
        ok = np.isfinite(win).sum(1)
        out[:, i] = np.where(ok > 0, np.nansum(win, 1) / np.maximum(ok, 1), np.nan)
    return out


def _band(ax: Any, y: np.ndarray, colour: str, label: str) -> None:
    n = y.shape[0]
    m = np.nanmean(y, 0)
    x = np.arange(1, y.shape[1] + 1)
    ax.plot(x, m, color=colour, lw=1.4, label=label)
    if n > 1:
        half = stats.t.ppf(0.975, n - 1) * np.nanstd(y, 0, ddof=1) / math.sqrt(n)
        ax.fill_between(x, m - half, m + half, color=colour, alpha=0.25, lw=0)


def draw_curves(data: dict[str, Any], out: Path) -> None:
    seeds = data["seeds"]
    dev = _smooth(np.array([s["protocol/lateral_deviation"] for s in seeds]) * 100, 10)
    catch = _smooth(np.array([s["protocol/catch_deviation"] for s in seeds]) * 100, 10)
    force = _smooth(np.array([s["protocol/channel_force"] for s in seeds]), 10)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), dpi=110)
    _band(axes[0], dev, "#1f77b4", "field trials")
    _band(axes[0], catch, "#ff7f0e", "catch trials")
    _band(axes[1], force, "#2ca02c", "channel trials")
    axes[0].set_ylabel("peak lateral deviation [cm]")
    axes[1].set_ylabel("peak channel force [N]")
    edge = 0
    for b in data["blocks"]:
        for ax in axes:
            ax.axvline(edge + 0.5, color="#888", lw=0.8, ls="--")
            mid = edge + 0.5 + b["n_iterations"] / 2
            ax.text(mid, 1.01, b["name"], transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=9)
        edge += b["n_iterations"]
    for ax, ys in ((axes[0], (dev, catch)), (axes[1], (force,))):  # limits past the first, untrained iterations
        m = np.concatenate([np.nanmean(y, 0)[20:] for y in ys])
        lo, hi = float(np.nanmin(m)), float(np.nanmax(m))
        ax.set_ylim(lo - 0.3 * (hi - lo), hi + 0.3 * (hi - lo))
    for ax in axes:
        ax.axhline(0, color="#000", lw=0.5)
        ax.set_xlabel("iteration")
        ax.set_xlim(1, edge)
        ax.legend(fontsize=8, loc="upper right", frameon=False)
    title = f"curl_adaptation_protocol: mean of {len(seeds)} seeds (10-iteration running mean), 95% t interval"
    fig.suptitle(title, fontsize=10, y=1.03)
    fig.tight_layout()
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)


def draw_dynamics(d: dict[str, Any], out: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), dpi=110)
    traj = np.array(d["trajectories"])  # (C, T, k)
    cmap = plt.get_cmap("hsv")
    c = traj.shape[0]
    for i in range(c):
        axes[0].plot(traj[i, :, 0], traj[i, :, 1], color=cmap(i / c), lw=1.2)
        axes[0].plot(traj[i, -1, 0], traj[i, -1, 1], "o", color=cmap(i / c), ms=3)
    fp = d["fixed_points"]
    pc = np.array(fp["pc"]).reshape(-1, traj.shape[2])
    stable = np.array(fp["stable"], bool)
    if len(pc):
        axes[0].scatter(pc[stable, 0], pc[stable, 1], s=60, marker="*", color="k", label="stable fixed point", zorder=3)
        unstable = pc[~stable] if (~stable).any() else np.zeros((0, 2))
        kw = {"s": 60, "marker": "*", "zorder": 3}
        axes[0].scatter(
            unstable[:, 0], unstable[:, 1], facecolors="none", edgecolors="k", label="unstable" if len(unstable) else None, **kw
        )
        axes[0].legend(fontsize=8, frameon=False)
    evr = d["explained_variance_ratio"]
    axes[0].set_xlabel(f"PC1 ({100 * evr[0]:.0f}% var.)")
    axes[0].set_ylabel(f"PC2 ({100 * evr[1]:.0f}% var.)")
    axes[0].set_title("population trajectories, one per target", fontsize=10)
    t = np.array(d["time"])
    q = np.array(d["tangling"])
    for i in range(c):
        axes[1].plot(t, q[i], color=cmap(i / c), lw=1)
    axes[1].set_xlabel("time [s]")
    axes[1].set_ylabel("tangling Q(t) [1/s²]")
    axes[1].set_title("trajectory tangling (Russo et al. 2018)", fontsize=10)
    th = np.linspace(0, 2 * np.pi, 200)
    axes[2].plot(np.cos(th), np.sin(th), color="#888", lw=0.8)
    re, im = np.array(fp["eigenvalues_real"]), np.array(fp["eigenvalues_imag"])
    for k in range(len(stable)):
        axes[2].scatter(re[k], im[k], s=8, color="#1f77b4" if stable[k] else "#d62728", alpha=0.6)
    axes[2].set_aspect("equal")
    axes[2].set_xlabel("Re λ")
    axes[2].set_ylabel("Im λ")
    axes[2].set_title(f"eigenvalues at {len(stable)} fixed points ({int(stable.sum())} stable)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--results", type=Path, default=ROOT / "out" / "analyses")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    a = ap.parse_args()
    a.results.mkdir(parents=True, exist_ok=True)
    if not (a.results / "curves.json").is_file():
        train(a.seeds, a.results)
    draw_curves(json.loads((a.results / "curves.json").read_text()), a.out / "protocol_learning_curve.png")
    draw_dynamics(json.loads((a.results / "dynamics.json").read_text()), a.out / "dynamics_analysis.png")
    print(f"wrote {a.out / 'protocol_learning_curve.png'} and {a.out / 'dynamics_analysis.png'}")  # noqa: T201


if __name__ == "__main__":
    main()
