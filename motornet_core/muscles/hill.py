"""Rigid-tendon Hill muscle after Kistemaker, Wong & Gribble (2010), J Neurophysiol 104:2985.

The tendon is rigid: the fibre length is the musculotendon length minus the tendon slack length
(physics.md §3.2). Constants shared with the compliant model live in :class:`HillConstants`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from motornet_core.muscles.base import MuscleModel
from motornet_core.specs.effector import CompliantHillMuscleSpec, RigidHillMuscleSpec
from motornet_core.state import GeometryState, MuscleState

HillSpec = RigidHillMuscleSpec | CompliantHillMuscleSpec


class HillConstants(MuscleModel):
    """Per-muscle buffers of the Kistemaker Hill models."""

    l0_se: Tensor
    l0_pe: Tensor
    k_pe: Tensor
    s_as: Tensor
    fl_width_sq: Tensor
    q_crit: Tensor
    a_rel: Tensor
    b_rel: Tensor
    min_fl: Tensor

    def __init__(self, specs: Sequence[HillSpec], compat: bool) -> None:
        super().__init__(specs, compat)
        self._buffer("l0_ce", [s.optimal_length for s in specs])
        self._buffer("l0_se", [s.tendon_slack_length for s in specs])
        self._buffer("l0_pe", [s.normalized_slack_length * s.optimal_length for s in specs])
        self._buffer("k_pe", [1.0 / (1.0 + s.fl_width - s.normalized_slack_length) ** 2 for s in specs])
        self._buffer("vmax", [s.max_velocity * s.optimal_length for s in specs])
        self._buffer("s_as", [s.s_as for s in specs])
        self._buffer("fl_width_sq", [s.fl_width**2 for s in specs])
        self._buffer("q_crit", [s.q_crit for s in specs])
        self._buffer("a_rel", [s.a_rel for s in specs])
        self._buffer("b_rel", [s.b_rel for s in specs])
        self._buffer("min_fl", [s.min_fl for s in specs])

    def force_length(self, ln: Tensor) -> Tensor:
        """Active force-length factor F_CE (B, M) of a normalised fibre length."""
        d = ln - 1  # 1 + (-ln^2 + 2 ln - 1) / w^2 = 1 - (ln - 1)^2 / w^2
        return torch.maximum(1 - d * d / self.fl_width_sq, self.min_fl)

    def passive(self, fibre_length: Tensor) -> Tensor:
        """Normalised passive force F_PE (B, M) of a fibre length [m] (no upper cap)."""
        stretch = torch.relu((fibre_length - self.l0_pe) / self.l0_ce)
        return self.k_pe * stretch * stretch

    def b_factor(self, a: Tensor) -> Tensor:
        """Activation-dependent Hill constant B (B, M)."""
        low = self.b_rel * (1 - 0.9 * (a - self.q_crit) / (0.005 - self.q_crit)) ** 2
        return torch.where(a < self.q_crit, low, self.b_rel.expand_as(a))


class RigidHillMuscle(HillConstants):
    """Rigid-tendon Kistemaker Hill muscle (state rows: a, l, V, F_PE, F_CE, a*F_L*F_V, F)."""

    kind = "rigid_hill"
    state_names = (
        "activation",
        "muscle length",
        "muscle velocity",
        "force-length PE",
        "force-length CE",
        "force-velocity CE",
        "force",
    )

    def evaluate(self, activation: Tensor, fibre_length: Tensor | None, geometry: GeometryState) -> MuscleState:
        a = activation
        length = torch.relu(geometry.length - self.l0_se)  # (B, M) [m]
        ln = length / self.l0_ce
        vn = geometry.velocity / self.vmax
        f_pe = self.passive(length)
        f_ce = self.force_length(ln)
        big_a = torch.where(ln > 1, self.a_rel * f_ce, self.a_rel.expand_as(f_ce))
        big_b = self.b_factor(a)
        f = a * f_ce
        den = self.s_as - 2 * a * (f_ce + big_a) / big_b
        # Kistemaker's p1 = -f / (2 den), p2 = f^2 / (4 den), p3 = -1.5 f; the lengthening branch
        # (-p1 p3 + p1 s_as v + p2 - p3 v + s_as v^2) / (p1 + v) with -p1 p3 + p2 = f p1 is
        # (f p1 + v (s_as (p1 + v) + 1.5 f)) / (p1 + v): the same function in half the operations
        p1 = -0.5 * f / den
        # each branch sees only its own sign of vn so the unused one stays finite (clean gradients)
        v_s = torch.clamp(vn, max=0.0)
        v_l = torch.clamp(vn, min=0.0)
        shortening = (v_s * a * big_a + f * big_b) / (big_b - v_s)
        p1_v = p1 + v_l
        lengthening = (f * p1 + v_l * (self.s_as * p1_v + 1.5 * f)) / p1_v
        act = torch.relu(torch.where(vn < 0, shortening, lengthening))
        force = (act + f_pe) * self.max_iso_force
        return MuscleState(a, length, geometry.velocity, force, f_pe, f_ce, act)
