"""Rigid-tendon muscle after Thelen (2003), J Biomech Eng 125:70 (physics.md §3.3)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from motornet_core.muscles.base import MuscleModel
from motornet_core.specs.effector import ThelenMuscleSpec
from motornet_core.state import GeometryState, MuscleState


class ThelenMuscle(MuscleModel):
    """Thelen (2003) curves with a rigid tendon (state rows: a, l, V, F_PE, F_L, F_V, F)."""

    kind = "thelen"
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
    l0_pe: Tensor  # (M,) [m]
    af: Tensor  # (M,)
    fmlen: Tensor  # (M,)
    gamma: Tensor  # (M,)
    pe_1: Tensor  # (M,)
    pe_den: Tensor  # (M,)

    def __init__(self, specs: Sequence[ThelenMuscleSpec], compat: bool) -> None:
        super().__init__(specs, compat)
        self._buffer("l0_ce", [s.optimal_length for s in specs])
        self._buffer("l0_se", [s.tendon_slack_length for s in specs])
        self._buffer("l0_pe", [s.normalized_slack_length * s.optimal_length for s in specs])
        self._buffer("vmax", [s.max_velocity * s.optimal_length for s in specs])
        self._buffer("af", [s.af for s in specs])
        self._buffer("fmlen", [s.fmlen for s in specs])
        self._buffer("gamma", [s.gamma for s in specs])
        self._buffer("pe_1", [s.k_pe / s.eps0 for s in specs])
        self._buffer("pe_den", [math.exp(s.k_pe) - 1 for s in specs])

    def evaluate(self, activation: Tensor, fibre_length: Tensor | None, geometry: GeometryState) -> MuscleState:
        a = activation
        length = torch.clamp(geometry.length - self.l0_se, min=0.001)  # (B, M) [m]
        v = geometry.velocity  # (B, M) [m/s]
        af, vmax, fmlen = self.af, self.vmax, self.fmlen
        v_s = torch.clamp(v, max=0.0)
        v_l = torch.clamp(v, min=0.0)
        shortening = af * (3 * a * vmax + 4 * v_s + vmax) / (3 * a * af * vmax + af * vmax - 4 * v_s)
        c4 = af * fmlen * vmax - af * vmax
        lengthening = ((3 * af * vmax * fmlen - 3 * af * vmax) * a + (8 * af * fmlen + 8 * fmlen) * v_l + c4) / (
            3 * a * c4 + 8 * (af + 1) * v_l + c4
        )
        f_v = torch.relu(torch.where(v <= 0, shortening, lengthening))
        f_pe = torch.relu((torch.exp(self.pe_1 * (length - self.l0_pe) / self.l0_ce) - 1) / self.pe_den)
        ln_1 = length / self.l0_ce - 1
        f_l = torch.exp(-ln_1 * ln_1 / self.gamma)
        force = (a * f_l * f_v + f_pe) * self.max_iso_force
        return MuscleState(a, length, v, force, f_pe, f_l, f_v)
