"""Run a policy through an environment, and turn a rollout into a small JSON snapshot."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from motornet_core.effector import Effector
from motornet_core.envs import MotorEnv
from motornet_core.losses import Trajectory
from motornet_core.policies import Policy

MAX_POINTS = 100
MAX_UNITS = 64


def rollout(
    env: MotorEnv,
    policy: Policy,
    batch_size: int,
    generator: torch.Generator | None = None,
    evaluation: bool = False,
    targets: Tensor | None = None,
) -> tuple[Trajectory, Tensor]:
    """Run one batch of episodes; differentiable unless called under ``torch.no_grad()``.

    Returns:
        The trajectory and the joint positions (B, T + 1, n).
    """
    obs, state = env.reset_batch(batch_size, generator=generator, evaluation=evaluation, targets=targets)
    h = policy.initial_state(state.batch_size, like=obs)
    noise = not env.deterministic
    tips, acts, joints, actions, hidden = [state.fingertip], [state.muscle.activation], [state.position], [], []
    for _ in range(env.n_steps):
        action, h = policy(obs, h, generator=generator, noise=noise)
        obs, info = env.step_batch(action)
        tips.append(info.state.fingertip)
        acts.append(info.state.muscle.activation)
        joints.append(info.state.position)
        actions.append(info.action)
        hidden.append(policy.activity(h))
    if env.episode is None:
        raise RuntimeError("the environment lost its episode during the rollout")
    traj = Trajectory(
        fingertip=torch.stack(tips, 1),
        target=env.episode.target,
        activation=torch.stack(acts, 1),
        action=torch.stack(actions, 1),
        hidden=torch.stack(hidden, 1),
        dt=env.dt,
    )
    return traj, torch.stack(joints, 1)


def body_points(eff: Effector, joints: Tensor) -> Tensor:
    """World positions (B, T, P, 2) [m] for drawing: shoulder, elbow, ..., fingertip (point mass: the mass)."""
    if eff.spec.skeleton.kind == "point_mass":
        return joints[..., None, :2]
    theta = torch.cumsum(joints, dim=-1)  # (B, T, n) absolute angles [rad]
    seg = torch.stack([torch.cos(theta), torch.sin(theta)], dim=-1) * eff.skeleton.lengths[:, None]  # (B, T, n, 2)
    origin = torch.zeros_like(seg[..., :1, :])
    return torch.cat([origin, torch.cumsum(seg, dim=-2)], dim=-2)


def _r(x: Tensor) -> Any:
    return np.round(x.detach().cpu().double().numpy(), 5).tolist()


def build_snapshot(step: int, eff: Effector, traj: Trajectory, joints: Tensor) -> dict[str, Any]:
    """A JSON-serialisable summary of a rollout (time downsampled to <= 100 points, <= 64 units).

    Keys: ``step``, ``dt``, ``time`` [T'], ``targets`` [B][2] (final targets), ``hand`` [B][T'][2],
    ``joints`` [B][T'][P][2], ``activation`` [B][T'][M], ``muscle_names``, ``hidden`` [B][T'][H'],
    ``endpoint_error`` [B] (m, final distance to the final target), ``mean_endpoint_error``,
    ``effector_kind`` ("point_mass" or "arm").
    """
    n_points = traj.fingertip.shape[1]
    idx = torch.unique(torch.round(torch.linspace(0, n_points - 1, min(n_points, MAX_POINTS))).long())
    hidden = torch.cat([torch.zeros_like(traj.hidden[:, :1]), traj.hidden], dim=1)[:, idx, :MAX_UNITS]
    error = (traj.fingertip[:, -1, :2] - traj.target[:, -1]).norm(dim=-1)
    return {
        "step": int(step),
        "dt": float(traj.dt),
        "time": _r(idx.double() * traj.dt),
        "targets": _r(traj.target[:, -1]),
        "hand": _r(traj.fingertip[:, idx, :2]),
        "joints": _r(body_points(eff, joints[:, idx])),
        "activation": _r(traj.activation[:, idx]),
        "muscle_names": list(eff.muscle_names),
        "hidden": _r(hidden),
        "endpoint_error": _r(error),
        "mean_endpoint_error": round(float(error.mean()), 6),
        "effector_kind": "point_mass" if eff.spec.skeleton.kind == "point_mass" else "arm",
    }
