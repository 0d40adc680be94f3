"""Posture holding against endpoint loads: hand displacement, muscle and unit responses per load."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from motornet_core.analysis.neural import fit_cosine_tuning
from motornet_core.specs.base import fail
from motornet_core.specs.task import parse_task
from motornet_core.studies.base import StudyContext
from motornet_core.studies.common import Reacher, TrainingParams, centre, evaluate, fresh_trainer, run_spec, train
from motornet_core.studies.plots import color, figure, grid_layout, line, paths_figure
from motornet_core.studies.stats import rayleigh_test


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


def load_responses(ev: dict[str, np.ndarray], onset: float, window: Sequence[float]) -> dict[str, np.ndarray]:
    """Per trial: peak hand displacement [m] during the load, its direction [rad], and the mean
    change of every muscle's activation (B, M) and every unit's activity (B, H) in ``window`` after
    the onset, relative to the 50 ms before it."""
    t = ev["time"]
    disp = ev["hand"] - ev["hand"][:, :1]  # (B, T+1, 2)
    after = t >= onset
    norm = np.linalg.norm(disp, axis=-1) * after  # (B, T+1)
    k = norm.argmax(axis=1)
    peak = disp[np.arange(len(k)), k]
    pre = (t >= onset - 0.05) & (t < onset)
    win = (t >= onset + window[0]) & (t < onset + window[1])
    muscle = ev["activation"][:, win].mean(1) - ev["activation"][:, pre].mean(1)
    unit = ev["hidden"][:, win].mean(1) - ev["hidden"][:, pre].mean(1)
    return {
        "peak": np.linalg.norm(peak, axis=-1),
        "peak_angle": np.arctan2(peak[:, 1], peak[:, 0]),
        "muscle": muscle,
        "unit": unit,
    }


def run_posture(p: PostureParams, ctx: StudyContext) -> tuple[dict, list, dict]:
    """Train a network to hold a posture against loads, then probe it with loads of 8 directions."""
    train_task = _task(p, p.train_magnitudes, (0.1, min(0.5, p.duration - p.load_duration / 2)))
    trainer = fresh_trainer(run_spec(p.effector, train_task, p, "posture"))
    train(ctx, trainer, "posture")
    eff, policy = trainer.effector, trainer.policy
    n_dir = p.load_directions
    load_angle = np.arange(n_dir) * 2 * np.pi / n_dir
    table, evals = [], {}
    for onset in p.test_onsets:
        for mag in p.test_magnitudes:
            ctx.check()
            task = parse_task({**trainer.spec.task.model_dump(mode="json"), **_task(p, [mag], (onset, onset))})
            ev = evaluate(eff, policy, task, batch_size=n_dir)
            evals[(onset, mag)] = ev
            r = load_responses(ev, onset, tuple(p.response_window))
            for d in range(n_dir):
                row = {"onset_s": onset, "magnitude_N": mag, "load_deg": float(np.degrees(load_angle[d]))}
                row["peak_displacement_cm"] = float(r["peak"][d] * 100)
                row["displacement_deg"] = float(np.degrees(r["peak_angle"][d]) % 360)
                row["final_displacement_cm"] = float(np.linalg.norm(ev["hand"][d, -1] - ev["hand"][d, 0]) * 100)
                for m, name in enumerate(eff.muscle_names):
                    row[f"d_{name}"] = float(r["muscle"][d, m])
                table.append(row)
    key = (p.test_onsets[0], max(p.test_magnitudes))
    ev = evals[key]
    resp = load_responses(ev, key[0], tuple(p.response_window))
    tuning = fit_cosine_tuning(load_angle, resp["unit"])
    tuned = tuning["r2"] >= 0.5
    figures = _figures(p, evals, key, resp, tuning, eff.muscle_names, load_angle)
    angle_err = np.angle(np.exp(1j * (resp["peak_angle"] - load_angle)))
    summary = {
        "mean_peak_displacement_cm": {
            f"{mag:g} N @ {onset:g} s": float(
                np.mean([r["peak_displacement_cm"] for r in table if r["magnitude_N"] == mag and r["onset_s"] == onset])
            )
            for onset in p.test_onsets
            for mag in p.test_magnitudes
        },
        "displacement_along_load_deg": float(np.degrees(np.abs(angle_err)).mean()),
        "units_tuned_to_load": int(tuned.sum()),
        "units": len(tuned),
        "unit_pmd_rayleigh_p": rayleigh_test(tuning["pmd"][tuned])["p"] if tuned.sum() >= 2 else None,
        "final_loss": trainer.history[-1] if trainer.history else None,
    }
    return figures, table, summary


def _figures(
    p: PostureParams, evals: dict, key: tuple, resp: dict, tuning: dict, muscles: list[str], load_angle: np.ndarray
) -> dict:
    ev = evals[key]
    hold = ev["hand"][0, 0]
    paths = paths_figure(
        f"Hand paths under a {key[1]:g} N load from {key[0]:g} s (one colour per load direction)",
        [(f"{np.degrees(a):.0f}°", ev["hand"][d : d + 1]) for d, a in enumerate(load_angle)],
        hold[None, :],
        hold,
    )
    data = []
    for i, onset in enumerate(p.test_onsets):
        peaks = [
            float(load_responses(evals[(onset, m)], onset, tuple(p.response_window))["peak"].mean() * 100)
            for m in p.test_magnitudes
        ]
        data.append(line(p.test_magnitudes, peaks, f"onset {onset:g} s", i, mode="lines+markers"))
    displacement = figure(
        data,
        {
            "title": {"text": "Peak hand displacement against load magnitude"},
            "xaxis": {"title": {"text": "load [N]"}},
            "yaxis": {"title": {"text": "mean peak displacement [cm]"}},
        },
    )
    theta = [*np.degrees(load_angle).tolist(), 0.0]
    polar = []
    for m, name in enumerate(muscles):
        r = [*resp["muscle"][:, m].tolist(), float(resp["muscle"][0, m])]
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
        {"title": {"text": f"Muscle response (activation change {lo:g}-{hi:g} s after onset) by load direction"}},
    )
    t = ev["time"]
    act = []
    d0 = 0
    for m, name in enumerate(muscles):
        act.append(line(t, ev["activation"][d0, :, m], name, m))
    for d in range(len(load_angle)):
        act.append(
            line(
                t, np.linalg.norm(ev["hand"][d] - ev["hand"][d, 0], axis=-1) * 100, f"{np.degrees(load_angle[d]):.0f}°", d, axis=2
            )
        )
    layout = grid_layout(
        "Time courses",
        [f"muscle activation, load at {np.degrees(load_angle[d0]):.0f}°", "hand displacement per load direction"],
        ["time [s]", "time [s]"],
        ["activation", "displacement [cm]"],
    )
    tuned = tuning["r2"] >= 0.5
    units = figure(
        [
            {
                "type": "scatterpolar",
                "mode": "markers",
                "theta": [round(v, 3) for v in np.degrees(tuning["pmd"][tuned]).tolist()],
                "r": [round(v, 5) for v in tuning["depth"][tuned].tolist()],
                "name": "units (R² ≥ 0.5)",
            }
        ],
        {"title": {"text": "Units: preferred load direction (radius: response depth)"}},
    )
    return {
        "paths": paths,
        "displacement": displacement,
        "muscles": muscle_fig,
        "time_courses": figure(act, layout),
        "units": units,
    }
