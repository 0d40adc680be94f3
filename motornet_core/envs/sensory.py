"""Sensory feedback: delay lines and i.i.d. Gaussian noise (physics.md §10, without MotorNet's bugs).

* A delay of d seconds lags a signal by exactly round(d / dt) steps; d = 0 means no lag (the delay
  lines are tuples in :class:`~motornet_core.envs.functional.EnvState`).
* Every noise sample is drawn independently per batch row and per element from an explicit
  :class:`torch.Generator` (MotorNet shared one sample across all features of a row).
"""

from __future__ import annotations

import torch
from torch import Tensor


def gaussian(shape: tuple[int, ...], std: Tensor | float, generator: torch.Generator | None, like: Tensor) -> Tensor:
    """I.i.d. N(0, std^2) samples of ``shape`` (std broadcast over the last axis), dtype/device of ``like``."""
    device = generator.device if generator is not None else like.device
    sample = torch.randn(shape, generator=generator, dtype=like.dtype, device=device).to(like.device)
    return sample * std


def noise_vector(value: float | list[float], size: int, what: str) -> Tensor:
    """A (size,) tensor of standard deviations from a scalar or a list of the right length."""
    if isinstance(value, (int, float)):
        return torch.full((size,), float(value))
    if len(value) != size:
        raise ValueError(f"{what} needs {size} values or a scalar, got {len(value)}")
    return torch.tensor([float(v) for v in value])
