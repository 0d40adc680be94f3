"""Episode generation for each task kind: start state, goal inputs, desired trajectory and loads.

An :class:`Episode` holds everything a batch of trials needs before the first step, so that the
environment's transition is a pure function of (state, action, episode, step index).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from motornet_core.effector import Effector
from motornet_core.envs.perturbations import LoadPlan, plan_loads
from motornet_core.specs.task import AnyTask, CentreOutSpec, PostureSpec, RandomReachSpec, TrackingSpec


@dataclass(frozen=True)
class Episode:
    """A batch of B trials of T steps (T + 1 time points t_k = k dt).

    Attributes:
        start: (B, n) initial joint position [rad] (point mass: [m]).
        goal: (B, T + 1, 2) [m] goal input shown to the network at each time point.
        target: (B, T + 1, 2) [m] where the fingertip should be (the loss target).
        cue: (B, T + 1) go-cue input (0 before the cue, 1 after), or None when the task has none.
        loads: the per-step external loads.
        go_time: (B,) [s] when the go signal comes (the target appears or the cue turns on; a catch
            trial's lies after the episode's end), or None when movement may start at once (t = 0).
    """

    start: Tensor
    goal: Tensor
    target: Tensor
    cue: Tensor | None
    loads: LoadPlan
    go_time: Tensor | None = None

    @property
    def n_steps(self) -> int:
        """T."""
        return int(self.goal.shape[1]) - 1


def _uniform(shape: tuple[int, ...], generator: torch.Generator | None, like: Tensor) -> Tensor:
    device = generator.device if generator is not None else like.device
    return torch.rand(shape, generator=generator, dtype=like.dtype, device=device).to(like.device)


def random_joints(eff: Effector, batch: int, generator: torch.Generator | None) -> Tensor:
    """(B, n) joint positions uniform within the skeleton's bounds."""
    lb, ub = eff.skeleton.pos_lb, eff.skeleton.pos_ub
    return lb + _uniform((batch, eff.dof), generator, lb) * (ub - lb)


def centre_joints(eff: Effector, centre: list[float] | None, batch: int) -> Tensor:
    """(B, n) the given joint position, or the middle of the bounds."""
    lb, ub = eff.skeleton.pos_lb, eff.skeleton.pos_ub
    q = (lb + ub) / 2 if centre is None else torch.tensor(centre, dtype=lb.dtype, device=lb.device)
    return q.expand(batch, -1).clone()


def fingertip_xy(eff: Effector, q: Tensor) -> Tensor:
    """(B, 2) [m] fingertip position of joint positions q (B, n)."""
    return eff.skeleton.fingertip(q, torch.zeros_like(q))[:, :2]


def centre_out_targets(centre_xy: Tensor, n_targets: int, radius: float) -> Tensor:
    """(n_targets, 2) [m] targets on a circle around ``centre_xy`` (2,), the first at 0 deg."""
    angles = torch.arange(n_targets, dtype=torch.float64) * (2 * math.pi / n_targets)
    ring = torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1).to(centre_xy)
    return centre_xy + radius * ring


def sample_episode(
    eff: Effector,
    task: AnyTask,
    batch: int,
    generator: torch.Generator | None = None,
    evaluation: bool = False,
    targets: Tensor | None = None,
) -> Episode:
    """Draw a batch of trials.

    Args:
        eff: the effector (device and dtype come from it).
        task: a task spec (any member of :data:`~motornet_core.specs.task.TaskSpec`).
        batch: B (centre-out evaluation: ignored, one trial per target).
        generator: random source on the effector's device.
        evaluation: the fixed evaluation set (centre-out: every target once, shortest delay, no catch
            trials; posture: load directions in turn).
        targets: (B, 2) [m] reach from the task's centre to these fixed targets instead.
    """
    n_steps = round(task.duration / eff.dt)
    if targets is not None:
        start = centre_joints(eff, getattr(task, "centre_joint", None), targets.shape[0])
        goal = targets.to(start)
        return _static(eff, task, start, goal, n_steps, generator)
    if isinstance(task, RandomReachSpec):
        start = random_joints(eff, batch, generator)
        goal = fingertip_xy(eff, random_joints(eff, batch, generator))
        return _static(eff, task, start, goal, n_steps, generator)
    if isinstance(task, CentreOutSpec):
        return _centre_out(eff, task, batch, n_steps, generator, evaluation)
    if isinstance(task, PostureSpec):
        return _posture(eff, task, batch, n_steps, generator, evaluation)
    if isinstance(task, TrackingSpec):
        return _tracking(eff, task, batch, n_steps, generator)
    raise TypeError(f"unknown task spec {type(task).__name__}")


def _static(eff: Effector, task: AnyTask, start: Tensor, goal: Tensor, n_steps: int, gen) -> Episode:
    goal_t = goal[:, None, :].expand(-1, n_steps + 1, -1)
    cue = None
    if isinstance(task, CentreOutSpec) and task.go_cue:
        cue = torch.ones(start.shape[0], n_steps + 1, dtype=start.dtype, device=start.device)
    start_xy = fingertip_xy(eff, start)
    loads = plan_loads(task.perturbations, start.shape[0], n_steps, eff.dof, eff.dt, start_xy, goal, gen)
    return Episode(start, goal_t, goal_t, cue, loads)


def _centre_out(eff: Effector, task: CentreOutSpec, batch: int, n_steps: int, gen, evaluation: bool) -> Episode:
    like = eff.skeleton.pos_lb
    if evaluation:
        batch = task.n_targets
        index = torch.arange(batch, device=like.device)
        delay = torch.full((batch,), task.delay_min, dtype=like.dtype, device=like.device)
        catch = torch.zeros(batch, dtype=torch.bool, device=like.device)
    else:
        index = (_uniform((batch,), gen, like) * task.n_targets).long().clamp_max(task.n_targets - 1)
        delay = task.delay_min + _uniform((batch,), gen, like) * (task.delay_max - task.delay_min)
        catch = _uniform((batch,), gen, like) < task.catch_probability
    start = centre_joints(eff, task.centre_joint, batch)
    centre = fingertip_xy(eff, start[:1])[0]
    final = centre_out_targets(centre, task.n_targets, task.radius)[index]  # (B, 2)
    go_step = torch.round(delay / eff.dt).long()
    go_step = torch.where(catch, torch.full_like(go_step, n_steps + 1), go_step)
    after = (torch.arange(n_steps + 1, device=like.device)[None, :] >= go_step[:, None]).to(like.dtype)  # (B, T+1)
    target = centre + after[..., None] * (final - centre)[:, None, :]
    if task.go_cue:
        goal, cue = final[:, None, :].expand(-1, n_steps + 1, -1), after
    else:
        goal, cue = target, None
    start_xy = centre.expand(batch, -1)
    loads = plan_loads(task.perturbations, batch, n_steps, eff.dof, eff.dt, start_xy, final, gen)
    return Episode(start, goal, target, cue, loads, go_time=go_step.to(like.dtype) * eff.dt)


def _posture(eff: Effector, task: PostureSpec, batch: int, n_steps: int, gen, evaluation: bool) -> Episode:
    like = eff.skeleton.pos_lb
    if task.centre_joint is None and not evaluation:
        start = random_joints(eff, batch, gen)
    else:
        start = centre_joints(eff, task.centre_joint, batch)
    hold = fingertip_xy(eff, start)
    if evaluation:
        direction = torch.arange(batch, device=like.device) % task.load_directions
        magnitude = torch.full((batch,), max(task.load_magnitudes), dtype=like.dtype, device=like.device)
        onset = torch.full((batch,), task.onset_min, dtype=like.dtype, device=like.device)
        loaded = torch.ones(batch, dtype=like.dtype, device=like.device)
    else:
        direction = (_uniform((batch,), gen, like) * task.load_directions).long().clamp_max(task.load_directions - 1)
        mags = torch.tensor(task.load_magnitudes, dtype=like.dtype, device=like.device)
        pick = (_uniform((batch,), gen, like) * len(mags)).long().clamp_max(len(mags) - 1)
        magnitude = mags[pick]
        onset = task.onset_min + _uniform((batch,), gen, like) * (task.onset_max - task.onset_min)
        loaded = (_uniform((batch,), gen, like) < task.load_probability).to(like.dtype)
    angle = direction.to(like.dtype) * (2 * math.pi / task.load_directions)
    force = (loaded * magnitude)[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)  # (B, 2) [N]
    k = torch.arange(n_steps, device=like.device)[None, :]
    on = torch.round(onset / eff.dt).long()[:, None]
    window = ((k >= on) & (k < on + round(task.load_duration / eff.dt))).to(like.dtype)  # (B, T)
    episode = _static(eff, task, start, hold, n_steps, gen)
    loads = replace(episode.loads, endpoint=episode.loads.endpoint + window[..., None] * force[:, None, :])
    return replace(episode, loads=loads)


def _tracking(eff: Effector, task: TrackingSpec, batch: int, n_steps: int, gen) -> Episode:
    like = eff.skeleton.pos_lb
    start = centre_joints(eff, task.centre_joint, batch)
    centre = fingertip_xy(eff, start)
    freq = task.freq_min + _uniform((batch, 2), gen, like) * (task.freq_max - task.freq_min)  # (B, 2) [Hz]
    phase = _uniform((batch, 2), gen, like) * 2 * math.pi
    t = torch.arange(n_steps + 1, dtype=like.dtype, device=like.device) * eff.dt  # (T+1,) [s]
    wave = torch.sin(2 * math.pi * freq[:, None, :] * t[None, :, None] + phase[:, None, :]) - torch.sin(phase)[:, None, :]
    target = centre[:, None, :] + task.amplitude * wave  # (B, T+1, 2)
    loads = plan_loads(task.perturbations, batch, n_steps, eff.dof, eff.dt, centre, target[:, -1], gen)
    return Episode(start, target, target, None, loads)
