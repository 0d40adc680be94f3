"""Run a policy through an environment, and turn a rollout into a small JSON snapshot."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from motornet_core.effector import Effector
from motornet_core.envs import MotorEnv, StepNoise
from motornet_core.losses import Trajectory
from motornet_core.policies import Policy

MAX_POINTS = 100
MAX_UNITS = 64


class ClosedLoop:
    """A policy driving an environment step by step.

    Each step draws its random numbers first (hidden, action and sensory noise, in the order the
    eager modules draw them), then runs the policy and the environment's physics as one pure
    function, then updates the delay lines and time. With ``compile=True`` that function is
    ``torch.compile``'d: one graph (and one backward node) per step instead of ~100 small
    operations. Under ``torch.no_grad()`` (evaluation) it always runs eagerly, so evaluation
    batches compile nothing; so do the first steps of an episode, until gradients reach the
    observation, the policy state and the joint positions.

    Args:
        env: the environment (its episode is started by :meth:`reset`).
        policy: the controller.
        compile: compile the per-step function (the first steps of each batch size take the
            compilation time, 10-40 s on a 2-core CPU; inductor caches kernels on disk).
    """

    def __init__(self, env: MotorEnv, policy: Policy, compile: bool = False) -> None:
        self.env = env
        self.policy = policy
        self._compiled = torch.compile(self._core, dynamic=False) if compile else None

    def _core(self, obs: Tensor, h: Tensor, state: Any, eps: list[Tensor] | None, noise: StepNoise, loads: Any) -> tuple:
        action, h = self.policy(obs, h, noise=False, eps=eps)
        action, state, vision, proprio = self.env.advance(state, action, noise, loads)
        return action, h, state, vision, proprio

    def step(self, obs: Tensor, h: Tensor, generator: torch.Generator | None = None, noise: bool = True) -> tuple:
        """One step from observation (B, I) and policy state (B, L, S): returns (obs, h, :class:`StepInfo`)."""
        env = self.env
        env.check_step()
        eps = self.policy.draw_noise(obs.shape[0], obs, generator) if noise else None
        step_noise = env.draw_step_noise(obs)
        # compiled once the graph reaches every input: while gradients propagate through the first
        # steps (action -> activation -> force -> velocity -> position, plus delays) each new
        # requires_grad pattern would compile one more variant
        settled = torch.is_grad_enabled() and obs.requires_grad and h.requires_grad and env.state.position.requires_grad
        core = self._compiled if self._compiled is not None and settled else self._core
        action, h, state, vision, proprio = core(obs, h, env.state, eps, step_noise, env.step_loads())
        obs, info = env.finish_step(action, state, vision, proprio)
        return obs, h, info


def rollout(
    env: MotorEnv,
    policy: Policy,
    batch_size: int,
    generator: torch.Generator | None = None,
    evaluation: bool = False,
    targets: Tensor | None = None,
    loop: ClosedLoop | None = None,
) -> tuple[Trajectory, Tensor]:
    """Run one batch of episodes; differentiable unless called under ``torch.no_grad()``.

    Args:
        loop: the :class:`ClosedLoop` of ``env`` and ``policy`` to step with (default: an eager one).

    Returns:
        The trajectory and the joint positions (B, T + 1, n).
    """
    loop = loop if loop is not None else ClosedLoop(env, policy)
    obs, state = env.reset_batch(batch_size, generator=generator, evaluation=evaluation, targets=targets)
    h = policy.initial_state(state.batch_size, like=obs)
    noise = not env.deterministic
    tips, acts, joints, actions, hidden = [state.fingertip], [state.muscle.activation], [state.position], [], []
    for _ in range(env.n_steps):
        obs, h, info = loop.step(obs, h, generator=generator, noise=noise)
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


def build_snapshot(
    step: int, eff: Effector, traj: Trajectory, joints: Tensor, go_time: Tensor | None = None
) -> dict[str, Any]:
    """A JSON-serialisable summary of a rollout (time downsampled to <= 100 points, <= 64 units).

    Keys: ``step``, ``dt``, ``time`` [T'], ``targets`` [B][2] (final targets), ``hand`` [B][T'][2],
    ``joints`` [B][T'][P][2], ``activation`` [B][T'][M], ``muscle_names``, ``hidden`` [B][T'][H'],
    ``endpoint_error`` [B] (m, final distance to the final target), ``mean_endpoint_error``,
    ``effector_kind`` ("point_mass" or "arm"), ``go_time`` [B] (s, when each trial's go signal
    came: the episode's ``go_time``, 0 where ``go_time`` is None).
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
        "go_time": _r(go_time) if go_time is not None else [0.0] * int(error.shape[0]),
    }
