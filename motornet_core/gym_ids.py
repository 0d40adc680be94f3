"""The Gymnasium ids of the task environments and their registration.

Registration is cheap and lazy: each id points at ``motornet_core.envs.registration:make_env`` by
name, so Gymnasium imports the environments only when one is made. ``import motornet_core``
registers the ids (Gymnasium >= 1.0 has no plugin loader); ``pyproject.toml`` also declares
:func:`register_envs` under the ``gymnasium.envs`` entry-point group that Gymnasium 0.26-0.29
loaded on import. This module imports nothing of motornet_core, so it cannot form an import circle.
"""

from __future__ import annotations

import gymnasium

# id -> task preset (motornet_core.run_presets.TASK_PRESETS)
GYM_IDS: dict[str, str] = {
    "MotorNet/Reach-v0": "random_reach",
    "MotorNet/CentreOut-v0": "centre_out",
    "MotorNet/CentreOutDelayed-v0": "centre_out_delayed",
    "MotorNet/Posture-v0": "posture_loads",
    "MotorNet/Tracking-v0": "tracking",
}

ENTRY_POINT = "motornet_core.envs.registration:make_env"


def register_envs() -> None:
    """Register :data:`GYM_IDS` with Gymnasium (once; later calls do nothing)."""
    for env_id, task in GYM_IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(env_id, entry_point=ENTRY_POINT, kwargs={"task": task})
