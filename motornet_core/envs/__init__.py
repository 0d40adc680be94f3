"""Task environments (Gymnasium API plus a differentiable batched torch mode).

Importing this package registers the Gymnasium ids of :data:`GYM_IDS` (``MotorNet/Reach-v0``, ...).
"""

from motornet_core.envs.base import EnvCarry, MotorEnv, StepInfo, StepNoise
from motornet_core.envs.perturbations import LoadPlan, StepLoads, plan_loads
from motornet_core.envs.registration import GYM_IDS, make_env, register_envs
from motornet_core.envs.sensory import DelayLine
from motornet_core.envs.tasks import Episode, centre_out_targets, sample_episode

__all__ = [
    "GYM_IDS",
    "DelayLine",
    "EnvCarry",
    "Episode",
    "LoadPlan",
    "MotorEnv",
    "StepInfo",
    "StepLoads",
    "StepNoise",
    "centre_out_targets",
    "make_env",
    "plan_loads",
    "register_envs",
    "sample_episode",
]

register_envs()
