"""Muscle models; one module per model."""

from __future__ import annotations

from motornet_core.muscles.base import MuscleModel
from motornet_core.muscles.compliant import CompliantHillMuscle
from motornet_core.muscles.hill import RigidHillMuscle
from motornet_core.muscles.mujoco import MujocoMuscle
from motornet_core.muscles.relu import ReluMuscle
from motornet_core.muscles.thelen import ThelenMuscle
from motornet_core.specs.effector import EffectorSpec

MUSCLE_MODELS: dict[str, type[MuscleModel]] = {
    "relu": ReluMuscle,
    "rigid_hill": RigidHillMuscle,
    "thelen": ThelenMuscle,
    "mujoco": MujocoMuscle,
    "compliant_hill": CompliantHillMuscle,
}


def build_muscles(spec: EffectorSpec) -> MuscleModel:
    """Build the muscle model shared by every muscle of ``spec``."""
    return MUSCLE_MODELS[spec.muscle_kind](spec.muscles, spec.motornet_compat)


__all__ = [
    "MUSCLE_MODELS",
    "CompliantHillMuscle",
    "MujocoMuscle",
    "MuscleModel",
    "ReluMuscle",
    "RigidHillMuscle",
    "ThelenMuscle",
    "build_muscles",
]
