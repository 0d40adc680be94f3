"""Muscle model interface and the activation dynamics shared by every model (physics.md §2)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from motornet_core.state import GeometryState, MuscleState


class MuscleModel(nn.Module):
    """Base class of the muscle models; all M muscles of an effector share one model.

    Buffers (M,): ``max_iso_force`` [N], ``tau_act``, ``tau_deact`` [s], ``min_activation``,
    ``l0_ce`` [m] and ``vmax`` [m/s] (the normalisers of proprioception, physics.md §10).
    """

    kind: str = ""
    state_names: tuple[str, ...] = ("activation", "muscle length", "muscle velocity", "force")
    has_fibre_state = False
    max_iso_force: Tensor
    tau_act: Tensor
    tau_deact: Tensor
    min_activation: Tensor
    l0_ce: Tensor
    vmax: Tensor
    max_activation: Tensor  # (M,) the upper bound of activations, 1

    def __init__(self, specs: Sequence[object], compat: bool) -> None:
        super().__init__()
        self.compat = compat
        self.n_muscles = len(specs)
        self._buffer("max_iso_force", [s.max_iso_force for s in specs])  # type: ignore[attr-defined]
        self._buffer("tau_act", [s.tau_activation for s in specs])  # type: ignore[attr-defined]
        self._buffer("tau_deact", [s.tau_deactivation for s in specs])  # type: ignore[attr-defined]
        self._buffer("min_activation", [s.min_activation for s in specs])  # type: ignore[attr-defined]
        # the upper bound of activations as a tensor, so that clipping is one clamp (not in state_dict)
        self.register_buffer("max_activation", torch.ones(len(specs)), persistent=False)

    def _buffer(self, name: str, values: Sequence[float]) -> None:
        # float64 from the spec's numbers: the Effector keeps these as its exact constants, then casts
        self.register_buffer(name, torch.tensor(list(values), dtype=torch.float64))

    # -- activation dynamics -------------------------------------------------------------------
    def clip_excitation(self, u: Tensor) -> Tensor:
        """u <- clip(u, a_min, 1), (B, M)."""
        return torch.clamp(u, min=self.min_activation, max=self.max_activation)

    def activation_derivative(self, a: Tensor, u: Tensor) -> Tensor:
        """da/dt (B, M) [1/s] of Thelen (2003) eqs. 1-2 for a clipped excitation ``u``."""
        a_c = torch.clamp(a, min=self.min_activation, max=self.max_activation)
        scale = 0.5 + 1.5 * a_c
        tau = torch.where(u > a_c, self.tau_act * scale, self.tau_deact / scale)
        return (u - a_c) / tau

    def clip_activation(self, a: Tensor) -> Tensor:
        """Clip an activation into [a_min, 1]."""
        return torch.clamp(a, min=self.min_activation, max=self.max_activation)

    # -- model-specific parts --------------------------------------------------------------------
    def evaluate(self, activation: Tensor, fibre_length: Tensor | None, geometry: GeometryState) -> MuscleState:
        """The muscle state for an activation (B, M) and a geometry (compliant: and a fibre length)."""
        raise NotImplementedError

    def fibre_velocity(self, state: MuscleState) -> Tensor | None:
        """Normalised fibre velocity vn (B, M) [optimal lengths/s] (compliant only, else None)."""
        return None

    def stage_update(
        self, h: float, a_dot: Tensor, vn: Tensor | None, state: MuscleState, geometry: GeometryState
    ) -> MuscleState:
        """MotorNet's stage update: new activation, rows from ``geometry`` (the input state's)."""
        return self.evaluate(self.clip_activation(state.activation + h * a_dot), None, geometry)

    def initial_state(self, geometry: GeometryState, dt: float) -> MuscleState:
        """The muscle state at reset (activation a_min), physics.md §3.6."""
        a = self.min_activation.expand_as(geometry.length)
        return self.evaluate(a, None, geometry)

    def extra_rows(self, state: MuscleState) -> dict[str, Tensor]:
        """The model's additional state rows by their MotorNet names (for replay outputs)."""
        names = self.state_names[3:6]
        rows = (state.passive, state.curve_a, state.curve_b)
        return {name: row for name, row in zip(names, rows, strict=False) if row is not None}
