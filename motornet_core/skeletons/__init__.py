"""Planar skeletons: point mass, two-link arm, n-link arm."""

from __future__ import annotations

from motornet_core.skeletons.base import Skeleton
from motornet_core.skeletons.planar_arm import PlanarArm, TwoLinkArm
from motornet_core.skeletons.point_mass import PointMass
from motornet_core.specs.effector import PlanarArmSpec, PointMassSpec, TwoLinkArmSpec


def build_skeleton(spec: PointMassSpec | TwoLinkArmSpec | PlanarArmSpec) -> Skeleton:
    """Build a skeleton from its spec."""
    if isinstance(spec, PointMassSpec):
        return PointMass(spec)
    if isinstance(spec, TwoLinkArmSpec):
        return TwoLinkArm(spec)
    return PlanarArm(spec)


__all__ = ["PlanarArm", "PointMass", "Skeleton", "TwoLinkArm", "build_skeleton"]
