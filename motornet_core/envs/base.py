"""The task environment: a :class:`gymnasium.Env` with a differentiable batched torch mode.

* Gymnasium (RL) mode, one trial at a time with numpy arrays: ``reset(seed=..., options=...)`` and
  ``step(action)``; the reward is minus the fingertip-to-target distance [m] minus
  ``effort_weight`` times the mean squared action; an episode ends by truncation at the task's
  duration (``terminated`` is always False). It passes ``gymnasium.utils.env_checker.check_env``,
  and ``gymnasium.make("MotorNet/Reach-v0")`` (ids in :mod:`motornet_core.envs.registration`) builds one.
* Torch mode, batched and differentiable: :meth:`MotorEnv.reset_batch` and :meth:`MotorEnv.step_batch`
  keep the autograd graph, so a loss on the trajectory backpropagates through the physics.

Observation (physics.md §10): task inputs (goal x, y [m]; the go cue where the task has one),
vision (fingertip x, y, delayed), proprioception (muscle lengths / l0_ce, then velocities / vmax,
delayed) and the last ``action_frame_stacking`` applied actions, oldest first. The environment is
the only object that holds the current state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces
from torch import Tensor

from motornet_core.effector import Effector
from motornet_core.envs.perturbations import StepLoads
from motornet_core.envs.sensory import DelayLine, gaussian, noise_vector
from motornet_core.envs.tasks import Episode, sample_episode
from motornet_core.errors import SpecError
from motornet_core.specs.effector import EffectorSpec
from motornet_core.specs.run import delay_steps, task_input_size
from motornet_core.specs.task import parse_task
from motornet_core.state import EffectorState, requiring_grad


@dataclass(frozen=True)
class StepNoise:
    """One step's noise, already scaled by its std; None where a source is off.

    Attributes:
        action: (B, M) added to the action.
        vision: (B, 2) [m] added to the fingertip position.
        proprio: (B, 2M) added to the normalised muscle lengths and velocities.
    """

    action: Tensor | None
    vision: Tensor | None
    proprio: Tensor | None


@dataclass(frozen=True)
class EnvCarry:
    """The environment's step-to-step memory besides the effector state.

    Attributes:
        vision: the vision delay line, oldest (what the network sees now) first: d + 1 tensors (B, 2).
        proprio: the proprioceptive delay line, oldest first: d + 1 tensors (B, 2M).
        actions: the last ``action_frame_stacking`` actions (B, M), oldest first.
    """

    vision: list[Tensor]
    proprio: list[Tensor]
    actions: list[Tensor]

    def requiring_grad(self) -> EnvCarry:
        """A copy whose tensors all require grad (see :func:`motornet_core.state.requiring_grad`)."""
        return EnvCarry(*([requiring_grad(t) for t in ts] for ts in (self.vision, self.proprio, self.actions)))

    def observe(self, goal: Tensor, cue: Tensor | None) -> Tensor:
        """The noise-free observation (B, obs_size) these lines give with the task inputs."""
        return compose_observation(goal, cue, self.vision[0], self.proprio[0], self.actions)


def compose_observation(goal: Tensor, cue: Tensor | None, vision: Tensor, proprio: Tensor, actions: list[Tensor]) -> Tensor:
    """Goal (B, 2), cue (B, 1) if any, delayed vision (B, 2), proprioception (B, 2M), stacked actions: (B, obs_size)."""
    parts = [goal] if cue is None else [goal, cue]
    return torch.cat([*parts, vision, proprio, *actions], dim=-1)


@dataclass(frozen=True)
class StepInfo:
    """What a batched step produced besides the observation.

    Attributes:
        state: the effector state after the step.
        action: (B, M) the applied (noisy) action.
        target: (B, 2) [m] the target at the new time point.
        step: index k of the new time point (1..T).
        done: True when the episode is over.
    """

    state: EffectorState
    action: Tensor
    target: Tensor
    step: int
    done: bool


class MotorEnv(gymnasium.Env):
    """An effector doing a task, seen through delayed, noisy senses.

    Args:
        effector: an :class:`Effector` or its spec.
        task: a task spec (or its dict).
        deterministic: turn off every noise source (action, sensory, observation).
    """

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(self, effector: Effector | EffectorSpec | dict, task: Any, deterministic: bool = False) -> None:
        super().__init__()
        self.effector = effector if isinstance(effector, Effector) else Effector(EffectorSpec.parse(effector))
        self.task = parse_task(task)
        self.deterministic = deterministic
        dt = self.effector.dt
        try:
            self.vision_steps = delay_steps(self.task.vision_delay, dt)
            self.proprio_steps = delay_steps(self.task.proprioception_delay, dt)
            m = self.effector.n_muscles
            self.n_steps = round(self.task.duration / dt)
            self.n_task_inputs = task_input_size(self.task)
            self.obs_size = self.n_task_inputs + 2 + 2 * m + self.task.action_frame_stacking * m
            self._action_std: Tensor | None = noise_vector(self.task.action_noise, m, "action_noise")
            obs_std = noise_vector(self.task.obs_noise, self.obs_size, "obs_noise")
        except ValueError as exc:
            raise SpecError([{"loc": "task", "msg": str(exc), "input": None}]) from None
        obs_std[: self.n_task_inputs] = 0.0  # the goal and cue inputs are exact
        # a source whose std is 0 everywhere is None: it draws nothing and costs nothing per step
        self._obs_std: Tensor | None = obs_std if bool(obs_std.any()) else None
        if not bool(self._action_std.any()):
            self._action_std = None
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(self.obs_size,), dtype=np.float32)
        self.action_space = spaces.Box(0.0, 1.0, shape=(m,), dtype=np.float32)
        self.generator: torch.Generator | None = None
        self._vision = DelayLine(self.vision_steps)
        self._proprio = DelayLine(self.proprio_steps)
        self._actions: list[Tensor] = []
        self.episode: Episode | None = None
        self._loaded = True
        self.state: EffectorState | None = None
        self.k = 0

    # -- helpers ------------------------------------------------------------------------------------
    @property
    def dt(self) -> float:
        """Time step [s]."""
        return self.effector.dt

    def _draw(self, shape: tuple[int, ...], std: Tensor | float | None, like: Tensor) -> Tensor | None:
        """I.i.d. noise of ``shape`` scaled by ``std``; None (nothing drawn) for a source whose std is 0."""
        if self.deterministic or std is None or (not isinstance(std, Tensor) and std == 0):
            return None
        if isinstance(std, Tensor):
            std = std.to(like)
        return gaussian(shape, std, self.generator, like)

    def _add_noise(self, signal: Tensor, std: Tensor | float | None) -> Tensor:
        """``signal`` plus i.i.d. noise; a source whose std is 0 (None) draws nothing."""
        noise = self._draw(tuple(signal.shape), std, signal)
        return signal if noise is None else signal + noise

    def _raw_senses(self, state: EffectorState) -> tuple[Tensor, Tensor]:
        muscles = self.effector.muscles
        vision = state.fingertip[:, :2]  # (B, 2) [m]
        proprio = torch.cat([state.muscle.length / muscles.l0_ce, state.muscle.velocity / muscles.vmax], dim=-1)  # (B, 2M)
        return vision, proprio

    def _senses(self, state: EffectorState) -> tuple[Tensor, Tensor]:
        vision, proprio = self._raw_senses(state)
        return self._add_noise(vision, self.task.vision_noise), self._add_noise(proprio, self.task.proprioception_noise)

    def _observe(self, vision: Tensor, proprio: Tensor) -> Tensor:
        goal, cue = self.task_inputs(self.k)
        obs = compose_observation(goal, cue, vision, proprio, self._actions)
        return self._add_noise(obs, self._obs_std)

    def task_inputs(self, k: int) -> tuple[Tensor, Tensor | None]:
        """The goal (B, 2) [m] and go cue (B, 1) (None without one) shown at time point k."""
        ep = self.episode
        if ep is None:
            raise RuntimeError("no episode: call reset_batch first")
        return ep.goal[:, k], None if ep.cue is None else ep.cue[:, k, None]

    # -- torch (batched, differentiable) mode --------------------------------------------------------
    def reset_batch(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        evaluation: bool = False,
        targets: Tensor | None = None,
        episode: Episode | None = None,
    ) -> tuple[Tensor, EffectorState]:
        """Start B trials; returns the first observation (B, obs_size) and the initial state.

        Args:
            batch_size: B (ignored for the centre-out evaluation set and when ``targets`` is given).
            generator: random source for the trials and the noise (on the effector's device).
            evaluation: draw the task's fixed evaluation set.
            targets: (B, 2) [m] reach to these targets from the task's centre.
            episode: use this pre-drawn episode.
        """
        self.generator = generator
        if episode is None:
            episode = sample_episode(self.effector, self.task, batch_size, generator, evaluation, targets)
        self.episode = episode
        # an episode without any load (the common case) skips the per-step load evaluation entirely
        plan = episode.loads
        self._loaded = any(bool(t.any()) for t in (plan.endpoint, plan.joint, plan.curl, plan.channel_k, plan.channel_b))
        self.k = 0
        state = self.effector.reset(episode.start.shape[0], position=episode.start)
        self.state = state
        m = self.effector.n_muscles
        zero = torch.zeros(state.batch_size, m, dtype=state.position.dtype, device=state.position.device)
        self._actions = [zero] * self.task.action_frame_stacking
        vision, proprio = self._senses(state)
        obs = self._observe(self._vision.reset(vision), self._proprio.reset(proprio))
        return obs, state

    def step_batch(self, action: Tensor) -> tuple[Tensor, StepInfo]:
        """Apply the action (B, M) for one step; gradients flow from the new observation and state."""
        self.check_step()
        noise = self.draw_step_noise(action)
        action, state, vision, proprio = self.advance(self.state, action, noise, self.step_loads())  # type: ignore[arg-type]
        return self.finish_step(action, state, vision, proprio)

    # the parts of step_batch: random draws and schedules, a pure tensor step (what a compiled
    # closed loop fuses with the policy), and the bookkeeping of delays and time
    def check_step(self) -> None:
        """Raise RuntimeError unless an episode is under way and not over."""
        if self.episode is None or self.state is None:
            raise RuntimeError("call reset_batch before step_batch")
        if self.k >= self.n_steps:
            raise RuntimeError(f"the episode is over ({self.n_steps} steps); call reset_batch")

    def draw_step_noise(self, like: Tensor) -> StepNoise:
        """This step's action, vision and proprioceptive noise, drawn in :meth:`step_batch`'s order.

        Args:
            like: a tensor of the action's dtype and device (the action itself, or the observation).
        """
        assert self.state is not None
        batch, m = self.state.batch_size, self.effector.n_muscles
        ref = self.state.position
        return StepNoise(
            self._draw((batch, m), self._action_std, like),
            self._draw((batch, 2), self.task.vision_noise, ref),
            self._draw((batch, 2 * m), self.task.proprioception_noise, ref),
        )

    def step_loads(self, k: int | None = None) -> StepLoads | None:
        """The external loads scheduled for step k (default: the current one; None: the episode has none)."""
        assert self.episode is not None
        return self.episode.loads.step(self.k if k is None else k) if self._loaded else None

    def draw_obs_noise(self, like: Tensor) -> Tensor | None:
        """The observation noise (B, obs_size) that :meth:`finish_step` would add next (None: off)."""
        assert self.state is not None
        return self._draw((self.state.batch_size, self.obs_size), self._obs_std, like)

    def advance(
        self, state: EffectorState, action: Tensor, noise: StepNoise, loads: StepLoads | None
    ) -> tuple[Tensor, EffectorState, Tensor, Tensor]:
        """The pure tensor part of a step: noisy action (B, M), new state, noisy vision (B, 2) and proprioception (B, 2M)."""
        if noise.action is not None:
            action = action + noise.action
        endpoint = joint = None
        if loads is not None:
            endpoint, joint = loads.at(state.fingertip)
        state = self.effector.step(state, action, endpoint_load=endpoint, joint_load=joint)
        vision, proprio = self._raw_senses(state)
        if noise.vision is not None:
            vision = vision + noise.vision
        if noise.proprio is not None:
            proprio = proprio + noise.proprio
        return action, state, vision, proprio

    def finish_step(self, action: Tensor, state: EffectorState, vision: Tensor, proprio: Tensor) -> tuple[Tensor, StepInfo]:
        """Store the new state, advance time and the delay lines; returns the observation and :class:`StepInfo`."""
        assert self.episode is not None
        self.state = state
        self.k += 1
        if self._actions:
            self._actions = [*self._actions[1:], action]
        obs = self._observe(self._vision.push(vision), self._proprio.push(proprio))
        info = StepInfo(state, action, self.episode.target[:, self.k], self.k, self.k >= self.n_steps)
        return obs, info

    def carry(self) -> EnvCarry:
        """What the next steps read besides the effector state: delay lines and stacked actions."""
        return EnvCarry(self._vision.contents, self._proprio.contents, list(self._actions))

    def commit(self, state: EffectorState, carry: EnvCarry, n: int) -> None:
        """Take the state and carry after ``n`` steps computed outside :meth:`step_batch` (a closed-loop chunk)."""
        if self.k + n > self.n_steps:
            raise RuntimeError(f"{n} steps from step {self.k} overrun the episode ({self.n_steps} steps)")
        self.state = state
        self.k += n
        self._vision.contents = carry.vision
        self._proprio.contents = carry.proprio
        self._actions = list(carry.actions)

    @staticmethod
    def carry_step(carry: EnvCarry, action: Tensor, vision: Tensor, proprio: Tensor) -> EnvCarry:
        """The carry after one step (pure: what :meth:`finish_step` does to the delay lines and actions)."""
        actions = [*carry.actions[1:], action] if carry.actions else []
        return EnvCarry([*carry.vision[1:], vision], [*carry.proprio[1:], proprio], actions)

    # -- gymnasium (numpy, single trial) mode ---------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Gymnasium reset; ``options`` may hold ``target`` [x, y] to reach from the task's centre."""
        super().reset(seed=seed)
        gen = torch.Generator().manual_seed(int(self.np_random.integers(0, 2**62)))
        targets = None
        if options and options.get("target") is not None:
            targets = torch.tensor([options["target"]], dtype=self.effector.dtype, device=self.effector.device)
        with torch.no_grad():
            obs, state = self.reset_batch(1, generator=gen, targets=targets)
        return self._np(obs), self._info(state)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Gymnasium step: (obs, reward, terminated, truncated, info).

        A task has no terminal state: ``terminated`` is always False, and the episode ends by the
        time limit with ``truncated`` True at step T (RL methods then bootstrap from the last state).
        """
        act = torch.as_tensor(np.asarray(action, dtype=np.float32)).reshape(1, -1)
        act = act.to(device=self.effector.device, dtype=self.effector.dtype)
        with torch.no_grad():
            obs, info = self.step_batch(act)
        distance = float((info.state.fingertip[0, :2] - info.target[0]).norm())
        effort = float((act**2).mean())
        reward = -distance - self.task.effort_weight * effort
        return self._np(obs), reward, False, info.done, self._info(info.state)

    @staticmethod
    def _np(obs: Tensor) -> np.ndarray:
        return np.array(obs[0].detach().cpu().numpy(), dtype=np.float32, copy=True)

    def _info(self, state: EffectorState) -> dict:
        if self.episode is None:
            raise RuntimeError("no episode: call reset first")
        return {
            "fingertip": np.array(state.fingertip[0].detach().cpu().numpy(), copy=True),
            "target": np.array(self.episode.target[0, self.k].cpu().numpy(), copy=True),
            "step": self.k,
        }
