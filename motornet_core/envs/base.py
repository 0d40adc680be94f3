"""The task environment as a :class:`gymnasium.Env`: a thin stateful wrapper of :class:`FunctionalEnv`.

* Gymnasium (RL) mode, one trial at a time with numpy arrays: ``reset(seed=..., options=...)`` and
  ``step(action)``; the reward is minus the fingertip-to-target distance [m] minus
  ``effort_weight`` times the mean squared action; an episode ends by truncation at the task's
  duration (``terminated`` is always False). It passes ``gymnasium.utils.env_checker.check_env``,
  and ``gymnasium.make("MotorNet/Reach-v0")`` (ids in :mod:`motornet_core.envs.registration`) builds one.
* Torch mode, batched and differentiable: :meth:`MotorEnv.reset_batch` and :meth:`MotorEnv.step_batch`
  keep the autograd graph, so a loss on the trajectory backpropagates through the physics.

Both modes hold the current :class:`~motornet_core.envs.functional.EnvState` and step it with the
functional environment's ``draw``, ``transition`` and ``observation``, like every other loop.
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
from motornet_core.envs.functional import EnvState, FunctionalEnv
from motornet_core.envs.tasks import Episode
from motornet_core.specs.effector import EffectorSpec
from motornet_core.state import EffectorState


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
    """An effector doing a task, seen through delayed, noisy senses (the stateful Gymnasium face).

    Args:
        effector: an :class:`Effector` or its spec.
        task: a task spec (or its dict).
        deterministic: turn off every noise source (action, sensory, observation).

    Attributes:
        fn: the :class:`FunctionalEnv` that does the work.
        state: the current :class:`EnvState` (None before the first reset).
        generator: the random source of the current episode.
    """

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(self, effector: Effector | EffectorSpec | dict[str, Any], task: Any, deterministic: bool = False) -> None:
        super().__init__()
        self.fn = FunctionalEnv(effector, task, deterministic)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(self.fn.obs_size,), dtype=np.float32)
        self.action_space = spaces.Box(0.0, 1.0, shape=(self.fn.effector.n_muscles,), dtype=np.float32)
        self.generator: torch.Generator | None = None
        self.state: EnvState | None = None

    # -- the functional environment's constants ---------------------------------------------------------
    @property
    def effector(self) -> Effector:
        """The effector."""
        return self.fn.effector

    @property
    def task(self) -> Any:
        """The task spec."""
        return self.fn.task

    @property
    def deterministic(self) -> bool:
        """True when every noise source is off."""
        return self.fn.deterministic

    @property
    def dt(self) -> float:
        """Time step [s]."""
        return self.fn.dt

    @property
    def n_steps(self) -> int:
        """T, steps per episode."""
        return self.fn.n_steps

    @property
    def obs_size(self) -> int:
        """Observation size."""
        return self.fn.obs_size

    @property
    def episode(self) -> Episode | None:
        """The current episode (None before the first reset)."""
        return None if self.state is None else self.state.episode

    # -- torch (batched, differentiable) mode --------------------------------------------------------
    def reset_batch(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        evaluation: bool = False,
        targets: Tensor | None = None,
        episode: Episode | None = None,
    ) -> tuple[Tensor, EffectorState]:
        """Start B trials (see :meth:`FunctionalEnv.initial`); returns the first observation (B, obs_size) and the state."""
        self.generator = generator
        self.state = self.fn.initial(batch_size, generator, evaluation, targets, episode)
        return self.fn.observation(self.state), self.state.effector

    def step_batch(self, action: Tensor) -> tuple[Tensor, StepInfo]:
        """Apply the action (B, M) for one step; gradients flow from the new observation and state."""
        if self.state is None:
            raise RuntimeError("call reset_batch before step_batch")
        state = self.fn.transition(self.state, action, self.fn.draw(self.state, self.generator))
        self.state = state
        info = StepInfo(state.effector, state.action, state.target, state.step, self.fn.done(state))
        return self.fn.observation(state), info

    # -- gymnasium (numpy, single trial) mode ---------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Gymnasium reset; ``options`` may hold ``target`` [x, y] to reach from the task's centre."""
        super().reset(seed=seed)
        gen = torch.Generator().manual_seed(int(self.np_random.integers(0, 2**62)))
        targets = None
        if options and options.get("target") is not None:
            targets = torch.tensor([options["target"]], dtype=self.effector.dtype, device=self.effector.device)
        with torch.no_grad():
            obs, _ = self.reset_batch(1, generator=gen, targets=targets)
        return self._np(obs), self._info()

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
        return self._np(obs), reward, False, info.done, self._info()

    @staticmethod
    def _np(obs: Tensor) -> np.ndarray:
        return np.array(obs[0].detach().cpu().numpy(), dtype=np.float32, copy=True)

    def _info(self) -> dict:
        if self.state is None:
            raise RuntimeError("no episode: call reset first")
        return {
            "fingertip": np.array(self.state.effector.fingertip[0].detach().cpu().numpy(), copy=True),
            "target": np.array(self.state.target[0].cpu().numpy(), copy=True),
            "step": self.state.step,
        }
