"""Centre-out reaching in a curl field: initial deviation, adaptation, after-effects (Codol et al. 2024).

Sign convention: the lateral deviation of :func:`motornet_core.analysis.kinematics.lateral_deviation`
is positive to the left of the movement. A clockwise field (F = k [ydot, -xdot], k > 0) pushes the
hand to the right of its velocity, so its initial deviation is negative, and once the network has
learnt to push back, removing the field gives a positive after-effect (a counter-clockwise field:
the opposite signs).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from motornet_core.analysis.kinematics import endpoint_error, lateral_deviation
from motornet_core.effector import Effector
from motornet_core.policies import Policy
from motornet_core.specs.base import fail
from motornet_core.studies.base import OffsetSink, StudyContext
from motornet_core.studies.common import Reacher, TrainingParams, centre, evaluate, fresh_trainer, run_spec, train
from motornet_core.studies.plots import bar, figure, grid_layout, line, paths_figure


class CurlFieldParams(TrainingParams):
    """Parameters of ``centre_out_curl_field``."""

    effector: Reacher = Field("arm26", description="the reaching effector")
    n_targets: int = Field(8, ge=3, le=32, description="centre-out targets")
    radius: float = Field(0.1, gt=0.0, le=0.3, description="reach distance [m]")
    field_gain: float = Field(10.0, gt=0.0, le=200.0, description="curl field strength |k| [N s/m]")
    field_direction: Literal["cw", "ccw"] = Field("cw", description="cw: F = k [ydot, -xdot] with k > 0")
    adapt_iterations: int = Field(200, ge=1, le=100_000, description="gradient steps of training in the field")
    adapt_every: int = Field(25, ge=1, le=10_000, description="iterations between adaptation-curve points")
    adapt_lr: float = Field(1e-3, gt=0.0, le=1.0, description="learning rate in the field (constant)")

    @model_validator(mode="after")
    def _chunks(self) -> CurlFieldParams:
        if self.adapt_iterations // self.adapt_every > 200:
            raise fail("adapt_every", "gives more than 200 adaptation-curve points", self.adapt_every)
        return self


def expected_sign(direction: str) -> int:
    """Sign of the initial lateral deviation a curl field implies (cw: -1, to the right; ccw: +1)."""
    return -1 if direction == "cw" else 1


def reach_metrics(ev: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """(B,) lateral deviation [m] (signed, + left), endpoint error [m] and target angle [rad] of an evaluation."""
    start, target = ev["start"], ev["target"]
    angle = np.arctan2(target[:, 1] - start[:, 1], target[:, 0] - start[:, 0])
    return {
        "lateral": lateral_deviation(ev["hand"], start, target),
        "error": endpoint_error(ev["hand"], target),
        "angle": angle,
    }


def _task(p: CurlFieldParams, field: bool) -> dict[str, Any]:
    task: dict[str, Any] = {
        "kind": "centre_out",
        "n_targets": p.n_targets,
        "radius": p.radius,
        "centre_joint": centre(p.effector),
    }
    if field:
        task["perturbations"] = [{"kind": "curl_field", "gain": p.field_gain, "direction": p.field_direction}]
    return task


def curl_conditions(effector: Effector, policy_before: Policy, policy_after: Policy, null_task: Any, field_task: Any) -> dict:
    """Evaluations of the four conditions.

    baseline (null field), field (before adaptation), adapted (in the field), after_effect (field removed).
    """
    return {
        "baseline": evaluate(effector, policy_before, null_task),
        "field": evaluate(effector, policy_before, field_task),
        "adapted": evaluate(effector, policy_after, field_task),
        "after_effect": evaluate(effector, policy_after, null_task),
    }


def run_curl_field(p: CurlFieldParams, ctx: StudyContext) -> tuple[dict, list, dict]:
    """Train in a null field, test in the curl field, train in it, then remove it."""
    spec = run_spec(p.effector, _task(p, False), p, "curl_baseline")
    base = fresh_trainer(spec)
    train(ctx, base, "baseline")
    ctx.check()
    field_spec = run_spec(p.effector, _task(p, True), p, "curl_adaptation").with_updates(
        {
            "train.n_iterations": p.adapt_every,
            "train.lr": p.adapt_lr,
            "train.lr_schedule": "none",
            "train.eval_every": p.adapt_every,
        }
    )
    adapt = fresh_trainer(field_spec, base.policy)
    eff, null_task, field_task = base.effector, spec.task, field_spec.task
    curve = [(0, float(reach_metrics(evaluate(eff, adapt.policy, field_task))["lateral"].mean()))]
    sink = OffsetSink(ctx, "adaptation")
    done = 0
    while done < p.adapt_iterations:
        done = min(done + p.adapt_every, p.adapt_iterations)
        train(ctx, adapt, "adaptation", until=done, sink=sink)
        curve.append((done, float(reach_metrics(evaluate(eff, adapt.policy, field_task))["lateral"].mean())))
    evals = curl_conditions(eff, base.policy, adapt.policy, null_task, field_task)
    metrics = {k: reach_metrics(v) for k, v in evals.items()}
    figures = _figures(p, evals, metrics, curve, adapt.history)
    table = _table(metrics)
    summary = curl_summary(metrics, p.field_direction)
    summary["adaptation_curve_cm"] = [[s, round(v * 100, 4)] for s, v in curve]
    summary["baseline_loss_final"] = base.history[-1] if base.history else None
    return figures, table, summary


def curl_summary(metrics: dict[str, dict[str, np.ndarray]], direction: str) -> dict[str, Any]:
    """Mean lateral deviations [cm] and the sign checks (each condition relative to the baseline)."""
    mean = {k: float(m["lateral"].mean() * 100) for k, m in metrics.items()}
    sign = expected_sign(direction)
    initial = mean["field"] - mean["baseline"]
    adapted = mean["adapted"] - mean["baseline"]
    after = mean["after_effect"] - mean["baseline"]
    return {
        "mean_lateral_deviation_cm": mean,
        "mean_endpoint_error_cm": {k: float(m["error"].mean() * 100) for k, m in metrics.items()},
        "field_effect_cm": initial,
        "adapted_effect_cm": adapted,
        "after_effect_cm": after,
        "expected_field_sign": sign,
        "field_sign_ok": bool(np.sign(initial) == sign),
        "after_effect_sign_ok": bool(np.sign(after) == -sign),
        "adaptation_fraction": float(1 - abs(adapted) / abs(initial)) if abs(initial) > 1e-9 else None,
    }


def _table(metrics: dict[str, dict[str, np.ndarray]]) -> list[dict[str, Any]]:
    rows = []
    for i, angle in enumerate(metrics["baseline"]["angle"]):
        row: dict[str, Any] = {"target": i, "angle_deg": round(float(np.degrees(angle)) % 360, 3)}
        for k, m in metrics.items():
            row[f"{k}_lateral_cm"] = float(m["lateral"][i] * 100)
        for k, m in metrics.items():
            row[f"{k}_error_cm"] = float(m["error"][i] * 100)
        rows.append(row)
    return rows


def _figures(p: CurlFieldParams, evals: dict, metrics: dict, curve: list, history: list[float]) -> dict[str, dict]:
    ev0 = evals["baseline"]
    titles = {
        "baseline": "null field",
        "field": "field, before adaptation",
        "adapted": "field, adapted",
        "after_effect": "field removed",
    }
    groups = [(titles[k], evals[k]["hand"]) for k in titles]
    paths = paths_figure(
        f"Hand paths ({p.effector}, {p.field_direction} curl field {p.field_gain} N s/m)", groups, ev0["target"], ev0["start"][0]
    )
    steps = [s for s, _ in curve]
    dev = [v * 100 for _, v in curve]
    base_dev = float(metrics["baseline"]["lateral"].mean() * 100)
    data = [
        line(steps, dev, "in the field", 0, mode="lines+markers"),
        line([0, steps[-1]], [base_dev, base_dev], "null-field baseline", 7, dash="dash"),
        line(np.arange(1, len(history) + 1), history, "loss", 1, axis=2, legend=False),
    ]
    layout = grid_layout(
        "Adaptation to the curl field",
        ["mean lateral deviation", "training loss in the field"],
        ["iterations in the field", "iterations in the field"],
        ["lateral deviation [cm] (+ left)", "loss"],
    )
    angles = [f"{float(np.degrees(a)) % 360:.0f}°" for a in metrics["baseline"]["angle"]]
    bars = [bar(angles, metrics[k]["lateral"] * 100, titles[k], i) for i, k in enumerate(titles)]
    per_target = figure(
        bars,
        {
            "title": {"text": "Lateral deviation per target (+ left of the movement)"},
            "barmode": "group",
            "xaxis": {"title": {"text": "target direction"}},
            "yaxis": {"title": {"text": "lateral deviation [cm]"}},
        },
    )
    return {"paths": paths, "adaptation": figure(data, layout), "per_target": per_target}
