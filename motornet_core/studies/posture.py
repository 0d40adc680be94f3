"""Posture holding against endpoint loads: hand displacement, muscle and unit responses per load.

Every response is measured against a no-load control from the same network (same seed, same
onset, load magnitude 0), so activity that changes anyway (activations still settling at the
onset) is not mistaken for a response; the hand's displacement is measured only while the load is
on. The study trains ``seeds`` networks (one ensemble) and reports every effect across them: mean,
95% interval, n, and the direct test of what it claims.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from motornet_core.analysis.neural import fit_cosine_tuning
from motornet_core.specs.base import fail
from motornet_core.specs.task import parse_task
from motornet_core.studies import seeds as S
from motornet_core.studies.base import StudyContext
from motornet_core.studies.common import Reacher, TrainingParams, centre, ensemble, evaluate, final_losses, run_spec, train_seeds
from motornet_core.studies.plots import color, figure, grid_layout, interval_points, line, paths_figure, seed_points
from motornet_core.studies.stats import axial_rayleigh_test, rayleigh_test

MIN_DEPTH = 1e-4  # units whose response hardly varies with the load's direction are not "tuned"


class PostureParams(TrainingParams):
    """Parameters of ``posture_perturbations``."""

    iterations: int = Field(1000, ge=1, le=100_000, description="gradient steps (300: the network barely resists)")
    effector: Reacher = Field("arm26", description="the effector holding its posture")
    load_directions: int = Field(8, ge=3, le=32, description="evenly spaced load directions")
    train_magnitudes: list[float] = Field(default_factory=lambda: [2.0, 4.0], min_length=1, max_length=8, description="[N]")
    test_magnitudes: list[float] = Field(default_factory=lambda: [1.0, 2.0, 4.0], min_length=1, max_length=8, description="[N]")
    test_onsets: list[float] = Field(default_factory=lambda: [0.2, 0.4], min_length=1, max_length=6, description="[s]")
    load_duration: float = Field(0.3, gt=0.0, le=5.0, description="[s]")
    response_window: list[float] = Field(
        default_factory=lambda: [0.05, 0.15],
        min_length=2,
        max_length=2,
        description="after load onset [s]: muscle/unit response window",
    )
    min_r2: float = Field(
        0.5, ge=0.0, le=1.0, description="units whose cosine fit of the load response has R^2 below this are left out"
    )

    @model_validator(mode="after")
    def _timing(self) -> PostureParams:
        for i, onset in enumerate(self.test_onsets):
            if onset >= self.duration:
                raise fail(f"test_onsets.{i}", f"must be shorter than the episode ({self.duration} s)", onset)
        for name in ("train_magnitudes", "test_magnitudes"):
            for i, mag in enumerate(getattr(self, name)):
                if not 0.0 <= mag <= 100.0:
                    raise fail(f"{name}.{i}", "must be within [0, 100] N", mag)
        lo, hi = self.response_window
        if not 0.0 <= lo < hi:
            raise fail("response_window", "needs 0 <= start < end", self.response_window)
        return self


def _task(p: PostureParams, magnitudes: list[float], onset: tuple[float, float]) -> dict[str, Any]:
    return {
        "kind": "posture",
        "centre_joint": centre(p.effector),
        "load_directions": p.load_directions,
        "load_magnitudes": magnitudes,
        "onset_min": onset[0],
        "onset_max": onset[1],
        "load_duration": p.load_duration,
    }


def load_responses(
    ev: dict[str, np.ndarray], control: dict[str, np.ndarray], onset: float, duration: float, window: Sequence[float]
) -> dict[str, np.ndarray]:
    """Responses of a loaded evaluation relative to a no-load control of the same network.

    Args:
        ev: the loaded trials (see :func:`~motornet_core.studies.common.evaluate`): ``hand``
            (B, T+1, 2) [m], ``activation`` (B, T+1, M), ``hidden`` (B, T+1, H), ``time`` (T+1,) [s].
        control: the same network without load (same onset, same length); its trials are averaged.
        onset: load onset [s]; duration: how long the load stays on [s].
        window: (start, end) [s] after the onset over which muscle and unit responses are averaged.

    Returns:
        ``peak`` (B,) [m]: the largest hand displacement from the control's path while the load is on
        (onset <= t < onset + duration); ``peak_angle`` (B,) [rad] its direction; ``peak_time`` (B,) [s];
        ``muscle`` (B, M) and ``unit`` (B, H): mean activation / activity in the window minus the
        control's in the same window.
    """
    t = ev["time"]
    on = (t >= onset - 1e-9) & (t < onset + duration - 1e-9)
    if not on.any():
        raise ValueError(f"no sample while the load is on (onset {onset} s, duration {duration} s)")
    disp = ev["hand"] - control["hand"].mean(0, keepdims=True)  # (B, T+1, 2)
    norm = np.where(on, np.linalg.norm(disp, axis=-1), -np.inf)
    k = norm.argmax(axis=1)
    peak = disp[np.arange(len(k)), k]
    win = (t >= onset + window[0] - 1e-9) & (t < onset + window[1] - 1e-9)
    if not win.any():
        raise ValueError(f"the response window {list(window)} after {onset} s holds no sample")
    muscle = ev["activation"][:, win].mean(1) - control["activation"][:, win].mean((0, 1))
    unit = ev["hidden"][:, win].mean(1) - control["hidden"][:, win].mean((0, 1))
    return {
        "peak": np.linalg.norm(peak, axis=-1),
        "peak_angle": np.arctan2(peak[:, 1], peak[:, 0]),
        "peak_time": t[k],
        "muscle": muscle,
        "unit": unit,
    }


def unit_load_tuning(load_angle: np.ndarray, unit: np.ndarray, min_r2: float) -> dict[str, Any]:
    """Cosine fit of every unit's load response (K directions, H units) and both tests of their preferred load directions.

    Returns ``tuned`` (H,) bool, ``pld`` (tuned,) [rad], ``depth``, and the unimodal Rayleigh
    (``rayleigh_r``, ``rayleigh_p``) and axial Rayleigh (``axial_r``, ``axial_p``, ``axis_deg`` in
    [0, 180)) statistics (NaN below 2 tuned units).
    """
    tuning = fit_cosine_tuning(load_angle, unit)
    tuned = (tuning["r2"] >= min_r2) & (tuning["depth"] > MIN_DEPTH)
    pld = tuning["pmd"][tuned]
    out: dict[str, Any] = {"tuned": tuned, "pld": pld, "depth": tuning["depth"][tuned], "n": int(tuned.sum())}
    if tuned.sum() >= 2:
        uni, ax = rayleigh_test(pld), axial_rayleigh_test(pld)
        out.update(rayleigh_r=uni["r"], rayleigh_p=uni["p"], axial_r=ax["r"], axial_p=ax["p"])
        out["axis_deg"] = float(np.degrees(ax["mean_angle"]) % 180)
    else:
        out.update(rayleigh_r=math.nan, rayleigh_p=math.nan, axial_r=math.nan, axial_p=math.nan, axis_deg=math.nan)
    return out


def run_posture(p: PostureParams, ctx: StudyContext) -> tuple[dict, list, dict]:
    """Train ``seeds`` networks to hold a posture against loads, then probe each with loads of every direction."""
    train_task = _task(p, p.train_magnitudes, (0.1, min(0.5, p.duration - p.load_duration / 2)))
    spec = run_spec(p.effector, train_task, p, "posture")
    ens = ensemble(spec, p.seeds)
    train_seeds(ctx, ens, "posture")
    n_dir = p.load_directions
    load_angle = np.arange(n_dir) * 2 * np.pi / n_dir
    base = spec.task.model_dump(mode="json")
    key = (p.test_onsets[0], max(p.test_magnitudes))
    seeds: list[dict[str, Any]] = []
    for r in ens.replicates:
        ctx.check()
        one: dict[str, Any] = {"resp": {}, "ev": {}}
        for onset in p.test_onsets:
            control = evaluate(r.effector, r.policy, parse_task({**base, **_task(p, [0.0], (onset, onset))}), batch_size=n_dir)
            one["ev"][(onset, 0.0)] = control
            for mag in p.test_magnitudes:
                ev = evaluate(r.effector, r.policy, parse_task({**base, **_task(p, [mag], (onset, onset))}), batch_size=n_dir)
                one["ev"][(onset, mag)] = ev
                one["resp"][(onset, mag)] = load_responses(ev, control, onset, p.load_duration, p.response_window)
        one["tuning"] = unit_load_tuning(load_angle, one["resp"][key]["unit"], p.min_r2)
        seeds.append(one)
    muscles = list(ens.effector.muscle_names)
    summary = _summary(p, seeds, load_angle, muscles, key, final_losses(ens))
    return _figures(p, seeds, load_angle, muscles, key), _table(p, seeds, load_angle, muscles), summary


def _label(onset: float, mag: float) -> str:
    return f"{mag:g} N @ {onset:g} s"


def _summary(
    p: PostureParams, seeds: list[dict[str, Any]], load_angle: np.ndarray, muscles: list[str], key: tuple, losses: list[float]
) -> dict[str, Any]:
    disp = {
        _label(o, m): S.describe([s["resp"][(o, m)]["peak"].mean() * 100 for s in seeds])
        for o in p.test_onsets
        for m in p.test_magnitudes
    }
    angle_err = [
        float(np.degrees(np.abs(np.angle(np.exp(1j * (s["resp"][key]["peak_angle"] - load_angle))))).mean()) for s in seeds
    ]
    rise = [float((s["resp"][key]["muscle"] > 0).mean()) for s in seeds]
    tun = [s["tuning"] for s in seeds]
    uni_p, ax_p = [t["rayleigh_p"] for t in tun], [t["axial_p"] for t in tun]
    axes = S.axial_mean(np.radians([t["axis_deg"] for t in tun]))
    finite_axes = [t["axis_deg"] for t in tun if np.isfinite(t["axis_deg"])]
    axes_p = rayleigh_test(2 * np.radians(finite_axes))["p"] if len(finite_axes) >= 2 else None
    lo_m, hi_m = min(p.test_magnitudes), max(p.test_magnitudes)
    onset0 = p.test_onsets[0]
    grows = S.paired(
        [s["resp"][(onset0, hi_m)]["peak"].mean() * 100 for s in seeds],
        [s["resp"][(onset0, lo_m)]["peak"].mean() * 100 for s in seeds],
    )
    claims: list[dict[str, Any]] = []
    if hi_m > lo_m:
        claims.append(
            S.claim(
                f"a larger load displaces the hand more ({hi_m:g} N vs {lo_m:g} N from {onset0:g} s)",
                "difference of peak displacement while the load is on",
                grows,
                unit="cm",
                test="paired sign-flip permutation test",
                p=grows["p_perm"],
                holds=bool(grows["p_perm"] < S.ALPHA and grows["mean"] > 0) if math.isfinite(grows["p_perm"]) else None,
            )
        )
    claims.append(
        S.claim(
            f"the hand moves along the load ({_label(*key)})",
            "angle between displacement and load [deg]",
            S.describe(angle_err),
            unit="deg",
        )
    )
    frac = S.paired(rise, np.full(len(rise), 0.5))
    claims.append(
        S.claim(
            f"muscles co-contract: more than half the muscle responses rise against the no-load control ({_label(*key)})",
            "fraction of (muscle, direction) responses above the control, minus 0.5",
            frac,
            test="sign-flip permutation test of (fraction - 0.5)",
            p=frac["p_perm"],
            holds=bool(frac["p_perm"] < S.ALPHA and frac["mean"] > 0) if math.isfinite(frac["p_perm"]) else None,
        )
    )
    claims.append(
        S.claim(
            "units' preferred load directions are unimodal (Rayleigh)",
            "mean resultant length R of the preferred load directions",
            S.describe([t["rayleigh_r"] for t in tun]),
            test="Rayleigh per seed, Fisher-combined",
            p=S.fisher_combined(uni_p),
        )
    )
    claims.append(
        S.claim(
            "units' preferred load directions are bimodal (axial Rayleigh on doubled angles)",
            "axial concentration R (doubled angles)",
            S.describe([t["axial_r"] for t in tun]),
            test="axial Rayleigh per seed, Fisher-combined",
            p=S.fisher_combined(ax_p),
        )
    )
    claims.append(
        S.claim(
            "the seeds share one axis of preferred load directions",
            "mean axis of the per-seed axes [deg]",
            axes,
            unit="deg",
            test="Rayleigh test of the doubled per-seed axes",
            p=axes_p,
        )
    )
    for c in claims:
        c["expected"], c["replicates"] = None, None
    control = [s["ev"][(key[0], 0.0)]["hand"][0] for s in seeds]
    drift = [float(np.linalg.norm(h[-1] - h[0]) * 100) for h in control]
    return {
        "seeds": p.seeds,
        "iterations": p.iterations,
        "final_loss_per_seed": losses,
        "no_load_drift_cm_per_seed": drift,
        "no_load_drift_cm": S.describe(drift),
        "peak_displacement_cm": disp,
        "displacement_along_load_deg": S.describe(angle_err),
        "muscle_responses_rising_fraction": S.describe(rise),
        "muscle_response_vs_control": {
            name: S.describe([float(s["resp"][key]["muscle"][:, m].mean()) for s in seeds]) for m, name in enumerate(muscles)
        },
        "units_tuned_to_load": S.describe([t["n"] for t in tun]),
        "unit_pld_rayleigh_p_per_seed": uni_p,
        "unit_pld_axial_p_per_seed": ax_p,
        "unit_pld_rayleigh_p_fisher": S.fisher_combined(uni_p),
        "unit_pld_axial_p_fisher": S.fisher_combined(ax_p),
        "seeds_axial_p_below_0.05": int(sum(1 for v in ax_p if np.isfinite(v) and v < S.ALPHA)),
        "seeds_rayleigh_p_below_0.05": int(sum(1 for v in uni_p if np.isfinite(v) and v < S.ALPHA)),
        "unit_pld_axis": axes,
        "claims": claims,
    }


def _table(p: PostureParams, seeds: list[dict[str, Any]], load_angle: np.ndarray, muscles: list[str]) -> list[dict[str, Any]]:
    """One row per (seed, onset, magnitude, direction)."""
    rows = []
    for i, s in enumerate(seeds):
        for onset in p.test_onsets:
            for mag in p.test_magnitudes:
                r = s["resp"][(onset, mag)]
                for d in range(len(load_angle)):
                    row: dict[str, Any] = {"seed": p.seed + i, "onset_s": onset, "magnitude_N": mag}
                    row["load_deg"] = float(np.degrees(load_angle[d]))
                    row["peak_displacement_cm"] = float(r["peak"][d] * 100)
                    row["peak_time_s"] = float(r["peak_time"][d])
                    row["displacement_deg"] = float(np.degrees(r["peak_angle"][d]) % 360)
                    for m, name in enumerate(muscles):
                        row[f"d_{name}"] = float(r["muscle"][d, m])
                    rows.append(row)
    return rows


def _figures(p: PostureParams, seeds: list[dict[str, Any]], load_angle: np.ndarray, muscles: list[str], key: tuple) -> dict:
    ev = seeds[0]["ev"][key]
    hold = ev["hand"][0, 0]
    paths = paths_figure(
        f"Hand paths of seed {p.seed} under a {key[1]:g} N load from {key[0]:g} s (one colour per load direction)",
        [(f"{np.degrees(a):.0f}°", ev["hand"][d : d + 1]) for d, a in enumerate(load_angle)],
        hold[None, :],
        hold,
    )
    data = []
    for i, onset in enumerate(p.test_onsets):
        est = [S.describe([s["resp"][(onset, m)]["peak"].mean() * 100 for s in seeds]) for m in p.test_magnitudes]
        data.append(interval_points(p.test_magnitudes, est, f"onset {onset:g} s (mean, 95% interval)", i))
        vals = [[s["resp"][(onset, m)]["peak"].mean() * 100 for s in seeds] for m in p.test_magnitudes]
        data.append(seed_points(p.test_magnitudes, vals, f"onset {onset:g} s: seeds", i))
    displacement = figure(
        data,
        {
            "title": {"text": f"Peak hand displacement while the load is on ({p.seeds} networks)"},
            "xaxis": {"title": {"text": "load [N]"}},
            "yaxis": {"title": {"text": "peak displacement from the no-load control [cm]"}},
        },
    )
    theta = [*np.degrees(load_angle).tolist(), 0.0]
    polar = []
    for m, name in enumerate(muscles):
        mean = np.mean([s["resp"][key]["muscle"][:, m] for s in seeds], axis=0)
        r = [*mean.tolist(), float(mean[0])]
        polar.append(
            {
                "type": "scatterpolar",
                "theta": theta,
                "r": [round(v, 5) for v in r],
                "name": name,
                "mode": "lines+markers",
                "line": {"color": color(m)},
            }
        )
    lo, hi = p.response_window
    muscle_fig = figure(
        polar,
        {
            "title": {
                "text": f"Muscle response vs the no-load control ({lo:g}-{hi:g} s after onset), mean of {p.seeds} networks"
            },
            "polar": {"radialaxis": {"title": {"text": "activation change"}}},
        },
    )
    t = ev["time"]
    control = seeds[0]["ev"][(key[0], 0.0)]
    act = []
    for m, name in enumerate(muscles):
        act.append(line(t, ev["activation"][0, :, m], name, m))
        act.append(line(t, control["activation"][0, :, m], f"{name} (no load)", m, dash="dot", legend=False))
    for d in range(len(load_angle)):
        act.append(
            line(
                t,
                np.linalg.norm(ev["hand"][d] - control["hand"][0], axis=-1) * 100,
                f"{np.degrees(load_angle[d]):.0f}°",
                d,
                axis=2,
            )
        )
    layout = grid_layout(
        f"Time courses (seed {p.seed}; load on {key[0]:g}-{key[0] + p.load_duration:g} s)",
        [
            f"muscle activation, load at {np.degrees(load_angle[0]):.0f}° (dotted: no load)",
            "hand displacement from the no-load path",
        ],
        ["time [s]", "time [s]"],
        ["activation", "displacement [cm]"],
    )
    unit_traces = []
    for i, s in enumerate(seeds):
        tun = s["tuning"]
        unit_traces.append(
            {
                "type": "scatterpolar",
                "mode": "markers",
                "theta": [round(v, 3) for v in np.degrees(tun["pld"]).tolist()],
                "r": [round(v, 5) for v in tun["depth"].tolist()],
                "name": f"seed {p.seed + i}",
                "marker": {"color": color(i), "size": 5},
            }
        )
    units = figure(
        unit_traces,
        {"title": {"text": f"Units: preferred load direction (radius: response depth; R² ≥ {p.min_r2:g}), {_label(*key)}"}},
    )
    return {
        "paths": paths,
        "displacement": displacement,
        "muscles": muscle_fig,
        "time_courses": figure(act, layout),
        "units": units,
    }
