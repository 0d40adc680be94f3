"""The factory behind the Gymnasium ids of :mod:`motornet_core.gym_ids` (registered by ``import motornet_core``).

``gymnasium.make("MotorNet/Reach-v0")`` builds a :class:`MotorEnv`; keyword arguments choose the
effector (a preset name, an :class:`EffectorSpec` or its dict), override task fields, or turn off
the noise, e.g. ``gymnasium.make("MotorNet/CentreOut-v0", effector="arm26", duration=0.5)``.
Episodes end by truncation at the task's duration (there is no terminal state).
"""

from __future__ import annotations

from typing import Any

from motornet_core.envs.base import MotorEnv
from motornet_core.gym_ids import GYM_IDS, register_envs

__all__ = ["GYM_IDS", "make_env", "register_envs"]


def make_env(
    task: str | dict | Any = "random_reach",
    effector: str | dict | Any = "point_mass_24",
    deterministic: bool = False,
    **task_fields: Any,
) -> MotorEnv:
    """A :class:`MotorEnv` from a task preset or spec and an effector preset or spec.

    Args:
        task: a task preset name (``motornet-studio presets``), a task spec or its dict.
        effector: an effector preset name, an :class:`EffectorSpec` or its dict.
        deterministic: turn off every noise source.
        task_fields: task fields to override, e.g. ``duration=0.5``.

    Raises:
        SpecError: an unknown preset or an invalid field.
    """
    from motornet_core.presets import effector_preset
    from motornet_core.run_presets import task_preset
    from motornet_core.specs.task import parse_task

    spec = task_preset(task) if isinstance(task, str) else parse_task(task)
    if task_fields:
        spec = spec.with_updates(task_fields)
    eff = effector_preset(effector) if isinstance(effector, str) else effector
    return MotorEnv(eff, spec, deterministic=deterministic)
