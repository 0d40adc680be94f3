"""Linear ("relu") muscle: force = activation x F_max (physics.md §3.1)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from motornet_core.muscles.base import MuscleModel
from motornet_core.specs.effector import ReluMuscleSpec
from motornet_core.state import GeometryState, MuscleState


class ReluMuscle(MuscleModel):
    """Force proportional to activation; length and velocity copy the musculotendon geometry."""

    kind = "relu"

    def __init__(self, specs: Sequence[ReluMuscleSpec], compat: bool) -> None:
        super().__init__(specs, compat)
        ones = [1.0] * len(specs)
        self._buffer("l0_ce", ones)
        self._buffer("vmax", ones)

    def evaluate(self, activation: Tensor, fibre_length: Tensor | None, geometry: GeometryState) -> MuscleState:
        return MuscleState(
            activation=activation,
            length=geometry.length,
            velocity=geometry.velocity,
            force=activation * self.max_iso_force,
        )

    def initial_state(self, geometry: GeometryState, dt: float) -> MuscleState:
        state = super().initial_state(geometry, dt)
        if self.compat:  # MotorNet starts with zero force whatever a_min is (quirk 7)
            state = MuscleState(state.activation, state.length, state.velocity, torch.zeros_like(state.force))
        return state
