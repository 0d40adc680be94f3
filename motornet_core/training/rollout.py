"""Run a policy through an environment, and turn a rollout into a small JSON snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from motornet_core.effector import Effector
from motornet_core.envs import EnvState, Episode, FunctionalEnv, StepDraws
from motornet_core.losses import Trajectory
from motornet_core.open_loop import DEFAULT_CHUNK, compile_chunk
from motornet_core.policies import Policy
from motornet_core.specs.areas import InterventionSpec
from motornet_core.state import requiring_grad
from motornet_core.training.interventions import InterventionSchedule, StepIntervention
from motornet_core.training.records import Snapshot

MAX_POINTS = 100
MAX_UNITS = 64


@dataclass(frozen=True)
class LoopDraws:
    """One closed-loop step's random numbers: the policy's hidden noise, then the environment's draws.

    Attributes:
        eps: the policy's hidden noise per layer (B, S), or None.
        env: the environment's noise, loads and next task inputs.
        intervention: the step's unit and muscle maps (a loop with interventions), or None.
    """

    eps: list[Tensor] | None
    env: StepDraws
    intervention: StepIntervention | None = None


@dataclass(frozen=True)
class GeneratorGroups:
    """One generator per group of rows (an ensemble's replicates, in row order)."""

    generators: tuple[torch.Generator, ...]


RandomSource = torch.Generator | GeneratorGroups | None


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
    """A policy driving a :class:`FunctionalEnv`: observe, act, transition.

    The step is written once (:meth:`_step`). :meth:`advance` takes one eager step or, with
    ``compile=True``, ``chunk`` steps in one ``torch.compile``'d call that composes the step
    ``chunk`` times: the random numbers, loads and task inputs of those steps are drawn first
    (:meth:`draw`, the order of eager steps), then policy, physics, delay lines and observations
    of all ``chunk`` steps run as one graph with one backward node, instead of ~100 small operations
    and a Python round trip per step. Compiled chunks run only with gradients on (training), from the
    first step that leaves a whole number of chunks (the first T mod ``chunk`` steps run eagerly);
    the first chunk's inputs that do not require grad become leaves that do (same values), so one
    variant is compiled per batch size. Evaluation under ``torch.no_grad()`` runs eagerly.

    Args:
        env: the functional environment.
        policy: the controller.
        compile: compile the chunk function (the first training iteration of each batch size takes
            the compilation time, ~20 s on a 2-core CPU; inductor caches it on disk).
        chunk: steps per compiled call (more: less overhead per step, longer compilation).
        interventions: unit, area and muscle interventions of every episode (see
            :mod:`motornet_core.training.interventions`); each step's maps come with its draws.
    """

    def __init__(
        self,
        env: FunctionalEnv,
        policy: Policy,
        compile: bool = False,
        chunk: int = DEFAULT_CHUNK,
        interventions: Sequence[InterventionSpec] | InterventionSchedule | None = None,
    ) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self.env = env
        self.policy = policy
        self.chunk = chunk
        if interventions is None or isinstance(interventions, InterventionSchedule):
            self.schedule = interventions
        else:
            self.schedule = InterventionSchedule.for_policy(interventions, policy, env.effector.n_muscles, env.dt, env.n_steps)
        self.compiled_steps = 0  # steps taken in compiled chunks so far
        self._compiled = compile_chunk(self._chunk_core) if compile else None

    @property
    def compiled(self) -> bool:
        """Whether training steps run in compiled chunks."""
        return self._compiled is not None

    def draw(self, state: EnvState, generator: RandomSource = None, noise: bool = True) -> LoopDraws:
        """The draws of the step from ``state``: the policy's hidden noise (when ``noise``), then the environment's."""
        if isinstance(generator, GeneratorGroups):
            raise TypeError("generator groups need an ensemble's loop (motornet_core.training.ensemble.EnsembleLoop)")
        ref = state.effector.position
        eps = self.policy.draw_noise(state.batch_size, ref, generator) if noise else None
        return LoopDraws(eps, self.env.draw(state, generator), self.intervention_at(state.step))

    def intervention_at(self, step: int) -> StepIntervention | None:
        """Step ``step``'s intervention maps, or None for a loop without interventions."""
        return None if self.schedule is None else self.schedule.at(step)

    def _step(self, h: Tensor, state: EnvState, draws: LoopDraws) -> tuple[Tensor, EnvState]:
        """The closed-loop step: observe ``state``, act from policy state h (B, L, S), transition."""
        iv = draws.intervention
        if iv is None:
            action, h = self.policy(self.env.observation(state), h, noise=False, eps=draws.eps)
        else:
            action, h = self.policy(self.env.observation(state), h, noise=False, eps=draws.eps, units=iv.units)
            action = iv.muscles(action)
        return h, self.env.transition(state, action, draws.env)

    def _record(self, h: Tensor, state: EnvState) -> tuple[Tensor, ...]:
        s = state.effector
        return s.fingertip, s.muscle.activation, s.position, state.action, self.policy.activity(h)

    def _chunk_core(self, h: Tensor, state: EnvState, draws: list[LoopDraws]) -> tuple[Tensor, EnvState, list[Tensor]]:
        records = []
        for d in draws:
            h, state = self._step(h, state, d)
            records.append(self._record(h, state))
        return h, state, [torch.stack(list(r), dim=1) for r in zip(*records, strict=True)]

    def step(self, h: Tensor, state: EnvState, generator: RandomSource = None, noise: bool = True) -> tuple[Tensor, EnvState]:
        """One eager step: returns the new policy state (B, L, S) and environment state."""
        return self._step(h, state, self.draw(state, generator, noise))

    def advance(
        self, h: Tensor, state: EnvState, generator: RandomSource = None, noise: bool = True
    ) -> tuple[Tensor, EnvState, Steps]:
        """One eager step, or ``chunk`` compiled ones (see the class): returns (h, state, :class:`Steps`)."""
        compiled = self._compiled
        if compiled is not None and torch.is_grad_enabled() and (self.env.n_steps - state.step) % self.chunk == 0:
            # a step's draws read only its index, the episode and the batch: drawn ahead, in step order
            draws = [self.draw(replace(state, step=state.step + i), generator, noise) for i in range(self.chunk)]
            # inputs that do not require grad yet (the first chunk's) become leaves that do: the
            # same values, and every chunk has one requires_grad pattern (one compiled variant)
            # the graph is traced at step 0 (the steps' schedules are in their draws, so one graph
            # serves every offset; a step index in the graph would compile a variant per chunk)
            start = state.step
            h, state, stacked = compiled(requiring_grad(h), replace(state.requiring_grad(), step=0), draws)
            self.compiled_steps += self.chunk
            return h, replace(state, step=start + self.chunk), Steps(*stacked)
        h, state = self.step(h, state, generator, noise)
        return h, state, Steps(*(t[:, None] for t in self._record(h, state)))


@dataclass(frozen=True)
class Rollout:
    """A batch of whole episodes.

    Attributes:
        trajectory: what the losses read.
        joints: (B, T + 1, n) joint positions [rad] (point mass: [m]).
        episode: the trials' schedule.
    """

    trajectory: Trajectory
    joints: Tensor
    episode: Episode


def rollout(
    env: FunctionalEnv,
    policy: Policy,
    batch_size: int,
    generator: torch.Generator | None = None,
    evaluation: bool = False,
    targets: Tensor | None = None,
    loop: ClosedLoop | None = None,
) -> Rollout:
    """Run one batch of episodes; differentiable unless called under ``torch.no_grad()``.

    Args:
        loop: the :class:`ClosedLoop` of ``env`` and ``policy`` to step with (default: an eager one).
    """
    loop = loop if loop is not None else ClosedLoop(env, policy)
    state = env.initial(batch_size, generator=generator, evaluation=evaluation, targets=targets)
    return rollout_from(loop, state, generator, noise=not env.deterministic)


def rollout_from(loop: ClosedLoop, state: EnvState, generator: RandomSource = None, noise: bool = True) -> Rollout:
    """Run ``loop`` from ``state`` to the end of its episode (see :func:`rollout`)."""
    h = loop.policy.initial_state(state.batch_size, like=state.effector.position)
    s = state.effector
    tips, acts, joints = [s.fingertip[:, None]], [s.muscle.activation[:, None]], [s.position[:, None]]
    actions: list[Tensor] = []
    hidden: list[Tensor] = []
    while not loop.env.done(state):
        h, state, steps = loop.advance(h, state, generator=generator, noise=noise)
        tips.append(steps.fingertip)
        acts.append(steps.activation)
        joints.append(steps.position)
        actions.append(steps.action)
        hidden.append(steps.hidden)
    traj = Trajectory(
        fingertip=torch.cat(tips, 1),
        target=state.episode.target,
        activation=torch.cat(acts, 1),
        action=torch.cat(actions, 1),
        hidden=torch.cat(hidden, 1),
        dt=loop.env.dt,
    )
    return Rollout(traj, torch.cat(joints, 1), state.episode)


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
        joints=_r(eff.body_points(joints[:, idx])),
        activation=_r(traj.activation[:, idx]),
        muscle_names=list(eff.muscle_names),
        hidden=_r(hidden),
        endpoint_error=_r(error),
        mean_endpoint_error=round(float(error.mean()), 6),
        effector_kind="point_mass" if eff.spec.skeleton.kind == "point_mass" else "arm",
        go_time=_r(go_time) if go_time is not None else [0.0] * int(error.shape[0]),
    )
