"""Task environments (Gymnasium API plus a differentiable batched torch mode)."""

from motornet_core.envs.base import MotorEnv, StepInfo
from motornet_core.envs.perturbations import LoadPlan, plan_loads
from motornet_core.envs.sensory import DelayLine
from motornet_core.envs.tasks import Episode, centre_out_targets, sample_episode

__all__ = ["DelayLine", "Episode", "LoadPlan", "MotorEnv", "StepInfo", "centre_out_targets", "plan_loads", "sample_episode"]
