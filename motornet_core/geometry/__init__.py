"""Muscle geometry models: path points, the arm26 polynomial, constant moment arms."""

from motornet_core.geometry.models import ConstantGeometry, Geometry, PathGeometry, PolynomialGeometry, build_geometry

__all__ = ["ConstantGeometry", "Geometry", "PathGeometry", "PolynomialGeometry", "build_geometry"]
