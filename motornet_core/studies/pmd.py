"""Preferred movement directions of network units: point mass against arm (Codol et al. 2024).

With the arm's anisotropic mechanics the units' preferred directions cluster on one axis (a bimodal
distribution, tested by the Rayleigh test on doubled angles); with the isotropic point mass they do not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, model_validator

from motornet_core.analysis.neural import fit_cosine_tuning
from motornet_core.specs.base import fail
from motornet_core.specs.task import parse_task
from motornet_core.studies.base import StudyContext
from motornet_core.studies.common import Reacher, TrainingParams, centre, evaluate, fresh_trainer, run_spec, train
from motornet_core.studies.plots import color, figure
from motornet_core.studies.stats import axial_rayleigh_test, rayleigh_test


class PmdParams(TrainingParams):
    """Parameters of ``pmd_point_mass_vs_arm``."""

    iterations: int = Field(1000, ge=1, le=100_000, description="gradient steps per network (300: no bimodality yet)")
    hidden_size: int = Field(64, ge=2, le=512, description="GRU units (more units: a better histogram)")
    effectors: list[Reacher] = Field(
        default_factory=lambda: list[Reacher](["point_mass_24", "arm26"]), min_length=1, max_length=2
    )
    train_targets: int = Field(8, ge=3, le=64, description="centre-out targets during training")
    test_directions: int = Field(16, ge=4, le=64, description="reach directions of the tuning test")
    radius: float = Field(0.1, gt=0.0, le=0.3, description="reach distance [m]")
    window: list[float] = Field(
        default_factory=lambda: [0.0, 0.3], min_length=2, max_length=2, description="time window of the tuning fit [s]"
    )
    min_r2: float = Field(0.5, ge=0.0, le=1.0, description="units with a cosine fit R^2 below this are left out")
    n_bins: int = Field(16, ge=4, le=72, description="bins of the polar histogram")

    @model_validator(mode="after")
    def _window(self) -> PmdParams:
        lo, hi = self.window
        if not 0.0 <= lo < hi <= self.duration:
            raise fail("window", f"needs 0 <= start < end <= duration ({self.duration} s)", self.window)
        return self


def pmd_statistics(pmd: np.ndarray) -> dict[str, Any]:
    """Rayleigh (unimodal) and axial Rayleigh (bimodal) tests of preferred directions [rad]."""
    if len(pmd) < 2:
        return {"n": len(pmd), "rayleigh_p": None, "axial_r": None, "axial_p": None, "axis_deg": None}
    uni, ax = rayleigh_test(pmd), axial_rayleigh_test(pmd)
    return {
        "n": len(pmd),
        "rayleigh_r": uni["r"],
        "rayleigh_p": uni["p"],
        "axial_r": ax["r"],
        "axial_p": ax["p"],
        "axis_deg": float(np.degrees(ax["mean_angle"]) % 180),
    }


def run_pmd(p: PmdParams, ctx: StudyContext) -> tuple[dict, list, dict]:
    """Train one network per effector on centre-out reaching, fit cosine tuning, test the PMD distribution."""
    table, polar, hist = [], [], []
    summary: dict[str, Any] = {}
    edges = np.linspace(-180, 180, p.n_bins + 1)
    for i, name in enumerate(p.effectors):
        task = {"kind": "centre_out", "n_targets": p.train_targets, "radius": p.radius, "centre_joint": centre(name)}
        trainer = fresh_trainer(run_spec(name, task, p, f"pmd_{name}"))
        train(ctx, trainer, name)
        ctx.check()
        test = parse_task({**trainer.spec.task.model_dump(), "n_targets": p.test_directions})
        ev = evaluate(trainer.effector, trainer.policy, test)
        direction = np.arctan2(*(ev["target"] - ev["start"])[:, ::-1].T)
        win = (ev["time"] >= p.window[0]) & (ev["time"] <= p.window[1])
        tuning = fit_cosine_tuning(direction, ev["hidden"][:, win].mean(1))
        tuned = tuning["r2"] >= p.min_r2
        pmd = tuning["pmd"][tuned]
        stats = pmd_statistics(pmd)
        error = float(np.linalg.norm(ev["hand"][:, -1] - ev["target"], axis=-1).mean() * 100)
        summary[name] = {**stats, "units": len(tuned), "mean_endpoint_error_cm": error}
        table.append(
            {
                "effector": name,
                "units": len(tuned),
                "tuned_units": int(tuned.sum()),
                **stats,
                "mean_endpoint_error_cm": error,
            }
        )
        counts, _ = np.histogram(np.degrees(pmd), bins=edges)
        sub = "polar" if i == 0 else f"polar{i + 1}"
        hist.append(
            {
                "type": "barpolar",
                "theta": ((edges[:-1] + edges[1:]) / 2).tolist(),
                "r": counts.tolist(),
                "width": [360 / p.n_bins] * p.n_bins,
                "name": f"{name} (axial p = {_fmt(stats['axial_p'])})",
                "marker": {"color": color(i)},
                "subplot": sub,
            }
        )
        polar.append(
            {
                "type": "scatterpolar",
                "mode": "markers",
                "theta": np.round(np.degrees(pmd), 3).tolist(),
                "r": np.round(tuning["depth"][tuned], 5).tolist(),
                "name": name,
                "marker": {"color": color(i)},
            }
        )
    n = len(p.effectors)
    layout: dict[str, Any] = {"title": {"text": f"Preferred movement directions (units with R² ≥ {p.min_r2:g})"}, "height": 460}
    for i in range(n):
        key = "polar" if i == 0 else f"polar{i + 1}"
        layout[key] = {"domain": {"x": [i / n + 0.03, (i + 1) / n - 0.03], "y": [0, 0.9]}}
    summary["bimodal_arm_not_point_mass"] = _contrast(summary)
    figures = {
        "pmd_histograms": figure(hist, layout),
        "pmd_depth": figure(polar, {"title": {"text": "Preferred direction and modulation depth of tuned units"}}),
    }
    return figures, table, summary


def _fmt(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2g}"


def _contrast(summary: dict[str, Any]) -> bool | None:
    """True when the arm's PMDs are axially non-uniform (p < 0.05) and the point mass's are not."""
    arm, pm = summary.get("arm26"), summary.get("point_mass_24")
    if not arm or not pm or arm["axial_p"] is None or pm["axial_p"] is None:
        return None
    return bool(arm["axial_p"] < 0.05 <= pm["axial_p"])
