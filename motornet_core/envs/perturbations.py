"""External loads of an episode: constant loads, curl fields and force channels, scheduled per trial.

Every perturbation of a task applies to a random fraction ``probability`` of the trials and, within
a trial, to the steps k whose start time k*dt lies in [start, end). Velocity-dependent loads are
evaluated once per step from the state at the start of the step (physics.md §6).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TypedDict

import torch
from torch import Tensor

from motornet_core.specs.task import (
    CurlFieldSpec,
    EndpointLoadSpec,
    ForceChannelSpec,
    ForceFieldSpec,
    JointLoadSpec,
    PerturbationSpec,
)

_EPS = 1e-9


class _TensorOptions(TypedDict):
    dtype: torch.dtype
    device: torch.device


@dataclass(frozen=True)
class LoadPlan:
    """Per-step load schedule of a batch of episodes (T steps).

    Attributes:
        endpoint: (B, T, 2) [N] constant endpoint forces.
        joint: (B, T, n) [N m] joint torques (point mass: [N]).
        curl: (B, T) [N s/m] curl gain k in F = k [ydot, -xdot].
        channel_k: (B, T) [N/m] lateral stiffness of the force channel (0: no channel).
        channel_b: (B, T) [N s/m] lateral damping of the channel.
        channel_origin: (B, 2) [m] a point on the channel's axis (the start).
        channel_normal: (B, 2) unit vector across the channel's axis (the axis at the channel's
            ``angle``, else from the start to the final target; (0, 0), no channel, where those coincide).
    """

    endpoint: Tensor
    joint: Tensor
    curl: Tensor
    channel_k: Tensor
    channel_b: Tensor
    channel_origin: Tensor
    channel_normal: Tensor

    def step(self, k: int) -> StepLoads:
        """The schedule of step k."""
        return StepLoads(
            self.endpoint[:, k], self.joint[:, k], self.curl[:, k], self.channel_k[:, k], self.channel_b[:, k],
            self.channel_origin, self.channel_normal,
        )  # fmt: skip

    def at(self, k: int, fingertip: Tensor) -> tuple[Tensor, Tensor]:
        """Endpoint (B, 2) and joint (B, n) loads of step k given the fingertip state (B, 4) at its start."""
        return self.step(k).at(fingertip)

    @cached_property
    def active(self) -> bool:
        """False when no step of any trial has a load (steps then skip the load evaluation entirely)."""
        return any(bool(t.any()) for t in (self.endpoint, self.joint, self.curl, self.channel_k, self.channel_b))

    def zeroed(self) -> LoadPlan:
        """The same schedule's shapes with no load at all."""
        zeros = {name: torch.zeros_like(getattr(self, name)) for name in ("endpoint", "joint", "curl", "channel_k", "channel_b")}
        return replace(self, **zeros)


@dataclass(frozen=True)
class StepLoads:
    """The loads of one step (the :class:`LoadPlan` fields at one k: (B, 2), (B, n), then (B,) gains)."""

    endpoint: Tensor
    joint: Tensor
    curl: Tensor
    channel_k: Tensor
    channel_b: Tensor
    channel_origin: Tensor
    channel_normal: Tensor

    def at(self, fingertip: Tensor) -> tuple[Tensor, Tensor]:
        """Endpoint (B, 2) [N] and joint (B, n) loads given the fingertip state (B, 4) at the step's start."""
        pos, vel = fingertip[:, :2], fingertip[:, 2:]
        curl = self.curl[:, None] * torch.stack([vel[:, 1], -vel[:, 0]], dim=-1)  # (B, 2) [N]
        nrm = self.channel_normal
        lateral = ((pos - self.channel_origin) * nrm).sum(-1)  # (B,) [m]
        lateral_vel = (vel * nrm).sum(-1)  # (B,) [m/s]
        channel = -(self.channel_k * lateral + self.channel_b * lateral_vel)[:, None] * nrm
        return self.endpoint + curl + channel, self.joint


def step_window(start: float, end: float | None, n_steps: int, dt: float, like: Tensor) -> Tensor:
    """(T,) float mask of the steps k with start <= k*dt < end."""
    times = torch.arange(n_steps, dtype=torch.float64) * dt
    mask = times >= start - _EPS
    if end is not None:
        mask &= times < end - _EPS
    return mask.to(dtype=like.dtype, device=like.device)


def plan_loads(
    perturbations: Sequence[PerturbationSpec],
    batch: int,
    n_steps: int,
    dof: int,
    dt: float,
    start_xy: Tensor,
    goal_xy: Tensor,
    generator: torch.Generator | None,
) -> LoadPlan:
    """Draw which trials get which perturbation and build the per-step schedule.

    Args:
        perturbations: the task's perturbation specs.
        batch, n_steps, dof: B, T, n.
        dt: step [s].
        start_xy, goal_xy: (B, 2) [m] fingertip start and final target (the channel's axis).
        generator: random source (on the device of ``start_xy``).
    """
    like = start_xy
    opts: _TensorOptions = {"dtype": like.dtype, "device": like.device}
    endpoint = torch.zeros(batch, n_steps, 2, **opts)
    joint = torch.zeros(batch, n_steps, dof, **opts)
    curl = torch.zeros(batch, n_steps, **opts)
    channel_k = torch.zeros(batch, n_steps, **opts)
    channel_b = torch.zeros(batch, n_steps, **opts)
    for p in perturbations:
        active = (_uniform(batch, generator, like) < p.probability).to(like.dtype)  # (B,)
        mask = active[:, None] * step_window(p.start, p.end, n_steps, dt, like)[None, :]  # (B, T)
        if isinstance(p, CurlFieldSpec):
            curl = curl + mask * (p.gain if p.direction == "cw" else -p.gain)
        elif isinstance(p, ForceFieldSpec):
            endpoint = endpoint + mask[..., None] * torch.tensor(p.force, **opts)
        elif isinstance(p, EndpointLoadSpec):
            if p.angle is None:
                angle = _uniform(batch, generator, like) * 2 * math.pi
            else:
                angle = torch.full((batch,), math.radians(p.angle), **opts)
            force = p.magnitude * torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)  # (B, 2)
            endpoint = endpoint + mask[..., None] * force[:, None, :]
        elif isinstance(p, JointLoadSpec):
            joint = joint + mask[..., None] * torch.tensor(p.torque, **opts)
        elif isinstance(p, ForceChannelSpec):
            channel_k = channel_k + mask * p.stiffness
            channel_b = channel_b + mask * p.damping
    # one axis for every channel of the task (the task spec checks that they share it)
    angles = [p.angle for p in perturbations if isinstance(p, ForceChannelSpec) and p.angle is not None]
    if angles:
        rad = math.radians(angles[0])
        axis = torch.tensor([math.cos(rad), math.sin(rad)], **opts).expand(batch, 2)
    else:
        axis = goal_xy - start_xy
    axis = axis / axis.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    normal = torch.stack([-axis[:, 1], axis[:, 0]], dim=-1)
    return LoadPlan(endpoint, joint, curl, channel_k, channel_b, start_xy, normal)


def _uniform(batch: int, generator: torch.Generator | None, like: Tensor) -> Tensor:
    device = generator.device if generator is not None else like.device
    return torch.rand(batch, generator=generator, dtype=like.dtype, device=device).to(like.device)
