"""Planar arms: the closed-form two-link arm and a general n-link chain (physics.md §4.2).

References: Nijhof & Kouwenhoven (2000) for the arm26 parameters; the n-link equations follow from
the Lagrangian of a planar chain written in absolute segment angles theta = cumsum(q).
"""

from __future__ import annotations

import torch
from torch import Tensor

from motornet_core.skeletons.base import Skeleton
from motornet_core.specs.effector import PlanarArmSpec, TwoLinkArmSpec


class _Chain(Skeleton):
    """Kinematics shared by every planar chain (link lengths in the buffer ``lengths`` (n,))."""

    lengths: Tensor
    lower_ones: Tensor  # (n, n) S with theta = S q
    lever: Tensor  # (n + 1, n, n)
    rot: Tensor  # (n + 1, n)

    def _register_chain(self, lengths: list[float]) -> None:
        n = len(lengths)
        self.dof = n
        self.n_bodies = n + 1
        self.register_buffer("lengths", torch.tensor(lengths, dtype=torch.float64))
        self.register_buffer("lower_ones", torch.tril(torch.ones(n, n)))
        # lever[b, a, j] = 1 if j <= a < b - 1: segment a (0-based) leads to body b's origin (body b
        # is segment b - 1; bodies 0 and 1 sit at the origin), and joint j turns segment a if j <= a
        lever = torch.zeros(n + 1, n, n)
        for b in range(n + 1):
            for a in range(max(b - 1, 0)):
                lever[b, a, : a + 1] = 1.0
        self.register_buffer("lever", lever)
        # rot[b, j] = 1 if joint j (0-based) rotates body b, i.e. j <= b - 1
        rot = torch.zeros(n + 1, n)
        for b in range(1, n + 1):
            rot[b, :b] = 1.0
        self.register_buffer("rot", rot)

    def _angles(self, q: Tensor) -> Tensor:
        return torch.cumsum(q, dim=-1)  # (B, n) absolute segment angles [rad]

    def jacobian(self, q: Tensor) -> Tensor:
        theta = self._angles(q)
        perp = torch.stack([-torch.sin(theta), torch.cos(theta)], dim=1) * self.lengths  # (B, 2, n)
        # column j sums the perpendicular vectors of segments a >= j
        return torch.flip(torch.cumsum(torch.flip(perp, dims=[-1]), dim=-1), dims=[-1])

    def body_points(self, q: Tensor) -> Tensor:
        """Shoulder (the origin), elbow, ..., fingertip (..., n + 1, 2) [m]."""
        theta = torch.cumsum(q, dim=-1)  # (..., n) absolute angles [rad]
        seg = torch.stack([torch.cos(theta), torch.sin(theta)], dim=-1) * self.lengths[:, None]  # (..., n, 2)
        origin = torch.zeros_like(seg[..., :1, :])
        return torch.cat([origin, torch.cumsum(seg, dim=-2)], dim=-2)

    def fingertip(self, q: Tensor, qd: Tensor) -> Tensor:
        theta = self._angles(q)
        pos = torch.stack([(self.lengths * torch.cos(theta)).sum(-1), (self.lengths * torch.sin(theta)).sum(-1)], dim=-1)
        vel = torch.einsum("bkn,bn->bk", self.jacobian(q), qd)
        return torch.cat([pos, vel], dim=-1)

    def point_kinematics(
        self, q: Tensor, qd: Tensor, body: Tensor, coords: Tensor, motornet_velocity: bool
    ) -> tuple[Tensor, Tensor, Tensor]:
        batch = q.shape[0]
        theta = self._angles(q)
        cos, sin = torch.cos(theta), torch.sin(theta)
        zero = torch.zeros(batch, 1, dtype=q.dtype, device=q.device)
        seg = torch.stack([cos, sin], dim=-1) * self.lengths[:, None]  # (B, n, 2)
        perp = torch.stack([-sin, cos], dim=-1) * self.lengths[:, None]  # (B, n, 2)
        # origin of body b: sum of the segment vectors a < b (bodies 0 and 1 sit at the origin)
        origins = torch.cat([torch.zeros(batch, 2, 2, dtype=q.dtype, device=q.device), torch.cumsum(seg, 1)[:, :-1]], 1)
        theta_b = torch.cat([zero, theta], dim=1)[:, body]  # (B, P); world: 0 -> identity rotation
        cb, sb = torch.cos(theta_b), torch.sin(theta_b)
        px, py = coords[:, 0], coords[:, 1]
        rotated = torch.stack([cb * px - sb * py, sb * px + cb * py], dim=-1)  # (B, P, 2)
        x = origins[:, body] + rotated
        d_rot = torch.stack([-sb * px - cb * py, cb * px - sb * py], dim=-1)  # R'(theta_b) p
        dxdq = torch.einsum("paj,bak->bpjk", self.lever[body], perp) + self.rot[body][None, :, :, None] * d_rot[:, :, None, :]
        # MotorNet weights each partial derivative with the absolute angular velocity (quirk, §5.2)
        rate = torch.cumsum(qd, dim=-1) if motornet_velocity else qd
        xdot = torch.einsum("bpjk,bj->bpk", dxdq, rate)
        return x, dxdq, xdot


class TwoLinkArm(_Chain):
    """Two-link planar arm with MotorNet's closed-form mass matrix and explicit 2x2 inverse."""

    inertia_c: Tensor  # (2, 2)
    inertia_m: Tensor  # (2, 2)
    coriolis: Tensor  # ()
    c_viscosity: Tensor  # ()

    def __init__(self, spec: TwoLinkArmSpec) -> None:
        super().__init__()
        self._register_chain([spec.L1, spec.L2])
        self._register_bounds(spec.pos_lower_bound, spec.pos_upper_bound, spec.vel_lower_bound, spec.vel_upper_bound)
        m1, m2, L1, L1g, L2g, I1, I2 = spec.m1, spec.m2, spec.L1, spec.L1g, spec.L2g, spec.I1, spec.I2
        k = m2 * L1 * L2g
        c11 = m1 * L1g**2 + I1 + m2 * (L2g**2 + L1**2) + I2
        c22 = m2 * L2g**2 + I2
        self.register_buffer("inertia_c", torch.tensor([[c11, c22], [c22, c22]], dtype=torch.float64))
        self.register_buffer("inertia_m", torch.tensor([[2 * k, k], [k, 0.0]], dtype=torch.float64))
        self.register_buffer("coriolis", torch.tensor(k, dtype=torch.float64))
        self.register_buffer("c_viscosity", torch.tensor(spec.c_viscosity, dtype=torch.float64))

    def fingertip(self, q: Tensor, qd: Tensor) -> Tensor:
        # closed form (fewer operations than the generic chain version)
        L1, L2 = self.lengths[0], self.lengths[1]
        q1, q12 = q[:, 0], q[:, 0] + q[:, 1]
        s1, c1, s12, c12 = torch.sin(q1), torch.cos(q1), torch.sin(q12), torch.cos(q12)
        dq1, dq2 = qd[:, 0], qd[:, 1]
        x, y = L1 * c1 + L2 * c12, L1 * s1 + L2 * s12
        return torch.stack([x, y, -y * dq1 - L2 * s12 * dq2, x * dq1 + L2 * c12 * dq2], dim=-1)

    def acceleration(self, q: Tensor, qd: Tensor, force: Tensor, endpoint_load: Tensor | None) -> Tensor:
        q1, q2 = q[:, 0], q[:, 1]
        dq1, dq2 = qd[:, 0], qd[:, 1]
        c2, s2 = torch.cos(q2), torch.sin(q2)
        ic, im = self.inertia_c, self.inertia_m
        m11 = ic[0, 0] + im[0, 0] * c2
        m12 = ic[0, 1] + im[0, 1] * c2
        m22 = ic[1, 1] + im[1, 1] * c2
        k = self.coriolis
        cor1 = -k * s2 * (2 * dq1 + dq2) * dq2 + self.c_viscosity * dq1
        cor2 = k * s2 * dq1 * dq1 + self.c_viscosity * dq2
        r1 = force[:, 0] - cor1
        r2 = force[:, 1] - cor2
        if endpoint_load is not None:
            L1, L2 = self.lengths[0], self.lengths[1]
            s1, c1 = torch.sin(q1), torch.cos(q1)
            s12, c12 = torch.sin(q1 + q2), torch.cos(q1 + q2)
            fx, fy = endpoint_load[:, 0], endpoint_load[:, 1]
            r1 = r1 + (-L1 * s1 - L2 * s12) * fx + (L1 * c1 + L2 * c12) * fy
            r2 = r2 + (-L2 * s12) * fx + (L2 * c12) * fy
        det = m11 * m22 - m12 * m12
        return torch.stack([(m22 * r1 - m12 * r2) / det, (-m12 * r1 + m11 * r2) / det], dim=-1)


class PlanarArm(_Chain):
    """General planar chain of n links; mass matrix and Coriolis terms in absolute angles.

    With theta = S q (S lower-triangular ones), M_theta[a, b] = mu_ab cos(theta_a - theta_b) + delta_ab I_a,
    mu_ab = sum_{i >= max(a, b)} m_i l_ia l_ib (l_ia = L_a for a < i, the centre-of-mass distance for a = i),
    and the velocity terms are c_a = sum_b mu_ab sin(theta_a - theta_b) thetadot_b^2. In joint
    coordinates M = S^T M_theta S and C = S^T c + c_visc qdot.
    """

    mu: Tensor  # (n, n)
    inertia: Tensor  # (n,)
    c_viscosity: Tensor  # ()

    def __init__(self, spec: PlanarArmSpec) -> None:
        super().__init__()
        links = spec.links
        n = len(links)
        self._register_chain([lk.length for lk in links])
        self._register_bounds(
            [lk.pos_lower_bound for lk in links],
            [lk.pos_upper_bound for lk in links],
            [lk.vel_lower_bound for lk in links],
            [lk.vel_upper_bound for lk in links],
        )
        mu = torch.zeros(n, n, dtype=torch.float64)
        for i, link in enumerate(links):
            lever = [links[a].length if a < i else link.com for a in range(i + 1)]
            for a in range(i + 1):
                for b in range(i + 1):
                    mu[a, b] += link.mass * lever[a] * lever[b]
        self.register_buffer("mu", mu.float())
        self.register_buffer("inertia", torch.tensor([lk.inertia for lk in links], dtype=torch.float64))
        self.register_buffer("c_viscosity", torch.tensor(spec.c_viscosity, dtype=torch.float64))

    def mass_matrix(self, q: Tensor) -> Tensor:
        """Joint-space mass matrix (B, n, n) [kg m^2]."""
        theta = self._angles(q)
        diff = theta[:, :, None] - theta[:, None, :]
        m_theta = self.mu * torch.cos(diff) + torch.diag_embed(self.inertia.expand_as(theta))
        s = self.lower_ones
        return s.T @ m_theta @ s

    def acceleration(self, q: Tensor, qd: Tensor, force: Tensor, endpoint_load: Tensor | None) -> Tensor:
        theta = self._angles(q)
        theta_dot = torch.cumsum(qd, dim=-1)
        diff = theta[:, :, None] - theta[:, None, :]
        c_theta = ((self.mu * torch.sin(diff)) * (theta_dot * theta_dot)[:, None, :]).sum(-1)  # (B, n)
        rhs = force - c_theta @ self.lower_ones - self.c_viscosity * qd
        if endpoint_load is not None:
            rhs = rhs + torch.einsum("bkn,bk->bn", self.jacobian(q), endpoint_load)
        return torch.linalg.solve(self.mass_matrix(q), rhs)
