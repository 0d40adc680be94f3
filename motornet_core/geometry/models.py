"""Geometry models mapping the joint state to musculotendon lengths, velocities and moment arms.

Every model is evaluated for all muscles at once (no Python loop over muscles or segments).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from motornet_core.skeletons.base import Skeleton
from motornet_core.skeletons.point_mass import PointMass
from motornet_core.specs.effector import (
    ConstantGeometrySpec,
    EffectorSpec,
    PathGeometrySpec,
    PolynomialGeometrySpec,
)
from motornet_core.state import GeometryState


class Geometry(nn.Module):
    """Base class: ``forward(q, qd, skeleton) -> GeometryState``."""

    def forward(self, q: Tensor, qd: Tensor, skeleton: Skeleton) -> GeometryState:
        raise NotImplementedError


class PolynomialGeometry(Geometry):
    """Nijhof & Kouwenhoven (2000) polynomial geometry (physics.md §5.1).

    Constant moment arms are the special case a2 = 0, a3 = 0.
    """

    a0: Tensor  # (M,) [m]
    a1: Tensor  # (n, M)
    a2: Tensor  # (n, M)
    a3: Tensor  # (n, M) [rad]

    def __init__(self, a0: list[float], a1: list[list[float]], a2: list[list[float]], a3: list[list[float]]) -> None:
        super().__init__()
        # float64 from the spec's numbers (the Effector's exact constants; it casts them)
        self.register_buffer("a0", torch.tensor(a0, dtype=torch.float64))  # (M,) [m]
        self.register_buffer("a1", torch.tensor(a1, dtype=torch.float64).T.contiguous())  # (n, M)
        self.register_buffer("a2", torch.tensor(a2, dtype=torch.float64).T.contiguous())  # (n, M)
        self.register_buffer("a3", torch.tensor(a3, dtype=torch.float64).T.contiguous())  # (n, M) [rad]

    def forward(self, q: Tensor, qd: Tensor, skeleton: Skeleton) -> GeometryState:
        x = q[:, :, None] - self.a3  # (B, n, M)
        moment_arm = self.a1 + 2 * self.a2 * x  # (B, n, M) [m]
        length = self.a0 + ((self.a1 + self.a2 * x) * x).sum(1)  # (B, M) [m]
        velocity = (qd[:, :, None] * moment_arm).sum(1)  # (B, M) [m/s]
        return GeometryState(length=length, velocity=velocity, moment_arm=moment_arm)


class ConstantGeometry(PolynomialGeometry):
    """Constant moment arms: L = length + sum_j r_j q_j."""

    def __init__(self, lengths: list[float], moment_arms: list[list[float]]) -> None:
        zeros = [[0.0] * len(r) for r in moment_arms]
        super().__init__(lengths, moment_arms, zeros, zeros)


class PathGeometry(Geometry):
    """Straight segments between fixation points (physics.md §5.2).

    All points of all muscles are flattened into one (P,) table and all segments into one (G,)
    table; per-muscle sums are a product with a (G, M) incidence matrix.
    """

    body: Tensor  # (P,) long
    coords: Tensor  # (P, 2) [m]
    difference: Tensor  # (P, G)
    incidence: Tensor  # (G, M)
    mass_weight: Tensor  # (G,)
    start_xy: Tensor  # (2, G) [m]
    end_xy: Tensor  # (2, G) [m]

    def __init__(self, paths: list[list[tuple[int, float, float]]], motornet_velocity: bool) -> None:
        super().__init__()
        bodies: list[int] = []
        coords: list[tuple[float, float]] = []
        starts: list[int] = []
        ends: list[int] = []
        owner: list[int] = []
        for m, path in enumerate(paths):
            base = len(bodies)
            for body, x, y in path:
                bodies.append(body)
                coords.append((x, y))
            for i in range(len(path) - 1):
                starts.append(base + i)
                ends.append(base + i + 1)
                owner.append(m)
        n_seg = len(starts)
        incidence = torch.zeros(n_seg, len(paths))
        incidence[torch.arange(n_seg), torch.tensor(owner)] = 1.0
        # difference matrix: (x @ difference)[..., g] = x[end of g] - x[start of g], exactly (+-1 and 0)
        difference = torch.zeros(len(bodies), n_seg)
        difference[torch.tensor(ends), torch.arange(n_seg)] = 1.0
        difference[torch.tensor(starts), torch.arange(n_seg)] = -1.0
        self.register_buffer("body", torch.tensor(bodies, dtype=torch.long))
        self.register_buffer("coords", torch.tensor(coords, dtype=torch.float64))  # exact; the Effector casts it
        self.register_buffer("difference", difference)
        self.register_buffer("incidence", incidence)
        # point mass: on_mass @ difference is +1 / -1 / 0 where a segment's end / start / neither
        # rides on the mass, so every segment vector is affine in q with this (G,) weight
        self.register_buffer("mass_weight", (torch.tensor(bodies) == 1).float() @ difference)
        # (2, G) coordinates of each segment's start and end point: cast with coords (exactly, as
        # indexing commutes with the cast), so their difference is coords^T D in the model's dtype
        xy = torch.tensor(coords, dtype=torch.float64)
        self.register_buffer("start_xy", xy[starts].T.contiguous())
        self.register_buffer("end_xy", xy[ends].T.contiguous())
        # one segment per muscle, in muscle order (every point-mass preset): the per-muscle sum is
        # the identity, and skipping its product keeps a compiled step in fewer, fused kernels
        self.one_segment = owner == list(range(len(paths)))
        self.motornet_velocity = motornet_velocity

    def _per_muscle(self, seg: Tensor) -> Tensor:
        """Per-muscle sums (..., M) of per-segment values (..., G)."""
        return seg if self.one_segment else seg @ self.incidence

    def _point_mass(self, q: Tensor, qd: Tensor) -> GeometryState:
        # delta = coords^T D + q w, d delta / dq_j = e_j w: the same quantities as the general path,
        # in a dozen operations instead of the point kinematics and three batched products
        w = self.mass_weight
        delta = (self.end_xy - self.start_xy) + q[:, :, None] * w  # (B, 2, G) [m]
        seg_len = torch.linalg.vector_norm(delta, dim=1)  # (B, G)
        unit = delta / seg_len[:, None]
        seg_arm = unit * w  # (B, n=2, G)
        seg_vel = (seg_arm * qd[:, :, None]).sum(1)
        return GeometryState(
            length=self._per_muscle(seg_len), velocity=self._per_muscle(seg_vel), moment_arm=self._per_muscle(seg_arm)
        )

    def forward(self, q: Tensor, qd: Tensor, skeleton: Skeleton) -> GeometryState:
        if isinstance(skeleton, PointMass):
            return self._point_mass(q, qd)
        # segment differences as products with a (P, G) +-1 matrix: no gathers, cheap backward
        x, dxdq, xdot = skeleton.point_kinematics(q, qd, self.body, self.coords, self.motornet_velocity)
        delta = x.transpose(1, 2) @ self.difference  # (B, 2, G) [m]
        delta_dot = xdot.transpose(1, 2) @ self.difference  # (B, 2, G) [m/s]
        d_delta = dxdq.permute(0, 2, 3, 1) @ self.difference  # (B, n, 2, G)
        seg_len = torch.linalg.vector_norm(delta, dim=1)  # (B, G)
        seg_vel = (delta * delta_dot).sum(1) / seg_len
        seg_arm = (d_delta * delta[:, None]).sum(2) / seg_len[:, None]  # (B, n, G)
        length = self._per_muscle(seg_len)  # (B, M)
        velocity = self._per_muscle(seg_vel)
        moment_arm = self._per_muscle(seg_arm)  # (B, n, M)
        return GeometryState(length=length, velocity=velocity, moment_arm=moment_arm)


def build_geometry(spec: EffectorSpec) -> Geometry:
    """Build the geometry model shared by the effector's muscles."""
    geoms = [m.geometry for m in spec.muscles]
    first = geoms[0]
    if isinstance(first, PathGeometrySpec):
        paths = [[(p.body, p.x, p.y) for p in g.points] for g in geoms]  # type: ignore[union-attr]
        return PathGeometry(paths, motornet_velocity=spec.motornet_compat)
    if isinstance(first, PolynomialGeometrySpec):
        polys: list[PolynomialGeometrySpec] = geoms  # type: ignore[assignment]
        return PolynomialGeometry([g.a0 for g in polys], [g.a1 for g in polys], [g.a2 for g in polys], [g.a3 for g in polys])
    consts: list[ConstantGeometrySpec] = geoms  # type: ignore[assignment]  # the remaining kind
    return ConstantGeometry([g.length for g in consts], [g.moment_arms for g in consts])
