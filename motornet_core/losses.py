"""Loss terms on a rollout, each small and named, and their weighted sum (:class:`LossSpec` weights).

Every term is a mean, so its size does not depend on the batch size or the episode length:

* ``position``: over the batch and the time points t_k in the window, sum_xy |x - x*| (l1) or
  sum_xy (x - x*)^2 (l2). With l1 and the full window this is MotorNet's tutorial loss.
* ``activation_l1`` / ``activation_l2``: mean |a| / a^2 over batch, time and muscles.
* ``activation_rate``: mean squared change of activation per step.
* ``hidden`` / ``hidden_rate``: mean squared hidden activity / its change per step.
* ``hand_speed``: mean squared fingertip speed [m^2/s^2]; ``hand_jerk``: mean squared jerk
  (third finite difference of the position / dt^3) [m^2/s^6].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from motornet_core.specs.run import LossSpec


@dataclass(frozen=True)
class Trajectory:
    """A batched rollout of T steps.

    Attributes:
        fingertip: (B, T + 1, 4) fingertip x, y [m], xdot, ydot [m/s] at t_0 .. t_T.
        target: (B, T + 1, 2) [m] desired fingertip positions.
        activation: (B, T + 1, M) muscle activations.
        action: (B, T, M) applied excitations.
        hidden: (B, T, H) hidden activity after each network step.
        dt: step [s].
    """

    fingertip: Tensor
    target: Tensor
    activation: Tensor
    action: Tensor
    hidden: Tensor
    dt: float


def _window(spec: LossSpec, n_points: int, dt: float, like: Tensor) -> Tensor:
    t = torch.arange(n_points, dtype=torch.float64) * dt
    mask = t >= spec.position_start - 1e-9
    if spec.position_end is not None:
        mask &= t <= spec.position_end + 1e-9
    return mask.to(device=like.device, dtype=like.dtype)


def position_term(spec: LossSpec, traj: Trajectory) -> Tensor:
    """Distance of the fingertip to the target over the time window."""
    diff = traj.fingertip[..., :2] - traj.target  # (B, T+1, 2) [m]
    per_point = diff.abs().sum(-1) if spec.position_norm == "l1" else (diff * diff).sum(-1)  # (B, T+1)
    w = _window(spec, per_point.shape[1], traj.dt, per_point)
    return (per_point * w).sum(-1).mean() / w.sum().clamp_min(1.0)


def _rate(x: Tensor) -> Tensor:
    if x.shape[1] < 2:
        return x.new_zeros(())
    return (x[:, 1:] - x[:, :-1]).pow(2).mean()


def hand_jerk(traj: Trajectory) -> Tensor:
    """Mean squared jerk [m^2/s^6] from the third finite difference of the position."""
    pos = traj.fingertip[..., :2]
    if pos.shape[1] < 4:
        return pos.new_zeros(())
    jerk = (pos[:, 3:] - 3 * pos[:, 2:-1] + 3 * pos[:, 1:-2] - pos[:, :-3]) / traj.dt**3
    return (jerk * jerk).sum(-1).mean()


TERMS = {
    "position": position_term,
    "activation_l1": lambda spec, tr: tr.activation.abs().mean(),
    "activation_l2": lambda spec, tr: tr.activation.pow(2).mean(),
    "activation_rate": lambda spec, tr: _rate(tr.activation),
    "hidden": lambda spec, tr: tr.hidden.pow(2).mean(),
    "hidden_rate": lambda spec, tr: _rate(tr.hidden),
    "hand_speed": lambda spec, tr: tr.fingertip[..., 2:].pow(2).sum(-1).mean(),
    "hand_jerk": lambda spec, tr: hand_jerk(tr),
}


def compute_loss(spec: LossSpec, traj: Trajectory) -> tuple[Tensor, dict[str, Tensor]]:
    """Weighted sum of the terms with a non-zero weight.

    Returns:
        The total loss (a scalar tensor) and each term's weighted contribution by name
        (``{"position": ..., "activation_l2": ...}``); the contributions sum to the total.
    """
    parts: dict[str, Tensor] = {}
    for name, fn in TERMS.items():
        weight = getattr(spec, name)
        if weight > 0:
            parts[name] = weight * fn(spec, traj)
    if not parts:
        return traj.fingertip.new_zeros(()), parts
    total = torch.stack(list(parts.values())).sum()
    return total, parts
