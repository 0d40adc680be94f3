"""Preferred movement directions of network units: point mass against arm (Codol et al. 2024).

With the arm's anisotropic mechanics the units' preferred directions may cluster on one axis (a
bimodal distribution: the Rayleigh test on doubled angles); with the isotropic point mass they
should not. The study trains ``seeds`` networks per effector (one ensemble each) and reports, across
seeds, the axial concentration (mean resultant length of the doubled preferred directions) with
its 95% interval, the arm-vs-point-mass difference tested directly (a permutation test across
seeds), the mean axis with its interval, and whether the concentration grows with training (a
paired test of the final against an early checkpoint on the same networks).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from motornet_core.analysis.neural import fit_cosine_tuning
from motornet_core.specs.base import fail
from motornet_core.specs.task import parse_task
from motornet_core.studies import seeds as S
from motornet_core.studies.base import OffsetSink, StudyContext
from motornet_core.studies.common import Reacher, TrainingParams, centre, ensemble, evaluate, final_losses, run_spec, train_seeds
from motornet_core.studies.plots import color, figure, grid_layout, interval_points, seed_points
from motornet_core.studies.stats import axial_rayleigh_test, rayleigh_test


class PmdParams(TrainingParams):
    """Parameters of ``pmd_point_mass_vs_arm``."""

    iterations: int = Field(1000, ge=1, le=100_000, description="gradient steps per network")
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
    checkpoints: list[float] = Field(
        default_factory=lambda: [0.1, 0.25, 0.5],
        max_length=8,
        description="fractions of the training at which the tuning is also measured (the first: the 'early' of the growth test)",
    )

    @model_validator(mode="after")
    def _window(self) -> PmdParams:
        lo, hi = self.window
        if not 0.0 <= lo < hi <= self.duration:
            raise fail("window", f"needs 0 <= start < end <= duration ({self.duration} s)", self.window)
        for i, f in enumerate(self.checkpoints):
            if not 0.0 < f < 1.0:
                raise fail(f"checkpoints.{i}", "must be a fraction in (0, 1)", f)
        return self


def pmd_statistics(pmd: np.ndarray) -> dict[str, Any]:
    """Rayleigh (unimodal) and axial Rayleigh (bimodal) tests of preferred directions [rad] of one network."""
    if len(pmd) < 2:
        nan = math.nan
        return {"n": len(pmd), "rayleigh_r": nan, "rayleigh_p": nan, "axial_r": nan, "axial_p": nan, "axis_deg": nan}
    uni, ax = rayleigh_test(pmd), axial_rayleigh_test(pmd)
    return {
        "n": len(pmd),
        "rayleigh_r": uni["r"],
        "rayleigh_p": uni["p"],
        "axial_r": ax["r"],
        "axial_p": ax["p"],
        "axis_deg": float(np.degrees(ax["mean_angle"]) % 180),
    }


def _tuning(ev: dict[str, np.ndarray], p: PmdParams) -> dict[str, np.ndarray]:
    direction = np.arctan2(*(ev["target"] - ev["start"])[:, ::-1].T)
    win = (ev["time"] >= p.window[0]) & (ev["time"] <= p.window[1])
    return fit_cosine_tuning(direction, ev["hidden"][:, win].mean(1))


def _measure(ens: Any, test: Any, p: PmdParams) -> list[dict[str, Any]]:
    """Per network: its tuned units' preferred directions, their statistics and the endpoint error."""
    out = []
    for r in ens.replicates:
        ev = evaluate(r.effector, r.policy, test)
        tuning = _tuning(ev, p)
        tuned = tuning["r2"] >= p.min_r2
        pmd = tuning["pmd"][tuned]
        error = float(np.linalg.norm(ev["hand"][:, -1] - ev["target"], axis=-1).mean() * 100)
        out.append({"pmd": pmd, "depth": tuning["depth"][tuned], "units": len(tuned), **pmd_statistics(pmd), "error_cm": error})
    return out


def run_pmd(p: PmdParams, ctx: StudyContext) -> tuple[dict, list, dict]:
    """Train ``seeds`` networks per effector on centre-out reaching, fit cosine tuning, test the PMD distributions."""
    per: dict[str, dict[str, Any]] = {}
    steps = [*sorted({max(1, round(f * p.iterations)) for f in p.checkpoints} - {p.iterations}), p.iterations]
    for name in p.effectors:
        task = {"kind": "centre_out", "n_targets": p.train_targets, "radius": p.radius, "centre_joint": centre(name)}
        spec = run_spec(name, task, p, f"pmd_{name}")
        ens = ensemble(spec, p.seeds)
        test = parse_task({**spec.task.model_dump(), "n_targets": p.test_directions})
        sink = OffsetSink(ctx, name)
        track: dict[int, list[dict[str, Any]]] = {}
        for step in steps:
            train_seeds(ctx, ens, name, until=step, sink=sink)
            ctx.check()
            track[step] = _measure(ens, test, p)
        per[name] = {"track": track, "final": track[p.iterations], "loss": final_losses(ens)}
    return _figures(p, per, steps), _table(p, per, steps), _summary(p, per, steps)


def _axial_r(rows: list[dict[str, Any]]) -> list[float]:
    return [r["axial_r"] for r in rows]


def _summary(p: PmdParams, per: dict[str, dict[str, Any]], steps: list[int]) -> dict[str, Any]:
    summary: dict[str, Any] = {"seeds": p.seeds, "iterations": p.iterations}
    claims = []
    paper = {"arm26": True, "point_mass_24": False}
    for name, d in per.items():
        final = d["final"]
        conc = S.describe(_axial_r(final))
        fisher = S.fisher_combined([r["axial_p"] for r in final])
        significant = sum(1 for r in final if r["axial_p"] < S.ALPHA)
        axes = S.axial_mean(np.radians([r["axis_deg"] for r in final]))
        axes_test = rayleigh_test(2 * np.radians([r["axis_deg"] for r in final if np.isfinite(r["axis_deg"])]))
        early = d["track"][steps[0]]
        growth = S.paired(_axial_r(final), _axial_r(early))
        summary[name] = {
            "endpoint_error_cm": S.describe([r["error_cm"] for r in final]),
            "endpoint_error_cm_per_seed": [r["error_cm"] for r in final],
            "final_loss_per_seed": d["loss"],
            "tuned_units": S.describe([r["n"] for r in final]),
            "axial_r": conc,
            "axial_p_per_seed": [r["axial_p"] for r in final],
            "seeds_axial_p_below_0.05": significant,
            "axial_p_fisher": fisher,
            "rayleigh_p_per_seed": [r["rayleigh_p"] for r in final],
            "axis": axes,
            "axis_consistency_p": axes_test["p"] if axes["n"] >= 2 else None,
            "axial_r_growth": {"early_step": steps[0], **growth},
        }
        claims.append(
            {
                **S.claim(
                    f"{name}: preferred directions are bimodal ({significant} of {len(final)} seeds axial p < 0.05)",
                    "axial concentration R (doubled angles), tuned units",
                    conc,
                    test="axial Rayleigh per seed, Fisher-combined",
                    p=fisher,
                ),
                "expected": paper.get(name),
            }
        )
        claims.append(
            {
                **S.claim(
                    f"{name}: the seeds share one axis",
                    "mean axis of the per-seed axes [deg]",
                    axes,
                    unit="deg",
                    test="Rayleigh test of the doubled per-seed axes",
                    p=axes_test["p"] if axes["n"] >= 2 else None,
                ),
                "expected": None,
            }
        )
        claims.append(
            {
                **S.claim(
                    f"{name}: bimodality grows with training (step {steps[0]} to {p.iterations})",
                    "change of axial R, same networks",
                    growth,
                    test="paired sign-flip permutation test",
                    p=growth["p_perm"],
                    holds=bool(growth["p_perm"] < S.ALPHA and growth["mean"] > 0) if math.isfinite(growth["p_perm"]) else None,
                ),
                "expected": True if name == "arm26" else None,
            }
        )
    if "arm26" in per and "point_mass_24" in per:
        diff = S.independent(_axial_r(per["arm26"]["final"]), _axial_r(per["point_mass_24"]["final"]))
        summary["arm_minus_point_mass_axial_r"] = diff
        ok = bool(diff["p_perm"] < S.ALPHA and diff["mean"] > 0) if math.isfinite(diff["p_perm"]) else None
        claims.append(
            {
                **S.claim(
                    "arm26's preferred directions are more axially concentrated than the point mass's",
                    "difference of axial R (arm26 - point mass)",
                    diff,
                    test="permutation test across seeds (difference of means)",
                    p=diff["p_perm"],
                    holds=ok,
                ),
                "expected": True,
            }
        )
        summary["bimodal_arm_not_point_mass"] = ok
    for c in claims:
        c["replicates"] = None if c["expected"] is None or c["holds"] is None else bool(c["holds"] == c["expected"])
    summary["claims"] = claims
    return summary


def _table(p: PmdParams, per: dict[str, dict[str, Any]], steps: list[int]) -> list[dict[str, Any]]:
    rows = []
    for name, d in per.items():
        for i, r in enumerate(d["final"]):
            row: dict[str, Any] = {"effector": name, "seed": p.seed + i, "units": r["units"], "tuned_units": r["n"]}
            row.update({k: r[k] for k in ("rayleigh_p", "axial_r", "axial_p", "axis_deg")})
            row["endpoint_error_cm"] = r["error_cm"]
            row["final_loss"] = d["loss"][i]
            for step in steps[:-1]:
                row[f"axial_r_step_{step}"] = d["track"][step][i]["axial_r"]
            rows.append(row)
    return rows


def _figures(p: PmdParams, per: dict[str, dict[str, Any]], steps: list[int]) -> dict[str, dict]:
    edges = np.linspace(-180, 180, p.n_bins + 1)
    hist, polar = [], []
    n = len(per)
    layout: dict[str, Any] = {
        "title": {"text": f"Preferred movement directions, {p.seeds} networks pooled (units with R² ≥ {p.min_r2:g})"},
        "height": 460,
    }
    for i, (name, d) in enumerate(per.items()):
        pmd = np.concatenate([r["pmd"] for r in d["final"]]) if d["final"] else np.zeros(0)
        counts, _ = np.histogram(np.degrees(pmd), bins=edges)
        sub = "polar" if i == 0 else f"polar{i + 1}"
        conc = S.describe(_axial_r(d["final"]))
        hist.append(
            {
                "type": "barpolar",
                "theta": ((edges[:-1] + edges[1:]) / 2).tolist(),
                "r": counts.tolist(),
                "width": [360 / p.n_bins] * p.n_bins,
                "name": f"{name} (axial R {conc['mean']:.2f} [{conc['low']:.2f}, {conc['high']:.2f}], n = {conc['n']})",
                "marker": {"color": color(i)},
                "subplot": sub,
            }
        )
        layout[sub] = {"domain": {"x": [i / n + 0.03, (i + 1) / n - 0.03], "y": [0, 0.9]}}
        depth = np.concatenate([r["depth"] for r in d["final"]]) if d["final"] else np.zeros(0)
        polar.append(
            {
                "type": "scatterpolar",
                "mode": "markers",
                "theta": np.round(np.degrees(pmd), 3).tolist(),
                "r": np.round(depth, 5).tolist(),
                "name": name,
                "marker": {"color": color(i), "size": 4},
            }
        )
    curve = []
    for i, (name, d) in enumerate(per.items()):
        est = [S.describe(_axial_r(d["track"][s])) for s in steps]
        curve.append(interval_points(steps, est, f"{name}: mean, 95% interval", i))
        curve.append(seed_points(steps, [_axial_r(d["track"][s]) for s in steps], f"{name}: seeds", i))
        err = [S.describe([r["error_cm"] for r in d["track"][s]]) for s in steps]
        curve.append(interval_points(steps, err, f"{name} endpoint error", i, axis=2, legend=False))
    growth = figure(
        curve,
        grid_layout(
            "Axial concentration of the preferred directions and endpoint error over training",
            ["axial R (doubled angles)", "endpoint error"],
            ["iterations", "iterations"],
            ["axial R", "endpoint error [cm]"],
        ),
    )
    return {
        "pmd_histograms": figure(hist, layout),
        "pmd_depth": figure(polar, {"title": {"text": "Preferred direction and modulation depth of tuned units (all seeds)"}}),
        "pmd_training": growth,
    }
