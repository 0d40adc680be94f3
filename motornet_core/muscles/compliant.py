"""Compliant-tendon Hill muscle after Kistemaker, Wong & Gribble (2010) (physics.md §3.5).

The fibre length is a state variable; its velocity comes from inverting the Hill force-velocity
relation for the force the contractile element carries. With ``compat`` the MotorNet quirks are
kept: the A condition ln < 1, the stored velocity in units of vmax, and the initial state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import torch
from torch import Tensor

from motornet_core.errors import SimulationError
from motornet_core.muscles.hill import HillConstants
from motornet_core.specs.effector import CompliantHillMuscleSpec
from motornet_core.state import GeometryState, MuscleState

_TINY = 1e-30


class CompliantHillMuscle(HillConstants):
    """Compliant tendon (state rows: a, l, v, F_PE, F_SE, F_act, F)."""

    kind = "compliant_hill"
    has_fibre_state = True
    state_names = (
        "activation",
        "muscle length",
        "muscle velocity",
        "force-length PE",
        "force-length SE",
        "active force",
        "force",
    )
    k_se: Tensor  # (M,)

    def __init__(self, specs: Sequence[CompliantHillMuscleSpec], compat: bool) -> None:
        super().__init__(specs, compat)
        self._buffer("k_se", [s.k_se for s in specs])
        # stored fibre velocity = vn * this: vmax (MotorNet quirk) or l0_ce (true rate of change)
        self.velocity_unit = "vmax" if compat else "l0_ce"

    def tendon_force(self, fibre_length: Tensor, mt_length: Tensor) -> Tensor:
        """Normalised tendon force F_SE (B, M), capped at 1."""
        strain = torch.relu((mt_length - fibre_length - self.l0_se) / self.l0_se)
        return torch.clamp(self.k_se * strain * strain, max=1.0)

    def evaluate(self, activation: Tensor, fibre_length: Tensor | None, geometry: GeometryState) -> MuscleState:
        if fibre_length is None:
            raise ValueError("the compliant muscle needs a fibre length")
        f_se = self.tendon_force(fibre_length, geometry.length)
        f_pe = self.passive(fibre_length)
        f_act = torch.relu(f_se - f_pe)
        velocity = torch.zeros_like(fibre_length)
        return MuscleState(activation, fibre_length, velocity, f_se * self.max_iso_force, f_pe, f_se, f_act)

    def normalized_velocity(self, a: Tensor, ln: Tensor, f_act: Tensor) -> Tensor:
        """vn (B, M) [optimal lengths/s] at which the contractile element carries ``f_act``."""
        f_ce = self.force_length(ln)
        cond = ln < 1 if self.compat else ln > 1
        big_a = torch.where(cond, self.a_rel * f_ce, self.a_rel.expand_as(f_ce))
        big_b = self.b_factor(a)
        f = a * f_ce
        d0 = (f + a * big_a) / big_b
        den = self.s_as - 2 * d0
        p1 = -0.5 * f / den
        p3 = -1.5 * f
        p2 = 4 * (0.5 * f) ** 2 * (-self.s_as) / den
        s = self.s_as
        disc = f_act * f_act + 2 * f_act * p1 * s + 2 * f_act * p3 + p1 * p1 * s * s + 2 * p1 * p3 * s + p2 + p3 * p3
        root = torch.sqrt(torch.clamp(disc, min=_TINY))
        lengthening = (-f_act + p1 * s - p3 - root) / (-2 * s)
        shortening = big_b * (f_act - f) / torch.clamp(f_act + a * big_a, min=_TINY)
        return torch.where(f_act < f, shortening, lengthening)

    def fibre_velocity(self, state: MuscleState) -> Tensor:
        assert state.curve_b is not None
        return self.normalized_velocity(state.activation, state.length / self.l0_ce, state.curve_b)

    def _stored_velocity(self, vn: Tensor) -> Tensor:
        return vn * (self.vmax if self.velocity_unit == "vmax" else self.l0_ce)

    def stage_update(
        self, h: float, a_dot: Tensor, vn: Tensor | None, state: MuscleState, geometry: GeometryState
    ) -> MuscleState:
        assert vn is not None
        a_new = self.clip_activation(state.activation + h * a_dot)
        old = self.evaluate(a_new, state.length, geometry)  # forces of the *old* fibre length
        new_length = (state.length / self.l0_ce + h * vn) * self.l0_ce
        return replace(old, length=new_length, velocity=self._stored_velocity(vn))

    def with_velocity(self, state: MuscleState) -> MuscleState:
        """Fill the stored velocity row from the state's own forces (used by the true rk4)."""
        return replace(state, velocity=self._stored_velocity(self.fibre_velocity(state)))

    def equilibrium_length(self, mt_length: Tensor) -> Tensor:
        """Fibre length l* (B, M) [m] at which tendon and passive fibre forces balance."""
        L, l0_ce, l0_se, l0_pe = mt_length, self.l0_ce, self.l0_se, self.l0_pe
        sk_se, sk_pe = torch.sqrt(self.k_se), torch.sqrt(self.k_pe)
        balanced = (sk_se * l0_ce * (L - l0_se) + sk_pe * l0_se * l0_pe) / (sk_se * l0_ce + sk_pe * l0_se)
        out = torch.where(l0_se + l0_pe > L, L - l0_se, balanced)
        out = torch.where(l0_se > L, 0.001 * l0_ce, out)
        return torch.where(L < 0, -torch.ones_like(out), out)

    def initial_state(self, geometry: GeometryState, dt: float) -> MuscleState:
        a = self.min_activation.expand_as(geometry.length)
        l_star = self.equilibrium_length(geometry.length)
        state = self.evaluate(a, l_star, geometry)
        if not self.compat:
            return self.with_velocity(state)
        # MotorNet: F_PE capped at 1 for the initial velocity, then one dt advance of the length
        f_se, f_pe = state.curve_a, state.passive
        if f_se is None or f_pe is None:  # evaluate() always fills both rows
            raise SimulationError("the compliant muscle state lacks its tendon or passive force")
        f_act0 = torch.relu(f_se - torch.clamp(f_pe, max=1.0))
        vn0 = self.normalized_velocity(a, l_star / self.l0_ce, f_act0)
        return self.stage_update(dt, torch.zeros_like(a), vn0, replace(state, length=l_star), geometry)
