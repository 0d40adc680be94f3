"""Loss terms against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from motornet_core.losses import Trajectory, compute_loss
from motornet_core.specs import LossSpec


def _traj(T: int = 10, dt: float = 0.01) -> Trajectory:
    B, M, H = 3, 4, 5
    return Trajectory(
        fingertip=torch.zeros(B, T + 1, 4),
        target=torch.tensor([0.3, -0.4]).expand(B, T + 1, 2),
        activation=torch.zeros(B, T + 1, M),
        action=torch.zeros(B, T, M),
        hidden=torch.zeros(B, T, H),
        dt=dt,
    )


def test_l1_position_is_the_tutorial_loss() -> None:
    total, parts = compute_loss(LossSpec(), _traj())
    assert list(parts) == ["position"]
    assert total.item() == pytest.approx(0.7)  # |0.3| + |-0.4| at every time point


def test_l2_and_the_time_window() -> None:
    traj = _traj(T=10)
    tip = traj.fingertip.clone()
    tip[:, 6:, 0] = 0.3
    tip[:, 6:, 1] = -0.4  # on target from t = 0.06 s on
    traj = Trajectory(tip, traj.target, traj.activation, traj.action, traj.hidden, traj.dt)
    l1_all, _ = compute_loss(LossSpec(), traj)
    assert l1_all.item() == pytest.approx(0.7 * 6 / 11)
    l2_early, _ = compute_loss(LossSpec(position_norm="l2", position_end=0.05), traj)
    assert l2_early.item() == pytest.approx(0.25)  # 0.09 + 0.16, points 0..5
    late, _ = compute_loss(LossSpec(position_start=0.06), traj)
    assert late.item() == pytest.approx(0.0, abs=1e-7)


def test_weighted_terms_sum_to_the_total() -> None:
    traj = _traj(T=4)
    act = torch.zeros(3, 5, 4)
    act[:, 1::2] = 0.5  # 0, .5, 0, .5, 0: mean .2, squares .1, changes .25 each
    hid = torch.full((3, 4, 5), 2.0)
    tip = traj.fingertip.clone()
    tip[..., 2] = 3.0  # xdot
    traj = Trajectory(tip, traj.target, act, traj.action, hid, traj.dt)
    spec = LossSpec(
        position=0.0, activation_l1=1.0, activation_l2=2.0, activation_rate=3.0, hidden=0.5, hidden_rate=7.0, hand_speed=0.1
    )
    total, parts = compute_loss(spec, traj)
    expected = {
        "activation_l1": 0.2,
        "activation_l2": 2 * 0.1,
        "activation_rate": 3 * 0.25,
        "hidden": 0.5 * 4.0,
        "hidden_rate": 0.0,
        "hand_speed": 0.1 * 9.0,
    }
    assert set(parts) == set(expected)
    for name, value in expected.items():
        assert parts[name].item() == pytest.approx(value, abs=1e-6), name
    assert total.item() == pytest.approx(sum(expected.values()), abs=1e-6)


def test_hand_jerk_of_a_cubic_path() -> None:
    dt, T = 0.01, 20
    t = torch.arange(T + 1, dtype=torch.float64) * dt
    traj = _traj(T=T, dt=dt)
    tip = torch.zeros(3, T + 1, 4, dtype=torch.float64)
    tip[..., 0] = t**3  # jerk 6 m/s^3
    traj = Trajectory(tip, traj.target.double(), traj.activation, traj.action, traj.hidden, dt)
    _, parts = compute_loss(LossSpec(position=0.0, hand_jerk=1.0), traj)
    assert parts["hand_jerk"].item() == pytest.approx(36.0, rel=1e-6)


def test_loss_is_differentiable() -> None:
    traj = _traj()
    tip = traj.fingertip.clone().requires_grad_(True)
    traj = Trajectory(tip, traj.target, traj.activation, traj.action, traj.hidden, traj.dt)
    total, _ = compute_loss(LossSpec(position_norm="l2"), traj)
    total.backward()
    assert tip.grad is not None and tip.grad[..., :2].abs().sum() > 0


def test_hidden_rate_of_a_ramp() -> None:
    traj = _traj(T=4)
    steps = torch.arange(4.0)[None, :, None]  # (1, T, 1)
    slopes = 0.1 * torch.arange(1.0, 6.0)  # (H,) change per step of each unit
    hid = (steps * slopes).expand(3, 4, 5).clone().requires_grad_(True)
    traj = Trajectory(traj.fingertip, traj.target, traj.activation, traj.action, hid, traj.dt)
    total, parts = compute_loss(LossSpec(position=0.0, hidden_rate=7.0), traj)
    assert list(parts) == ["hidden_rate"]
    assert total.item() == pytest.approx(7.0 * float((slopes**2).mean()))  # 7 * 0.011 * 10 = 0.77
    total.backward()
    assert hid.grad is not None and hid.grad.abs().sum() > 0
    # only changes count: an offset does not, and a single time point has no rate
    shifted = Trajectory(traj.fingertip, traj.target, traj.activation, traj.action, hid.detach() + 3.0, traj.dt)
    assert compute_loss(LossSpec(position=0.0, hidden_rate=7.0), shifted)[0].item() == pytest.approx(total.item())
    single = Trajectory(traj.fingertip, traj.target, traj.activation, traj.action, hid.detach()[:, :1], traj.dt)
    assert compute_loss(LossSpec(position=0.0, hidden_rate=7.0), single)[0].item() == 0.0
