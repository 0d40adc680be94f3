"""Sensory feedback: delay lines and i.i.d. Gaussian noise (physics.md §10, without MotorNet's bugs).

* A delay of d seconds lags a signal by exactly round(d / dt) steps; d = 0 means no lag.
* Every noise sample is drawn independently per batch row and per element from an explicit
  :class:`torch.Generator` (MotorNet shared one sample across all features of a row).
"""

from __future__ import annotations

import torch
from torch import Tensor


class DelayLine:
    """A fixed lag of ``steps`` pushes; filled with the first signal at :meth:`reset`."""

    def __init__(self, steps: int) -> None:
        if steps < 0:
            raise ValueError(f"a delay cannot be negative, got {steps} steps")
        self.steps = steps
        self._buffer: list[Tensor] = []

    def reset(self, signal: Tensor) -> Tensor:
        """Fill the line with ``signal`` (B, k) and return what it outputs now."""
        self._buffer = [signal] * (self.steps + 1)
        return signal

    def push(self, signal: Tensor) -> Tensor:
        """Insert ``signal`` (B, k) and return the one pushed ``steps`` pushes ago."""
        self._buffer = [*self._buffer[1:], signal]
        return self._buffer[0]

    @property
    def contents(self) -> list[Tensor]:
        """The ``steps + 1`` signals in the line, oldest (the current output) first."""
        return list(self._buffer)

    @contents.setter
    def contents(self, signals: list[Tensor]) -> None:
        if len(signals) != self.steps + 1:
            raise ValueError(f"a line of {self.steps} steps holds {self.steps + 1} signals, got {len(signals)}")
        self._buffer = list(signals)


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
