"""Skeleton interface: rigid-body dynamics, kinematics of bodies and the hard joint-limit rule."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Skeleton(nn.Module):
    """Base class of the planar skeletons.

    Subclasses define ``dof`` (n), ``n_bodies`` (the world counts as body 0) and the buffers
    ``pos_lb``, ``pos_ub``, ``vel_lb``, ``vel_ub`` (each (n,)).
    """

    dof: int
    n_bodies: int
    pos_lb: Tensor
    pos_ub: Tensor
    vel_lb: Tensor
    vel_ub: Tensor

    def _register_bounds(self, pos_lb: list[float], pos_ub: list[float], vel_lb: list[float], vel_ub: list[float]) -> None:
        for name, values in (("pos_lb", pos_lb), ("pos_ub", pos_ub), ("vel_lb", vel_lb), ("vel_ub", vel_ub)):
            self.register_buffer(name, torch.tensor(values, dtype=torch.float64))

    def acceleration(self, q: Tensor, qd: Tensor, force: Tensor, endpoint_load: Tensor | None) -> Tensor:
        """Joint accelerations (B, n) from generalized forces ``force`` (B, n) and an endpoint load (B, 2) [N]."""
        raise NotImplementedError

    def fingertip(self, q: Tensor, qd: Tensor) -> Tensor:
        """End-point position and velocity (B, 4): x, y [m], xdot, ydot [m/s]."""
        raise NotImplementedError

    def body_points(self, q: Tensor) -> Tensor:
        """World positions (..., P, 2) [m] to draw, from joint positions (..., n)."""
        raise NotImplementedError

    def jacobian(self, q: Tensor) -> Tensor:
        """End-point Jacobian (B, 2, n)."""
        raise NotImplementedError

    def point_kinematics(
        self, q: Tensor, qd: Tensor, body: Tensor, coords: Tensor, motornet_velocity: bool
    ) -> tuple[Tensor, Tensor, Tensor]:
        """World position, Jacobian and velocity of P fixed points.

        Args:
            q, qd: (B, n) joint state.
            body: (P,) long, the body of each point (0 = world).
            coords: (P, 2) [m] point coordinates in their body's frame.
            motornet_velocity: use MotorNet's point-velocity formula (physics.md §5.2 quirk).

        Returns:
            x (B, P, 2) [m], dx/dq (B, P, n, 2), xdot (B, P, 2) [m/s].
        """
        raise NotImplementedError

    def apply_limits(self, q: Tensor, qd: Tensor) -> tuple[Tensor, Tensor]:
        """The hard joint-limit rule (physics.md §4.3) on a freshly advanced (q, qd)."""
        # a joint at (or past) a position bound cannot keep moving outwards: a second clamp whose
        # bound is 0 on a pinned side (10 operations -> 7, the same values and gradients)
        qd = torch.clamp(qd, min=self.vel_lb, max=self.vel_ub)
        inf = float("inf")
        qd = torch.clamp(qd, min=torch.where(q <= self.pos_lb, 0.0, -inf), max=torch.where(q >= self.pos_ub, 0.0, inf))
        q = torch.clamp(q, min=self.pos_lb, max=self.pos_ub)
        return q, qd
