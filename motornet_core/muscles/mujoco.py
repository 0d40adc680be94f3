"""MuJoCo-style muscle actuator curves with a rigid tendon (MuJoCo docs, "muscle actuators").

physics.md §3.4: vmax is in optimal lengths per second and, as in MotorNet, divides the
musculotendon velocity in m/s directly.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from motornet_core.muscles.base import MuscleModel
from motornet_core.specs.effector import MujocoMuscleSpec
from motornet_core.state import GeometryState, MuscleState


def _bump(x: Tensor, lmin: Tensor, mid: Tensor | float, top: Tensor | float) -> Tensor:
    """MuJoCo's skewed quadratic bump with value 1 at ``mid`` and 0 outside (lmin, top)."""
    left = 0.5 * (lmin + mid)
    right = 0.5 * (mid + top)
    a = (x - lmin) / (left - lmin)
    b = (mid - x) / (mid - left)
    c = (x - mid) / (right - mid)
    d = (top - x) / (top - right)
    value = torch.where(
        x < left, 0.5 * a * a, torch.where(x < mid, 1 - 0.5 * b * b, torch.where(x < right, 1 - 0.5 * c * c, 0.5 * d * d))
    )
    return torch.where((x <= lmin) | (x >= top), torch.zeros_like(x), value)


class MujocoMuscle(MuscleModel):
    """MuJoCo muscle curves (state rows: a, l, V, FP, FL, FV, F)."""

    kind = "mujoco"
    state_names = (
        "activation",
        "muscle length",
        "muscle velocity",
        "force-length PE",
        "force-length CE",
        "force-velocity CE",
        "force",
    )
    l0_se: Tensor  # (M,) [m]
    lmin: Tensor  # (M,) [optimal lengths]
    lmax: Tensor  # (M,) [optimal lengths]
    fvmax: Tensor  # (M,)
    passive_scale: Tensor  # (M,)
    b: Tensor  # (M,)
    p1: Tensor  # (M,)
    p2: Tensor  # (M,)
    mid: Tensor  # (M,) [optimal lengths]

    def __init__(self, specs: Sequence[MujocoMuscleSpec], compat: bool) -> None:
        super().__init__(specs, compat)
        self._buffer("l0_ce", [s.optimal_length for s in specs])
        self._buffer("l0_se", [s.tendon_slack_length for s in specs])
        self._buffer("vmax", [s.vmax for s in specs])
        self._buffer("lmin", [s.lmin for s in specs])
        self._buffer("lmax", [s.lmax for s in specs])
        self._buffer("fvmax", [s.fvmax for s in specs])
        self._buffer("passive_scale", [s.passive_scale for s in specs])
        self._buffer("b", [0.5 * (1 + s.lmax) for s in specs])
        self._buffer("p1", [0.5 * (1 + s.lmax) - 1 for s in specs])
        self._buffer("p2", [0.25 * s.fpmax for s in specs])
        self._buffer("mid", [0.5 * (s.lmin + 0.95) for s in specs])

    def evaluate(self, activation: Tensor, fibre_length: Tensor | None, geometry: GeometryState) -> MuscleState:
        a = activation
        ln = torch.clamp(geometry.length - self.l0_se, min=0.001) / self.l0_ce  # (B, M) [optimal lengths]
        vn = geometry.velocity / self.vmax
        x_low = (ln - 1) / self.p1
        x_high = (ln - self.b) / self.p1
        passive = torch.where(
            ln <= 1, torch.zeros_like(ln), torch.where(ln <= self.b, self.p2 * x_low**3, self.p2 * (1 + 3 * x_high))
        )
        f_l = _bump(ln, self.lmin, 1.0, self.lmax) + 0.15 * _bump(ln, self.lmin, self.mid, 0.95)
        c = self.fvmax - 1
        f_v = torch.where(
            vn <= -1,
            torch.zeros_like(vn),
            torch.where(vn <= 0, (vn + 1) ** 2, torch.where(vn <= c, self.fvmax - (c - vn) ** 2 / c, self.fvmax.expand_as(vn))),
        )
        force = (a * f_l * f_v + self.passive_scale * passive) * self.max_iso_force
        return MuscleState(a, ln * self.l0_ce, vn * self.vmax, force, passive, f_l, f_v)
