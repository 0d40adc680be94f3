"""Interventions on units, areas and muscles (in-silico inactivation, clamping and stimulation).

An :class:`~motornet_core.specs.areas.InterventionSpec` list becomes an :class:`InterventionSchedule`:
for every step of the episode an affine map x <- gain x + offset on the policy's units (H,) and on
the muscle excitations (M,) (silence: gain 0, offset 0; clamp v: 0, v; scale s: s, 0; drive v: 1, v;
several interventions compose in list order). A :class:`~motornet_core.training.rollout.ClosedLoop`
hands step k's map to the policy with that step's draws (:meth:`InterventionSchedule.at`), so the
closed loop stays written once and a compiled chunk takes the maps as inputs like its noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from motornet_core.specs.areas import InterventionSpec

STEP_TOLERANCE = 1e-9


@dataclass(frozen=True)
class StepIntervention:
    """One step's affine maps: units (H,) and muscles (M,)."""

    unit_gain: Tensor
    unit_offset: Tensor
    muscle_gain: Tensor
    muscle_offset: Tensor

    @property
    def units(self) -> tuple[Tensor, Tensor]:
        """(gain, offset) on the units, as :meth:`Policy.forward` takes them."""
        return self.unit_gain, self.unit_offset

    def muscles(self, action: Tensor) -> Tensor:
        """The excitation (B, M) after the muscle map, clipped to [0, 1]."""
        return (self.muscle_gain * action + self.muscle_offset).clamp(0.0, 1.0)


def unit_indices(spec: InterventionSpec, area_slices: dict[str, slice], n_units: int) -> list[int]:
    """The network unit indices an area or units intervention acts on."""
    if spec.target == "area":
        if spec.area not in area_slices:
            raise ValueError(f"the policy has no area {spec.area!r}")
        sl = area_slices[spec.area]
        return list(range(sl.start, sl.stop))
    base = 0
    n = n_units
    if spec.area is not None:
        if spec.area not in area_slices:
            raise ValueError(f"the policy has no area {spec.area!r}")
        base, n = area_slices[spec.area].start, area_slices[spec.area].stop - area_slices[spec.area].start
    for u in spec.units:
        if not 0 <= u < n:
            raise ValueError(f"unit {u} is outside 0..{n - 1}")
    return [base + u for u in spec.units]


def _affine(kind: str, value: float) -> tuple[float, float]:
    return {"silence": (0.0, 0.0), "clamp": (0.0, value), "scale": (value, 0.0), "drive": (1.0, value)}[kind]


class InterventionSchedule:
    """Per-step unit and muscle maps of a list of interventions over an episode of ``n_steps`` steps.

    Step k (the policy step from t = k dt) is affected by an intervention when start <= k dt < end.

    Args:
        interventions: the specs, applied in order.
        area_slices: unit ranges of the policy's areas (``policy.area_slices``; {} without areas).
        n_units: H, the units the policy's read-out sees.
        n_muscles: M.
        dt: time step [s].
        n_steps: T.

    Raises:
        ValueError: an area, unit or muscle the policy or effector does not have.
    """

    def __init__(
        self,
        interventions: Sequence[InterventionSpec],
        area_slices: dict[str, slice],
        n_units: int,
        n_muscles: int,
        dt: float,
        n_steps: int,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> None:
        self.specs = list(interventions)
        self.n_steps = n_steps
        ug, uo = torch.ones(n_steps, n_units, dtype=torch.float64), torch.zeros(n_steps, n_units, dtype=torch.float64)
        mg, mo = torch.ones(n_steps, n_muscles, dtype=torch.float64), torch.zeros(n_steps, n_muscles, dtype=torch.float64)
        times = torch.arange(n_steps, dtype=torch.float64) * dt
        for iv in self.specs:
            end = float("inf") if iv.end is None else iv.end
            on = (times >= iv.start - STEP_TOLERANCE) & (times < end - STEP_TOLERANCE)
            gain, offset = _affine(iv.kind, iv.value)
            if iv.target == "muscles":
                for m in iv.muscles:
                    if not 0 <= m < n_muscles:
                        raise ValueError(f"muscle {m} is outside 0..{n_muscles - 1}")
                g, o, cols = mg, mo, list(iv.muscles)
            else:
                g, o, cols = ug, uo, unit_indices(iv, area_slices, n_units)
            rows = on.nonzero().flatten()
            if rows.numel() == 0 or not cols:
                continue
            idx = torch.tensor(cols)
            sub = (rows[:, None], idx[None, :])
            g[sub], o[sub] = gain * g[sub], gain * o[sub] + offset  # compose: the new map after the earlier ones
        self._tensors = [t.to(dtype=dtype, device=device) for t in (ug, uo, mg, mo)]

    @classmethod
    def for_policy(
        cls, interventions: Sequence[InterventionSpec], policy: Any, n_muscles: int, dt: float, n_steps: int
    ) -> InterventionSchedule | None:
        """The schedule of ``interventions`` for ``policy`` (None for an empty list)."""
        if not interventions:
            return None
        ref = next(iter(policy.parameters()), None) if hasattr(policy, "parameters") else None
        dtype = ref.dtype if ref is not None and ref.device.type != "meta" else torch.float32
        device = ref.device if ref is not None and ref.device.type != "meta" else "cpu"
        slices = dict(getattr(policy, "area_slices", {}) or {})
        return cls(interventions, slices, int(policy.hidden_size), n_muscles, dt, n_steps, dtype, device)

    def at(self, step: int) -> StepIntervention:
        """Step ``step``'s maps (steps past the episode: the last step's)."""
        k = min(max(step, 0), self.n_steps - 1)
        ug, uo, mg, mo = self._tensors
        return StepIntervention(ug[k], uo[k], mg[k], mo[k])

    def to(self, like: Tensor) -> InterventionSchedule:
        """Move the maps to ``like``'s dtype and device (in place); returns self."""
        self._tensors = [t.to(dtype=like.dtype, device=like.device) for t in self._tensors]
        return self
