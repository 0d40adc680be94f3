"""Point mass in the plane (physics.md §4.1)."""

from __future__ import annotations

import torch
from torch import Tensor

from motornet_core.skeletons.base import Skeleton
from motornet_core.specs.effector import PointMassSpec


class PointMass(Skeleton):
    """A 2-D point mass; generalized coordinates are its position (x, y) [m]."""

    dof = 2
    n_bodies = 2
    mass: Tensor  # () [kg]

    def __init__(self, spec: PointMassSpec) -> None:
        super().__init__()
        self.register_buffer("mass", torch.tensor(spec.mass, dtype=torch.float64))
        self._register_bounds(spec.pos_lower_bound, spec.pos_upper_bound, spec.vel_lower_bound, spec.vel_upper_bound)

    def acceleration(self, q: Tensor, qd: Tensor, force: Tensor, endpoint_load: Tensor | None) -> Tensor:
        total = force if endpoint_load is None else force + endpoint_load  # (B, 2) [N]
        return total / self.mass

    def fingertip(self, q: Tensor, qd: Tensor) -> Tensor:
        return torch.cat([q, qd], dim=-1)

    def body_points(self, q: Tensor) -> Tensor:
        """The mass (..., 1, 2) [m]."""
        return q[..., None, :2]

    def jacobian(self, q: Tensor) -> Tensor:
        return torch.eye(2, dtype=q.dtype, device=q.device).expand(q.shape[0], 2, 2)

    def point_kinematics(
        self, q: Tensor, qd: Tensor, body: Tensor, coords: Tensor, motornet_velocity: bool
    ) -> tuple[Tensor, Tensor, Tensor]:
        on_mass = (body == 1).to(q.dtype)[None, :, None]  # (1, P, 1)
        x = coords[None] + on_mass * q[:, None, :]  # (B, P, 2)
        eye = torch.eye(2, dtype=q.dtype, device=q.device)
        dxdq = (on_mass[..., None] * eye).expand(q.shape[0], -1, 2, 2)  # (B, P, n=2, 2)
        xdot = on_mass * qd[:, None, :]
        return x, dxdq, xdot
