"""Task environments: pure functions over a frozen state (:class:`FunctionalEnv`) and their Gymnasium face.

Importing this package registers the Gymnasium ids of :data:`GYM_IDS` (``MotorNet/Reach-v0``, ...).
"""

from motornet_core.envs.base import MotorEnv, StepInfo
from motornet_core.envs.functional import EnvState, FunctionalEnv, StepDraws, StepNoise, compose_observation
from motornet_core.envs.perturbations import LoadPlan, StepLoads, plan_loads
from motornet_core.envs.registration import GYM_IDS, make_env, register_envs
from motornet_core.envs.tasks import Episode, centre_out_targets, sample_episode

__all__ = [
    "GYM_IDS",
    "EnvState",
    "Episode",
    "FunctionalEnv",
    "LoadPlan",
    "MotorEnv",
    "StepDraws",
    "StepInfo",
    "StepLoads",
    "StepNoise",
    "centre_out_targets",
    "compose_observation",
    "make_env",
    "plan_loads",
    "register_envs",
    "sample_episode",
]

register_envs()
