"""Analyses on synthetic data with known answers, and the biomechanics of the presets."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from motornet_core import build_effector, presets
from motornet_core.analysis import (
    activation_figure,
    analyse_snapshot,
    endpoint_error,
    fit_cosine_tuning,
    geometry_over_grid,
    hand_speed,
    lateral_deviation,
    loss_figure,
    moment_arm_figure,
    movement_time,
    muscle_curves,
    muscle_curves_figure,
    pca,
    pca_figure,
    peak_speed,
    preferred_directions,
    reach_summary,
    reaction_time,
    trajectories_figure,
    tuning_figure,
)


def test_cosine_tuning_recovers_known_preferred_directions() -> None:
    rng = np.random.default_rng(0)
    theta = np.arange(16) * 2 * np.pi / 16
    pmd = np.array([0.3, -2.0, 2.9, 1.2])
    depth = np.array([1.0, 0.5, 2.0, 0.8])
    base = np.array([0.2, -0.1, 1.0, 0.0])
    rates = base + depth * np.cos(theta[:, None] - pmd) + 0.02 * rng.standard_normal((16, 4))
    flat = 0.05 * rng.standard_normal((16, 1))  # an untuned unit
    fit = fit_cosine_tuning(theta, np.hstack([rates, flat]))
    err = np.angle(np.exp(1j * (fit["pmd"][:4] - pmd)))
    assert np.abs(err).max() < 0.05
    np.testing.assert_allclose(fit["depth"][:4], depth, atol=0.03)
    np.testing.assert_allclose(fit["baseline"][:4], base, atol=0.03)
    assert fit["r2"][:4].min() > 0.99 and fit["r2"][4] < 0.5
    with pytest.raises(ValueError, match="3 distinct"):
        fit_cosine_tuning([0.0, np.pi, 2 * np.pi], np.ones((3, 1)))


def test_preferred_directions_from_hidden_activity() -> None:
    theta = np.arange(8) * np.pi / 4
    t = np.linspace(0, 1, 50)
    hidden = np.cos(theta[:, None, None] - np.array([1.0, -1.0])) * np.sin(np.pi * t)[None, :, None]  # (8, 50, 2)
    fit = preferred_directions(hidden, theta, window=slice(10, 40))
    np.testing.assert_allclose(fit["pmd"], [1.0, -1.0], atol=1e-9)


def test_pca_finds_a_planted_plane() -> None:
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.standard_normal((10, 2)))[0].T  # (2, 10) orthonormal
    latent = rng.standard_normal((4, 30, 2)) * np.array([3.0, 1.0])
    act = latent @ basis + 5.0 + 1e-4 * rng.standard_normal((4, 30, 10))
    out = pca(act, n_components=3)
    assert out["projection"].shape == (4, 30, 3)
    assert out["explained_variance_ratio"][:2].sum() > 0.9999
    assert out["explained_variance_ratio"][0] > out["explained_variance_ratio"][1]
    # the top two axes span the planted plane
    overlap = out["components"][:2] @ basis.T
    np.testing.assert_allclose(np.abs(np.linalg.det(overlap)), 1.0, atol=1e-4)
    np.testing.assert_allclose(out["mean"], act.reshape(-1, 10).mean(0))


def _min_jerk(distance: float, duration: float, dt: float, onset: float = 0.0, total: float = 1.0) -> np.ndarray:
    t = np.arange(round(total / dt) + 1) * dt
    s = np.clip((t - onset) / duration, 0, 1)
    x = distance * (10 * s**3 - 15 * s**4 + 6 * s**5)
    return np.stack([x, np.zeros_like(x)], axis=-1)[None]  # (1, T, 2)


def test_kinematics_of_a_minimum_jerk_reach() -> None:
    dt, d, dur, onset = 0.001, 0.1, 0.5, 0.2
    hand = _min_jerk(d, dur, dt, onset)
    target = np.array([[d, 0.0]])
    assert endpoint_error(hand, target)[0] == pytest.approx(0.0, abs=1e-12)
    assert peak_speed(hand, dt)[0] == pytest.approx(1.875 * d / dur, rel=1e-3)
    # min-jerk speed / peak = 16 s^2 (1 - s)^2 = 0.1 where s (1 - s) = sqrt(0.1 / 16)
    s10 = (1 - math.sqrt(1 - 4 * math.sqrt(0.1 / 16))) / 2
    assert reaction_time(hand, dt, go_time=0.1)[0] == pytest.approx(onset - 0.1 + s10 * dur, abs=2e-3)
    assert movement_time(hand, dt)[0] == pytest.approx((1 - 2 * s10) * dur, abs=2e-3)
    assert hand_speed(hand, dt).shape == (1, hand.shape[1])
    summary = reach_summary(hand, target, dt)
    json.dumps(summary)
    assert summary["mean"]["peak_speed"] == pytest.approx(0.375, rel=1e-3)


def test_lateral_deviation_is_signed() -> None:
    t = np.linspace(0, 1, 101)
    arc = np.stack([0.1 * t, 0.02 * np.sin(np.pi * t)], axis=-1)[None]  # bulges to the left of +x
    start, target = np.array([[0.0, 0.0]]), np.array([[0.1, 0.0]])
    assert lateral_deviation(arc, start, target)[0] == pytest.approx(0.02, abs=1e-6)
    mirrored = arc * np.array([1, -1])
    assert lateral_deviation(mirrored, start, target)[0] == pytest.approx(-0.02, abs=1e-6)


def test_arm26_moment_arms_match_the_polynomial() -> None:
    eff = build_effector(presets.arm26())
    geo = geometry_over_grid(eff, n_points=7)
    q, r, length = geo["joints"], geo["moment_arm"], geo["length"]
    assert q.shape == (49, 2) and r.shape == (49, 2, 6) and length.shape == (49, 6)
    # biceps (index 4): L = a0 + sum_j (a1_j + a2_j x_j) x_j with x_j = q_j - a3_j; r_j = dL/dq_j
    a0, a1, a2, a3 = 0.3329, np.array([-0.03, -0.016]), np.array([0.0, -0.0057]), np.array([math.pi / 2, 0.0])
    x = q - a3
    np.testing.assert_allclose(length[:, 4], a0 + ((a1 + a2 * x) * x).sum(1), atol=1e-6)
    np.testing.assert_allclose(r[:, :, 4], a1 + 2 * a2 * x, atol=1e-6)
    np.testing.assert_allclose(q.min(0), [0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(q.max(0), [135 * math.pi / 180, 155 * math.pi / 180], atol=1e-6)


def test_point_mass_moment_arms_are_unit_vectors() -> None:
    eff = build_effector(presets.point_mass_24())
    geo = geometry_over_grid(eff, n_points=5)
    norms = np.linalg.norm(geo["moment_arm"], axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-6)
    assert len(geometry_over_grid(build_effector(presets.arm3_winter()), n_points=30)["joints"]) <= 20_000


@pytest.mark.parametrize("name", ["arm26", "arm26_thelen", "arm26_mujoco", "arm26_compliant", "point_mass_24"])
def test_muscle_curves(name: str) -> None:
    eff = build_effector(presets.effector_preset(name))
    c = muscle_curves(eff, n_points=141, length_range=(0.4, 1.8))
    assert c["active"].shape == (141, eff.n_muscles)
    for key in ("active", "passive", "force_velocity"):
        assert np.isfinite(c[key]).all(), key
    i1 = int(np.argmin(np.abs(c["length"] - 1.0)))
    np.testing.assert_allclose(c["active"][i1], 1.0, atol=1e-4)  # F_max at the optimal length
    if name == "point_mass_24":
        return
    assert c["active"].argmax(0).tolist() == [i1] * eff.n_muscles
    assert np.all(c["passive"][c["length"] < 0.95] < 1e-6) and np.all(c["passive"][-1] > 0.05)
    vel, fv = c["velocity"], c["force_velocity"]
    if vel.ndim == 1:
        vel = np.repeat(vel[:, None], eff.n_muscles, 1)
    order = np.argsort(vel[:, 0])
    assert np.all(np.diff(fv[order, 0]) >= -1e-6)  # force rises from shortening to lengthening
    iso = int(np.argmin(np.abs(vel[:, 0])))
    assert fv[iso, 0] == pytest.approx(1.0, abs=0.05)


def test_figures_are_json_ready() -> None:
    snap = {
        "time": [0.0, 0.1],
        "hand": [[[0, 0], [0.1, 0]], [[0, 0], [0, 0.1]]],
        "targets": [[0.1, 0], [0, 0.1]],
        "activation": [[[0.1, 0.2], [0.3, 0.4]]],
        "muscle_names": ["a", "b"],
    }
    eff = build_effector(presets.arm26())
    figures = [
        trajectories_figure(snap),
        activation_figure(snap),
        loss_figure([1, 2, 3], {"loss": [1.0, 0.5, 0.25]}),
        tuning_figure({"pmd": [0.1, 2.0], "depth": [1.0, 0.5], "r2": [0.9, 0.2]}, min_r2=0.5),
        pca_figure(np.zeros((2, 5, 3)), [0.6, 0.3, 0.1]),
        moment_arm_figure(geometry_over_grid(eff, 9), joint=1),
        muscle_curves_figure(muscle_curves(eff, 11), muscle=2),
    ]
    for fig in figures:
        assert set(fig) >= {"data", "layout"} and fig["data"]
        json.dumps(fig)
    assert len(figures[0]["data"]) == 3
    assert len(figures[3]["data"][0]["r"]) == 1  # the R^2 filter dropped one unit
    assert len(figures[5]["data"]) == 6 and len(figures[5]["data"][0]["x"]) == 9


def test_analyse_snapshot_of_a_real_rollout() -> None:
    from motornet_core.run_presets import run_preset
    from motornet_core.training import Trainer

    spec = run_preset("tiny_arm26").with_updates({"task.duration": 0.3})
    snap = Trainer(spec).evaluate()
    out = analyse_snapshot(snap)
    json.dumps(out)
    assert len(out["directions"]) == 8 and len(out["kinematics"]["endpoint_error"]) == 8
    np.testing.assert_allclose(np.diff(np.unwrap(out["directions"])), np.pi / 4, atol=1e-3)
    assert len(out["tuning"]["pmd"]) == 8  # hidden_size 8
    assert np.asarray(out["pca"]["projection"]).shape == (8, len(snap["time"]), 3)
    np.testing.assert_allclose(out["kinematics"]["endpoint_error"], snap["endpoint_error"], atol=2e-5)


def test_reaction_times_count_from_each_trials_go_time() -> None:
    dt, d, dur = 0.01, 0.1, 0.3
    go = np.array([0.1, 0.4])
    hand = np.concatenate([_min_jerk(d, dur, dt, onset=g + 0.05) for g in go])  # (2, T, 2)
    snap = {
        "dt": dt,
        "time": (np.arange(hand.shape[1]) * dt).tolist(),
        "hand": hand.tolist(),
        "targets": [[d, 0.0], [d, 0.0]],
        "hidden": np.random.default_rng(0).normal(size=(2, hand.shape[1], 4)).tolist(),
        "go_time": go.tolist(),
    }
    rt = np.asarray(analyse_snapshot(snap)["kinematics"]["reaction_time"])
    assert rt[0] == pytest.approx(rt[1], abs=1e-9) and 0.05 <= rt[0] < 0.1  # not 0.15 and 0.45
    np.testing.assert_allclose(reaction_time(hand, dt, go_time=go), rt)
    del snap["go_time"]  # a snapshot written before go times existed: from t = 0
    np.testing.assert_allclose(analyse_snapshot(snap)["kinematics"]["reaction_time"], rt + go)


def test_snapshots_carry_the_go_time_of_delayed_trials() -> None:
    from motornet_core.run_presets import run_preset
    from motornet_core.training import Trainer, dumps

    spec = run_preset("tiny_arm26").with_updates(
        {"task.duration": 0.3, "task.delay_min": 0.12, "task.delay_max": 0.2, "task.go_cue": True}
    )
    snap = Trainer(spec).evaluate()
    json.loads(dumps(snap))  # the one JSON encoder of records
    np.testing.assert_allclose(snap["go_time"], [0.12] * 8, atol=1e-6)  # evaluation: the shortest delay
    assert Trainer(run_preset("tiny_point_mass")).evaluate()["go_time"] == [0.0] * 4
