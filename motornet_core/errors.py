"""Exception hierarchy of the simulation core."""

from __future__ import annotations

from typing import Any


class MotornetError(Exception):
    """Base class of every error raised by :mod:`motornet_core`."""


class SpecError(MotornetError, ValueError):
    """A specification is invalid.

    Attributes:
        errors: one dict per problem with ``loc`` (the dotted path into the spec, e.g.
            ``"muscles.2.optimal_length"``), ``msg`` (what is wrong) and ``input`` (the bad value).
    """

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        lines = []
        for e in errors:
            shown = "" if e.get("input") is None else f" (got {e['input']!r})"
            lines.append(f"{e['loc'] or '<root>'}: {e['msg']}{shown}")
        super().__init__("invalid specification: " + "; ".join(lines))


class SimulationError(MotornetError):
    """A simulation could not proceed (bad state shape, state outside its bounds, ...)."""
