"""Pydantic v2 specifications: the single schema source of the project."""

from motornet_core.specs.base import SpecModel, set_path, spec_error_from_validation
from motornet_core.specs.effector import (
    CompliantHillMuscleSpec,
    ConstantGeometrySpec,
    EffectorSpec,
    LinkSpec,
    MujocoMuscleSpec,
    PathGeometrySpec,
    PathPointSpec,
    PlanarArmSpec,
    PointMassSpec,
    PolynomialGeometrySpec,
    ReluMuscleSpec,
    RigidHillMuscleSpec,
    ThelenMuscleSpec,
    TwoLinkArmSpec,
)

__all__ = [
    "CompliantHillMuscleSpec",
    "ConstantGeometrySpec",
    "EffectorSpec",
    "LinkSpec",
    "MujocoMuscleSpec",
    "PathGeometrySpec",
    "PathPointSpec",
    "PlanarArmSpec",
    "PointMassSpec",
    "PolynomialGeometrySpec",
    "ReluMuscleSpec",
    "RigidHillMuscleSpec",
    "SpecModel",
    "ThelenMuscleSpec",
    "TwoLinkArmSpec",
    "set_path",
    "spec_error_from_validation",
]
