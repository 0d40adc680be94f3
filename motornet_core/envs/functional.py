"""The task environment as pure functions over a frozen :class:`EnvState` (Gymnasium's functional-env split).

:class:`FunctionalEnv` holds only constants (the effector, the task, noise levels, sizes); a batch of
trials lives in an :class:`EnvState`. Four functions make up the environment:

* :meth:`FunctionalEnv.initial` starts a batch of trials (the episode draw and the first senses);
* :meth:`FunctionalEnv.draw` is the one place where a step's randomness and schedule are read:
  action, sensory and observation noise, the step's external loads and the next task inputs;
* :meth:`FunctionalEnv.transition` is pure: (state, action, draws) -> the next state;
* :meth:`FunctionalEnv.observation` is what the network sees in a state (B, obs_size).

Every loop (the eager and compiled closed loops of training and evaluation, the Gymnasium wrapper
:class:`~motornet_core.envs.base.MotorEnv`, the studio's playground) calls these and nothing else, so
they all take the same steps and draw the same random stream. A compiled chunk composes
:meth:`~FunctionalEnv.transition` k times after the k steps' draws were made eagerly.

Observation (physics.md §10): task inputs (goal x, y [m]; the go cue where the task has one),
vision (fingertip x, y, delayed), proprioception (muscle lengths / l0_ce, then velocities / vmax,
delayed) and the last ``action_frame_stacking`` applied actions, oldest first, plus observation
noise on everything but the task inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor

from motornet_core.effector import Effector
from motornet_core.envs.perturbations import StepLoads, plan_loads
from motornet_core.envs.sensory import gaussian, noise_vector
from motornet_core.envs.tasks import Episode, sample_episode
from motornet_core.errors import SpecError
from motornet_core.specs.effector import EffectorSpec
from motornet_core.specs.run import delay_steps, task_input_size
from motornet_core.specs.task import PerturbationSpec, parse_task
from motornet_core.state import EffectorState, requiring_grad


@dataclass(frozen=True)
class StepNoise:
    """One step's noise, already scaled by its std; None where a source is off.

    Attributes:
        action: (B, M) added to the action.
        vision: (B, 2) [m] added to the fingertip position.
        proprio: (B, 2M) added to the normalised muscle lengths and velocities.
        obs: (B, obs_size) added to the observation (zero on the task inputs).
    """

    action: Tensor | None
    vision: Tensor | None
    proprio: Tensor | None
    obs: Tensor | None


@dataclass(frozen=True)
class StepDraws:
    """Everything of one step that is random or scheduled, drawn before the step runs.

    Attributes:
        noise: the step's action, sensory and (new time point's) observation noise.
        loads: the step's external loads, or None when the episode has none.
        goal: (B, 2) [m] the goal input at the new time point.
        cue: (B, 1) the go cue at the new time point, or None when the task has none.
    """

    noise: StepNoise
    loads: StepLoads | None
    goal: Tensor
    cue: Tensor | None


@dataclass(frozen=True)
class EnvState:
    """A batch of B trials at time point ``step`` (t = step * dt).

    Attributes:
        effector: the effector's state.
        vision: the vision delay line, oldest (what the network sees now) first: d + 1 tensors (B, 2) [m].
        proprio: the proprioceptive delay line, oldest first: d + 1 tensors (B, 2M) (lengths / l0_ce,
            velocities / vmax).
        actions: the last ``action_frame_stacking`` applied actions (B, M), oldest first.
        action: (B, M) the action applied in the step that led here (zeros at the start).
        goal: (B, 2) [m] the goal input shown now.
        cue: (B, 1) the go cue shown now, or None when the task has none.
        obs_noise: (B, obs_size) the observation noise of this time point, or None.
        step: the time point's index k, 0..T.
        episode: the trials' schedule (targets, goal inputs, loads); read by :meth:`FunctionalEnv.draw`.
    """

    effector: EffectorState
    vision: tuple[Tensor, ...]
    proprio: tuple[Tensor, ...]
    actions: tuple[Tensor, ...]
    action: Tensor
    goal: Tensor
    cue: Tensor | None
    obs_noise: Tensor | None
    step: int
    episode: Episode

    @property
    def batch_size(self) -> int:
        """B."""
        return self.effector.batch_size

    @property
    def target(self) -> Tensor:
        """(B, 2) [m] where the fingertip should be now (the loss target)."""
        return self.episode.target[:, self.step]

    def requiring_grad(self) -> EnvState:
        """A copy whose carried tensors all require grad (see :func:`motornet_core.state.requiring_grad`).

        A compiled chunk that starts from it sees the requires_grad pattern of every later chunk.
        """
        return replace(
            self,
            effector=self.effector.requiring_grad(),
            vision=tuple(requiring_grad(t) for t in self.vision),
            proprio=tuple(requiring_grad(t) for t in self.proprio),
            actions=tuple(requiring_grad(t) for t in self.actions),
            action=requiring_grad(self.action),
        )


def compose_observation(goal: Tensor, cue: Tensor | None, vision: Tensor, proprio: Tensor, actions: tuple[Tensor, ...]) -> Tensor:
    """Goal (B, 2), cue (B, 1) if any, delayed vision (B, 2), proprioception (B, 2M), stacked actions: (B, obs_size)."""
    parts = [goal] if cue is None else [goal, cue]
    return torch.cat([*parts, vision, proprio, *actions], dim=-1)


class FunctionalEnv:
    """An effector doing a task, seen through delayed, noisy senses, as pure functions.

    Args:
        effector: an :class:`Effector` or its spec.
        task: a task spec (or its dict).
        deterministic: turn off every noise source (action, sensory, observation).

    Raises:
        SpecError: a delay or noise setting that does not fit the effector (named in the error).
    """

    def __init__(self, effector: Effector | EffectorSpec | dict[str, Any], task: Any, deterministic: bool = False) -> None:
        self.effector = effector if isinstance(effector, Effector) else Effector(EffectorSpec.parse(effector))
        self.task = parse_task(task)
        self.deterministic = deterministic
        dt, m = self.effector.dt, self.effector.n_muscles
        try:
            self.vision_steps = delay_steps(self.task.vision_delay, dt)
            self.proprio_steps = delay_steps(self.task.proprioception_delay, dt)
            self.n_steps = round(self.task.duration / dt)
            self.n_task_inputs = task_input_size(self.task)
            self.obs_size = self.n_task_inputs + 2 + 2 * m + self.task.action_frame_stacking * m
            action_std = noise_vector(self.task.action_noise, m, "action_noise")
            obs_std = noise_vector(self.task.obs_noise, self.obs_size, "obs_noise")
        except ValueError as exc:
            raise SpecError([{"loc": "task", "msg": str(exc), "input": None}]) from None
        obs_std[: self.n_task_inputs] = 0.0  # the goal and cue inputs are exact
        # a source whose std is 0 everywhere (or any source when deterministic) is None: it draws nothing
        self._action_std = None if deterministic or not bool(action_std.any()) else action_std
        self._obs_std = None if deterministic or not bool(obs_std.any()) else obs_std
        self._vision_std = None if deterministic or self.task.vision_noise == 0 else self.task.vision_noise
        self._proprio_std = None if deterministic or self.task.proprioception_noise == 0 else self.task.proprioception_noise

    @property
    def dt(self) -> float:
        """Time step [s]."""
        return self.effector.dt

    # -- the four functions ------------------------------------------------------------------------------
    def initial(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        evaluation: bool = False,
        targets: Tensor | None = None,
        episode: Episode | None = None,
    ) -> EnvState:
        """Start B trials: draw the episode (unless given), the first senses' noise and observation noise.

        Args:
            batch_size: B (ignored for the centre-out evaluation set and when ``targets`` or ``episode`` is given).
            generator: random source for the trials and the noise (on the effector's device).
            evaluation: draw the task's fixed evaluation set.
            targets: (B, 2) [m] reach to these targets from the task's centre.
            episode: use this pre-drawn episode.
        """
        if episode is None:
            episode = sample_episode(self.effector, self.task, batch_size, generator, evaluation, targets)
        return self.start(episode, self.initial_noise(episode.start.shape[0], generator))

    def initial_noise(self, batch_size: int, generator: torch.Generator | None = None) -> StepNoise:
        """The noise of the first senses (``vision``, ``proprio``) and observation (``action``: None) of B trials."""
        ref = self.effector.skeleton.pos_lb
        m = self.effector.n_muscles
        vision = self._draw((batch_size, 2), self._vision_std, ref, generator)
        proprio = self._draw((batch_size, 2 * m), self._proprio_std, ref, generator)
        return StepNoise(None, vision, proprio, self._draw((batch_size, self.obs_size), self._obs_std, ref, generator))

    def start(self, episode: Episode, noise: StepNoise) -> EnvState:
        """The state at t = 0 of ``episode``'s trials with the initial ``noise`` (from :meth:`initial_noise`)."""
        state = self.effector.reset(episode.start.shape[0], position=episode.start)
        ref = state.position
        vision, proprio = self._raw_senses(state)
        vision, proprio = _plus(vision, noise.vision), _plus(proprio, noise.proprio)
        zero = torch.zeros(state.batch_size, self.effector.n_muscles, dtype=ref.dtype, device=ref.device)
        goal, cue = self._task_inputs(episode, 0)
        return EnvState(
            effector=state,
            vision=(vision,) * (self.vision_steps + 1),
            proprio=(proprio,) * (self.proprio_steps + 1),
            actions=(zero,) * self.task.action_frame_stacking,
            action=zero,
            goal=goal,
            cue=cue,
            obs_noise=noise.obs,
            step=0,
            episode=episode,
        )

    def draw(self, state: EnvState, generator: torch.Generator | None = None) -> StepDraws:
        """The draws of the step from ``state.step``: :meth:`draw_noise`, the loads and the next task inputs.

        Raises:
            RuntimeError: the episode is over (``state.step`` is T).
        """
        return self.with_schedule(state, self.draw_noise(state.batch_size, generator))

    def draw_noise(self, batch_size: int, generator: torch.Generator | None = None) -> StepNoise:
        """One step's noise for B trials, in the order action, vision, proprioception, observation."""
        ref, m = self.effector.skeleton.pos_lb, self.effector.n_muscles
        return StepNoise(
            self._draw((batch_size, m), self._action_std, ref, generator),
            self._draw((batch_size, 2), self._vision_std, ref, generator),
            self._draw((batch_size, 2 * m), self._proprio_std, ref, generator),
            self._draw((batch_size, self.obs_size), self._obs_std, ref, generator),
        )

    def with_schedule(self, state: EnvState, noise: StepNoise) -> StepDraws:
        """The step's draws from ``noise`` and the episode's schedule at ``state.step`` (loads, next task inputs).

        Raises:
            RuntimeError: the episode is over (``state.step`` is T).
        """
        k = state.step
        if k >= self.n_steps:
            raise RuntimeError(f"the episode is over ({self.n_steps} steps); start a new one")
        loads = state.episode.loads.step(k) if state.episode.loads.active else None
        goal, cue = self._task_inputs(state.episode, k + 1)
        return StepDraws(noise, loads, goal, cue)

    def transition(self, state: EnvState, action: Tensor, draws: StepDraws) -> EnvState:
        """One step of ``dt`` under the action (B, M) in [0, 1]: pure, differentiable, compilable.

        Loads are evaluated from the fingertip state at the step's start (physics.md §6); the new
        senses enter the delay lines, the applied (noisy) action the stacked actions.
        """
        if draws.noise.action is not None:
            action = action + draws.noise.action
        endpoint = joint = None
        if draws.loads is not None:
            endpoint, joint = draws.loads.at(state.effector.fingertip)
        effector = self.effector.step(state.effector, action, endpoint_load=endpoint, joint_load=joint)
        vision, proprio = self._raw_senses(effector)
        vision = _plus(vision, draws.noise.vision)
        proprio = _plus(proprio, draws.noise.proprio)
        return EnvState(
            effector=effector,
            vision=(*state.vision[1:], vision),
            proprio=(*state.proprio[1:], proprio),
            actions=(*state.actions[1:], action) if state.actions else (),
            action=action,
            goal=draws.goal,
            cue=draws.cue,
            obs_noise=draws.noise.obs,
            step=state.step + 1,
            episode=state.episode,
        )

    def observation(self, state: EnvState) -> Tensor:
        """What the network sees in ``state``: (B, obs_size), noise included."""
        obs = compose_observation(state.goal, state.cue, state.vision[0], state.proprio[0], state.actions)
        return _plus(obs, state.obs_noise)

    # -- helpers -----------------------------------------------------------------------------------------
    def done(self, state: EnvState) -> bool:
        """True once the episode's T steps are taken."""
        return state.step >= self.n_steps

    def hold_goal(self, state: EnvState, xy: Tensor) -> EnvState:
        """``state`` with the goal (and target) moved to ``xy`` (B, 2) [m] for the rest of the episode, no loads.

        The go cue (if any) is on: the network is told to go there now (the playground's goal override).
        """
        ep = state.episode
        goal = xy.to(ep.goal)[:, None, :].expand_as(ep.goal).clone()  # (B, T + 1, 2)
        cue = None if ep.cue is None else torch.ones_like(ep.cue)
        episode = replace(ep, goal=goal, target=goal.clone(), cue=cue, loads=ep.loads.zeroed())
        now_goal, now_cue = self._task_inputs(episode, state.step)
        return replace(state, episode=episode, goal=now_goal, cue=now_cue)

    def with_perturbations(
        self, state: EnvState, perturbations: Sequence[PerturbationSpec], generator: torch.Generator | None = None
    ) -> EnvState:
        """``state`` whose episode's loads are those of ``perturbations`` instead (the playground's load toggles).

        The schedule covers the whole episode (windows in episode time, ``probability`` drawn per
        trial from ``generator``); a force channel's axis runs from the fingertip now to the goal now shown.
        An empty list removes every load.

        Raises:
            SpecError: a joint load without one value per joint (``perturbations.i.torque``).
        """
        dof = self.effector.dof
        for i, p in enumerate(perturbations):
            torque = getattr(p, "torque", None)
            if torque is not None and len(torque) != dof:
                msg = f"needs one value per joint ({dof})"
                raise SpecError([{"loc": f"perturbations.{i}.torque", "msg": msg, "input": torque}])
        ep = state.episode
        start_xy = state.effector.fingertip[:, :2]
        loads = plan_loads(perturbations, state.batch_size, ep.n_steps, dof, self.dt, start_xy, state.goal, generator)
        return replace(state, episode=replace(ep, loads=loads))

    def _raw_senses(self, state: EffectorState) -> tuple[Tensor, Tensor]:
        """Noise-free vision (B, 2) [m] and proprioception (B, 2M)."""
        muscles = self.effector.muscles
        vision = state.fingertip[:, :2]
        proprio = torch.cat([state.muscle.length / muscles.l0_ce, state.muscle.velocity / muscles.vmax], dim=-1)
        return vision, proprio

    @staticmethod
    def _task_inputs(episode: Episode, k: int) -> tuple[Tensor, Tensor | None]:
        """The goal (B, 2) [m] and go cue (B, 1) (None without one) shown at time point k."""
        return episode.goal[:, k], None if episode.cue is None else episode.cue[:, k, None]

    @staticmethod
    def _draw(
        shape: tuple[int, ...], std: Tensor | float | None, like: Tensor, generator: torch.Generator | None
    ) -> Tensor | None:
        """I.i.d. noise of ``shape`` scaled by ``std``; None (nothing drawn) for a source that is off."""
        if std is None:
            return None
        return gaussian(shape, std.to(like) if isinstance(std, Tensor) else std, generator, like)


def _plus(x: Tensor, noise: Tensor | None) -> Tensor:
    return x if noise is None else x + noise
