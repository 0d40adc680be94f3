"""Run a policy through an environment, and turn a rollout into a small JSON snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from motornet_core.effector import Effector
from motornet_core.envs import EnvCarry, MotorEnv, StepLoads, StepNoise
from motornet_core.losses import Trajectory
from motornet_core.open_loop import DEFAULT_CHUNK, compile_chunk
from motornet_core.policies import Policy
from motornet_core.state import EffectorState, requiring_grad
from motornet_core.training.records import Snapshot

MAX_POINTS = 100
MAX_UNITS = 64


@dataclass(frozen=True)
class StepDraws:
    """One step's random numbers and schedules, drawn before the step runs (in the eager order).

    Attributes:
        eps: the policy's hidden noise per layer (B, S), or None.
        noise: action and sensory noise.
        loads: the step's external loads, or None.
        goal: (B, 2) [m] the goal shown at the new time point.
        cue: (B, 1) the go cue at the new time point, or None.
        obs_noise: (B, obs_size) observation noise, or None.
    """

    eps: list[Tensor] | None
    noise: StepNoise
    loads: StepLoads | None
    goal: Tensor
    cue: Tensor | None
    obs_noise: Tensor | None


@dataclass(frozen=True)
class Steps:
    """What k consecutive steps produced, each (B, k, ...): the state after each step, the applied
    (noisy) action (B, k, M) and the last layer's hidden activity (B, k, H)."""

    fingertip: Tensor
    activation: Tensor
    position: Tensor
    action: Tensor
    hidden: Tensor


class ClosedLoop:
    """A policy driving an environment step by step.

    :meth:`step` is the eager loop of the public modules (the same random stream, bit for bit).
    :meth:`advance` takes one eager step or, with ``compile=True``, ``chunk`` steps in one
    ``torch.compile``'d call: the random numbers, loads and task inputs of those steps are drawn
    first (in the eager order), then policy, physics, delay lines and observations of all
    ``chunk`` steps run as one graph with one backward node, instead of ~100 small operations and
    a Python round trip per step. Compiled chunks run only with gradients on (training), from the
    first step that leaves a whole number of chunks (the first T mod ``chunk`` steps run eagerly);
    the first chunk's inputs that do not require grad become leaves that do (same values), so one
    variant is compiled per batch size. Evaluation under ``torch.no_grad()`` runs eagerly.

    Args:
        env: the environment (its episode is started by :meth:`rollout` / ``env.reset_batch``).
        policy: the controller.
        compile: compile the chunk function (the first training iteration of each batch size takes
            the compilation time, ~10-60 s on a 2-core CPU; inductor caches it on disk).
        chunk: steps per compiled call (more: less overhead per step, longer compilation).
    """

    def __init__(self, env: MotorEnv, policy: Policy, compile: bool = False, chunk: int = DEFAULT_CHUNK) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self.env = env
        self.policy = policy
        self.chunk = chunk
        self.compiled_steps = 0  # steps taken in compiled chunks so far
        self._compiled = compile_chunk(self._chunk_core) if compile else None

    def _core(self, obs: Tensor, h: Tensor, state: Any, eps: list[Tensor] | None, noise: StepNoise, loads: Any) -> tuple:
        action, h = self.policy(obs, h, noise=False, eps=eps)
        action, state, vision, proprio = self.env.advance(state, action, noise, loads)
        return action, h, state, vision, proprio

    def _chunk_core(self, obs: Tensor, h: Tensor, state: EffectorState, carry: EnvCarry, draws: list[StepDraws]) -> tuple:
        env, records = self.env, []
        for d in draws:
            action, h, state, vision, proprio = self._core(obs, h, state, d.eps, d.noise, d.loads)
            carry = env.carry_step(carry, action, vision, proprio)
            obs = carry.observe(d.goal, d.cue)
            if d.obs_noise is not None:
                obs = obs + d.obs_noise
            records.append((state.fingertip, state.muscle.activation, state.position, action, self.policy.activity(h)))
        stacked = [torch.stack(list(r), dim=1) for r in zip(*records, strict=True)]
        return obs, h, state, carry, stacked

    def _draws(self, obs: Tensor, generator: torch.Generator | None, noise: bool, k: int) -> StepDraws:
        """Step k's draws, in the order the eager modules make them (policy, step, observation)."""
        env = self.env
        eps = self.policy.draw_noise(obs.shape[0], obs, generator) if noise else None
        step_noise = env.draw_step_noise(obs)
        loads = env.step_loads(k)
        obs_noise = env.draw_obs_noise(obs)
        goal, cue = env.task_inputs(k + 1)
        return StepDraws(eps, step_noise, loads, goal, cue, obs_noise)

    def _chunked(self) -> bool:
        env = self.env
        return self._compiled is not None and torch.is_grad_enabled() and (env.n_steps - env.k) % self.chunk == 0

    def step(self, obs: Tensor, h: Tensor, generator: torch.Generator | None = None, noise: bool = True) -> tuple:
        """One eager step from observation (B, I) and policy state (B, L, S): returns (obs, h, :class:`StepInfo`)."""
        env = self.env
        env.check_step()
        eps = self.policy.draw_noise(obs.shape[0], obs, generator) if noise else None
        step_noise = env.draw_step_noise(obs)
        action, h, state, vision, proprio = self._core(obs, h, env.state, eps, step_noise, env.step_loads())
        obs, info = env.finish_step(action, state, vision, proprio)
        return obs, h, info

    def advance(
        self, obs: Tensor, h: Tensor, generator: torch.Generator | None = None, noise: bool = True
    ) -> tuple[Tensor, Tensor, Steps]:
        """One eager step, or ``chunk`` compiled ones (see the class): returns (obs, h, :class:`Steps`)."""
        env = self.env
        env.check_step()
        if self._chunked() and self._compiled is not None:
            assert env.state is not None
            draws = [self._draws(obs, generator, noise, env.k + i) for i in range(self.chunk)]
            # inputs that do not require grad yet (the first chunk's) become leaves that do: the
            # same values, and every chunk has one requires_grad pattern (one compiled variant)
            obs, h, state, carry, stacked = self._compiled(
                requiring_grad(obs), requiring_grad(h), env.state.requiring_grad(), env.carry().requiring_grad(), draws
            )
            env.commit(state, carry, self.chunk)
            self.compiled_steps += self.chunk
            return obs, h, Steps(*stacked)
        obs, h, info = self.step(obs, h, generator, noise)
        s = info.state
        one = (s.fingertip, s.muscle.activation, s.position, info.action, self.policy.activity(h))
        return obs, h, Steps(*(t[:, None] for t in one))


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
    tips, acts, joints = [state.fingertip[:, None]], [state.muscle.activation[:, None]], [state.position[:, None]]
    actions: list[Tensor] = []
    hidden: list[Tensor] = []
    while env.k < env.n_steps:
        obs, h, steps = loop.advance(obs, h, generator=generator, noise=noise)
        tips.append(steps.fingertip)
        acts.append(steps.activation)
        joints.append(steps.position)
        actions.append(steps.action)
        hidden.append(steps.hidden)
    if env.episode is None:
        raise RuntimeError("the environment lost its episode during the rollout")
    traj = Trajectory(
        fingertip=torch.cat(tips, 1),
        target=env.episode.target,
        activation=torch.cat(acts, 1),
        action=torch.cat(actions, 1),
        hidden=torch.cat(hidden, 1),
        dt=env.dt,
    )
    return traj, torch.cat(joints, 1)


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


def build_snapshot(step: int, eff: Effector, traj: Trajectory, joints: Tensor, go_time: Tensor | None = None) -> Snapshot:
    """The :class:`Snapshot` of a rollout (time downsampled to <= 100 points, <= 64 units).

    ``go_time`` [B] (s): the episode's ``go_time``; 0 for every trial where it is None.
    """
    n_points = traj.fingertip.shape[1]
    idx = torch.unique(torch.round(torch.linspace(0, n_points - 1, min(n_points, MAX_POINTS))).long())
    hidden = torch.cat([torch.zeros_like(traj.hidden[:, :1]), traj.hidden], dim=1)[:, idx, :MAX_UNITS]
    error = (traj.fingertip[:, -1, :2] - traj.target[:, -1]).norm(dim=-1)
    return Snapshot(
        step=int(step),
        dt=float(traj.dt),
        time=_r(idx.double() * traj.dt),
        targets=_r(traj.target[:, -1]),
        hand=_r(traj.fingertip[:, idx, :2]),
        joints=_r(body_points(eff, joints[:, idx])),
        activation=_r(traj.activation[:, idx]),
        muscle_names=list(eff.muscle_names),
        hidden=_r(hidden),
        endpoint_error=_r(error),
        mean_endpoint_error=round(float(error.mean()), 6),
        effector_kind="point_mass" if eff.spec.skeleton.kind == "point_mass" else "arm",
        go_time=_r(go_time) if go_time is not None else [0.0] * int(error.shape[0]),
    )
