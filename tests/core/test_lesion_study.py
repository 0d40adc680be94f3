"""The premotor-lesion study and its statistics: paired comparisons and population measures on known data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from motornet_core.errors import SpecError
from motornet_core.experiments import compare_paired
from motornet_core.studies import run_study
from motornet_core.studies.lesion import condition_variance, motor_tangling, rms


def test_paired_comparison_of_known_differences():
    reference = np.array([1.0, 5.0, 2.0, 7.0])
    values = reference + np.array([1.0, 2.0, 3.0, 4.0])  # differences: mean 2.5, sd sqrt(5/3)
    out = compare_paired(values, reference)
    t = 2.5 / (math.sqrt(5 / 3) / 2)
    assert out.n == 4 and out.difference == pytest.approx(2.5)
    assert out.t == pytest.approx(t) and out.p == pytest.approx(2 * stats.t.sf(t, df=3))
    assert 1.0 <= out.low < 2.5 < out.high <= 4.0  # the bootstrap interval lies within the observed differences
    # a pair with a missing value is dropped, not the whole seed set
    assert compare_paired([*values, math.nan], [*reference, 3.0]).n == 4
    # the same difference for every seed: no variance to test, an interval of that value
    same = compare_paired([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert (same.difference, same.low, same.high) == (1.0, 1.0, 1.0) and math.isnan(same.t) and math.isnan(same.p)
    with pytest.raises(ValueError, match="equal lengths"):
        compare_paired([1.0, 2.0], [1.0])


def test_population_measures_of_known_activity():
    trials = np.arange(4.0)[:, None, None] * np.ones((4, 3, 2))  # unit activity = trial index: variance 1.25 per unit
    assert condition_variance(trials) == pytest.approx(2.5)
    assert condition_variance(np.ones((5, 3, 4))) == 0.0
    assert rms(np.full((2, 3, 4), -2.0)) == pytest.approx(2.0)


def test_motor_tangling_of_known_trajectories():
    # a unit circle at w rad/s embedded in 6 units: Q = w^2 4 / (4 + eps), eps = 0.1 x its variance (1);
    # the same circle at half the radius, measured with the intact eps: Q = w^2 1 / (1 + 0.1)
    dt, w = 1e-3, 2 * math.pi
    t = np.arange(0, 1.0, dt)
    embed = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 6)))[0][:2]  # (2, 6) orthonormal rows
    circle = np.stack([np.cos(w * t), np.sin(w * t)], -1)[None] @ embed  # (1, T, 6)
    intact, smaller = motor_tangling(circle, 0.5 * circle + 3.0, dt, start=1)
    assert intact == pytest.approx(w**2 * 4 / 4.1, rel=2e-3)
    assert smaller == pytest.approx(w**2 / 1.1, rel=2e-3)
    # a path that crosses itself (a figure eight) is far more tangled than the circle
    eight = np.stack([np.sin(w * t), np.sin(2 * w * t)], -1)[None] @ embed
    assert motor_tangling(circle, eight, dt)[1] > 20 * intact


def test_quick_lesion_study_silences_premotor_and_leaves_motor_blind_to_the_target(tmp_path):
    torch.set_num_threads(1)
    result = run_study("premotor_lesion", {"quick": True, "lesion_start": 0.0}, out_dir=tmp_path)
    s = result.summary
    assert s["n_seeds"] == 3 and s["endpoint_error_cm"]["intact"]["n"] == 3
    assert s["endpoint_error_cm"]["lesioned_minus_intact"]["n"] == 3
    assert all(r["premotor_rms"] == 0.0 for r in result.table if r["condition"] == "lesioned")
    assert all(r["premotor_rms"] > 0 for r in result.table if r["condition"] == "intact")
    # lesioned from t = 0, the motor area sees only proprioception: every target gets the same activity
    lesioned = [r["motor_condition_variance"] for r in result.table if r["condition"] == "lesioned"]
    intact = [r["motor_condition_variance"] for r in result.table if r["condition"] == "intact"]
    assert lesioned == [0.0, 0.0, 0.0] and all(v > 0 for v in intact)
    paths = [t for t in result.figures["paths"]["data"] if t["name"] == "lesioned" and t["mode"] == "lines"]
    assert len(paths) == 4 and all(p["x"] == paths[0]["x"] and p["y"] == paths[0]["y"] for p in paths)
    assert all(math.isfinite(r["motor_tangling"]) and r["motor_tangling"] >= 0 for r in result.table)
    assert s["motor_tangling"]["lesioned_minus_intact"]["n"] == 3
    assert {"paired", "paths", "motor_activity"} <= set(result.figures)
    assert (tmp_path / "summary.json").is_file()


def test_lesion_params_name_the_field():
    with pytest.raises(SpecError) as info:
        run_study("premotor_lesion", {"lesion_start": 2.0, "duration": 0.5})
    assert info.value.errors[0]["loc"] == "lesion_start"
    with pytest.raises(SpecError) as info:
        run_study("premotor_lesion", {"seeds": 1})
    assert info.value.errors[0]["loc"] == "seeds"
