"""The studies' measures on synthetic data with known answers: the outward-movement window of a reach,
the load window and the no-load control of a posture probe, a known bimodal distribution of preferred
directions, and the across-seed statistics (intervals, paired and permutation tests, the mean axis)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from motornet_core.analysis.kinematics import outward_window, reach_deviations
from motornet_core.studies import seeds as S
from motornet_core.studies.posture import load_responses, unit_load_tuning

DT = 0.01


def _reach(bump: float = 0.01, overshoot_lateral: float = 0.05, distance: float = 0.1) -> np.ndarray:
    """(1, 81, 2) a reach along +x: minimum-jerk 0.1-0.5 s with a lateral sine bump of height ``bump`` [m] (peak at
    mid-movement), then a 3 cm overshoot carried ``overshoot_lateral`` [m] sideways, then back on the target."""
    t = np.arange(81) * DT
    s = np.clip((t - 0.1) / 0.4, 0, 1)
    along = distance * (10 * s**3 - 15 * s**4 + 6 * s**5)
    lateral = bump * np.sin(np.pi * s)
    late = (t > 0.5) & (t <= 0.7)
    u = np.where(late, (t - 0.5) / 0.2, 0.0)
    along = along + 0.03 * np.sin(np.pi * u) * late
    lateral = lateral + overshoot_lateral * np.sin(np.pi * u) * late
    return np.stack([along, lateral], -1)[None]


def test_outward_window_ends_at_arrival_and_excludes_the_overshoot():
    hand = _reach()
    start, target = np.zeros((1, 2)), np.array([[0.1, 0.0]])
    onset, arrival = outward_window(hand, start, target, DT, arrival_radius=0.01)
    assert 0.1 <= onset[0] * DT <= 0.2  # 10% of the peak speed, shortly after 0.1 s
    assert 0.3 < arrival[0] * DT <= 0.5  # within 1 cm of the target before the overshoot starts at 0.5 s
    dev = reach_deviations(hand, start, target, DT, arrival_radius=0.01)
    assert dev["outward"][0] == pytest.approx(0.01, abs=5e-4)  # the bump, not the overshoot
    assert dev["at_peak_speed"][0] == pytest.approx(0.01, abs=5e-4)  # peak speed at mid-movement, on the bump's top
    assert dev["whole"][0] == pytest.approx(0.05, abs=1e-3)  # the old measure takes the overshoot's excursion
    assert dev["overshoot"][0] == pytest.approx(0.3, abs=0.02)  # 3 cm past a 10 cm target


def test_reach_deviations_sign_and_rotation():
    hand = _reach(bump=-0.02, overshoot_lateral=0.0)  # to the right of a reach along +x
    theta = np.radians(135)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    start = np.array([[0.3, -0.2]])
    rotated = hand @ rot.T + start[:, None, :]
    target = start + (rot @ np.array([0.1, 0.0]))[None]
    dev = reach_deviations(rotated, start, target, DT)
    assert dev["outward"][0] == pytest.approx(-0.02, abs=5e-4) and dev["at_peak_speed"][0] == pytest.approx(-0.02, abs=5e-4)


def test_reach_that_never_arrives_uses_the_whole_trial():
    hand = _reach(distance=0.05, overshoot_lateral=0.0)  # stops halfway to a 10 cm target
    _, arrival = outward_window(hand, np.zeros((1, 2)), np.array([[0.1, 0.0]]), DT)
    assert arrival[0] == hand.shape[1] - 1


def _posture(magnitude: float, onset: float = 0.2, duration: float = 0.3, after_end: float = 0.05) -> dict[str, np.ndarray]:
    """Two trials (loads along +x and +y) of 0.8 s: the hand drifts 2 mm in every trial (drift, also without
    load); a load moves it by ``magnitude`` cm along itself while on, then by ``after_end`` m after it ends
    (a rebound larger than the loaded peak); activations ramp up in every trial (+0.02 over the episode) and
    a loaded trial adds 0.1 x magnitude to muscle 0 from 50 ms after the onset; unit 0 follows the load's x."""
    t = np.arange(81) * DT
    drift = 0.002 * t / t[-1]
    on = (t >= onset) & (t < onset + duration)
    rise = np.clip((t - onset) / 0.05, 0, 1) * on
    after = t >= onset + duration
    hand = np.zeros((2, 81, 2))
    act = np.zeros((2, 81, 3)) + 0.05 + 0.02 * t[None, :, None] / t[-1]
    hidden = np.zeros((2, 81, 4)) + 0.1 * t[None, :, None]
    for b, axis in enumerate((0, 1)):
        hand[b, :, 0] += drift
        hand[b, :, axis] += magnitude * 0.01 * rise + (after_end * after if magnitude > 0 else 0.0)
        act[b, (t >= onset + 0.05) & on, 0] += 0.1 * magnitude
        hidden[b, on, 0] += magnitude * (1.0 if axis == 0 else -1.0)
    return {"hand": hand, "activation": act, "hidden": hidden, "time": t}


def test_load_responses_measure_only_while_the_load_is_on_and_against_the_no_load_control():
    ev, control = _posture(2.0), _posture(0.0)
    r = load_responses(ev, control, onset=0.2, duration=0.3, window=(0.05, 0.15))
    assert r["peak"] == pytest.approx([0.02, 0.02], abs=1e-9)  # 2 cm while on; the 5 cm after the end does not count
    assert np.all((r["peak_time"] >= 0.2) & (r["peak_time"] < 0.5))
    assert r["peak_angle"] == pytest.approx([0.0, np.pi / 2], abs=1e-9)  # the drift is in the control too
    # muscle 0 responds by 0.2; the others ramp exactly as without load: no response, not "co-contraction"
    assert r["muscle"][:, 0] == pytest.approx([0.2, 0.2], abs=1e-9)
    assert r["muscle"][:, 1:] == pytest.approx(np.zeros((2, 2)), abs=1e-12)
    assert r["unit"][:, 0] == pytest.approx([2.0, -2.0], abs=1e-9) and r["unit"][:, 1:] == pytest.approx(0.0, abs=1e-12)
    # a no-load probe against its own control responds with nothing at all
    zero = load_responses(control, control, onset=0.2, duration=0.3, window=(0.05, 0.15))
    assert zero["peak"] == pytest.approx(0.0, abs=1e-12) and np.all(zero["muscle"] == 0)


def test_load_responses_reject_an_empty_window():
    ev = _posture(1.0)
    with pytest.raises(ValueError, match="no sample while the load is on"):
        load_responses(ev, ev, onset=0.9, duration=0.3, window=(0.05, 0.15))


def test_unit_load_tuning_finds_a_known_bimodal_distribution_and_its_axis():
    rng = np.random.default_rng(3)
    load_angle = np.arange(8) * 2 * np.pi / 8
    n = 60
    pld = np.where(np.arange(n) % 2 == 0, np.radians(30), np.radians(210)) + rng.normal(0, 0.15, n)
    depth = rng.uniform(0.5, 1.5, n)
    units = 0.2 + depth * np.cos(load_angle[:, None] - pld[None, :])  # (8 directions, n units)
    units[:, :2] = 0.0  # two silent units: not tuned
    out = unit_load_tuning(load_angle, units, min_r2=0.5)
    assert out["n"] == n - 2 and not out["tuned"][:2].any()
    assert out["axial_p"] < 1e-8 and out["axis_deg"] == pytest.approx(30, abs=5)
    assert out["rayleigh_p"] > 0.05  # the two modes cancel in the unimodal test
    uni = unit_load_tuning(load_angle, 0.2 + np.cos(load_angle[:, None] - rng.normal(1.0, 0.2, n)[None, :]), 0.5)
    assert uni["rayleigh_p"] < 1e-8  # a unimodal population: the plain Rayleigh test


def test_paired_and_independent_tests_have_the_right_answers():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 8)
    shifted = base + 2.0 + rng.normal(0, 0.1, 8)
    d = S.paired(shifted, base)
    assert d["n"] == 8 and d["mean"] == pytest.approx(2.0, abs=0.15) and d["low"] < d["mean"] < d["high"]
    assert d["p"] < 1e-6 and d["p_perm"] == pytest.approx(2 / 256, abs=1e-9)  # every sign-flip but two is smaller
    same = S.paired(base + rng.normal(0, 0.1, 8), base)
    assert same["p"] > 0.05 and same["low"] < 0 < same["high"]
    a, b = rng.normal(1.0, 0.2, 8), rng.normal(0.0, 0.2, 8)
    ind = S.independent(a, b)
    assert ind["p_perm"] < 0.001 and ind["low"] < ind["mean"] < ind["high"] and ind["n_reference"] == 8
    assert S.independent(a, a + rng.normal(0, 0.01, 8))["p_perm"] > 0.2
    assert math.isnan(S.paired([1.0], [0.0])["p"])


def test_axial_mean_wraps_around_the_half_circle():
    axes = np.radians([175.0, 178.0, 2.0, 5.0, 179.0, 1.0])  # around 0/180
    out = S.axial_mean(axes)
    assert min(out["axis_deg"], 180 - out["axis_deg"]) < 2.0 and out["r"] > 0.95
    assert out["low_deg"] <= out["axis_deg"] <= out["high_deg"] and out["high_deg"] - out["low_deg"] < 8
    spread = S.axial_mean(np.radians(np.linspace(0, 180, 9)[:-1]))
    assert spread["r"] < 1e-9  # no common axis


def test_claim_decides_from_p_and_fisher_combines():
    c = S.claim("x", "m", S.describe([1.0, 2.0, 3.0]), p=0.01)
    assert c["holds"] is True and c["n"] == 3 and c["low"] <= 2.0 <= c["high"]
    assert S.claim("x", "m", {"n": 0}, p=0.2)["holds"] is False
    assert S.fisher_combined([0.01, 0.01, 0.01]) < 0.001 and S.fisher_combined([0.9, 0.5, 0.7]) > 0.5
