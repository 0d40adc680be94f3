"""Centre-out reaching in a curl field: initial deviation, adaptation, after-effects (Codol et al. 2024).

Sign convention: lateral deviation is positive to the left of the movement. A clockwise field
(F = k [ydot, -xdot], k > 0) pushes the hand to the right of its velocity, so its initial deviation
is negative, and once the network has learnt to push back, removing the field gives a positive
after-effect (a counter-clockwise field: the opposite signs).

Measures (:func:`~motornet_core.analysis.kinematics.reach_deviations`): the lateral deviation of
the outward movement only (movement onset to arrival at the target, an overshoot excluded) and at
peak speed. The study trains ``seeds`` networks (one ensemble) and reports every condition and
effect across them with a 95% interval and paired tests on the same networks.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from motornet_core.analysis.kinematics import endpoint_error, reach_deviations
from motornet_core.effector import Effector
from motornet_core.policies import Policy
from motornet_core.specs.base import fail
from motornet_core.studies import seeds as S
from motornet_core.studies.base import OffsetSink, StudyContext
from motornet_core.studies.common import Reacher, TrainingParams, centre, ensemble, evaluate, final_losses, run_spec, train_seeds
from motornet_core.studies.plots import bar, figure, grid_layout, interval_points, line, paths_figure, seed_points

CONDITIONS = ("baseline", "field", "adapted", "after_effect")
MEASURES = ("outward", "at_peak_speed")


class CurlFieldParams(TrainingParams):
    """Parameters of ``centre_out_curl_field``."""

    iterations: int = Field(1000, ge=1, le=100_000, description="gradient steps in the null field")
    batch_size: int = Field(32, ge=1, le=1024, description="episodes per gradient step")
    hidden_size: int = Field(64, ge=2, le=512, description="GRU units")
    effector: Reacher = Field("arm26", description="the reaching effector")
    n_targets: int = Field(8, ge=3, le=32, description="centre-out targets")
    radius: float = Field(0.1, gt=0.0, le=0.3, description="reach distance [m]")
    field_gain: float = Field(10.0, gt=0.0, le=200.0, description="curl field strength |k| [N s/m]")
    field_direction: Literal["cw", "ccw"] = Field("cw", description="cw: F = k [ydot, -xdot] with k > 0")
    adapt_iterations: int = Field(200, ge=1, le=100_000, description="gradient steps of training in the field")
    adapt_every: int = Field(25, ge=1, le=10_000, description="iterations between adaptation-curve points")
    adapt_lr: float = Field(1e-3, gt=0.0, le=1.0, description="learning rate in the field (constant)")
    arrival_radius: float = Field(0.01, gt=0.0, le=0.1, description="the outward movement ends this close to the target [m]")

    @model_validator(mode="after")
    def _chunks(self) -> CurlFieldParams:
        if self.adapt_iterations // self.adapt_every > 200:
            raise fail("adapt_every", "gives more than 200 adaptation-curve points", self.adapt_every)
        return self


def expected_sign(direction: str) -> int:
    """Sign of the initial lateral deviation a curl field implies (cw: -1, to the right; ccw: +1)."""
    return -1 if direction == "cw" else 1


def reach_metrics(ev: dict[str, np.ndarray], arrival_radius: float = 0.01) -> dict[str, np.ndarray]:
    """(B,) per reach: ``outward`` and ``at_peak_speed`` lateral deviation [m] (+ left), ``whole`` (whole trial),
    ``overshoot`` [fraction of the distance], ``error`` endpoint error [m] and ``angle`` target direction [rad]."""
    start, target = ev["start"], ev["target"]
    dev = reach_deviations(ev["hand"], start, target, float(ev["dt"]), arrival_radius=arrival_radius)
    return {
        **dev,
        "error": endpoint_error(ev["hand"], target),
        "angle": np.arctan2(target[:, 1] - start[:, 1], target[:, 0] - start[:, 0]),
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
    """Evaluations of the four conditions of one network.

    baseline (null field), field (first trials in the field, before adaptation), adapted (in the
    field), after_effect (field removed).
    """
    return {
        "baseline": evaluate(effector, policy_before, null_task),
        "field": evaluate(effector, policy_before, field_task),
        "adapted": evaluate(effector, policy_after, field_task),
        "after_effect": evaluate(effector, policy_after, null_task),
    }


def run_curl_field(p: CurlFieldParams, ctx: StudyContext) -> tuple[dict, list, dict]:
    """Train ``seeds`` networks in a null field, test them in the curl field, train them in it, then remove it."""
    spec = run_spec(p.effector, _task(p, False), p, "curl_baseline")
    base = ensemble(spec, p.seeds)
    train_seeds(ctx, base, "baseline")
    ctx.check()
    field_spec = run_spec(p.effector, _task(p, True), p, "curl_adaptation").with_updates(
        {
            "train.n_iterations": p.adapt_iterations,
            "train.lr": p.adapt_lr,
            "train.lr_schedule": "none",
            "train.eval_every": p.adapt_every,
        }
    )
    before = [r.policy for r in base.replicates]
    adapt = ensemble(field_spec, p.seeds, before)
    eff, null_task, field_task = base.effector, spec.task, field_spec.task

    def deviation() -> list[float]:
        return [
            float(reach_metrics(evaluate(eff, r.policy, field_task), p.arrival_radius)["outward"].mean())
            for r in adapt.replicates
        ]

    curve = [(0, deviation())]
    sink = OffsetSink(ctx, "adaptation")
    done = 0
    while done < p.adapt_iterations:
        done = min(done + p.adapt_every, p.adapt_iterations)
        train_seeds(ctx, adapt, "adaptation", until=done, sink=sink)
        curve.append((done, deviation()))
    metrics = []
    evals0 = None
    for i, r in enumerate(adapt.replicates):
        ctx.check()
        evals = curl_conditions(eff, before[i], r.policy, null_task, field_task)
        evals0 = evals if evals0 is None else evals0
        metrics.append({k: reach_metrics(v, p.arrival_radius) for k, v in evals.items()})
    histories = [r.history for r in adapt.replicates]
    summary = curl_summary(metrics, p.field_direction)
    summary["seeds"], summary["iterations"] = p.seeds, p.iterations
    summary["baseline_final_loss_per_seed"] = final_losses(base)
    summary["adaptation_curve_cm"] = [
        {"step": s, **S.describe(np.asarray(v) * 100), "per_seed": [round(x * 100, 4) for x in v]} for s, v in curve
    ]
    assert evals0 is not None
    return _figures(p, evals0, metrics, curve, histories), _table(p, metrics), summary


def _per_seed(metrics: list[dict[str, dict[str, np.ndarray]]], cond: str, key: str, scale: float = 100.0) -> np.ndarray:
    return np.array([float(m[cond][key].mean() * scale) for m in metrics])


def curl_summary(metrics: list[dict[str, dict[str, np.ndarray]]], direction: str) -> dict[str, Any]:
    """Across networks (one dict of condition metrics each): every condition's deviation, the effects and their tests.

    Effects are paired differences on the same network [cm]: field - baseline (expected: the field's
    sign), after_effect - baseline (expected: the opposite sign), and the adaptation
    |adapted - baseline| - |field - baseline| (expected: negative).
    """
    sign = expected_sign(direction)
    out: dict[str, Any] = {"expected_field_sign": sign, "n_networks": len(metrics)}
    claims: list[dict[str, Any]] = []
    err = {c: _per_seed(metrics, c, "error") for c in CONDITIONS}
    out["endpoint_error_cm"] = {c: S.describe(err[c]) for c in CONDITIONS}
    out["endpoint_error_cm_per_seed"] = {c: err[c].tolist() for c in CONDITIONS}
    over = {c: np.array([float(m[c]["overshoot"].max()) for m in metrics]) for c in CONDITIONS}
    out["max_overshoot_fraction"] = {c: S.describe(over[c]) for c in CONDITIONS}
    base_err = S.describe(err["baseline"])
    claims.append(
        {
            **S.claim(
                "the baseline reaches land within 1 cm of the target (upper 95% bound < 1 cm)",
                "endpoint error, null field",
                base_err,
                unit="cm",
                holds=bool(base_err["high"] < 1.0) if math.isfinite(base_err["high"]) else bool(base_err["mean"] < 1.0),
            ),
            "expected": True,
        }
    )
    for measure in MEASURES:
        lat = {c: _per_seed(metrics, c, measure) for c in CONDITIONS}
        out[f"lateral_{measure}_cm"] = {c: S.describe(lat[c]) for c in CONDITIONS}
        out[f"lateral_{measure}_cm_per_seed"] = {c: lat[c].tolist() for c in CONDITIONS}
        field = S.paired(lat["field"], lat["baseline"])
        after = S.paired(lat["after_effect"], lat["baseline"])
        adapted = S.paired(np.abs(lat["adapted"] - lat["baseline"]), np.abs(lat["field"] - lat["baseline"]))
        out[f"field_effect_{measure}_cm"] = field
        out[f"after_effect_{measure}_cm"] = after
        out[f"adaptation_{measure}_cm"] = adapted
        initial = lat["field"] - lat["baseline"]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = 1 - np.abs(lat["adapted"] - lat["baseline"]) / np.abs(initial)
        out[f"adaptation_fraction_{measure}"] = S.describe(frac[np.isfinite(frac)])
        what = "outward movement (onset to arrival)" if measure == "outward" else "at peak speed"
        side = "right" if sign < 0 else "left"
        claims.append(
            {
                **_directed(f"the field pushes the hand to the {side} ({what})", f"field - baseline, {what}", field, sign),
                "expected": True,
            }
        )
        claims.append(
            {
                **_directed(
                    f"training in the field reduces the deviation ({what})",
                    "|adapted - baseline| - |field - baseline|",
                    adapted,
                    -1,
                ),
                "expected": True,
            }
        )
        claims.append(
            {
                **_directed(
                    f"removing the field deflects the hand the other way: after-effect ({what})",
                    f"after-effect - baseline, {what}",
                    after,
                    -sign,
                ),
                "expected": True,
            }
        )
    for c in claims:
        c["replicates"] = None if c["expected"] is None or c["holds"] is None else bool(c["holds"] == c["expected"])
    out["field_sign_ok"] = bool(np.sign(out["field_effect_outward_cm"]["mean"]) == sign)
    out["after_effect_sign_ok"] = bool(np.sign(out["after_effect_outward_cm"]["mean"]) == -sign)
    out["claims"] = claims
    return out


def _directed(text: str, measure: str, est: dict[str, Any], sign: int) -> dict[str, Any]:
    p = est["p"]
    holds = bool(p < S.ALPHA and np.sign(est["mean"]) == sign) if math.isfinite(p) else None
    return S.claim(text, measure, est, unit="cm", test="paired t-test (same networks)", p=p, holds=holds)


def _table(p: CurlFieldParams, metrics: list[dict[str, dict[str, np.ndarray]]]) -> list[dict[str, Any]]:
    """One row per (seed, target)."""
    rows = []
    for s, m in enumerate(metrics):
        for i, angle in enumerate(m["baseline"]["angle"]):
            row: dict[str, Any] = {"seed": p.seed + s, "target": i, "angle_deg": round(float(np.degrees(angle)) % 360, 3)}
            for measure in MEASURES:
                for k in CONDITIONS:
                    row[f"{k}_{measure}_cm"] = float(m[k][measure][i] * 100)
            for k in CONDITIONS:
                row[f"{k}_error_cm"] = float(m[k]["error"][i] * 100)
            for k in CONDITIONS:
                row[f"{k}_overshoot"] = float(m[k]["overshoot"][i])
            rows.append(row)
    return rows


def _figures(p: CurlFieldParams, evals: dict, metrics: list, curve: list, histories: list[list[float]]) -> dict[str, dict]:
    ev0 = evals["baseline"]
    titles = {
        "baseline": "null field",
        "field": "field, first trials",
        "adapted": "field, adapted",
        "after_effect": "field removed",
    }
    groups = [(titles[k], evals[k]["hand"]) for k in titles]
    paths = paths_figure(
        f"Hand paths of seed {p.seed} ({p.effector}, {p.field_direction} curl field {p.field_gain} N s/m)",
        groups,
        ev0["target"],
        ev0["start"][0],
    )
    steps = [s for s, _ in curve]
    est = [S.describe(np.asarray(v) * 100) for _, v in curve]
    base = S.describe(_per_seed(metrics, "baseline", "outward"))
    hist = np.array([h[: min(len(x) for x in histories)] for h in histories])
    data = [
        interval_points(steps, est, f"in the field (mean of {len(metrics)}, 95% interval)", 0),
        seed_points(steps, [np.asarray(v) * 100 for _, v in curve], "seeds", 0),
        line([0, steps[-1]], [base["mean"]] * 2, "null-field baseline", 7, dash="dash"),
        line(np.arange(1, hist.shape[1] + 1), hist.mean(0), "loss (mean of seeds)", 1, axis=2, legend=False),
    ]
    layout = grid_layout(
        "Adaptation to the curl field (lateral deviation of the outward movement)",
        ["lateral deviation over retraining", "training loss in the field"],
        ["iterations in the field", "iterations in the field"],
        ["lateral deviation [cm] (+ left)", "loss"],
    )
    conds = list(titles)
    bars = []
    for j, measure in enumerate(MEASURES):
        est_c = [S.describe(_per_seed(metrics, c, measure)) for c in conds]
        trace = bar(
            [titles[c] for c in conds],
            [e["mean"] for e in est_c],
            "outward movement" if measure == "outward" else "at peak speed",
            j,
        )
        trace["error_y"] = {
            "type": "data",
            "symmetric": False,
            "array": [e["high"] - e["mean"] if math.isfinite(e["high"]) else 0 for e in est_c],
            "arrayminus": [e["mean"] - e["low"] if math.isfinite(e["low"]) else 0 for e in est_c],
        }
        bars.append(trace)
    conditions = figure(
        bars,
        {
            "title": {"text": f"Lateral deviation by condition: mean of {len(metrics)} networks, 95% interval"},
            "barmode": "group",
            "yaxis": {"title": {"text": "lateral deviation [cm] (+ left)"}},
        },
    )
    angles = [f"{float(np.degrees(a)) % 360:.0f}°" for a in metrics[0]["baseline"]["angle"]]
    per_target = figure(
        [bar(angles, np.mean([m[k]["outward"] for m in metrics], axis=0) * 100, titles[k], i) for i, k in enumerate(titles)],
        {
            "title": {"text": "Lateral deviation of the outward movement per target (mean of the seeds; + left)"},
            "barmode": "group",
            "xaxis": {"title": {"text": "target direction"}},
            "yaxis": {"title": {"text": "lateral deviation [cm]"}},
        },
    )
    return {"paths": paths, "conditions": conditions, "adaptation": figure(data, layout), "per_target": per_target}
