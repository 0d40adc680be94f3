"""Fixed points, tangling and population trajectories on systems with known answers, and on a tiny run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from motornet_core.analysis.dynamics import find_fixed_points, population_trajectories, tangling
from motornet_core.errors import SpecError
from motornet_core.run_presets import run_preset
from motornet_core.specs.base import validate_spec
from motornet_core.training import Trainer
from motornet_core.training.dynamics import DynamicsParams, analyse_dynamics


def test_linear_map_has_its_fixed_point_at_zero_with_the_eigenvalues_of_a() -> None:
    torch.manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(4, 4, dtype=torch.float64))
    lam = torch.tensor([0.9, 0.5, -0.3, 0.1], dtype=torch.float64)
    a = q @ torch.diag(lam) @ q.T
    h0 = torch.randn(16, 4, dtype=torch.float64)
    fps = find_fixed_points(lambda h: h @ a.T, h0, n_iterations=3000, lr=1e-2, q_tolerance=1e-10, unique_distance=1e-3)
    assert fps.points.shape == (1, 4)
    np.testing.assert_allclose(fps.points[0], 0.0, atol=1e-4)
    np.testing.assert_allclose(fps.jacobians[0], a.numpy(), atol=1e-10)
    np.testing.assert_allclose(np.sort(fps.eigenvalues[0].real), np.sort(lam.numpy()), atol=1e-10)
    assert fps.stable.tolist() == [True]


def test_bistable_tanh_unit_has_two_stable_points_and_an_unstable_one() -> None:
    w = 2.0
    h0 = torch.linspace(-1.5, 1.5, 13, dtype=torch.float64)[:, None]
    fps = find_fixed_points(lambda h: torch.tanh(w * h), h0, n_iterations=4000, lr=2e-2, q_tolerance=1e-12, unique_distance=1e-3)
    star = 0.957504024  # the positive root of h = tanh(2 h)
    order = np.argsort(fps.points[:, 0])
    pts, eig, stable = fps.points[order, 0], fps.eigenvalues[order, 0].real, fps.stable[order]
    np.testing.assert_allclose(pts, [-star, 0.0, star], atol=1e-5)
    np.testing.assert_allclose(eig, [w * (1 - star**2), w, w * (1 - star**2)], atol=1e-4)
    assert stable.tolist() == [True, False, True]


def test_no_point_below_the_tolerance_gives_empty_arrays() -> None:
    # h' = h + 1 has no fixed point: q = 0.5 everywhere
    fps = find_fixed_points(lambda h: h + 1.0, torch.zeros(3, 2), n_iterations=5, q_tolerance=1e-3)
    assert fps.points.shape == (0, 2) and fps.eigenvalues.shape == (0, 2)
    np.testing.assert_allclose(fps.candidate_q, 1.0)


def test_circle_tangling_equals_its_analytic_value() -> None:
    # x = r (cos wt, sin wt): |x'(t) - x'(t')|^2 = w^2 |x(t) - x(t')|^2, largest at antipodes (4 r^2);
    # total variance r^2, eps = 0.1 r^2: Q = w^2 4 / 4.1 at every t
    r, w, dt = 2.0, 2 * math.pi, 1e-3
    t = np.arange(0, 1.0, dt)
    x = r * np.stack([np.cos(w * t), np.sin(w * t)], -1)
    q = tangling(x, dt)
    assert q.shape == t.shape
    np.testing.assert_allclose(q[1:-1], w**2 * 4 / 4.1, rtol=1e-3)


def test_figure_eight_crossing_is_far_more_tangled_than_a_circle() -> None:
    dt = 1e-3
    t = np.arange(0, 1.0, dt)
    w = 2 * math.pi
    circle = np.stack([np.cos(w * t), np.sin(w * t)], -1)
    eight = np.stack([np.sin(w * t), np.sin(2 * w * t)], -1)  # crosses itself at the origin
    q_circle, q_eight = tangling(circle, dt), tangling(eight, dt)
    assert q_eight.max() > 20 * q_circle.max()
    # the most tangled times are the crossings (t = 0, 0.5 and 1), where x = 0
    worst = t[np.argmax(q_eight)]
    assert min(abs(worst - 0.5), worst, 1 - worst) < 0.02


def test_tangling_pools_conditions_and_checks_input() -> None:
    dt = 0.01
    t = np.arange(0, 1, dt)
    a = np.stack([t, np.zeros_like(t)], -1)
    b = np.stack([t, np.zeros_like(t)], -1)[::-1].copy()  # the same path, run backwards: tangled
    assert tangling(np.stack([a, b]), dt).shape == (2, t.size)
    assert tangling(np.stack([a, b]), dt).max() > 100 * tangling(a, dt).max()
    with pytest.raises(ValueError, match="dt"):
        tangling(a, 0.0)
    with pytest.raises(ValueError, match="shape"):
        tangling(np.zeros(5), dt)


def test_population_trajectories_recover_a_planar_rotation() -> None:
    t = np.linspace(0, 2 * np.pi, 50)
    basis = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 2)))[0]  # (6, 2)
    hidden = np.stack([np.stack([np.cos(t + c), np.sin(t + c)], -1) @ basis.T for c in range(3)])  # (3, 50, 6)
    out = population_trajectories(hidden, 3)
    assert out["projection"].shape == (3, 50, 3)
    np.testing.assert_allclose(out["explained_variance_ratio"][:2].sum(), 1.0, atol=1e-9)


def _tiny_trainer(kind: str = "gru", hidden_size: int = 8) -> Trainer:
    spec = run_preset("tiny_point_mass").model_dump(mode="json")
    spec["policy"].update(kind=kind, hidden_size=hidden_size)
    spec["train"].update(n_iterations=3, batch_size=4)
    trainer = Trainer(spec)
    trainer.train()
    return trainer


def test_analyse_dynamics_of_a_tiny_run_is_consistent() -> None:
    trainer = _tiny_trainer()
    out = analyse_dynamics(trainer, DynamicsParams(n_initial=8, n_iterations=300, q_tolerance=1e-3))
    c = trainer.spec.train.eval_batch_size
    traj = np.asarray(out["trajectories"])
    assert traj.shape[0] == c and traj.shape[2] == 3
    assert np.asarray(out["tangling"]).shape == traj.shape[:2]
    fp = out["fixed_points"]
    assert len(fp["q"]) == len(fp["stable"]) == len(fp["pc"]) <= 8
    assert all(q < 1e-3 for q in fp["q"])
    assert fp["n_candidates"] == 8
    # the search's parameters come back with the result
    assert out["params"]["n_iterations"] == 300
    # the found points really are slow under the network's map at the held input
    assert len(fp["q"]) >= 1


def test_analyse_dynamics_refuses_what_it_cannot_analyse() -> None:
    trainer = _tiny_trainer("mlp")
    with pytest.raises(SpecError) as info:
        analyse_dynamics(trainer, DynamicsParams(n_initial=2, n_iterations=2))
    assert info.value.errors[0]["loc"] == "policy.kind"
    with pytest.raises(SpecError) as info:
        validate_spec(DynamicsParams.model_validate, {"n_initial": 0})
    assert "n_initial" in str(info.value)


@pytest.mark.slow
def test_a_hand_wired_rnn_policy_has_its_nine_known_fixed_points() -> None:
    # h' = tanh(2 h) per unit, no input: each unit sits at -s, 0 or s (s = tanh(2 s)), 3 x 3 points;
    # stable exactly where neither unit is at 0; eigenvalues 2 (1 - h_i^2)
    trainer = _tiny_trainer("rnn", hidden_size=2)
    cell = trainer.policy.cells[0]
    with torch.no_grad():
        cell.weight_ih.zero_()
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
        cell.weight_hh.copy_(2.0 * torch.eye(2))
    params = DynamicsParams(n_initial=128, n_iterations=3000, lr=2e-2, q_tolerance=1e-10, unique_distance=1e-2, init_noise=1.0)
    out = analyse_dynamics(trainer, params)
    fp = out["fixed_points"]
    star = 0.957504024
    pts = np.asarray(out["areas"][0]["fixed_points_pc"])
    assert len(fp["q"]) == 9 and pts.shape == (9, 2)
    # back from the PCs to the units: the PCs span the plane (2 units, 2 components)
    eig = np.sort(np.asarray(fp["eigenvalues_real"]), axis=1)
    lam_star = 2 * (1 - star**2)
    expected = sorted([sorted([a, b]) for a in (lam_star, 2.0, lam_star) for b in (lam_star, 2.0, lam_star)])
    np.testing.assert_allclose(sorted(eig.tolist()), expected, atol=1e-3)
    assert sum(fp["stable"]) == 4
    np.testing.assert_allclose(np.asarray(fp["eigenvalues_imag"]), 0.0, atol=1e-9)


def test_a_multi_area_policy_is_analysed_per_area() -> None:
    spec = run_preset("tiny_point_mass").with_updates(
        {
            "policy.kind": "multi_area",
            "policy.areas": [{"name": "pmd", "size": 4}, {"name": "m1", "size": 6, "to_muscles": True}],
            "policy.connections": [{"source": "pmd", "target": "m1"}, {"source": "m1", "target": "pmd"}],
            "train.n_iterations": 1,
            "train.batch_size": 4,
        }
    )
    trainer = Trainer(spec)
    trainer.train()
    out = analyse_dynamics(trainer, DynamicsParams(n_initial=4, n_iterations=50, q_tolerance=1.0))
    areas = {a["name"]: a for a in out["areas"]}
    assert set(areas) == {"pmd", "m1"}
    assert (areas["pmd"]["start"], areas["pmd"]["stop"], areas["m1"]["start"], areas["m1"]["stop"]) == (0, 4, 4, 10)
    c = trainer.spec.train.eval_batch_size
    for a in areas.values():
        assert np.asarray(a["trajectories"]).shape[:2] == (c, len(out["time"]))
        assert np.asarray(a["fixed_points_pc"]).shape[0] == len(out["fixed_points"]["q"])


def test_constant_states_are_untangled() -> None:
    assert np.all(tangling(np.zeros((2, 5, 3)), 0.01) == 0.0)
